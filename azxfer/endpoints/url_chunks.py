"""Chunked server-side copies, for any destination service: the ranges of an object written
from its source's URL concurrently within the job's request slots, each journaled like an
upload chunk (so a resume skips what is there), and the check that the source stayed one
version while it was read by several requests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from azxfer.endpoints.base import Endpoint
from azxfer.endpoints.copycaps import CopyContext
from azxfer.errors import IntegrityError, Interrupted, first_cause
from azxfer.events import Progress, TransferResumed
from azxfer.models import Chunk, Entry, Transfer


def chunks_of(size: int, step: int) -> list[Chunk]:
    """An object of `size` bytes in chunks of `step`."""
    return [Chunk(i, off, min(step, size - off)) for i, off in enumerate(range(0, size, step))]


async def check_unchanged(source: Endpoint, entry: Entry) -> None:
    """Copies made of several requests read the source several times: make sure it was
    one version throughout (a single request is conditional on the ETag already)."""
    if entry.is_point_in_time or not entry.etag:
        return
    current = await source.stat(entry.ref)
    if current is None or current.etag != entry.etag:
        raise IntegrityError(f"'{entry.ref}' changed while it was copied")


async def parallel_chunks(
    ctx: CopyContext,
    transfer: Transfer,
    chunks: list[Chunk],
    write: Callable[[Chunk], Awaitable[None]],
    done: set[int],
) -> None:
    """Write chunks concurrently within the job's request slots; journal each; stop cleanly
    (what is in flight finishes, the rest is left for a resume)."""
    if done:
        present = sum(c.length for c in chunks if c.index in done)
        ctx.sink.emit(TransferResumed(transfer.id, len(done), present))
        ctx.sink.emit(Progress(transfer.id, present))
    left: list[int] = []

    async def one(chunk: Chunk) -> None:
        async with ctx.requests:
            if ctx.stop.is_set():
                left.append(chunk.index)
                return
            await write(chunk)
        ctx.record_chunk(transfer.id, chunk)
        ctx.sink.emit(Progress(transfer.id, chunk.length))

    try:
        async with asyncio.TaskGroup() as group:
            for chunk in chunks:
                if chunk.index in done:
                    continue
                if ctx.stop.is_set():
                    left.append(chunk.index)
                    break
                group.create_task(one(chunk))
    except BaseExceptionGroup as group_error:
        raise first_cause(group_error) from None
    if left:
        raise Interrupted(f"stopped before chunk {min(left)} of {transfer.source.ref}")
