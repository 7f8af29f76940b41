"""A thin REST path for the hot Blob operations: Put Blob, Put Block, ranged Get Blob, Get
Blob Properties, List Blobs, and the container requests a job starts with.

Every small file costs one of these requests, and the SDK's pipeline spends more client CPU
per request than the request itself (client objects, policy chain, tracing wrappers). On a
machine whose cores are shared with the service that CPU is wall time, so these operations go
straight to azxfer's own connection pool (`transport.pool`), addressed and authorized (SharedKey,
a SAS, or an Entra ID token) by `blob_requests`. Everything else (Put Block List, page and
append blobs, leases) stays on the SDK. Retries follow `transport.retry` and classified
errors.

URLs are sent exactly as encoded here, so blob names are never normalised on the way: a
name with `.` or `..` segments reaches the service as it is.

Large bodies are never assembled or copied here: a ranged download can be handed to its
consumer piece by piece as the socket delivers it (`get_range_to`), and the MD5 of a large
block is computed in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from urllib.parse import quote, unquote
from xml.etree import ElementTree

from msgspec import Struct

from azxfer.credentials import Credential
from azxfer.endpoints.blob_errors import container_not_found
from azxfer.endpoints.blob_requests import (
    FIRST_PAGE,
    RequestSigner,
    list_query,
    next_marker,
    next_page_size,
)
from azxfer.endpoints.early_listing import EarlyListings
from azxfer.errors import (
    AzxferError,
    CredentialError,
    IntegrityError,
    NotFoundError,
    RetryableError,
    ServerError,
    TransferError,
)
from azxfer.models import ContentProps
from azxfer.transport.connection import Headers
from azxfer.transport.dates import parse_http_date
from azxfer.transport.http import connection_failure
from azxfer.transport.pool import Body, HttpError, HttpPool, HttpResponse
from azxfer.transport.retry import RetryPolicy, with_retries

_RETRY_STATUS = {408, 429, 500, 502, 503, 504}
# Hashing a body this large on the event loop would stall every other request.
_THREAD_MD5 = 1024 * 1024
# A larger body is sent as slices of this size, each written once the socket has room: given
# whole, the event loop's transport would copy all it cannot send at once into its buffer.
_BODY_PIECE = 256 * 1024

# Takes (offset in the blob, piece of the body); awaited before the next piece is read.
Consumer = Callable[[int, bytes], Awaitable[None]]


class RestBlobClient:
    """Signs and sends the hot-path requests for one account and credential."""

    def __init__(
        self,
        pool: HttpPool,
        endpoint: str,
        account: str,
        credential: Credential | None,
        retry: RetryPolicy,
        early: EarlyListings | None = None,
    ) -> None:
        self.pool = pool
        self.signer = RequestSigner(endpoint, account, credential)
        self.endpoint = self.signer.endpoint
        self.account = account
        self.credential = credential
        self.retry = retry
        self.early = early

    # -- operations --------------------------------------------------------------------------

    async def put_blob(
        self,
        container: str,
        name: str,
        data: bytes,
        md5: bytes,
        content: ContentProps,
        metadata: dict[str, str] | None,
        tags: dict[str, str] | None,
        tier: str | None,
    ) -> None:
        """Put Blob (BlockBlob) with content properties, metadata, tags, tier and MD5."""
        headers = {"x-ms-blob-type": "BlockBlob", "Content-MD5": _b64(md5)}
        headers.update(blob_headers(content, md5, metadata, tags, tier))
        await self._send("PUT", container, name, {}, headers, data, f"blob '{name}'")

    async def put_block(self, container: str, name: str, block_id: str, data: bytes) -> None:
        """Put Block with a transactional MD5, so corruption on the wire is refused."""
        headers = {"Content-MD5": _b64(await md5_of(data))}
        # The SDK base64-encodes block IDs once more on the wire (and decodes them in Get Block
        # List); doing the same keeps IDs interchangeable with its Put Block List.
        wire_id = _b64(block_id.encode())
        await self._send(
            "PUT",
            container,
            name,
            {"comp": "block", "blockid": wire_id},
            headers,
            data,
            f"blob '{name}'",
        )

    async def get_range(
        self,
        container: str,
        name: str,
        offset: int,
        length: int,
        etag: str | None,
        whole: bool = False,
    ) -> bytes:
        """Get Blob for bytes [offset, offset+length), conditional on the ETag if given.

        `whole`: the range is the entire blob, so it is asked for without a range or a
        condition, and the answer's ETag is checked instead (see `_read_headers`)."""
        return await self._send(
            "GET",
            container,
            name,
            {},
            _read_headers(offset, offset + length, etag, whole),
            None,
            f"blob '{name}'",
            expect=length,
            expect_etag=etag if whole else None,
        )

    async def get_range_to(
        self,
        container: str,
        name: str,
        offset: int,
        length: int,
        etag: str | None,
        consume: Consumer,
        whole: bool = False,
    ) -> None:
        """Get Blob for bytes [offset, offset+length), streamed: each piece of the body goes to
        `consume(position, piece)` as it arrives, so the range is never held in memory.

        A connection lost mid-body is retried from the first byte not yet consumed, so every
        byte is consumed exactly once and in order. Errors raised by `consume` end the call.
        `whole` as for `get_range` (a retry that resumes mid-blob asks for a range again).
        """
        what = f"blob '{name}'"
        end = offset + length
        position = offset

        async def attempt() -> None:
            nonlocal position
            unranged = whole and position == offset
            headers = _read_headers(position, end, etag, unranged)
            url, request_headers = await self.signer.signed(
                "GET", container, name, {}, headers, None
            )
            try:
                async with self.pool.request("GET", url, request_headers) as response:
                    if response.status >= 300:
                        await response.read()
                        raise answer_error(response, what, self._where(container))
                    if unranged:
                        _check_etag(response.headers.get("ETag"), etag, what)
                    while position < end:
                        piece = await response.readany()
                        if not piece:
                            break
                        if len(piece) > end - position:
                            raise RetryableError(f"{what}: got more than the {length} bytes asked")
                        await consume(position, piece)
                        position += len(piece)
            except (HttpError, TimeoutError) as exc:
                raise connection_failure(exc, what) from None
            if position < end:
                raise RetryableError(f"{what}: got {position - offset} of {length} bytes")

        request = self.request_of("GET", container, name)
        await with_retries(attempt, self.retry, what, request=request)

    async def container_request(self, method: str, container: str) -> tuple[int, str]:
        """Get Container Properties (HEAD) or Create Container (PUT): (status, error code).
        Answers are the caller's to judge; busy answers and broken connections are retried."""
        what = f"container '{container}'"

        async def attempt() -> tuple[int, str]:
            url, headers = await self.signer.signed(
                method, container, "", {"restype": "container"}, {}, None
            )
            try:
                async with self.pool.request(method, url, headers) as response:
                    await response.read()
                    code = response.headers.get("x-ms-error-code", "")
                    if response.status in _RETRY_STATUS:
                        raise classify_status(
                            response.status, code, what, response.headers.get("Retry-After")
                        )
                    return response.status, code
            except (HttpError, TimeoutError) as exc:
                raise connection_failure(exc, what) from None

        request = self.request_of(method, container, "")
        return await with_retries(attempt, self.retry, what, request=request)

    async def get_properties(self, container: str, name: str) -> ListedBlob | None:
        """Get Blob Properties (HEAD): the blob as a listing describes it, or None when the
        service answers 404 (no such blob, or no such container)."""
        what = f"blob '{name}'"

        async def attempt() -> ListedBlob | None:
            url, headers = await self.signer.signed("HEAD", container, name, {}, {}, None)
            try:
                async with self.pool.request("HEAD", url, headers) as response:
                    await response.read()
                    if response.status == 404:
                        return None
                    if response.status >= 300:
                        raise answer_error(response, what)
                    return _described(name, response.headers)
            except (HttpError, TimeoutError) as exc:
                raise connection_failure(exc, what) from None

        request = self.request_of("HEAD", container, name)
        return await with_retries(attempt, self.retry, what, request=request)

    async def has_blobs(self, container: str, prefix: str) -> bool:
        """Whether any blob's name starts with `prefix` (one listing of one entry)."""
        raw = await self._list_page(container, prefix, None, "", 1)
        return ElementTree.fromstring(raw).find("Blobs/Blob") is not None

    async def list_blobs(
        self, container: str, prefix: str, delimiter: str | None
    ) -> AsyncIterator[ListedBlob]:
        """List Blobs (with metadata) page by page; with a delimiter, sub-folders are skipped."""
        async for raw in self._pages(container, prefix, delimiter):
            for item in ElementTree.fromstring(raw).iter("Blob"):
                yield _listed(item)

    async def _pages(
        self, container: str, prefix: str, delimiter: str | None
    ) -> AsyncIterator[bytes]:
        """The raw pages of a listing: first those of an early listing started for exactly
        this one (`early_listing`), if any, then requested here from where it stopped.

        The next page is requested as soon as a page's marker is known, so the service builds
        it while this one is turned into entries. Pages start small and double (see
        `blob_requests.FIRST_PAGE`): the first entries come sooner, and little is left after
        the last.
        """
        early = self.early.take(self.signer, container, prefix, delimiter) if self.early else None
        size, marker = FIRST_PAGE, ""
        pending: asyncio.Task[bytes] | None = None

        def request() -> asyncio.Task[bytes]:
            return asyncio.ensure_future(
                self._list_page(container, prefix, delimiter, marker, size)
            )

        if early is None:
            pending = request()
        try:
            while True:
                if early is not None:
                    fetched = await early.next_page()
                    if fetched is None:  # it failed: go on from its last page
                        early, pending = None, request()
                        continue
                    raw, last = fetched
                    if last:
                        early = None
                elif pending is not None:
                    raw = await pending
                else:
                    return
                # The marker is read from the page's tail first, so the next request goes
                # out before this page is parsed (parsing 2,000 entries takes ~20 ms).
                marker, size = next_marker(raw), next_page_size(size)
                if early is None:
                    pending = request() if marker else None
                    await asyncio.sleep(0)  # let it send its request before the page is parsed
                yield raw
                if not marker:
                    return
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending

    async def _list_page(
        self, container: str, prefix: str, delimiter: str | None, marker: str, size: int
    ) -> bytes:
        query = list_query(prefix, delimiter, marker, size)
        what = f"listing container '{container}' at {self.signer.endpoint}"
        return await self._send("GET", container, "", query, {}, None, what)

    # -- plumbing ----------------------------------------------------------------------------

    def request_of(self, method: str, container: str, name: str) -> Callable[[], str]:
        """What a retry of this request is named: its method and URL without the query
        (built only when asked, on a retry)."""

        def described() -> str:
            url = self.signer.prepare(method, container, name, {}, {}, None)[0]
            return f"{method} {url.partition('?')[0]}"

        return described

    def _where(self, container: str) -> str:
        """A container as error messages name it (the endpoint has no SAS)."""
        return f"'{container}' at {self.signer.endpoint}"

    async def _send(
        self,
        method: str,
        container: str,
        name: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes | None,
        what: str,
        expect: int | None = None,
        expect_etag: str | None = None,
    ) -> bytes:
        async def attempt() -> bytes:
            url, request_headers = await self.signer.signed(
                method, container, name, query, headers, body
            )
            data = _body(body)
            try:
                async with self.pool.request(method, url, request_headers, data) as response:
                    payload = await response.read()
                    if response.status >= 300:
                        raise answer_error(response, what, self._where(container))
                    if expect_etag:
                        _check_etag(response.headers.get("ETag"), expect_etag, what)
            except (HttpError, TimeoutError) as exc:
                raise connection_failure(exc, what) from None
            finally:
                if isinstance(data, AsyncGenerator):
                    # Closed now: left to the garbage collector, a sliced body keeps the whole
                    # chunk it views alive after the request (memory beyond the job's budget).
                    await data.aclose()
            if expect is not None and len(payload) != expect:
                raise RetryableError(f"{what}: got {len(payload)} of {expect} bytes")
            return payload

        request = self.request_of(method, container, name)
        return await with_retries(attempt, self.retry, what, request=request)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _body(data: bytes | None) -> Body:
    """What is sent for `data`: small bodies as they are, larger ones slice by slice
    (Content-Length is always set, so this is never chunked encoding)."""
    if data is None or len(data) <= _BODY_PIECE:
        return data
    return _slices(memoryview(data))


async def _slices(view: memoryview) -> AsyncGenerator[memoryview, None]:
    for start in range(0, len(view), _BODY_PIECE):
        yield view[start : start + _BODY_PIECE]


async def md5_of(data: bytes) -> bytes:
    """The MD5 digest of `data`; a large body is hashed in a worker thread (hashlib releases
    the GIL), so the event loop keeps serving the other requests meanwhile."""
    if len(data) >= _THREAD_MD5:
        return await asyncio.to_thread(lambda: hashlib.md5(data).digest())
    return hashlib.md5(data).digest()


def blob_headers(
    content: ContentProps,
    md5: bytes,
    metadata: dict[str, str] | None,
    tags: dict[str, str] | None,
    tier: str | None,
) -> dict[str, str]:
    headers = {"x-ms-blob-content-md5": _b64(md5)}
    for header, value in (
        ("x-ms-blob-content-type", content.content_type),
        ("x-ms-blob-content-encoding", content.content_encoding),
        ("x-ms-blob-content-language", content.content_language),
        ("x-ms-blob-content-disposition", content.content_disposition),
        ("x-ms-blob-cache-control", content.cache_control),
        ("x-ms-access-tier", tier),
    ):
        if value:
            headers[header] = value
    for key, value in (metadata or {}).items():
        headers[f"x-ms-meta-{key}"] = value
    if tags:
        headers["x-ms-tags"] = "&".join(
            f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags.items()
        )
    return headers


def _read_headers(start: int, end: int, etag: str | None, whole: bool) -> dict[str, str]:
    """The headers of a read of bytes [start, end). A read of the whole blob asks for neither
    a range nor an If-Match: the service does measurably less work for a plain GET (about a
    tenth of its CPU per small blob on the emulator), and the answer's ETag, checked by
    `_check_etag`, refuses a blob that changed just as the condition would have."""
    if whole:
        return {}
    headers = {"x-ms-range": f"bytes={start}-{end - 1}"}
    if etag:
        headers["If-Match"] = etag
    return headers


def _check_etag(got: str | None, want: str | None, what: str) -> None:
    if want and got != want:
        raise IntegrityError(f"{what} changed during the transfer")


def answer_error(response: HttpResponse, what: str, container: str = "") -> AzxferError:
    """The error an answer of status 300 or more stands for (see `classify_status`)."""
    headers = response.headers
    return classify_status(
        response.status,
        headers.get("x-ms-error-code", ""),
        what,
        headers.get("Retry-After"),
        container,
    )


def classify_status(
    status: int, code: str, what: str, retry_after: str | None, container: str = ""
) -> AzxferError:
    """`container` ("'c' at URL") names the container of the request, for a missing one."""
    if status in _RETRY_STATUS:
        message = f"{what}: service busy ({status} {code}) after retries"
        err = ServerError(message, status) if status >= 500 else RetryableError(message)
        err.retry_after = _seconds(retry_after)  # type: ignore[attr-defined]
        return err
    if status == 412:
        return IntegrityError(f"{what} changed during the transfer")
    if code == "ContainerNotFound":
        return container_not_found(what, container)
    if status == 404:
        return NotFoundError(f"{what} not found")
    if status == 403:
        return CredentialError(f"access to {what} denied ({code or 'forbidden'})")
    return TransferError(f"{what}: {status} {code}".rstrip())


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


class ListedBlob(Struct, frozen=True):
    """One blob of a listing, as the service described it."""

    name: str
    size: int
    last_modified: float | None
    etag: str | None
    md5: bytes | None
    blob_type: str | None
    content: ContentProps
    metadata: dict[str, str]
    tier: str | None = None  # only when set on the blob (an inferred tier is the account's)


def _listed(item: ElementTree.Element) -> ListedBlob:
    # One pass over the children into dicts: a findtext per field rescans them (a listing of
    # thousands of blobs spent a tenth of a no-op sync in this function).
    fields = {child.tag: child for child in item}
    props_node = fields.get("Properties")
    props = {child.tag: child.text for child in props_node} if props_node is not None else {}
    metadata_node = fields.get("Metadata")
    name_node = fields.get("Name")
    name = (name_node.text if name_node is not None else None) or ""
    if name_node is not None and name_node.get("Encoded") == "true":
        # A name holding characters XML 1.0 cannot carry is sent percent-encoded.
        name = unquote(name)
    metadata = (
        {child.tag: child.text or "" for child in metadata_node}
        if metadata_node is not None
        else {}
    )
    return _blob(name, props.get, _LISTING_FIELDS, metadata)


# Where a blob's fields are found: the children of a listed blob's Properties, and the headers
# of Get Blob Properties, in the order `_blob` takes them.
_LISTING_FIELDS = (
    "Content-Length", "Last-Modified", "Etag", "Content-MD5", "BlobType", "Content-Type",
    "Content-Encoding", "Content-Language", "Content-Disposition", "Cache-Control",
    "AccessTierInferred", "AccessTier",
)  # fmt: skip
_HEADER_FIELDS = (
    "Content-Length", "Last-Modified", "ETag", "Content-MD5", "x-ms-blob-type", "Content-Type",
    "Content-Encoding", "Content-Language", "Content-Disposition", "Cache-Control",
    "x-ms-access-tier-inferred", "x-ms-access-tier",
)  # fmt: skip


def _described(name: str, headers: Headers) -> ListedBlob:
    """A blob from the headers of Get Blob Properties (the fields a listing gives)."""
    return _blob(name, headers.get, _HEADER_FIELDS, headers.with_prefix("x-ms-meta-"))


def _blob(
    name: str,
    get: Callable[[str], str | None],
    fields: tuple[str, ...],
    metadata: dict[str, str],
) -> ListedBlob:
    (length, modified_at, etag, md5_at, blob_type, content_type, encoding, language,
     disposition, cache_control, tier_inferred, tier) = fields  # fmt: skip
    md5 = get(md5_at)
    modified = get(modified_at)
    return ListedBlob(
        name=name,
        size=int(get(length) or 0),
        last_modified=http_date_seconds(modified) if modified else None,
        etag=get(etag),
        md5=base64.b64decode(md5) if md5 else None,
        blob_type=get(blob_type),
        content=_content_props(
            get(content_type) or None,
            get(encoding) or None,
            get(language) or None,
            get(disposition) or None,
            get(cache_control) or None,
        ),
        metadata=metadata,
        # An inferred tier is the account's default, not the blob's own.
        tier=None if get(tier_inferred) == "true" else (get(tier) or None),
    )


@functools.lru_cache(maxsize=256)
def _content_props(
    content_type: str | None,
    encoding: str | None,
    language: str | None,
    disposition: str | None,
    cache_control: str | None,
) -> ContentProps:
    """Blobs of a listing mostly share their content properties: one (immutable) object each."""
    return ContentProps(content_type, encoding, language, disposition, cache_control)


@functools.lru_cache(maxsize=1024)
def http_date_seconds(value: str) -> float:
    """An HTTP date (RFC 1123) as POSIX seconds; cached, since listed blobs written in the
    same second share it and parsing one costs more than everything else about the blob."""
    return parse_http_date(value)
