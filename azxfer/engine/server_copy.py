"""Blob → blob copies, server side: which service API copies a blob, and falling back.

For each blob the mover tries a ladder of methods, best first:

- block blobs up to one block: Put Blob From URL, then Copy Blob From URL (the synchronous
  Copy Blob), then Put Block From URL + Put Block List;
- larger block blobs: Put Block From URL in parallel chunks (through the job's request slots,
  journaled like upload chunks, so a resume skips staged blocks) + Put Block List;
- append blobs: Append Block From URL, chunk by chunk in order;
- page blobs: Put Page From URL for the written page ranges only, so sparse disks copy fast;
- then Copy Blob (asynchronous; polled, progress reported, aborted on Ctrl-C or failure);
- and last, streaming through this machine (`--s2s-mode client`).

When the service answers that a method is not implemented (Azurite does for several), that
method is dropped for the rest of the job, said once, and the blob goes on down the ladder.
A method that has not yet worked in the job and fails with 5xx is tried briefly, then the blob
goes on down the ladder, and a few such failures drop it too (see `engine.copy_methods`).
When the service cannot read the source (CannotVerifyCopySource: it is not reachable from
there), that blob is streamed instead. `--s2s-mode` narrows the ladder.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable

from msgspec.structs import replace

from azxfer.endpoints.blob.copy import CopySource, CopyState, SourceAuthority, UrlWrites
from azxfer.endpoints.blob.copy_rest import ServerErrorAttempts
from azxfer.endpoints.blob.copy_sources import SourceBlobs
from azxfer.endpoints.blob.endpoint import BlobEndpoint
from azxfer.endpoints.blob.writers import BlockBlobWriter, PageBlobWriter
from azxfer.endpoints.web.endpoint import WebEndpoint
from azxfer.engine.copy_methods import UNPROVEN_FAILURES, Method, MethodTrust, ladder
from azxfer.engine.job import Recorder, StreamMover
from azxfer.engine.transfer import Interrupted, TransferContext, first_cause
from azxfer.errors import (
    CopySourceError,
    IntegrityError,
    NotSupportedError,
    ServerError,
    TransferError,
)
from azxfer.events import Notice, Progress, TransferResumed
from azxfer.models import Chunk, Entry, Planned, Transfer, blob_props, blob_type_to_write
from azxfer.options import ServerCopySettings

log = logging.getLogger("azxfer.s2s")

MAX_APPEND_CHUNK = 4 * 1024 * 1024
MAX_PAGE_CHUNK = 4 * 1024 * 1024
# Polling a pending Copy Blob: start quickly (most copies finish in a second), back off.
FIRST_POLL = 0.2
MAX_POLL = 5.0


class ServerSideMover:
    """Copies blobs between two blob endpoints with the best method each service supports."""

    def __init__(
        self,
        source: BlobEndpoint | WebEndpoint,
        dest: BlobEndpoint,
        settings: ServerCopySettings,
        stream: StreamMover,
    ) -> None:
        self.source = source
        self.dest = dest
        self.settings = settings
        self.stream = stream
        if isinstance(source, BlobEndpoint):
            self.authority = SourceAuthority(source.location, source.credential)
            self.source_blobs: SourceBlobs | None = SourceBlobs(source, source.classify)
        else:
            self.authority = SourceAuthority(source.location, None)
            self.source_blobs = None
        self.unsupported: set[Method] = set()
        self.trust = MethodTrust()
        self._warned_unreadable = False

    async def move(
        self, ctx: TransferContext, item: Planned, block_size: int, recorder: Recorder
    ) -> None:
        """Copy one blob, holding a lease on the source if asked to."""
        blobs = self.source_blobs
        lease = (
            blobs.leased(item.transfer.source)
            if blobs is not None and self.settings.lease_source
            else contextlib.nullcontext()
        )
        async with lease:
            planned = blob_props(item.props)
            if blobs is not None and self.settings.preserve_tags and not planned.tags:
                tags = await blobs.tags(item.transfer.source)
                service = replace(planned, tags=tags or None)
                item = replace(item, props=replace(item.props, service=service))
            await self._down_the_ladder(ctx, item, block_size, recorder)

    async def _down_the_ladder(
        self, ctx: TransferContext, item: Planned, block_size: int, recorder: Recorder
    ) -> None:
        readable = self.authority.server_readable
        if not readable and not self._warned_unreadable:
            self._warned_unreadable = True
            ctx.sink.emit(
                Notice(
                    "info",
                    "the source is authorized with an Entra ID token, which the destination "
                    "service cannot use to read it: copying through this machine (give the "
                    "source a SAS or account key for a server-side copy)",
                )
            )
        methods = ladder(
            item.transfer.source,
            blob_type_to_write(item.props),
            block_size,
            self.settings.mode,
            readable,
            self.source_blobs is not None,
        )
        tried: list[Method] = []
        fault: ServerError | None = None
        for index, method in enumerate(methods):
            if method in self.unsupported:
                continue
            tried.append(method)
            below = any(m not in self.unsupported for m in methods[index + 1 :])
            attempts = functools.partial(self.trust.attempts, method, below)
            try:
                await self._run(method, ctx, item, block_size, recorder, attempts)
                self.trust.succeeded(method)
                return
            except NotSupportedError as exc:
                self._drop(ctx, method, f"does not support {method.value}", exc)
            except ServerError as exc:
                if exc.attempts is None and attempts() is None:
                    raise  # retried in full, as a method that worked (or the last resort)
                fault = exc
                self._distrust(ctx, method, exc)
            except CopySourceError as exc:
                if Method.CLIENT not in methods or method is Method.CLIENT:
                    raise
                ctx.sink.emit(
                    Notice(
                        "warning",
                        f"{exc}: copying '{item.transfer.source.ref}' through this machine",
                    )
                )
                await self._run(Method.CLIENT, ctx, item, block_size, recorder)
                return
        if fault is not None:  # the methods below it were dropped meanwhile
            raise fault
        names = ", ".join(m.value for m in tried or methods) or "none"
        raise NotSupportedError(
            f"'{item.transfer.source.ref}': the service supports no copy method that "
            f"--s2s-mode {self.settings.mode.value} allows (tried: {names})"
        )

    def _distrust(self, ctx: TransferContext, method: Method, exc: ServerError) -> None:
        """An unproven method failed a blob with 5xx: the blob goes on down the ladder, and
        after a few such blobs the method is dropped."""
        log.info("%s has not worked in this job and failed (%s): trying the next", method, exc)
        if self.trust.failed(method):
            why = (
                f"answered {exc.status} to {method.value} for {UNPROVEN_FAILURES} blobs and it "
                "has not worked in this job"
            )
            self._drop(ctx, method, why, exc)

    def _drop(self, ctx: TransferContext, method: Method, why: str, exc: Exception) -> None:
        if method in self.unsupported:
            return
        self.unsupported.add(method)
        log.info("%s is not usable here (%s); not using it again in this job", method, exc)
        ctx.sink.emit(
            Notice(
                "info",
                f"the destination service {why}: using the next copy method for the rest of "
                "the job",
            )
        )

    async def _run(
        self,
        method: Method,
        ctx: TransferContext,
        item: Planned,
        block_size: int,
        recorder: Recorder,
        server_error_attempts: ServerErrorAttempts | None = None,
    ) -> None:
        if method is Method.CLIENT:
            await self.stream.move(ctx, item, block_size, recorder)
            return
        transfer = item.transfer
        writer = await self.dest.open_writer(transfer, transfer.source.size, item.props, block_size)
        recorder.started(transfer, writer.chunk_size)
        urls = UrlWrites(writer, self.dest.fast_path(), server_error_attempts)
        source = self.authority.source(transfer.source)
        runs: dict[Method, Callable[[], Awaitable[None]]] = {
            Method.PUT_BLOB_FROM_URL: lambda: self._whole(ctx, transfer, urls, source, None),
            Method.COPY_FROM_URL: lambda: self._whole(ctx, transfer, urls, source, True),
            Method.BLOCKS_FROM_URL: lambda: self._blocks(ctx, item, urls, source),
            Method.APPEND_FROM_URL: lambda: self._appends(ctx, transfer, urls, source),
            Method.PAGES_FROM_URL: lambda: self._pages(ctx, item, urls, source),
            Method.ASYNC_COPY: lambda: self._async_copy(ctx, transfer, urls, source),
        }
        await runs[method]()

    # -- one request for the whole blob --------------------------------------------------

    async def _whole(
        self,
        ctx: TransferContext,
        transfer: Transfer,
        urls: UrlWrites,
        source: CopySource,
        sync_copy: bool | None,
    ) -> None:
        async with ctx.requests:
            if sync_copy:
                await urls.copy_blob(source, synchronous=True)
                await urls.fix_properties(source)
            else:
                await urls.put_blob_from_url(source)
        ctx.sink.emit(Progress(transfer.id, transfer.source.size))

    # -- chunked: blocks, appends, pages ---------------------------------------------------

    async def _blocks(
        self, ctx: TransferContext, item: Planned, urls: UrlWrites, source: CopySource
    ) -> None:
        transfer = item.transfer
        writer = urls.writer
        assert isinstance(writer, BlockBlobWriter)
        size, step = transfer.source.size, writer.chunk_size
        chunks = [
            Chunk(i, off, min(step, size - off)) for i, off in enumerate(range(0, size, step))
        ]
        done = await writer.resumable_chunks(item.resume) if item.resume is not None else set()
        stage = urls.stage_block
        await self._parallel(ctx, transfer, chunks, lambda chunk: stage(chunk, source), done)
        if len(chunks) > 1:
            await self._check_unchanged(transfer.source)
        async with ctx.requests:
            await writer.commit(transfer.source.md5)  # type: ignore[arg-type]

    async def _pages(
        self, ctx: TransferContext, item: Planned, urls: UrlWrites, source: CopySource
    ) -> None:
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
            await self._parallel(ctx, transfer, chunks, lambda chunk: put(chunk, source), done)
            await self._check_unchanged(transfer.source)
        except Interrupted:
            raise
        except BaseException:
            await writer.abort()
            raise

    async def _appends(
        self, ctx: TransferContext, transfer: Transfer, urls: UrlWrites, source: CopySource
    ) -> None:
        writer = urls.writer
        size = transfer.source.size
        step = min(writer.chunk_size, MAX_APPEND_CHUNK)
        try:
            async with ctx.requests:
                await writer.create(transfer.source.md5)  # type: ignore[attr-defined]
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

    async def _parallel(
        self,
        ctx: TransferContext,
        transfer: Transfer,
        chunks: list[Chunk],
        write: Callable[[Chunk], Awaitable[None]],
        done: set[int],
    ) -> None:
        """Write chunks concurrently within the job's request slots; journal each; stop
        cleanly (what is in flight finishes, the rest is left for a resume)."""
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

    async def _check_unchanged(self, entry: Entry) -> None:
        """Copies made of several requests read the source several times: make sure it was
        one version throughout (a single request is conditional on the ETag already)."""
        if entry.is_point_in_time or not entry.etag:
            return
        current = await self.source.stat(entry.ref)
        if current is None or current.etag != entry.etag:
            raise IntegrityError(f"blob '{entry.ref}' changed while it was copied")

    # -- Copy Blob, asynchronous -----------------------------------------------------------

    async def _async_copy(
        self, ctx: TransferContext, transfer: Transfer, urls: UrlWrites, source: CopySource
    ) -> None:
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
                    state = await self._poll(urls, state)
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

    @staticmethod
    async def _poll(urls: UrlWrites, started: CopyState) -> CopyState:
        state = await urls.copy_state()
        if state.copy_id and started.copy_id and state.copy_id != started.copy_id:
            raise TransferError("another copy to the same destination blob started meanwhile")
        return state
