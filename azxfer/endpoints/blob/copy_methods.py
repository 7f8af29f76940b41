"""Which of Blob storage's APIs can copy a blob into a Blob storage destination, best first.

- block blobs up to one block: Put Blob From URL, then Copy Blob From URL (the synchronous
  Copy Blob), then Put Block From URL + Put Block List;
- larger block blobs: Put Block From URL in parallel chunks + Put Block List;
- append blobs: Append Block From URL; page blobs: Put Page From URL (written ranges only);
- then Copy Blob (asynchronous, polled).

Copy Blob (in both forms) and page ranges need a storage source of the same blob type, except
that Copy Blob also reads a file of an Azure file share into a block blob (the service carries
the file's content headers, Content-MD5 and metadata over, as from a blob; it copies files
into no other blob type); the other From-URL APIs read any URL the service can reach (a web
source too). No API writes a page blob from a file (Put Page From URL documents a blob
source only): a page blob from a share is offered `PAGES_FROM_FILE`, which sends nothing and
refuses, so the engine says once that such blobs go through this machine (or, under a
--s2s-mode without streaming, that no method can copy them). The engine walks these
(`engine.server_copy`), narrowed by --s2s-mode, falling back as a method fails.
"""

from __future__ import annotations

import enum
from typing import cast

from azxfer.endpoints.base import Endpoint
from azxfer.endpoints.blob.copy import MAX_PUT_FROM_URL, MAX_SYNC_COPY, UrlWrites
from azxfer.endpoints.blob.copy_runs import BlobCopyRuns
from azxfer.endpoints.blob.endpoint import BlobEndpoint
from azxfer.endpoints.bound_method import BoundCopyMethod
from azxfer.endpoints.copycaps import (
    CopyContext,
    CopyKind,
    CopyRecorder,
    ServerErrorAttempts,
    UrlSource,
)
from azxfer.errors import NotSupportedError
from azxfer.models import BlobType, Entry, FileProps, Planned, blob_props, blob_type_to_write


class Method(enum.Enum):
    """The ways to copy one blob, named as the service's documentation names them."""

    PUT_BLOB_FROM_URL = "Put Blob From URL"
    COPY_FROM_URL = "Copy Blob From URL"
    BLOCKS_FROM_URL = "Put Block From URL"
    APPEND_FROM_URL = "Append Block From URL"
    PAGES_FROM_URL = "Put Page From URL"
    ASYNC_COPY = "Copy Blob"
    PAGES_FROM_FILE = "Put Page From URL from a file share"


def ladder(
    entry: Entry, dest_type: BlobType, block_size: int, source_is_blob: bool
) -> list[Method]:
    """The methods that can copy `entry` to a blob of `dest_type`, best first."""
    source_type = blob_props(entry).blob_type or BlobType.BLOCK
    same_type = source_is_blob and source_type is dest_type
    from_file = isinstance(entry.service, FileProps)
    size = entry.size
    methods: list[Method] = []
    if dest_type is BlobType.BLOCK:
        if size <= block_size and size <= MAX_PUT_FROM_URL:
            methods.append(Method.PUT_BLOB_FROM_URL)
        if same_type and size <= min(block_size, MAX_SYNC_COPY):
            methods.append(Method.COPY_FROM_URL)
        methods.append(Method.BLOCKS_FROM_URL)
    elif dest_type is BlobType.APPEND:
        methods.append(Method.APPEND_FROM_URL)
    elif same_type:
        methods.append(Method.PAGES_FROM_URL)
    elif from_file:
        methods.append(Method.PAGES_FROM_FILE)
    if same_type or (from_file and dest_type is BlobType.BLOCK):
        methods.append(Method.ASYNC_COPY)
    return methods


class BlobCopies:
    """The copy methods from one source into one Blob storage destination."""

    def __init__(self, dest: BlobEndpoint, source: UrlSource) -> None:
        self.dest = dest
        self.source = source
        blob_source = source if isinstance(source, BlobEndpoint) else None
        self.source_is_blob = blob_source is not None
        blobs = blob_source.source_blobs() if blob_source else None
        # Every UrlSource is a driver (it is asked only to stat the objects it gave).
        self.runs = BlobCopyRuns(cast(Endpoint, source), dest, blobs)
        self._bound = {method: _bound(method, self) for method in Method}

    def methods(self, item: Planned, block_size: int) -> list[BoundCopyMethod[Method]]:
        """The methods for `item`, best first."""
        steps = ladder(
            item.transfer.source, blob_type_to_write(item.props), block_size, self.source_is_blob
        )
        return [self._bound[method] for method in steps]

    async def run(
        self,
        method: Method,
        ctx: CopyContext,
        item: Planned,
        block_size: int,
        recorder: CopyRecorder,
        attempts: ServerErrorAttempts,
    ) -> None:
        """Copy `item` by `method`."""
        if method is Method.PAGES_FROM_FILE:
            raise NotSupportedError(
                "Put Page From URL reads blob sources only, and Copy Blob copies a file into a "
                "block blob only"
            )
        transfer = item.transfer
        writer = await self.dest.open_writer(transfer, transfer.source.size, item.props, block_size)
        recorder.started(transfer, writer.chunk_size)
        urls = UrlWrites(writer, self.dest.fast_path(), attempts)
        source = await self.source.copy_source(transfer.source)
        runs = self.runs
        if method is Method.PUT_BLOB_FROM_URL or method is Method.COPY_FROM_URL:
            await runs.whole(ctx, item, urls, source, sync=method is Method.COPY_FROM_URL)
        elif method is Method.BLOCKS_FROM_URL:
            await runs.blocks(ctx, item, urls, source)
        elif method is Method.APPEND_FROM_URL:
            await runs.appends(ctx, item, urls, source)
        elif method is Method.PAGES_FROM_URL:
            await runs.pages(ctx, item, urls, source)
        else:
            await runs.async_copy(ctx, item, urls, source)


def _bound(method: Method, copies: BlobCopies) -> BoundCopyMethod[Method]:
    kind = CopyKind.ASYNC if method is Method.ASYNC_COPY else CopyKind.URL
    return BoundCopyMethod(method, method.value, kind, copies)
