"""stat() and ranged reads: sizes, stored MD5s, ranges, a source changed or gone mid-read."""

from __future__ import annotations

import time

import pytest
from helpers import data_for

from azxfer.errors import AzxferError, IntegrityError, NotFoundError, TransferError
from azxfer.models import Entry

from .harness import CHUNK, Can, DriverHarness, drive, md5, requires

NAME = "dir/ranged #1 +ü%25.bin"
SIZE = 3 * CHUNK + 100


async def stat(h: DriverHarness, name: str) -> Entry | None:
    return await (await h.single(name)).stat(h.ref(name))


@requires(Can.STAT)
@pytest.mark.parametrize("size", [0, 5, SIZE], ids=["empty", "small", "multi-chunk"])
def test_stat_gives_size_and_modification_time(driver, size):
    driver.put(NAME, data_for(NAME, size))

    async def body(h: DriverHarness) -> Entry | None:
        return await stat(h, NAME)

    entry = drive(driver, body)
    assert entry is not None
    assert entry.size == size
    assert entry.mtime is not None and abs(entry.mtime - time.time()) < 3600


@requires(Can.STAT)
def test_stat_of_a_missing_object_is_none(driver):
    driver.put("present.txt", b"x")

    async def body(h: DriverHarness) -> tuple[Entry | None, Entry | None]:
        return await stat(h, "absent.txt"), await stat(h, "present.txt/absent.txt")

    assert drive(driver, body) == (None, None)


@requires(Can.STAT, Can.MD5)
@pytest.mark.parametrize("size", [0, 5, SIZE], ids=["empty", "small", "multi-chunk"])
def test_stat_reports_the_stored_md5(driver, size):
    data = data_for(NAME, size)
    driver.put(NAME, data)

    async def body(h: DriverHarness) -> bytes | None:
        entry = await stat(h, NAME)
        return entry.md5 if entry else None

    assert drive(driver, body) == md5(data)


RANGES = {
    "start": lambda size: (0, 100),
    "across-a-chunk-edge": lambda size: (CHUNK - 10, 20),
    "middle": lambda size: (CHUNK + 1, CHUNK),
    "end": lambda size: (size - 100, 100),
    "last-byte": lambda size: (size - 1, 1),
    "whole": lambda size: (0, size),
}


@requires(Can.STAT, Can.READ)
@pytest.mark.parametrize("case", RANGES, ids=list(RANGES))
def test_ranged_reads_give_exactly_the_range(driver, case):
    data = data_for(NAME, SIZE)
    driver.put(NAME, data)
    offset, length = RANGES[case](SIZE)

    async def body(h: DriverHarness) -> bytes:
        endpoint = await h.single(NAME)
        entry = await endpoint.stat(h.ref(NAME))
        assert entry is not None
        reader = await endpoint.open_reader(entry)
        try:
            got = await reader.read(offset, length)
            await reader.finish()
        finally:
            await reader.close()
            await reader.close()  # safe twice
        return got

    assert drive(driver, body) == data[offset : offset + length]


@requires(Can.STAT, Can.READ, Can.BOUNDED_READ)
def test_a_read_past_the_end_is_the_tail_or_a_final_error(driver):
    """The engine never asks beyond the size it listed; a driver asked anyway returns the
    bytes that are there or at once raises one of our errors that no retry could cure."""
    data = data_for(NAME, SIZE)
    driver.put(NAME, data)

    async def body(h: DriverHarness) -> bytes | AzxferError:
        endpoint = await h.single(NAME)
        entry = await endpoint.stat(h.ref(NAME))
        assert entry is not None
        reader = await endpoint.open_reader(entry)
        try:
            return await reader.read(SIZE - 10, 100)
        except AzxferError as exc:
            return exc
        finally:
            await reader.close()

    got = drive(driver, body)
    assert (isinstance(got, AzxferError) and not got.retryable) or got == data[-10:], got


@requires(Can.STAT, Can.READ, Can.BOUNDED_READ)
def test_a_streamed_read_past_the_end_is_the_tail_or_a_final_error(driver):
    """As above, for a reader that hands a range over piece by piece (`read_to`)."""
    data = data_for(NAME, SIZE)
    driver.put(NAME, data)

    async def body(h: DriverHarness) -> bytes | AzxferError | None:
        endpoint = await h.single(NAME)
        entry = await endpoint.stat(h.ref(NAME))
        assert entry is not None
        reader = await endpoint.open_reader(entry)
        if not hasattr(reader, "read_to"):
            return None
        pieces: list[bytes] = []

        async def consume(position: int, piece: bytes) -> None:
            pieces.append(bytes(piece))

        try:
            await reader.read_to(SIZE - 10, 100, consume)
        except AzxferError as exc:
            return exc
        finally:
            await reader.close()
        return b"".join(pieces)

    got = drive(driver, body)
    if got is None:
        pytest.skip("the reader does not stream")
    assert (isinstance(got, AzxferError) and not got.retryable) or got == data[-10:], got


@requires(Can.STAT, Can.READ, Can.DETECT_CHANGE)
def test_a_source_rewritten_while_read_fails_as_changed(driver):
    before = data_for("before", SIZE)
    driver.put(NAME, before)

    async def body(h: DriverHarness) -> bytes:
        endpoint = await h.single(NAME)
        entry = await endpoint.stat(h.ref(NAME))
        assert entry is not None
        reader = await endpoint.open_reader(entry)
        try:
            first = await reader.read(0, CHUNK)
            time.sleep(0.01)  # a new modification time even on coarse clocks
            h.put(NAME, data_for("after", SIZE + 1))
            with pytest.raises(IntegrityError):
                await reader.read(CHUNK, CHUNK)
                await reader.finish()
        finally:
            await reader.close()
        return first

    assert drive(driver, body) == before[:CHUNK]


@requires(Can.STAT, Can.READ)
def test_a_source_gone_before_it_is_read_is_a_final_error(driver):
    """An object deleted between listing and transfer fails that transfer with one of our
    errors that no retry can cure (retrying a missing object only wastes the job's time)."""
    driver.put(NAME, data_for(NAME, SIZE))

    async def body(h: DriverHarness) -> AzxferError | None:
        endpoint = await h.single(NAME)
        entry = await endpoint.stat(h.ref(NAME))
        assert entry is not None
        h.remove(NAME)
        try:
            reader = await endpoint.open_reader(entry)
            try:
                await reader.read(0, CHUNK)
            finally:
                await reader.close()
        except AzxferError as exc:
            return exc
        return None

    error = drive(driver, body)
    assert isinstance(error, NotFoundError | TransferError), error
    assert not error.retryable
    assert "\n" not in str(error)
