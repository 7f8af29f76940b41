"""How each of Blob storage's copy methods copies one blob, once its writer is open.

- one request for the whole blob: Put Blob From URL, or Copy Blob From URL (the synchronous
  Copy Blob);
- Put Block From URL in parallel chunks (through the job's request slots, journaled like
  upload chunks, so a resume skips staged blocks) + Put Block List;
- Append Block From URL, chunk by chunk in order;
- Put Page From URL for the written page ranges only, so sparse disks copy fast;
- Copy Blob (asynchronous; polled, progress reported, aborted on Ctrl-C or failure).

Which of them a blob gets, and the falling back between them, is `copy_methods`' and the
engine's (`engine.server_copy`).
"""

from __future__ import annotations

import asyncio
import contextlib

from azxfer.endpoints.base import Endpoint
from azxfer.endpoints.blob.copy import CopyState, UrlWrites
from azxfer.endpoints.blob.copy_sources import SourceBlobs
from azxfer.endpoints.blob.writers import BlockBlobWriter, PageBlobWriter
from azxfer.endpoints.copycaps import CopyContext, CopySource
from azxfer.endpoints.url_chunks import check_unchanged, chunks_of, parallel_chunks
from azxfer.errors import Interrupted, TransferError
from azxfer.events import Notice, Progress
from azxfer.models import Chunk, Entry, Planned, blob_props, blob_type_to_write

MAX_APPEND_CHUNK = 4 * 1024 * 1024
MAX_PAGE_CHUNK = 4 * 1024 * 1024
# Polling a pending Copy Blob: start quickly (most copies finish in a second), back off.
FIRST_POLL = 0.2
MAX_POLL = 5.0


class BlobCopyRuns:
    """The copy methods' bodies for blobs of one source copied into one destination."""

    def __init__(self, source: Endpoint, dest: Endpoint, source_blobs: SourceBlobs | None):
        self.source = source
        self.dest = dest
        self.source_blobs = source_blobs  # a Blob storage source's page ranges

    # -- one request for the whole blob --------------------------------------------------

    async def whole(
        self, ctx: CopyContext, item: Planned, urls: UrlWrites, source: CopySource, sync: bool
    ) -> None:
        """Put Blob From URL, or (`sync`) Copy Blob From URL."""
        transfer = item.transfer
        async with ctx.requests:
            if sync:
                await urls.copy_blob(source, synchronous=True)
                await urls.fix_properties(source)
            else:
                await urls.put_blob_from_url(source)
        ctx.sink.emit(Progress(transfer.id, transfer.source.size))

    # -- chunked: blocks, appends, pages ---------------------------------------------------

    async def blocks(
        self, ctx: CopyContext, item: Planned, urls: UrlWrites, source: CopySource
    ) -> None:
        """Put Block From URL for every block, then Put Block List."""
        transfer = item.transfer
        writer = urls.writer
        assert isinstance(writer, BlockBlobWriter)
        size, step = transfer.source.size, writer.chunk_size
        chunks = chunks_of(size, step)
        done = await writer.resumable_chunks(item.resume) if item.resume is not None else set()
        stage = urls.stage_block
        await parallel_chunks(ctx, transfer, chunks, lambda chunk: stage(chunk, source), done)
        if len(chunks) > 1:
            await self._check_unchanged(transfer.source)
        async with ctx.requests:
            await writer.commit(transfer.source.md5)  # type: ignore[arg-type]

    async def pages(
        self, ctx: CopyContext, item: Planned, urls: UrlWrites, source: CopySource
    ) -> None:
        """Put Page From URL for the source's written page ranges."""
        transfer = item.transfer
        writer = urls.writer
        assert isinstance(writer, PageBlobWriter)
        assert self.source_blobs is not None  # page blobs copy from a storage source only
        async with ctx.requests:
            ranges = await self.source_blobs.page_ranges(transfer.source)
        chunks: list[Chunk] = []
        for offset, length in ranges:
            for start in range(offset, offset + length, MAX_PAGE_CHUNK):
                piece = min(MAX_PAGE_CHUNK, offset + length - start)
                chunks.append(Chunk(len(chunks), start, piece))
        done = await writer.resumable_chunks(item.resume) if item.resume is not None else set()
        async with ctx.requests:
            await writer.create(transfer.source.md5)  # a no-op if a resume found it
        empty = transfer.source.size - sum(c.length for c in chunks)
        if empty > 0:
            ctx.sink.emit(Progress(transfer.id, empty))  # never-written pages read as zeros
        put = urls.put_pages
        try:
            await parallel_chunks(ctx, transfer, chunks, lambda chunk: put(chunk, source), done)
            await self._check_unchanged(transfer.source)
        except Interrupted:
            raise
        except BaseException:
            await writer.abort()
            raise

    async def appends(
        self, ctx: CopyContext, item: Planned, urls: UrlWrites, source: CopySource
    ) -> None:
        """Append Block From URL, chunk by chunk in order."""
        transfer = item.transfer
        writer = urls.writer
        size = transfer.source.size
        step = min(writer.chunk_size, MAX_APPEND_CHUNK)
        try:
            async with ctx.requests:
                await writer.create(transfer.source.md5)  # type: ignore[union-attr]
            for index, offset in enumerate(range(0, size, step)):
                if ctx.stop.is_set():
                    raise Interrupted(f"stopped before chunk {index} of {transfer.source.ref}")
                chunk = Chunk(index, offset, min(step, size - offset))
                async with ctx.requests:
                    await urls.append_block(chunk, source)
                ctx.sink.emit(Progress(transfer.id, chunk.length))
        except BaseException:
            await writer.abort()  # appends cannot be resumed part-way: start again
            raise
        await self._check_unchanged(transfer.source)

    async def _check_unchanged(self, entry: Entry) -> None:
        await check_unchanged(self.source, entry)

    # -- Copy Blob, asynchronous -----------------------------------------------------------

    async def async_copy(
        self, ctx: CopyContext, item: Planned, urls: UrlWrites, source: CopySource
    ) -> None:
        """Copy Blob, polled until the service has copied the blob."""
        transfer = item.transfer
        async with ctx.requests:
            # Copy Blob would replace a blob of another type on some services and fail on
            # others; either way the user should hear it from us first.
            existing = await self.dest.stat(transfer.dest_ref)
            wanted = blob_type_to_write(urls.writer.props)
            existing_type = blob_props(existing).blob_type if existing is not None else None
            if existing_type is not None and existing_type is not wanted:
                raise TransferError(
                    f"blob '{transfer.dest_ref}' exists as another blob type "
                    f"({existing_type.value}, the copy would be a {wanted.value}): delete "
                    "it first, or pick its type with --blob-type"
                )
            state = await urls.copy_blob(source, synchronous=False)
        reported = 0
        try:
            delay = FIRST_POLL
            while state.status == "pending":
                if ctx.stop.is_set():
                    raise Interrupted(f"stopped while the service copied {transfer.source.ref}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ctx.stop.wait(), delay)
                delay = min(delay * 2, MAX_POLL)
                async with ctx.requests:
                    state = await _poll(urls, state)
                if state.copied > reported:
                    ctx.sink.emit(Progress(transfer.id, state.copied - reported))
                    reported = state.copied
        except BaseException:
            if state.status == "pending":
                await urls.abort_copy(state.copy_id)
                ctx.sink.emit(
                    Notice(
                        "warning",
                        f"aborted the server-side copy to {transfer.dest_display}: the "
                        "destination is left zero-length until the job is resumed",
                    )
                )
            raise
        if state.status != "success":
            detail = f": {state.description}" if state.description else ""
            raise TransferError(
                f"the service's copy of '{transfer.source.ref}' {state.status}{detail}"
            )
        if transfer.source.size > reported:
            ctx.sink.emit(Progress(transfer.id, transfer.source.size - reported))
        async with ctx.requests:
            await urls.fix_properties(source)


async def _poll(urls: UrlWrites, started: CopyState) -> CopyState:
    state = await urls.copy_state()
    if state.copy_id and started.copy_id and state.copy_id != started.copy_id:
        raise TransferError("another copy to the same destination blob started meanwhile")
    return state
