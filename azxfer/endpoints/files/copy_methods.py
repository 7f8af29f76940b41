"""How the File service copies a file into a share from a URL it reads itself (a file of any
share, or a blob), best first:

- Put Range From URL: the file created as the writer creates it, its 4 MiB ranges written
  from the source in parallel (through the job's request slots, each journaled like an
  upload chunk, so a resume skips ranges already there: the writer's range list decides),
  then committed as the writer commits (whole-file MD5, content headers, SMB properties);
- Copy File (asynchronous): polled with backoff until the service has copied the file, then
  committed the same way; aborted on Ctrl-C or a stop, and the file removed as the writer's
  abort removes a partial file (a resume starts it again).

Which method a file gets, narrowed by --s2s-mode, and the falling back (to streaming last) are
the engine's (`engine.server_copy`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar, cast

from azxfer.endpoints.base import Endpoint
from azxfer.endpoints.bound_method import BoundCopyMethod
from azxfer.endpoints.copycaps import (
    CopyContext,
    CopyKind,
    CopyRecorder,
    CopySource,
    ServerErrorAttempts,
    UrlSource,
)
from azxfer.endpoints.files.writer import FileWriter
from azxfer.endpoints.url_chunks import check_unchanged, chunks_of, parallel_chunks
from azxfer.errors import CopySourceError, Interrupted, TransferError
from azxfer.events import Notice, Progress
from azxfer.models import Chunk, Planned, Transfer

if TYPE_CHECKING:
    from azxfer.endpoints.files.endpoint import FilesEndpoint

T = TypeVar("T")
PUT_RANGE_FROM_URL = "Put Range From URL"
COPY_FILE = "Copy File"
# Polling a pending Copy File: start quickly (most copies finish in a second), back off.
FIRST_POLL = 0.2
MAX_POLL = 5.0


class FileCopies:
    """The copy methods from one source into one share."""

    def __init__(self, dest: FilesEndpoint, source: UrlSource) -> None:
        self.dest = dest
        self.source = source
        self.methods = (
            BoundCopyMethod(PUT_RANGE_FROM_URL, PUT_RANGE_FROM_URL, CopyKind.URL, self),
            BoundCopyMethod(COPY_FILE, COPY_FILE, CopyKind.ASYNC, self),
        )

    async def run(
        self,
        method: str,
        ctx: CopyContext,
        item: Planned,
        block_size: int,
        recorder: CopyRecorder,
        attempts: ServerErrorAttempts,
    ) -> None:
        """Copy `item` by `method`."""
        transfer = item.transfer
        writer = await self.dest.open_writer(transfer, transfer.source.size, item.props, block_size)
        recorder.started(transfer, writer.chunk_size)
        source = await self.source.copy_source(transfer.source)
        if method == PUT_RANGE_FROM_URL:
            await self._ranges(ctx, item, writer, source, attempts)
        else:
            await self._copy_file(ctx, item, writer, source, attempts)

    async def _ranges(
        self,
        ctx: CopyContext,
        item: Planned,
        writer: FileWriter,
        source: CopySource,
        attempts: ServerErrorAttempts,
    ) -> None:
        """Put Range From URL for every range not yet at the destination, then commit."""
        transfer = item.transfer
        size, md5 = transfer.source.size, transfer.source.md5
        if size == 0:
            async with ctx.requests:
                await writer.put_whole(b"", md5)
            return
        chunks = chunks_of(size, writer.chunk_size)
        done = await writer.resumable_chunks(item.resume) if item.resume is not None else set()
        async with ctx.requests:
            await writer.create()
        rest, path, url, headers = self.dest.rest, writer.path, source.url, source.source_headers()

        async def put(chunk: Chunk) -> None:
            request = rest.put_range_from_url(
                path, chunk.offset, chunk.length, url, attempts, headers
            )
            await self._call(request, writer.what)

        await parallel_chunks(ctx, transfer, chunks, put, done)
        if len(chunks) > 1:
            await check_unchanged(cast(Endpoint, self.source), transfer.source)
        async with ctx.requests:
            await writer.commit(md5)

    async def _copy_file(
        self,
        ctx: CopyContext,
        item: Planned,
        writer: FileWriter,
        source: CopySource,
        attempts: ServerErrorAttempts,
    ) -> None:
        """Copy File, polled until the service has copied the file, then committed."""
        transfer = item.transfer
        if source.authorization:
            raise CopySourceError(
                f"Copy File of '{transfer.source.ref}' cannot read a source that only an Entra "
                "ID token may read"
            )
        rest, path = self.dest.rest, writer.path
        async with ctx.requests:
            await self._call(writer.parent_ready(), writer.what)
            copy_id, status = await self._call(
                rest.start_copy(path, source.url, item.props.metadata, writer.smb, attempts),
                writer.what,
            )
        writer.exists()
        reported = 0
        try:
            delay = FIRST_POLL
            while status == "pending":
                if ctx.stop.is_set():
                    raise Interrupted(f"stopped while the service copied {transfer.source.ref}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ctx.stop.wait(), delay)
                delay = min(delay * 2, MAX_POLL)
                async with ctx.requests:
                    status, copied = await self._poll(writer, copy_id)
                if copied > reported:
                    ctx.sink.emit(Progress(transfer.id, copied - reported))
                    reported = copied
        except BaseException:
            if status == "pending":
                await self._abort(ctx, transfer, writer, copy_id)
            raise
        if status != "success":
            raise TransferError(f"the service's copy of '{transfer.source.ref}' {status}")
        if transfer.source.size > reported:
            ctx.sink.emit(Progress(transfer.id, transfer.source.size - reported))
        async with ctx.requests:
            await writer.commit(transfer.source.md5)

    async def _call(self, request: Awaitable[T], what: str) -> T:
        try:
            return await request
        except Exception as exc:
            raise self.dest.explain(exc, what) from None

    async def _poll(self, writer: FileWriter, copy_id: str) -> tuple[str, int]:
        """Get File Properties: the copy's status and the bytes copied so far."""
        headers = await self._call(self.dest.rest.file_properties(writer.path), writer.what)
        if headers is None:
            raise TransferError(f"{writer.what} disappeared while the service copied it")
        found = headers.get("x-ms-copy-id") or ""
        if copy_id and found and found != copy_id:
            raise TransferError(f"another copy to {writer.what} started meanwhile")
        copied = (headers.get("x-ms-copy-progress") or "0/0").partition("/")[0]
        return headers.get("x-ms-copy-status") or "success", int(copied or 0)

    async def _abort(
        self, ctx: CopyContext, transfer: Transfer, writer: FileWriter, copy_id: str
    ) -> None:
        """Abort Copy File, then remove the file as the writer's abort does. Never raises."""
        with contextlib.suppress(Exception):
            await self.dest.rest.abort_copy(writer.path, copy_id)
        await writer.abort()
        ctx.sink.emit(
            Notice(
                "warning",
                f"aborted the server-side copy to {transfer.dest_display}: the partial file "
                "was removed, and a resume copies it again",
            )
        )
