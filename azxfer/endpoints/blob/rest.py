"""A thin REST path for the hot Blob operations: Put Blob, Put Block, ranged Get Blob, Get
Blob Properties, List Blobs, and the container requests a job starts with.

Every small file costs one of these requests, and the SDK's pipeline spends more client CPU
per request than the request itself (client objects, policy chain, tracing wrappers). On a
machine whose cores are shared with the service that CPU is wall time, so these operations go
straight to azxfer's own connection pool (`transport.pool`), addressed and authorized (SharedKey,
a SAS, or an Entra ID token) by `requests`. Everything else (Put Block List, page and
append blobs, leases) stays on the SDK. Retries follow `transport.retry`; answers of status
300 or more are classified by `transport.classify` with Blob's codes (`answer_error`).

URLs are sent exactly as encoded here, so blob names are never normalised on the way: a
name with `.` or `..` segments reaches the service as it is.

Large bodies are never assembled or copied here: a ranged download can be handed to its
consumer piece by piece as the socket delivers it (`get_range_to`), and the MD5 of a large
block is computed in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from xml.etree import ElementTree

from azxfer.credentials import Credential
from azxfer.endpoints.blob.early_listing import EarlyListings
from azxfer.endpoints.blob.errors import BLOB_ERRORS
from azxfer.endpoints.blob.listed import ListedBlob, described_blob, listed_blob
from azxfer.endpoints.blob.requests import (
    FIRST_PAGE,
    RequestSigner,
    list_query,
    next_marker,
    next_page_size,
)
from azxfer.endpoints.blob.wire import (
    b64,
    blob_headers,
    body_of,
    check_etag,
    md5_of,
    read_headers,
    short_answer,
)
from azxfer.errors import AzxferError, RetryableError
from azxfer.models import ContentProps
from azxfer.transport.classify import BUSY_STATUS, ErrorAnswer, classify_answer
from azxfer.transport.http import connection_failure
from azxfer.transport.pool import HttpError, HttpPool, HttpResponse
from azxfer.transport.retry import RetryPolicy, with_retries

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
        headers = {"x-ms-blob-type": "BlockBlob", "Content-MD5": b64(md5)}
        headers.update(blob_headers(content, md5, metadata, tags, tier))
        await self._send("PUT", container, name, {}, headers, data, f"blob '{name}'")

    async def put_block(self, container: str, name: str, block_id: str, data: bytes) -> None:
        """Put Block with a transactional MD5, so corruption on the wire is refused."""
        headers = {"Content-MD5": b64(await md5_of(data))}
        # The SDK base64-encodes block IDs once more on the wire (and decodes them in Get Block
        # List); doing the same keeps IDs interchangeable with its Put Block List.
        wire_id = b64(block_id.encode())
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
        condition, and the answer's ETag is checked instead (see `read_headers`)."""
        return await self._send(
            "GET",
            container,
            name,
            {},
            read_headers(offset, offset + length, etag, whole),
            None,
            f"blob '{name}'",
            expect=length,
            expect_end=offset + length,
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
            content_range: str | None = None
            unranged = whole and position == offset
            headers = read_headers(position, end, etag, unranged)
            url, request_headers = await self.signer.signed(
                "GET", container, name, {}, headers, None
            )
            try:
                async with self.pool.request("GET", url, request_headers) as response:
                    if response.status >= 300:
                        await response.read()
                        raise answer_error(response, what, self._where(container))
                    if unranged:
                        check_etag(response.headers.get("ETag"), etag, what)
                    content_range = response.headers.get("Content-Range")
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
                raise short_answer(
                    what, position - offset, length, end, content_range, not unranged
                )

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
                    if response.status in BUSY_STATUS:
                        raise answer_error(response, what)
                    return response.status, response.headers.get("x-ms-error-code", "")
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
                    return described_blob(name, response.headers)
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
                yield listed_blob(item)

    async def _pages(
        self, container: str, prefix: str, delimiter: str | None
    ) -> AsyncIterator[bytes]:
        """The raw pages of a listing: first those of an early listing started for exactly
        this one (`early_listing`), if any, then requested here from where it stopped.

        The next page is requested as soon as a page's marker is known, so the service builds
        it while this one is turned into entries. Pages start small and double (see
        `requests.FIRST_PAGE`): the first entries come sooner, and little is left after
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
        expect_end: int = 0,
        expect_etag: str | None = None,
    ) -> bytes:
        async def attempt() -> bytes:
            url, request_headers = await self.signer.signed(
                method, container, name, query, headers, body
            )
            data = body_of(body)
            try:
                async with self.pool.request(method, url, request_headers, data) as response:
                    payload = await response.read()
                    content_range = response.headers.get("Content-Range")
                    if response.status >= 300:
                        raise answer_error(response, what, self._where(container))
                    if expect_etag:
                        check_etag(response.headers.get("ETag"), expect_etag, what)
            except (HttpError, TimeoutError) as exc:
                raise connection_failure(exc, what) from None
            finally:
                if isinstance(data, AsyncGenerator):
                    # Closed now: left to the garbage collector, a sliced body keeps the whole
                    # chunk it views alive after the request (memory beyond the job's budget).
                    await data.aclose()
            if expect is not None and len(payload) > expect:
                raise RetryableError(f"{what}: got {len(payload)} of {expect} bytes")
            if expect is not None and len(payload) < expect:
                ranged = "x-ms-range" in headers
                raise short_answer(what, len(payload), expect, expect_end, content_range, ranged)
            return payload

        request = self.request_of(method, container, name)
        return await with_retries(attempt, self.retry, what, request=request)


def answer_error(response: HttpResponse, what: str, container: str = "") -> AzxferError:
    """The error an answer of status 300 or more stands for; `container` ("'c' at URL") names
    the request's container, for a missing one."""
    headers = response.headers
    answer = ErrorAnswer(
        response.status,
        headers.get("x-ms-error-code", ""),
        what,
        headers.get("Retry-After"),
        parent=container,
        copy_source_status=headers.get("x-ms-copy-source-status-code", ""),
    )
    return classify_answer(answer, BLOB_ERRORS)
