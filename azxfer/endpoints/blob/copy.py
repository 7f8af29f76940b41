"""Server-side blob copies: the requests by which one blob is written from another's URL.

The service reads the source itself, so the bytes never pass through this machine. Every
request needs a source URL the destination's service may read: the source's own SAS, a
short-lived read-only SAS minted here from the source's account key (never logged), or no
query at all for a public container. Which of these requests copy a blob is `copy_methods`'
choice; the engine (`engine.server_copy`) falls back when the service does not implement one.
"""

from __future__ import annotations

import contextlib
import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from msgspec import Struct

from azxfer.credentials import Credential
from azxfer.endpoints.blob import copy_rest
from azxfer.endpoints.blob.copy_sources import DelegationKeys
from azxfer.endpoints.blob.handles import FastPath
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.endpoints.blob.sas import container_sas, delegation_sas
from azxfer.endpoints.blob.writers import AppendBlobWriter, BlockBlobWriter, PageBlobWriter
from azxfer.endpoints.copycaps import CopySource, ServerErrorAttempts
from azxfer.endpoints.service_sas import ReadGrant, bearer_authorization
from azxfer.errors import CopySourceError
from azxfer.locations import Location, Service
from azxfer.models import Chunk, Entry, blob_props

if TYPE_CHECKING:  # the SDK is imported only when a copy needs it (see `connections`)
    from azure.storage.blob.aio import BlobClient

# Copy Blob From URL (the synchronous Copy Blob) takes sources up to this size.
MAX_SYNC_COPY = 256 * 1024 * 1024
# Put Blob From URL takes sources up to this size.
MAX_PUT_FROM_URL = 5000 * 1024 * 1024


class CopyState(Struct, frozen=True):
    """Where an asynchronous Copy Blob stands."""

    copy_id: str
    status: str  # pending | success | aborted | failed
    copied: int
    total: int
    description: str = ""


class SourceAuthority:
    """Builds readable URLs for the blobs of one source location."""

    def __init__(
        self, location: Location, credential: Credential | None, rest: RestBlobClient | None
    ) -> None:
        self.location = location
        token = credential is not None and credential.kind == "token" and rest is not None
        self.keys = DelegationKeys(rest) if token and rest is not None else None
        self.grant = ReadGrant(
            credential,
            self._mint,
            self._mint_delegated if token else None,
            functools.partial(bearer_authorization, rest.signer.auth) if token and rest else None,
        )

    @property
    def server_readable(self) -> bool:
        """Whether a service elsewhere can be given what it needs to read the source."""
        return self.grant.server_readable

    async def source(self, entry: Entry) -> CopySource:
        """The URL of `entry` (its snapshot or version included) with read authorization."""
        location = self.location
        if location.service is Service.WEB:
            return CopySource(location.web_url, entry)
        name = quote(entry.ref, safe="/~")
        query: list[tuple[str, str]] = []
        point = blob_props(entry)
        if point.snapshot:
            query.append(("snapshot", point.snapshot))
        if point.version_id:
            query.append(("versionid", point.version_id))
        url = f"{location.endpoint}/{location.container}/{name}"
        if query:
            url += "?" + urlencode(query)
        sas, authorization = await self.grant.read()
        if sas:
            url += ("&" if query else "?") + sas
        return CopySource(url, entry, authorization)

    def _mint(self, start: datetime, expiry: datetime) -> str:
        credential = self.grant.credential
        assert credential is not None
        return container_sas(
            credential.account, credential.key or "", self.location.container, "r", start, expiry
        )

    async def _mint_delegated(self, start: datetime, expiry: datetime) -> str:
        assert self.keys is not None
        key = await self.keys.key()  # it outlives `expiry`
        account = self.location.account
        return delegation_sas(account, self.location.container, None, "r", start, expiry, key)


class UrlWrites:
    """Server-side writes of one destination blob, through its writer.

    The writer keeps what uploads use too: content settings, block IDs (so a resume finds
    blocks staged by an earlier run), creation of page and append blobs, and the commit.
    """

    def __init__(
        self,
        writer: BlockBlobWriter | PageBlobWriter | AppendBlobWriter,
        fast: FastPath | None = None,
        server_error_attempts: ServerErrorAttempts | None = None,
    ) -> None:
        self.writer = writer
        self.fast = fast
        # How often a copy request is tried on a 5xx (None: the retry policy's).
        self.attempts = server_error_attempts

    def _sdk_retry(self) -> dict[str, int]:
        attempts = self.attempts() if self.attempts is not None else None
        return {} if attempts is None else {"retry_status": attempts - 1}

    @property
    def _client(self) -> BlobClient:
        return self.writer.blob.client

    def _options(self) -> dict[str, Any]:
        props = self.writer.props
        blob = blob_props(props)
        options: dict[str, Any] = {}
        if props.metadata:
            options["metadata"] = props.metadata
        if blob.tags:
            options["tags"] = blob.tags
        if blob.tier:
            from azure.storage.blob import StandardBlobTier

            options["standard_blob_tier"] = StandardBlobTier(blob.tier)
        return options

    async def put_blob_from_url(self, source: CopySource) -> None:
        """Put Blob From URL: the whole blob in one request, with our properties."""
        props, entry = self.writer.props, source.entry
        if self.fast is not None:
            try:
                await copy_rest.put_blob_from_url(
                    self.fast.rest,
                    self.fast.container,
                    self.writer.blob.name,
                    source.url,
                    entry.md5,
                    props.content,
                    props.metadata,
                    blob_props(props).tags,
                    blob_props(props).tier,
                    _source_etag(source),
                    self.attempts,
                    source.source_headers(),
                )
            except Exception as exc:
                raise self.writer.fail(exc) from None
            return
        settings = self.writer.content_settings(source.entry.md5)
        try:
            await self._client.upload_blob_from_url(
                source.url,
                overwrite=True,
                content_settings=settings,
                include_source_blob_properties=False,
                **_source_authorization(source),
                **_source_condition(source),
                **self._options(),
                **self._sdk_retry(),
            )
            if entry.md5:  # the SDK does not send Content-MD5 with Put Blob From URL
                await self._client.set_http_headers(content_settings=settings)
        except Exception as exc:
            raise self.writer.fail(exc) from None

    async def copy_blob(self, source: CopySource, synchronous: bool) -> CopyState:
        """Copy Blob: synchronous (Copy Blob From URL, up to 256 MiB) or started to run on."""
        total = source.entry.size
        if source.authorization and not synchronous:
            raise CopySourceError(
                f"Copy Blob of '{source.entry.ref}' cannot read a source that only an Entra ID "
                "token may read"
            )
        if self.fast is not None:
            props = self.writer.props
            try:
                copy_id, status = await copy_rest.copy_blob(
                    self.fast.rest,
                    self.fast.container,
                    self.writer.blob.name,
                    source.url,
                    props.metadata,
                    blob_props(props).tags,
                    blob_props(props).tier,
                    _source_etag(source),
                    synchronous,
                    self.attempts,
                    source.source_headers(),
                )
            except Exception as exc:
                raise self.writer.fail(exc) from None
            return CopyState(copy_id, status, total if status == "success" else 0, total)
        options = self._options() | self._sdk_retry()
        if synchronous:
            options["requires_sync"] = True
            options.update(_source_authorization(source))
        try:
            answer = await self._client.start_copy_from_url(
                source.url, **_source_condition(source), **options
            )
        except Exception as exc:
            raise self.writer.fail(exc) from None
        status = str(answer.get("copy_status") or "success")
        return CopyState(
            str(answer.get("copy_id") or ""), status, total if status == "success" else 0, total
        )

    async def copy_state(self) -> CopyState:
        """The state of the copy whose destination this blob is."""
        try:
            props = await self._client.get_blob_properties()
        except Exception as exc:
            raise self.writer.fail(exc) from None
        copy = props.copy
        copied, _, total = (copy.progress or "0/0").partition("/")
        return CopyState(
            str(copy.id or ""),
            str(copy.status or "success"),
            int(copied or 0),
            int(total or 0),
            str(copy.status_description or ""),
        )

    async def abort_copy(self, copy_id: str) -> None:
        """Abort Copy Blob; the destination is left zero-length. Never raises."""
        with contextlib.suppress(Exception):
            await self._client.abort_copy(copy_id)

    async def fix_properties(self, source: CopySource) -> None:
        """After a Copy Blob (which carries the source's properties): set ours where they
        differ, so overrides and --s2s-preserve-properties=false hold."""
        props, entry = self.writer.props, source.entry
        try:
            if props.content != (entry.content or props.content):
                await self._client.set_http_headers(
                    content_settings=self.writer.content_settings(entry.md5)
                )
            if (props.metadata or {}) != (entry.metadata or {}):
                await self._client.set_blob_metadata(props.metadata or {})
        except Exception as exc:
            raise self.writer.fail(exc) from None

    async def stage_block(self, chunk: Chunk, source: CopySource) -> None:
        """Put Block From URL for one chunk's range of the source."""
        writer = self.writer
        assert isinstance(writer, BlockBlobWriter)
        block_id = writer.block_id(chunk.index)
        if self.fast is not None:
            try:
                await copy_rest.put_block_from_url(
                    self.fast.rest,
                    self.fast.container,
                    writer.blob.name,
                    block_id,
                    source.url,
                    chunk.offset,
                    chunk.length,
                    self.attempts,
                    source.source_headers(),
                )
            except Exception as exc:
                raise writer.fail(exc) from None
            writer.blocks[chunk.index] = block_id
            return
        try:
            await self._client.stage_block_from_url(
                block_id,
                source.url,
                source_offset=chunk.offset,
                source_length=chunk.length,
                **_source_authorization(source),
                **self._sdk_retry(),
            )
        except Exception as exc:
            raise writer.fail(exc) from None
        writer.blocks[chunk.index] = block_id

    async def append_block(self, chunk: Chunk, source: CopySource) -> None:
        """Append Block From URL for one chunk's range (the engine keeps them in order)."""
        writer = self.writer
        assert isinstance(writer, AppendBlobWriter)
        await writer.create(None)
        try:
            await self._client.append_block_from_url(
                source.url,
                source_offset=chunk.offset,
                source_length=chunk.length,
                **_source_authorization(source),
                **self._sdk_retry(),
            )
        except Exception as exc:
            raise writer.fail(exc) from None

    async def put_pages(self, chunk: Chunk, source: CopySource) -> None:
        """Put Page From URL: the same range of the source onto this page blob."""
        writer = self.writer
        assert isinstance(writer, PageBlobWriter)
        await writer.create(None)
        try:
            await self._client.upload_pages_from_url(
                source.url,
                offset=chunk.offset,
                length=chunk.length,
                source_offset=chunk.offset,
                **_source_authorization(source),
                **self._sdk_retry(),
            )
        except Exception as exc:
            raise writer.fail(exc) from None


def _source_etag(source: CopySource) -> str | None:
    """The ETag a copy is conditional on: only the version enumerated is copied (snapshots
    and versions cannot change, and their ETag is not the base blob's)."""
    entry = source.entry
    return None if entry.is_point_in_time else entry.etag


def _source_authorization(source: CopySource) -> dict[str, Any]:
    """The SDK's arguments for a source only a token may read (none otherwise)."""
    options: dict[str, Any] = {}
    if source.authorization:
        options["source_authorization"] = source.authorization
    if source.token_intent:
        options["source_token_intent"] = source.token_intent
    return options


def _source_condition(source: CopySource) -> dict[str, Any]:
    etag = _source_etag(source)
    if not etag:
        return {}
    from azure.core import MatchConditions  # the SDK path only (azure.core costs start-up)

    return {"source_etag": etag, "source_match_condition": MatchConditions.IfNotModified}
