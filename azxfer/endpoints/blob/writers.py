"""The writers of block, page and append blobs."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from azxfer.endpoints.blob.handles import FastPath, LazyBlob
from azxfer.errors import NotFoundError
from azxfer.models import Chunk, WriteProps, blob_props
from azxfer.transport.request import Pace
from azxfer.transport.wire import sent_at_pace

if TYPE_CHECKING:  # the SDK is imported only when an operation needs it (see `connections`)
    from azure.storage.blob import ContentSettings

PAGE = 512
# Put Page and Append Block accept at most 4 MiB per request.
MAX_PAGE_WRITE = 4 * 1024 * 1024
MAX_APPEND_BLOCK = 4 * 1024 * 1024


class _BlobWriterBase:
    """Shared plumbing: content settings and error classification."""

    sequential = False
    # The job's bandwidth cap, for the writes the SDK sends (page and append blobs; block
    # blobs go through the REST fast path, which paces them itself).
    pace: Pace | None = None

    def __init__(
        self,
        blob: LazyBlob,
        size: int,
        props: WriteProps,
        what: str,
        classify_error: Callable[[BaseException, str], Exception],
    ) -> None:
        self.blob = blob
        self.classify = classify_error
        self.size = size
        self.padded_size = size
        self.props = props
        self.blob_props = blob_props(props)  # tags and tier, read once per blob
        self.what = what
        self.created = False
        # Chunks of one blob are written concurrently, and each makes sure the blob exists
        # first: two Create calls would each make a new, empty blob, the second erasing the
        # pages the first chunk had already written.
        self._create_lock = asyncio.Lock()

    async def create(self, md5: bytes | None) -> None:
        """Create the blob once, whichever chunk asks first; the others wait for it."""
        if self.created:
            return
        async with self._create_lock:
            if self.created:
                return
            try:
                await self._create(md5)
            except Exception as exc:
                raise self.fail(exc) from None
            self.created = True

    async def _create(self, md5: bytes | None) -> None:
        raise NotImplementedError

    async def _paced(self, size: int, send: Callable[[], Awaitable[Any]]) -> Any:
        """`send()` (an SDK request with a body of `size` bytes), under the cap if any."""
        return await (send() if self.pace is None else sent_at_pace(size, self.pace, send))

    def content_settings(self, md5: bytes | None) -> ContentSettings:
        from azure.storage.blob import ContentSettings

        content = self.props.content
        return ContentSettings(
            content_type=content.content_type,
            content_encoding=content.content_encoding,
            content_language=content.content_language,
            content_disposition=content.content_disposition,
            cache_control=content.cache_control,
            content_md5=bytearray(md5) if md5 is not None else None,
        )

    def fail(self, exc: BaseException) -> Exception:
        return self.classify(exc, self.what)

    async def _set_md5(self, md5: bytes) -> None:
        try:
            await self.blob.client.set_http_headers(content_settings=self.content_settings(md5))
        except Exception as exc:
            raise self.fail(exc) from None

    async def resumable_chunks(self, journaled: tuple[Chunk, ...]) -> set[int]:
        """By default nothing is trusted: the object is written again from zero."""
        return set()

    async def read_back(self, chunk: Chunk) -> bytes | None:
        """Blob data is never read back; the engine re-reads the (local) source instead."""
        return None

    async def suspend(self) -> None:
        """Keep what was written for a resume."""

    async def abort(self) -> None:
        """Delete a partially written page or append blob so it cannot pass for complete."""
        if self.created:
            with contextlib.suppress(Exception):
                await self.blob.client.delete_blob()


class BlockBlobWriter(_BlobWriterBase):
    """Put Blob for one-chunk files; Put Block per chunk + Put Block List otherwise."""

    def __init__(
        self,
        blob: LazyBlob,
        size: int,
        props: WriteProps,
        block_size: int,
        what: str,
        classify_error: Callable[[BaseException, str], Exception],
        block_prefix: str,
    ) -> None:
        super().__init__(blob, size, props, what, classify_error)
        self.chunk_size = block_size
        self.block_prefix = block_prefix
        self.blocks: dict[int, str] = {}
        self.fast: FastPath | None = None

    def _tier(self) -> dict[str, Any]:
        from azure.storage.blob import StandardBlobTier

        return (
            {"standard_blob_tier": StandardBlobTier(self.blob_props.tier)}
            if self.blob_props.tier
            else {}
        )

    def block_id(self, index: int) -> str:
        """Deterministic per job, transfer and index; equal length for every block of a blob."""
        return base64.b64encode(f"{self.block_prefix}-{index:06d}".encode()).decode()

    async def resumable_chunks(self, journaled: tuple[Chunk, ...]) -> set[int]:
        """Chunks whose blocks are at the service (staged or committed) with the right size.

        The service's block list is the authority: a block staged just before a crash, too
        late to be journaled, is found here too.
        """
        try:
            committed, uncommitted = await self.blob.client.get_block_list("all")
        except Exception as exc:
            err = self.fail(exc)
            if isinstance(err, NotFoundError):
                return set()
            raise err from None
        # Committed blocks count too: a crash between Put Block List and the journal's record
        # of it leaves every block committed. Put Block List can name them again.
        staged = {block.id: block.size for block in [*committed, *uncommitted]}
        done = set()
        for index, offset in enumerate(range(0, self.size, self.chunk_size)):
            block_id = self.block_id(index)
            if staged.get(block_id) == min(self.chunk_size, self.size - offset):
                done.add(index)
                self.blocks[index] = block_id
        return done

    async def put_whole(self, data: bytes, md5: bytes) -> None:
        """One Put Blob carrying the content, properties and MD5."""
        if self.fast is not None:
            props = self.props
            try:
                await self.fast.rest.put_blob(
                    self.fast.container,
                    self.blob.name,
                    data,
                    md5,
                    props.content,
                    props.metadata,
                    self.blob_props.tags,
                    self.blob_props.tier,
                )
            except Exception as exc:
                raise self.fail(exc) from None
            return
        try:
            await self.blob.client.upload_blob(
                data,
                blob_type="BlockBlob",
                length=len(data),
                overwrite=True,
                content_settings=self.content_settings(md5),
                metadata=self.props.metadata or None,
                tags=self.blob_props.tags or None,
                max_concurrency=1,
                **self._tier(),
            )
        except Exception as exc:
            raise self.fail(exc) from None

    async def write_chunk(self, chunk: Chunk, data: bytes) -> None:
        """Put Block with this chunk's deterministic ID."""
        block_id = self.block_id(chunk.index)
        if self.fast is not None:
            try:
                await self.fast.rest.put_block(self.fast.container, self.blob.name, block_id, data)
            except Exception as exc:
                raise self.fail(exc) from None
            self.blocks[chunk.index] = block_id
            return
        try:
            await self.blob.client.stage_block(block_id, data, length=len(data))
        except Exception as exc:
            raise self.fail(exc) from None
        self.blocks[chunk.index] = block_id

    async def commit(self, md5: bytes) -> None:
        """Put Block List in index order with properties and the whole-file MD5."""
        from azure.storage.blob import BlobBlock

        block_list = [BlobBlock(block_id=self.blocks[i]) for i in sorted(self.blocks)]
        try:
            await self.blob.client.commit_block_list(
                block_list,
                content_settings=self.content_settings(md5),
                metadata=self.props.metadata or None,
                tags=self.blob_props.tags or None,
                **self._tier(),
            )
        except Exception as exc:
            raise self.fail(exc) from None

    async def abort(self) -> None:
        """Uncommitted blocks are discarded by the service after a week; nothing to undo."""


class PageBlobWriter(_BlobWriterBase):
    """Create Page Blob (size rounded up to 512) + Put Page for each non-zero chunk."""

    def __init__(
        self,
        blob: LazyBlob,
        size: int,
        props: WriteProps,
        what: str,
        classify_error: Callable[[BaseException, str], Exception],
    ) -> None:
        super().__init__(blob, size, props, what, classify_error)
        self.chunk_size = MAX_PAGE_WRITE
        self.padded_size = -(-size // PAGE) * PAGE
        self._zeros = bytes(MAX_PAGE_WRITE)

    async def _create(self, md5: bytes | None) -> None:
        await self.blob.client.create_page_blob(
            self.padded_size,
            content_settings=self.content_settings(md5),
            metadata=self.props.metadata or None,
            tags=self.blob_props.tags or None,
        )

    async def resumable_chunks(self, journaled: tuple[Chunk, ...]) -> set[int]:
        """Journaled pages, if the page blob an earlier run created is still there."""
        try:
            props = await self.blob.client.get_blob_properties()
        except Exception:
            return set()
        if props.size != self.padded_size or getattr(props.blob_type, "value", "") != "PageBlob":
            return set()
        self.created = True
        return {c.index for c in journaled}

    async def put_whole(self, data: bytes, md5: bytes) -> None:
        """Create with the MD5 already known, then write the pages."""
        await self.create(md5)
        await self.write_chunk(Chunk(0, 0, len(data)), data)

    async def write_chunk(self, chunk: Chunk, data: bytes) -> None:
        """Put Page, zero-padded to 512 bytes; all-zero chunks are skipped (pages read as 0)."""
        await self.create(None)
        if len(data) % PAGE:
            data = data + bytes(PAGE - len(data) % PAGE)
        if not data or memoryview(data) == memoryview(self._zeros)[: len(data)]:
            return
        try:
            client = self.blob.client
            await self._paced(
                len(data), lambda: client.upload_page(data, offset=chunk.offset, length=len(data))
            )
        except Exception as exc:
            raise self.fail(exc) from None

    async def commit(self, md5: bytes) -> None:
        """Record the MD5 of the padded content."""
        await self.create(None)
        await self._set_md5(md5)


class AppendBlobWriter(_BlobWriterBase):
    """Create Append Blob + Append Block per chunk, strictly in order."""

    sequential = True

    def __init__(
        self,
        blob: LazyBlob,
        size: int,
        props: WriteProps,
        block_size: int,
        what: str,
        classify_error: Callable[[BaseException, str], Exception],
    ) -> None:
        super().__init__(blob, size, props, what, classify_error)
        self.chunk_size = min(block_size, MAX_APPEND_BLOCK)

    async def _create(self, md5: bytes | None) -> None:
        await self.blob.client.create_append_blob(
            content_settings=self.content_settings(md5),
            metadata=self.props.metadata or None,
            tags=self.blob_props.tags or None,
        )

    async def put_whole(self, data: bytes, md5: bytes) -> None:
        """Create with the MD5 known, then append the data."""
        await self.create(md5)
        await self.write_chunk(Chunk(0, 0, len(data)), data)

    async def write_chunk(self, chunk: Chunk, data: bytes) -> None:
        """Append Block; the engine calls this in chunk order."""
        await self.create(None)
        if not data:
            return
        try:
            client = self.blob.client
            await self._paced(len(data), lambda: client.append_block(data, length=len(data)))
        except Exception as exc:
            raise self.fail(exc) from None

    async def suspend(self) -> None:
        """Appends cannot be matched to chunks reliably: discard, and restart on resume."""
        await self.abort()

    async def commit(self, md5: bytes) -> None:
        """Record the MD5 of the whole content."""
        await self.create(None)
        await self._set_md5(md5)
