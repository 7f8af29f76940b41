"""A thin REST path for the hot Blob operations: Put Blob, Put Block, Put Block List, ranged
Get Blob, Get Blob Properties, Delete Blob, List Blobs, and the container requests a job
starts with.

Every small file costs one of these requests, and the SDK's pipeline spends more client CPU
per request than the request itself (client objects, policy chain, tracing wrappers). On a
machine whose cores are shared with the service that CPU is wall time, so these operations go
straight to azxfer's own connection pool (`transport.pool`), addressed and authorized (SharedKey,
a SAS, or an Entra ID token) by `requests`. Everything else (the uploads' Put Block List, page and
append blobs, leases) stays on the SDK. Sending, retries and the classification of answers
(with Blob's codes) are the service-neutral `transport.rest`'s; this is the Blob layer over
it: which path, query and headers each operation sends, and what its answer means.

URLs are sent exactly as encoded here, so blob names are never normalised on the way: a
name with `.` or `..` segments reaches the service as it is.

Large bodies are never assembled or copied here: a ranged download can be handed to its
consumer piece by piece as the socket delivers it (`get_range_to`), and the MD5 of a large
block is computed in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from xml.etree import ElementTree

from azxfer.credentials import Credential
from azxfer.endpoints.blob.early_listing import EarlyListings
from azxfer.endpoints.blob.errors import BLOB_ERRORS
from azxfer.endpoints.blob.listed import ListedBlob, described_blob, listed_blob
from azxfer.endpoints.blob.requests import (
    FIRST_PAGE,
    RequestSigner,
    blob_path,
    list_query,
    next_marker,
    next_page_size,
)
from azxfer.endpoints.blob.sas import DelegationKey
from azxfer.endpoints.blob.wire import b64, blob_headers, md5_of
from azxfer.endpoints.denials import denials_of
from azxfer.models import ContentProps
from azxfer.transport.classify import ErrorAnswer, classify_answer
from azxfer.transport.pool import HttpPool
from azxfer.transport.rest import ALL_BUT_BUSY, Consumer, StorageRestClient
from azxfer.transport.retry import RetryPolicy
from azxfer.transport.wire import read_headers


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
        explain = denials_of(credential, "blob")
        self.rest = StorageRestClient(pool, self.signer.requests, retry, BLOB_ERRORS, explain)
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
        path = blob_path(container, name)
        await self.rest.send("PUT", path, {}, headers, data, f"blob '{name}'", parent=container)

    async def put_block(self, container: str, name: str, block_id: str, data: bytes) -> None:
        """Put Block with a transactional MD5, so corruption on the wire is refused."""
        headers = {"Content-MD5": b64(await md5_of(data))}
        # The SDK base64-encodes block IDs once more on the wire (and decodes them in Get Block
        # List); doing the same keeps IDs interchangeable with its Put Block List.
        query = {"comp": "block", "blockid": b64(block_id.encode())}
        path = blob_path(container, name)
        await self.rest.send("PUT", path, query, headers, data, f"blob '{name}'", parent=container)

    async def put_block_list(self, container: str, name: str, block_ids: list[str]) -> None:
        """Put Block List: commit the staged blocks `block_ids`, in order, as the blob."""
        latest = "".join(f"<Latest>{b64(block_id.encode())}</Latest>" for block_id in block_ids)
        body = f'<?xml version="1.0" encoding="utf-8"?><BlockList>{latest}</BlockList>'.encode()
        path = blob_path(container, name)
        what = f"blob '{name}'"
        await self.rest.send("PUT", path, {"comp": "blocklist"}, {}, body, what, parent=container)

    async def delete_blob(self, container: str, name: str) -> None:
        """Delete Blob (and its snapshots); a blob already gone is not an error."""
        headers = {"x-ms-delete-snapshots": "include"}
        path = blob_path(container, name)
        what = f"blob '{name}'"
        await self.rest.send("DELETE", path, {}, headers, None, what, keep=_MISSING)

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
        answer = await self.rest.send(
            "GET",
            blob_path(container, name),
            {},
            read_headers(offset, offset + length, etag, whole),
            None,
            f"blob '{name}'",
            parent=container,
            expect=length,
            expect_end=offset + length,
            expect_etag=etag if whole else None,
        )
        return answer[2]

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
        path = blob_path(container, name)
        what = f"blob '{name}'"
        await self.rest.get_range_to(path, offset, length, etag, consume, what, whole, container)

    async def container_request(self, method: str, container: str) -> tuple[int, str]:
        """Get Container Properties (HEAD) or Create Container (PUT): (status, error code).
        Answers are the caller's to judge; busy answers and broken connections are retried."""
        status, headers, _ = await self.rest.send(
            method,
            blob_path(container, ""),
            {"restype": "container"},
            {},
            None,
            f"container '{container}'",
            keep=ALL_BUT_BUSY,
        )
        return status, headers.get("x-ms-error-code", "")

    async def create_container(self, container: str) -> bool:
        """Create Container: True when made, False when it exists already; any other
        refusal (being deleted, denied, a bad name) is raised, classified."""
        status, code = await self.container_request("PUT", container)
        if status < 300:
            return True
        if status == 409 and code == "ContainerAlreadyExists":
            return False
        what = f"container '{container}'"
        raise classify_answer(ErrorAnswer(status, code, what, parent=what), BLOB_ERRORS)

    async def get_properties(self, container: str, name: str) -> ListedBlob | None:
        """Get Blob Properties (HEAD): the blob as a listing describes it, or None when the
        service answers 404 (no such blob, or no such container)."""
        path = blob_path(container, name)
        status, headers, _ = await self.rest.send(
            "HEAD", path, {}, {}, None, f"blob '{name}'", keep=_MISSING
        )
        return None if status == 404 else described_blob(name, headers)

    async def user_delegation_key(self, start: str, expiry: str) -> DelegationKey:
        """Get User Delegation Key: a key valid from `start` to `expiry` (ISO 8601 UTC to the
        second, at most 7 days apart) with which the signed-in identity signs SAS tokens.
        Only a request authorized with an Entra ID token may ask for one."""
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f"<KeyInfo><Start>{start}</Start><Expiry>{expiry}</Expiry></KeyInfo>"
        ).encode()
        query = {"restype": "service", "comp": "userdelegationkey"}
        what = f"a user delegation key from {self.signer.endpoint}"
        answer = await self.rest.send("POST", blob_path("", ""), query, {}, body, what)
        root = ElementTree.fromstring(answer[2])
        return DelegationKey(
            signed_oid=root.findtext("SignedOid") or "",
            signed_tid=root.findtext("SignedTid") or "",
            signed_start=root.findtext("SignedStart") or "",
            signed_expiry=root.findtext("SignedExpiry") or "",
            signed_service=root.findtext("SignedService") or "",
            signed_version=root.findtext("SignedVersion") or "",
            value=root.findtext("Value") or "",
            signed_delegated_user_tid=root.findtext("SignedDelegatedUserTid") or "",
        )

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

    def list_pages(
        self, container: str, prefix: str, delimiter: str | None, include: str
    ) -> AsyncIterator[bytes]:
        """The raw pages of List Blobs with the datasets `include` names ('metadata',
        'metadata,versions', or '' for none), as `_pages` fetches them."""
        return self._pages(container, prefix, delimiter, include)

    async def _pages(
        self, container: str, prefix: str, delimiter: str | None, include: str = "metadata"
    ) -> AsyncIterator[bytes]:
        """The raw pages of a listing: first those of an early listing started for exactly
        this one (`early_listing`), if any, then requested here from where it stopped.

        The next page is requested as soon as a page's marker is known, so the service builds
        it while this one is turned into entries. Pages start small and double (see
        `requests.FIRST_PAGE`): the first entries come sooner, and little is left after
        the last.
        """
        # An early listing asks for metadata, so it serves only a listing that does too.
        early = (
            self.early.take(self.signer, container, prefix, delimiter)
            if self.early and include == "metadata"
            else None
        )
        size, marker = FIRST_PAGE, ""
        pending: asyncio.Task[bytes] | None = None

        def request() -> asyncio.Task[bytes]:
            return asyncio.ensure_future(
                self._list_page(container, prefix, delimiter, marker, size, include)
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
        self,
        container: str,
        prefix: str,
        delimiter: str | None,
        marker: str,
        size: int,
        include: str = "metadata",
    ) -> bytes:
        query = list_query(prefix, delimiter, marker, size, include)
        what = f"listing container '{container}' at {self.signer.endpoint}"
        path = blob_path(container, "")
        answer = await self.rest.send("GET", path, query, {}, None, what, parent=container)
        return answer[2]


# Get Blob Properties: a missing blob is an answer, not an error.
_MISSING = frozenset({404})
