"""Moving one transfer: chunking, in-order MD5 while streaming, verify, commit.

Chunks of a file are read and written concurrently (bounded by the job's request and memory
budgets); the MD5 is computed in chunk order as chunks arrive, so the source is read once.
A writer that must receive chunks in order (append blobs) gets them through the same gate.

On resume, chunks already at the destination are not sent again: their bytes are read back
locally (from the partial download, or from the local source of an upload) only to finish
the whole-file MD5, since an MD5 state cannot be saved mid-stream.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from azxfer.endpoints.base import Reader, Writer
from azxfer.engine.budget import MemoryBudget
from azxfer.errors import AzxferError
from azxfer.events import EventSink, Progress, TransferResumed
from azxfer.models import Chunk, Transfer

# Hashing a chunk this large on the event loop would stall every other transfer.
_THREAD_HASH = 1024 * 1024

# Called with the transfer and the MD5 computed from the bytes moved; raises IntegrityError.
Verifier = Callable[[Transfer, bytes], None]
ChunkRecorder = Callable[[int, Chunk], None]


class Interrupted(AzxferError):
    """The job is stopping; this transfer stopped between chunks and can be resumed."""


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


@dataclass(slots=True)
class TransferContext:
    """The budgets and hooks every transfer of a job shares."""

    requests: RequestSlots
    memory: MemoryBudget
    sink: EventSink
    verify: Verifier
    record_chunk: ChunkRecorder = lambda _tid, _chunk: None
    # Whether a transfer's MD5 is worth computing: uploads record it; a download needs it
    # only when there is a Content-MD5 to check (hashing costs ~2 s of CPU per GiB).
    wants_md5: Callable[[Transfer], bool] = lambda _transfer: True
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


async def _update(md5: hashlib._Hash, data: bytes) -> None:  # type: ignore[name-defined]
    if len(data) >= _THREAD_HASH:
        await asyncio.to_thread(md5.update, data)
    else:
        md5.update(data)


def _finish_md5(md5: hashlib._Hash, padding: int) -> bytes:  # type: ignore[name-defined]
    if padding:
        md5.update(bytes(padding))
    return md5.digest()


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
    held = await ctx.memory.acquire(size)
    try:
        async with ctx.requests:
            data = await reader.read(0, size) if size else b""
            hashing = ctx.wants_md5(transfer)
            digest = _finish_md5(hashlib.md5(data), padding) if hashing else b""
            ctx.verify(transfer, digest)
            await reader.finish()
            await writer.put_whole(data, digest)
    finally:
        ctx.memory.release(held)


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
    hasher = OrderedHasher(ctx.memory, enabled=ctx.wants_md5(transfer))
    gate = OrderedGate()
    skipped: list[int] = []

    async def restore(chunk: Chunk, held: int) -> None:
        """A chunk already at the destination: read it back locally only to hash it."""
        if not hasher.enabled:
            ctx.memory.release(held)
            ctx.sink.emit(Progress(transfer.id, chunk.length))
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
    stopped_at: int | None = None
    try:
        async with asyncio.TaskGroup() as group:
            for index, offset in enumerate(range(0, size, step)):
                if ctx.stop.is_set() and index not in done:
                    stopped_at = index  # in-flight chunks finish; nothing new starts
                    break
                chunk = Chunk(index, offset, min(step, size - offset))
                held = await ctx.memory.acquire(chunk.length)
                group.create_task((restore if index in done else moving)(chunk, held))
    except BaseExceptionGroup as group_error:
        raise _first_cause(group_error) from None
    finally:
        hasher.discard()
    if stopped_at is not None or skipped:
        first = min([*skipped, stopped_at if stopped_at is not None else size])
        raise Interrupted(f"stopped before chunk {first} of {transfer.source.ref}")
    digest = hasher.digest(padding)
    ctx.verify(transfer, digest)
    await reader.finish()
    async with ctx.requests:
        await writer.commit(digest)


class OrderedHasher:
    """MD5 over chunks in index order, whatever order they arrive in.

    A chunk that arrives early waits here (its memory still counted) until its predecessors
    are hashed; nobody blocks on anybody, so a chunk that never comes (the job is stopping)
    cannot hold up the others. `discard()` returns what is left to the memory budget.
    """

    def __init__(self, memory: MemoryBudget, enabled: bool = True) -> None:
        self.memory = memory
        self.enabled = enabled
        self.md5 = hashlib.md5()
        self.next = 0
        self.waiting: dict[int, tuple[bytes, int]] = {}
        self._lock = asyncio.Lock()

    async def add(self, index: int, data: bytes, held: int) -> None:
        """Take chunk `index` (and its `held` memory); hash every chunk now in order."""
        if not self.enabled:
            self.memory.release(held)
            return
        self.waiting[index] = (data, held)
        async with self._lock:
            while self.next in self.waiting:
                data, held = self.waiting.pop(self.next)
                try:
                    await _update(self.md5, data)
                finally:
                    self.memory.release(held)
                self.next += 1

    def digest(self, padding: int) -> bytes:
        """The MD5 of everything added plus `padding` zero bytes (empty when not hashing)."""
        return _finish_md5(self.md5, padding) if self.enabled else b""

    def discard(self) -> None:
        """Release the memory of chunks that will never be hashed."""
        for _, held in self.waiting.values():
            self.memory.release(held)
        self.waiting.clear()


def _first_cause(group: BaseExceptionGroup) -> BaseException:
    """The first real failure inside a task group (cancellations are consequences)."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first_cause(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return group.exceptions[0]
