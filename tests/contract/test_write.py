"""Writers (chunks in any order, commit, abort, put_whole, MD5 and properties), resume from
the chunks already written, overwrite, delete."""

from __future__ import annotations

import pytest
from helpers import data_for

from azxfer.models import Entry

from .harness import (
    CHUNK,
    Can,
    DriverHarness,
    chunks_of,
    drive,
    md5,
    requires,
    stored,
    writer_for,
)

NAME = "new/dir/ünï #1 +x%25.bin"
SIZE = 3 * CHUNK + 5


async def stat(h: DriverHarness, name: str) -> Entry | None:
    return await (await h.root()).stat(h.ref(name))


@requires(Can.WRITE)
def test_chunks_in_any_order_then_commit_give_the_object(driver):
    data = data_for(NAME, SIZE)

    async def body(h: DriverHarness) -> tuple[bytes | None, bytes, bytes | None]:
        writer = await writer_for(h, NAME, SIZE)
        chunks = chunks_of(SIZE, writer.chunk_size)
        for chunk in chunks if writer.sequential else reversed(chunks):
            await writer.write_chunk(chunk, data[chunk.offset : chunk.offset + chunk.length])
        before = h.get(NAME)
        await writer.commit(md5(stored(writer, data)))
        return before, stored(writer, data), h.get(NAME)

    before, expected, after = drive(driver, body)
    assert after == expected
    if Can.ATOMIC_COMMIT in driver.capabilities:
        assert before is None


@requires(Can.WRITE, Can.ATOMIC_COMMIT)
def test_an_object_being_replaced_keeps_its_old_bytes_until_commit(driver):
    old, new = b"old contents", data_for("new", SIZE)
    driver.put(NAME, old)

    async def body(h: DriverHarness) -> tuple[bytes | None, bytes | None]:
        writer = await writer_for(h, NAME, SIZE)
        for chunk in chunks_of(SIZE, writer.chunk_size):
            await writer.write_chunk(chunk, new[chunk.offset : chunk.offset + chunk.length])
        during = h.get(NAME)
        await writer.commit(md5(new))
        return during, h.get(NAME)

    assert drive(driver, body) == (old, new)


@requires(Can.WRITE)
def test_abort_leaves_nothing_behind(driver):
    data = data_for(NAME, SIZE)

    async def body(h: DriverHarness) -> set[str]:
        writer = await writer_for(h, NAME, SIZE)
        for chunk in chunks_of(SIZE, writer.chunk_size)[:2]:
            await writer.write_chunk(chunk, data[chunk.offset : chunk.offset + chunk.length])
        await writer.abort()
        await writer.abort()  # never raises, even twice
        return h.names()

    assert drive(driver, body) == set()


@requires(Can.WRITE)
@pytest.mark.parametrize("size", [0, 1, 1000], ids=["empty", "one-byte", "small"])
def test_put_whole_writes_and_commits_a_small_object(driver, size):
    data = data_for(NAME, size)

    async def body(h: DriverHarness) -> tuple[bytes, bytes | None, set[str]]:
        writer = await writer_for(h, NAME, size)
        await writer.put_whole(data, md5(stored(writer, data)))
        return stored(writer, data), h.get(NAME), h.names()

    expected, got, names = drive(driver, body)
    assert got == expected
    assert names == {NAME}  # nothing temporary left


@requires(Can.WRITE, Can.WRITE_MD5)
@pytest.mark.parametrize("chunked", [False, True], ids=["put-whole", "chunked"])
def test_the_md5_given_is_stored_with_the_object(driver, chunked):
    size = SIZE if chunked else 100
    data = data_for(NAME, size)

    async def body(h: DriverHarness) -> tuple[bytes, bytes | None]:
        writer = await writer_for(h, NAME, size)
        digest = md5(stored(writer, data))
        if chunked:
            for chunk in chunks_of(size, writer.chunk_size):
                await writer.write_chunk(chunk, data[chunk.offset : chunk.offset + chunk.length])
            await writer.commit(digest)
        else:
            await writer.put_whole(data, digest)
        entry = await stat(h, NAME)
        return digest, entry.md5 if entry else None

    digest, stored_md5 = drive(driver, body)
    assert stored_md5 == digest


@requires(Can.WRITE, Can.WRITE_CONTENT)
def test_content_properties_and_metadata_are_stored(driver):
    data = data_for(NAME, SIZE)

    async def body(h: DriverHarness) -> Entry | None:
        writer = await writer_for(h, NAME, SIZE)
        for chunk in chunks_of(SIZE, writer.chunk_size):
            await writer.write_chunk(chunk, data[chunk.offset : chunk.offset + chunk.length])
        await writer.commit(md5(stored(writer, data)))
        return await stat(h, NAME)

    entry = drive(driver, body)
    assert entry is not None and entry.content is not None
    assert entry.content.content_type == driver.write_props.content.content_type
    assert entry.metadata == driver.write_props.metadata


@requires(Can.WRITE, Can.WRITE_MTIME)
def test_the_modification_time_asked_for_is_set(driver):
    async def body(h: DriverHarness) -> Entry | None:
        writer = await writer_for(h, NAME, 10)
        await writer.put_whole(b"0123456789", md5(b"0123456789"))
        return await stat(h, NAME)

    entry = drive(driver, body)
    assert entry is not None and entry.mtime == driver.write_props.mtime


RESUME_SIZE = 5 * CHUNK + 3  # six chunks: 0, 2 and 4 written before the suspend


@requires(Can.WRITE, Can.RESUME)
def test_a_new_writer_resumes_from_the_chunks_already_written(driver):
    data = data_for(NAME, RESUME_SIZE)

    def piece(chunk) -> bytes:
        return data[chunk.offset : chunk.offset + chunk.length]

    async def body(h: DriverHarness) -> tuple[set[int], set[int], bytes | None, bytes, bytes]:
        first = await writer_for(h, NAME, RESUME_SIZE, transfer_id=7)
        chunks = chunks_of(RESUME_SIZE, first.chunk_size)
        written = chunks[::2]
        for chunk in written:
            await first.write_chunk(chunk, piece(chunk))
        await first.suspend()
        # A journal may name a chunk whose write never reached the service: not reported.
        phantom = tuple(c for c in chunks[-1:] if c not in written)
        second = await writer_for(h, NAME, RESUME_SIZE, transfer_id=7)
        found = await second.resumable_chunks((*written, *phantom))
        back = await second.read_back(written[0])
        for chunk in chunks:
            if chunk.index not in found:
                await second.write_chunk(chunk, piece(chunk))
        await second.commit(md5(stored(second, data)))
        return (
            found,
            {c.index for c in written},
            back,
            piece(written[0]),
            stored(second, data) == h.get(NAME),
        )

    found, written, back, first_piece, complete = drive(driver, body)
    assert found == written
    assert back is None or back == first_piece
    assert complete


@requires(Can.DELETE, Can.STAT)
def test_delete_removes_just_that_object_and_tolerates_a_missing_one(driver):
    for name in (NAME, "keep.txt"):
        driver.put(name, b"x")

    async def body(h: DriverHarness) -> Entry | None:
        endpoint = await h.root()
        await endpoint.delete(h.ref(NAME))
        await endpoint.delete(h.ref(NAME))  # already gone: no error
        return await endpoint.stat(h.ref(NAME))

    assert drive(driver, body) is None
    assert driver.names() == {"keep.txt"}
