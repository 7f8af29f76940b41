"""Unit tests for the local driver's byte paths: LocalReader reads, LocalWriter writes."""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from azxfer.endpoints.local.endpoint import LocalEndpoint
from azxfer.endpoints.local.files import LocalWriter
from azxfer.errors import IntegrityError
from azxfer.models import Chunk, Entry, Transfer, WriteProps


def writer_for(target: str, size: int) -> LocalWriter:
    return LocalWriter(target, size, WriteProps(mtime=1_000_000.0), 1 << 20, "test", 3)


def test_write_at_pieces_in_any_order_then_commit(tmp_path) -> None:
    data = random.Random(1).randbytes(700_000)
    target = str(tmp_path / "out.bin")
    writer = writer_for(target, len(data))
    pieces = [(start, data[start : start + 65_536]) for start in range(0, len(data), 65_536)]
    random.Random(2).shuffle(pieces)

    async def main() -> bytes | None:
        for offset, piece in pieces:
            await writer.write_at(offset, piece)
        back = await writer.read_back(Chunk(0, 100_000, 300_000))
        await writer.commit(b"")
        return back

    back = asyncio.run(main())
    assert back == data[100_000:400_000]
    with open(target, "rb") as f:
        assert f.read() == data
    assert os.stat(target).st_mtime == 1_000_000.0
    assert not os.path.exists(writer.temp)


def test_large_write_goes_through_a_thread_and_lands_whole(tmp_path) -> None:
    data = random.Random(3).randbytes(3 << 20)
    target = str(tmp_path / "big.bin")
    writer = writer_for(target, len(data))

    async def main() -> None:
        await writer.write_chunk(Chunk(1, 1 << 20, 2 << 20), data[1 << 20 :])
        await writer.write_at(0, data[: 1 << 20])
        await writer.commit(b"")

    asyncio.run(main())
    with open(target, "rb") as f:
        assert f.read() == data


def test_abort_removes_the_partial_file(tmp_path) -> None:
    writer = writer_for(str(tmp_path / "x.bin"), 10)

    async def main() -> None:
        await writer.write_at(0, b"12345")
        assert os.path.exists(writer.temp)
        await writer.abort()

    asyncio.run(main())
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("size", [1000, 3 << 20])
def test_reader_reads_ranges_inline_and_in_a_thread(tmp_path, size: int) -> None:
    data = random.Random(size).randbytes(size)
    path = tmp_path / "src.bin"
    path.write_bytes(data)
    st = os.stat(path)
    entry = Entry(str(path), "src.bin", size, st.st_mtime)

    async def main() -> tuple[bytes, bytes]:
        reader = await LocalEndpoint(str(tmp_path)).open_reader(entry)
        try:
            whole = await reader.read(0, size)
            tail = await reader.read(size // 2, size - size // 2)
            await reader.finish()
        finally:
            await reader.close()
        return whole, tail

    whole, tail = asyncio.run(main())
    assert whole == data
    assert tail == data[size // 2 :]


def test_reader_notices_a_file_that_shrank(tmp_path) -> None:
    path = tmp_path / "src.bin"
    path.write_bytes(bytes(2 << 20))
    entry = Entry(str(path), "src.bin", 2 << 20, os.stat(path).st_mtime)

    async def main() -> None:
        reader = await LocalEndpoint(str(tmp_path)).open_reader(entry)
        try:
            os.truncate(path, 1 << 20)
            with pytest.raises(IntegrityError, match="shrank"):
                await reader.read(0, 2 << 20)
        finally:
            await reader.close()

    asyncio.run(main())


def test_open_writer_targets_a_hidden_part_file(tmp_path) -> None:
    transfer = Transfer(9, Entry("src", "src", 4), str(tmp_path / "d" / "f.txt"), "f.txt")

    async def main() -> LocalWriter:
        writer = await LocalEndpoint(str(tmp_path)).open_writer(transfer, 4, WriteProps(), 1024)
        await writer.write_at(0, b"data")  # creates the missing folder
        await writer.commit(b"")
        return writer

    writer = asyncio.run(main())
    assert os.path.basename(writer.temp) == ".f.txt.azxfer-9.part"
    assert (tmp_path / "d" / "f.txt").read_bytes() == b"data"
