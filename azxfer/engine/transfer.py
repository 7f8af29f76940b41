"""Moving one transfer: chunking, in-order MD5 while streaming, verify, commit.

Chunks of a file are read and written concurrently (bounded by the job's request and memory
budgets); the MD5 is computed in chunk order as chunks arrive, so the source is read once.
A writer that must receive chunks in order (append blobs) gets them through the same gate.

On resume, chunks already at the destination are not sent again: their bytes are read back
locally (from the partial download, or from the local source of an upload) only to finish
the whole-file MD5, since an MD5 state cannot be saved mid-stream.

Streaming: when the reader can hand a range over piece by piece as it arrives (`read_to`)
and the writer can write a piece at any offset (`write_at`, a local file), a chunk is never
held whole: each piece goes straight from the socket to the file, and one ranged read covers
a run of consecutive chunks (each journaled as soon as it is written). A run holds only a
small share of the memory budget; the MD5 (when wanted) is computed afterwards, in chunk
order, from what the writer reads back (the page cache), in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from msgspec import Struct, field
from msgspec.structs import replace

from azxfer.endpoints.base import Reader, WriteAt, Writer
from azxfer.engine.budget import MemoryBudget
from azxfer.engine.hashing import OrderedHasher, finish_md5, hash_back, update_md5
from azxfer.errors import Interrupted, first_cause
from azxfer.events import EventSink, Progress, TransferResumed
from azxfer.models import Chunk, Transfer

# What a streamed range holds of the memory budget: the pieces buffered for one response.
STREAM_HOLD = 256 * 1024
# A streamed download reads runs of consecutive chunks in one ranged GET of up to this size
# (each chunk is still journaled as soon as its last byte is written): fewer, longer requests
# mean less per-request work for the service (and fewer billed transactions), while a file
# of at least STREAMS_PER_FILE chunks is still read as at least that many parallel ranges.
# 4 × 64 MiB for a 256 MiB file, as rclone reads it: the emulator spent ~20 % less CPU serving
# it than 8 × 32 MiB (benchmarks/README.md, session 5).
STREAM_RANGE = 64 * 1024 * 1024
STREAMS_PER_FILE = 4

# Called with the transfer and the MD5 computed from the bytes moved; raises IntegrityError.
Verifier = Callable[[Transfer, bytes], None]
ChunkRecorder = Callable[[int, Chunk], None]


class RequestSlots:
    """The job-wide cap on requests in flight; also measures how busy the slots were."""

    def __init__(self, limit: int) -> None:
        self._semaphore = asyncio.Semaphore(limit)
        self.busy_seconds = 0.0

    async def __aenter__(self) -> None:
        await self._semaphore.acquire()
        self._entered = time.monotonic()

    async def __aexit__(self, *exc: object) -> None:
        self.busy_seconds += time.monotonic() - self._entered
        self._semaphore.release()


class TransferContext(Struct):
    """The budgets and hooks every transfer of a job shares."""

    requests: RequestSlots
    memory: MemoryBudget
    sink: EventSink
    verify: Verifier
    record_chunk: ChunkRecorder = lambda _tid, _chunk: None
    # Whether a transfer's MD5 is worth computing: uploads record it; a download needs it
    # only when there is a Content-MD5 to check (hashing costs ~2 s of CPU per GiB): listed,
    # or learned while reading (the flag: the reader is a `StoredDigest`).
    wants_md5: Callable[[Transfer, bool], bool] = lambda _transfer, _learns: True
    stop: asyncio.Event = field(default_factory=asyncio.Event)


class OrderedGate:
    """Lets chunk i through only after chunk i-1 has passed."""

    def __init__(self) -> None:
        self._next = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def turn(self, index: int) -> AsyncIterator[None]:
        """Hold chunk `index`'s turn for the body of the with-block."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._next == index)
        yield
        async with self._changed:
            self._next = index + 1
            self._changed.notify_all()


ReadTo = Callable[[int, int, WriteAt], Awaitable[None]]


def stream_pair(reader: Reader, writer: Writer) -> tuple[ReadTo, WriteAt] | None:
    """`reader.read_to` and `writer.write_at` if chunks can go from one to the other piece by
    piece (never held whole), else None.

    `read_to(offset, length, consume)` awaits `consume(position, piece)` for every piece of
    the range, in order; `write_at(position, piece)` writes it. A writer offering `write_at`
    can also read back every chunk written (`read_back` never returns None).
    """
    # The capabilities `StreamingReader` and `PositionalWriter` (endpoints.base), looked up
    # once per file by getattr: far cheaper than isinstance against a runtime Protocol.
    read_to: ReadTo | None = getattr(reader, "read_to", None)
    write_at: WriteAt | None = getattr(writer, "write_at", None)
    if writer.sequential or read_to is None or write_at is None:
        return None
    return read_to, write_at


def _run_length(size: int, step: int) -> int:
    """How many consecutive chunks one streamed read covers (see STREAM_RANGE)."""
    chunks = -(-size // step)
    return max(1, min(STREAM_RANGE // step, chunks // STREAMS_PER_FILE))


async def move_bytes(
    ctx: TransferContext,
    transfer: Transfer,
    reader: Reader,
    writer: Writer,
    resume: tuple[Chunk, ...] | None = None,
) -> None:
    """Copy the source entry through `writer`, verify, and commit.

    `resume` is None for a fresh transfer, else the chunks a previous run journaled as done
    (the writer may find more at the destination). The writer is aborted on failure, but
    only suspended when the job is stopping: its partial state is what a resume continues.
    """
    size = transfer.source.size
    padding = writer.padded_size - size
    try:
        if size <= writer.chunk_size:
            await _whole(ctx, transfer, reader, writer, padding)
        else:
            await _chunked(ctx, transfer, reader, writer, padding, resume)
    except Interrupted:
        await writer.suspend()
        raise
    except BaseException:
        await writer.abort()
        raise


async def _whole(
    ctx: TransferContext, transfer: Transfer, reader: Reader, writer: Writer, padding: int
) -> None:
    size = transfer.source.size
    pair = stream_pair(reader, writer) if size > STREAM_HOLD else None
    held = await ctx.memory.acquire(STREAM_HOLD if pair is not None else size)
    try:
        if pair is not None:  # one ranged read streamed into the file, hashed from it after
            read_to, write_at = pair
            async with ctx.requests:
                _check_stop(ctx, transfer)
                await read_to(0, size, write_at)
            md5 = hashlib.md5() if _wants_md5(ctx, transfer, reader) else None
            if md5 is not None:
                await hash_back(md5, writer.read_back, Chunk(0, 0, size))
            digest = finish_md5(md5, padding) if md5 is not None else b""
            ctx.verify(_as_stored(transfer, reader), digest)
            await reader.finish()
            async with ctx.requests:
                await writer.commit(digest)
            return
        async with ctx.requests:
            _check_stop(ctx, transfer)
            data = await reader.read(0, size) if size else b""
            digest = b""
            if _wants_md5(ctx, transfer, reader):
                md5 = hashlib.md5()
                await update_md5(md5, data)
                digest = finish_md5(md5, padding)
            ctx.verify(_as_stored(transfer, reader), digest)
            await reader.finish()
            await writer.put_whole(data, digest)
    finally:
        ctx.memory.release(held)


EMPTY_MD5 = hashlib.md5(b"").digest()


def _wants_md5(ctx: TransferContext, transfer: Transfer, reader: Reader) -> bool:
    """Whether to hash `transfer`'s bytes: `reader` may learn the stored MD5 as it reads."""
    return ctx.wants_md5(transfer, hasattr(reader, "stored_md5"))


def _as_stored(transfer: Transfer, reader: Reader) -> Transfer:
    """`transfer` with the source's MD5 as the service reported it while it was read (the
    capability `StoredDigest`: Azure Files reports it on every read; its listing does not)."""
    if transfer.source.md5 is not None:
        return transfer
    if not hasattr(reader, "stored_md5"):
        return transfer
    stored: bytes | None = reader.stored_md5  # type: ignore[attr-defined]
    if stored is None and transfer.source.size == 0:
        stored = EMPTY_MD5  # nothing was read, so nothing reported: and nothing to differ
    if stored is None:
        return transfer
    return replace(transfer, source=replace(transfer.source, md5=stored))


def _check_stop(ctx: TransferContext, transfer: Transfer) -> None:
    """A whole-file transfer that got its request slot only after the job began stopping is
    queued, not in flight: leave it for the resume (as a chunk would be)."""
    if ctx.stop.is_set():
        raise Interrupted(f"stopped before {transfer.source.ref}")


async def _chunked(
    ctx: TransferContext,
    transfer: Transfer,
    reader: Reader,
    writer: Writer,
    padding: int,
    resume: tuple[Chunk, ...] | None,
) -> None:
    size, step = transfer.source.size, writer.chunk_size
    done = await writer.resumable_chunks(resume) if resume is not None else set()
    if done:
        present = sum(min(step, size - i * step) for i in done)
        ctx.sink.emit(TransferResumed(transfer.id, len(done), present))
    pair = stream_pair(reader, writer)
    streaming = pair is not None
    hasher = OrderedHasher(
        ctx.memory,
        enabled=_wants_md5(ctx, transfer, reader),
        read_back=writer.read_back if streaming else None,
    )
    gate = OrderedGate()
    skipped: list[int] = []

    async def restore(chunk: Chunk, held: int) -> None:
        """A chunk already at the destination: read it back locally only to hash it."""
        if not hasher.enabled:
            ctx.memory.release(held)
            ctx.sink.emit(Progress(transfer.id, chunk.length))
            return
        if streaming:  # the hasher reads it back from the writer when its turn comes
            ctx.sink.emit(Progress(transfer.id, chunk.length))
            await hasher.add(chunk.index, chunk, held)
            return
        try:
            data = await writer.read_back(chunk)
            if data is None:
                data = await reader.read(chunk.offset, chunk.length)
        except BaseException:
            ctx.memory.release(held)
            raise
        ctx.sink.emit(Progress(transfer.id, chunk.length))
        await hasher.add(chunk.index, data, held)

    async def send(chunk: Chunk, held: int) -> None:
        try:
            async with ctx.requests:
                if ctx.stop.is_set():  # queued, not in flight: leave it for the resume
                    skipped.append(chunk.index)
                    ctx.memory.release(held)
                    return
                data = await reader.read(chunk.offset, chunk.length)
                await writer.write_chunk(chunk, data)
        except BaseException:
            ctx.memory.release(held)
            raise
        ctx.record_chunk(transfer.id, chunk)
        ctx.sink.emit(Progress(transfer.id, chunk.length))
        await hasher.add(chunk.index, data, held)

    async def stream(run: list[Chunk], held: int) -> None:
        """Consecutive chunks in one streamed ranged read, each journaled once written."""
        assert pair is not None
        read_to, write_at = pair
        finished: list[Chunk] = []
        waiting = iter(run)
        current: Chunk | None = next(waiting)

        async def consume(position: int, piece: bytes) -> None:
            nonlocal current
            await write_at(position, piece)
            reached = position + len(piece)
            while current is not None and reached >= current.offset + current.length:
                ctx.record_chunk(transfer.id, current)
                ctx.sink.emit(Progress(transfer.id, current.length))
                finished.append(current)
                current = next(waiting, None)

        try:
            async with ctx.requests:
                if ctx.stop.is_set():  # queued, not in flight: leave it for the resume
                    skipped.append(run[0].index)
                    return
                start, end = run[0].offset, run[-1].offset + run[-1].length
                await read_to(start, end - start, consume)
        finally:
            ctx.memory.release(held)
        for chunk in finished:  # hashed (read back) in order, off the response's path
            await hasher.add(chunk.index, chunk, 0)

    async def append(chunk: Chunk, held: int) -> None:
        """Sequential writers (append blobs) get chunks strictly in order."""
        try:
            async with ctx.requests:
                data = await reader.read(chunk.offset, chunk.length)
            async with gate.turn(chunk.index), ctx.requests:
                await writer.write_chunk(chunk, data)
        except BaseException:
            ctx.memory.release(held)
            raise
        ctx.record_chunk(transfer.id, chunk)
        ctx.sink.emit(Progress(transfer.id, chunk.length))
        await hasher.add(chunk.index, data, held)

    moving = append if writer.sequential else send
    per_run = _run_length(size, step) if streaming else 1
    stopped_at: int | None = None
    try:
        async with asyncio.TaskGroup() as group:
            run: list[Chunk] = []
            for index, offset in enumerate(range(0, size, step)):
                chunk = Chunk(index, offset, min(step, size - offset))
                if index in done:
                    held = await ctx.memory.acquire(STREAM_HOLD if streaming else chunk.length)
                    group.create_task(restore(chunk, held))
                    continue
                if ctx.stop.is_set():
                    stopped_at = (run or [chunk])[0].index  # in-flight chunks finish
                    break
                if not streaming:
                    held = await ctx.memory.acquire(chunk.length)
                    group.create_task(moving(chunk, held))
                    continue
                run.append(chunk)
                last = index + 1 >= -(-size // step)
                if len(run) == per_run or last or index + 1 in done:
                    held = await ctx.memory.acquire(min(STREAM_HOLD, chunk.length))
                    group.create_task(stream(run, held))
                    run = []
    except BaseExceptionGroup as group_error:
        raise first_cause(group_error) from None
    finally:
        hasher.discard()
    if stopped_at is not None or skipped:
        first = min([*skipped, stopped_at if stopped_at is not None else size])
        raise Interrupted(f"stopped before chunk {first} of {transfer.source.ref}")
    digest = hasher.digest(padding)
    ctx.verify(_as_stored(transfer, reader), digest)
    await reader.finish()
    async with ctx.requests:
        await writer.commit(digest)
