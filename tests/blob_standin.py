"""A loopback HTTP stand-in in front of Azurite's blob endpoint that adds what Azurite lacks.

What it stands in for
---------------------
Azurite 3.37 answers 501 APINotImplemented to three server-side copy operations, and it always
completes Copy Blob at once. This stand-in implements, per the Blob REST protocol
(x-ms-version 2021 and later):

Put Blob From URL    ``PUT /acct/c/blob`` + ``x-ms-copy-source`` + ``x-ms-blob-type: BlockBlob``,
                     no body. Honors ``x-ms-copy-source-authorization``,
                     ``x-ms-copy-source-blob-properties`` (default true: the source's content
                     type/encoding/language/disposition/cache-control/MD5 are copied unless given
                     as ``x-ms-blob-content-*``), ``x-ms-blob-content-*``, ``x-ms-meta-*`` (the
                     source's metadata is not copied), ``x-ms-tags``,
                     ``x-ms-copy-source-tag-option: COPY``, ``x-ms-access-tier``,
                     ``x-ms-source-if-*``, ``x-ms-source-content-md5`` and the destination's
                     ``If-*`` / ``x-ms-lease-id``.
Append Block From URL ``PUT ?comp=appendblock`` + ``x-ms-copy-source`` [+ ``x-ms-source-range``].
Put Page From URL    ``PUT ?comp=page`` + ``x-ms-copy-source`` + ``x-ms-page-write: update`` +
                     ``x-ms-range`` (destination) + ``x-ms-source-range``: 512-aligned, equal
                     lengths, at most 4 MiB.
A pending Copy Blob  only when ``pending_polls`` is not None: Copy Blob (``PUT`` +
                     ``x-ms-copy-source``, no ``comp``, no ``x-ms-requires-sync``) answers 202
                     ``x-ms-copy-status: pending`` and leaves a zero-length placeholder at Azurite
                     (with the metadata and content properties the copy will set). Get Blob
                     Properties (HEAD) of the destination counts as a poll (it is forwarded, so
                     Azurite authenticates it and gives the real properties): the first
                     ``pending_polls`` polls report ``pending`` with an advancing
                     ``x-ms-copy-progress``; the next one performs the copy (reads the source,
                     writes a blob of the source's type with its content properties and metadata,
                     or the request's metadata) and reports ``success``. ``hold_pending`` keeps
                     copies pending forever. Abort Copy (``PUT ?comp=copy&copyid=ID`` +
                     ``x-ms-copy-action: abort``) of a pending copy answers 204 and leaves the
                     destination zero-length with status ``aborted``; of anything else, 409
                     NoPendingCopyOperation (or CopyIdMismatch for another id). Get Blob, Get
                     Blob Properties and List Blobs (``include=copy``) show the x-ms-copy-*
                     properties of the copies the stand-in ran while the destination is unchanged.

Each implemented operation reads the source by an HTTP GET of the ``x-ms-copy-source`` URL (its
SAS, or ``x-ms-copy-source-authorization`` as Authorization; a same-account source of a
SharedKey-authorized Copy Blob is read with the account key), then performs the equivalent plain
operation (Put Blob / Append Block / Put Page) at Azurite, signed by the stand-in with SharedKey.
A source that cannot be read gives ``CannotVerifyCopySource`` (the source's 4xx status, its status
and error code in the message and in x-ms-copy-source-status-code/-error-code); failed source
conditions give 412 SourceConditionNotMet. Sources must be on loopback: the stand-in never reaches
out to the network.

The stand-in authenticates the requests it implements itself, as Azure does: SharedKey (the
blob-service string-to-sign, x-ms-* headers in the service's collation, 15-minute clock skew) and
service (sr=b/bs/bv/c/d, stored access policies) or account SAS tokens of sv 2015-04-05 and later
(signature, start/expiry, sip, spr, ss/srt, and permissions: w for Put Blob From URL, Copy Blob,
Put Page From URL and Abort Copy, or c when the destination does not exist; a or w for Append
Block From URL). Bad credentials → 403 AuthenticationFailed; a SAS without the permission → 403
AuthorizationPermissionMismatch; none → 401 NoAuthenticationInformation.

What it forwards
----------------
Every other request goes to Azurite verbatim: method, raw path and query, all headers but the
hop-by-hop ones (Host and Authorization included: SharedKey does not sign the host, and Azurite's
Copy Blob compares the copy-source host with the request's Host), and the body; the answer is
streamed back with its status, headers and body. Azurite authenticates those itself.

Switches (constructor arguments, and attributes that may change at run time)
-----------------------------------------------------------------------------
not_implemented  set of operation names (as classified, e.g. "PutBlobFromURL", "CopyBlob",
                 "PutBlockFromURL") to answer 501 APINotImplemented with Azurite's own body:
                 the three Azurite lacks are forwarded to it (its genuine answer, after its own
                 authentication); others are authenticated here, then answered in its form.
pending_polls    None: Copy Blob is forwarded (Azurite completes it at once); N: copies stay
                 pending for N polls.
hold_pending     pending copies never complete (for abort and interruption tests).

Azurite facts this relies on: it authenticates before answering 501, and answers a bad SharedKey
with 403 AuthorizationFailure (Azure says AuthenticationFailed); a ranged Get Blob past the end
answers 206 with what there is (so short source reads are checked here); it validates
x-ms-blob-content-md5 on Put Blob against the body (Azure stores it as given).

Every request is recorded (``standin.requests``, ``standin.requests_of("PutPageFromURL")``,
``requests_of("Forwarded")``). Loopback only; every upstream call has a timeout.

Usage (tests/ is on sys.path through tests/conftest.py, as for `helpers`)::

    from blob_standin import BlobStandIn, blob_standin_fixture  # noqa: F401  (the fixture)

    def test_x(blob_standin):  # the fixture's pytest name; ruff sees no redefinition
        url = f"{blob_standin.endpoint}/devstoreaccount1/container/blob"

    with BlobStandIn("http://127.0.0.1:10000", {"devstoreaccount1": KEY}) as standin:
        standin.endpoint  # http://127.0.0.1:PORT (path style: /ACCOUNT/CONTAINER/BLOB)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formatdate, parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit
from xml.etree import ElementTree

import aiohttp
import pytest
from aiohttp import web
from loopback import ThreadedService
from multidict import CIMultiDict, CIMultiDictProxy
from storage_auth import (
    account_sas_string_to_sign,
    ip_allowed,
    parse_query,
    sas_time,
    service_sas_string_to_sign,
    shared_key_string_to_sign,
    sign,
)
from storage_errors import StorageError, auth_failed, error_body, permission_mismatch
from yarl import URL

LOOPBACK = "127.0.0.1"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
UPSTREAM_VERSION = "2025-11-05"  # what the stand-in itself sends to Azurite
AZURE_SERVER = "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"
AZURITE_SERVER = "Azurite-Blob/3.37.0"
AZURITE_501_MESSAGE = (
    "Current API is not implemented yet. "
    "Please vote your wanted features to https://github.com/azure/azurite/issues"
)
# Operations Azurite itself answers 501 to: `not_implemented` forwards these to get its answer.
AZURITE_LACKS = frozenset({"PutBlobFromURL", "AppendBlockFromURL", "PutPageFromURL"})
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
MAX_CLOCK_SKEW = timedelta(minutes=15)
MAX_FROM_URL_PAGE = 4 * 1024 * 1024
CHUNK = 4 * 1024 * 1024
UPSTREAM_TIMEOUT = aiohttp.ClientTimeout(total=300, sock_connect=10, sock_read=120)
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
# Destination-side request headers passed on to the plain operation at Azurite.
DEST_CONDITIONS = (
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "x-ms-if-tags",
    "x-ms-lease-id",
)
SOURCE_CONDITIONS = {
    "x-ms-source-if-match": "If-Match",
    "x-ms-source-if-none-match": "If-None-Match",
    "x-ms-source-if-modified-since": "If-Modified-Since",
    "x-ms-source-if-unmodified-since": "If-Unmodified-Since",
}
# Source response header -> Put Blob request header, for the copied content properties.
CONTENT_PROPS = {
    "content-type": "x-ms-blob-content-type",
    "content-encoding": "x-ms-blob-content-encoding",
    "content-language": "x-ms-blob-content-language",
    "content-disposition": "x-ms-blob-content-disposition",
    "cache-control": "x-ms-blob-cache-control",
}
COPY_HEADERS = (
    "x-ms-copy-id",
    "x-ms-copy-source",
    "x-ms-copy-status",
    "x-ms-copy-progress",
    "x-ms-copy-completion-time",
    "x-ms-copy-status-description",
)
# Permission letters that allow each implemented operation ("c": only a new destination).
PERMISSIONS = {
    "PutBlobFromURL": ("w", "c"),
    "CopyBlob": ("w", "c"),
    "AppendBlockFromURL": ("a", "w"),
    "PutPageFromURL": ("w",),
    "AbortCopy": ("w",),
}


# -- records ------------------------------------------------------------------------------------


@dataclass
class Recorded:
    """One request as the stand-in received it.

    `path` is the raw (percent-encoded) path; `query` maps each lower-cased name to its decoded
    value (the last one when repeated); `headers` has lower-cased names. `op` is the operation
    it was classified as ("PutBlobFromURL", "CopyBlob", "GetBlobProperties", "PutBlock", ...);
    `forwarded` tells whether it went to Azurite verbatim. `status` is what the client got.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    op: str
    forwarded: bool = False
    body_length: int = 0
    status: int | None = None


@dataclass
class CopyState:
    """A Copy Blob the stand-in runs (keyed by its destination)."""

    id: str
    account: str
    container: str
    blob: str
    raw_path: str
    source: str
    total: int
    status: str = "pending"  # pending | success | aborted | failed
    polls: int = 0
    etag: str = ""  # the destination's ETag while the copy properties apply to it
    completion_time: datetime | None = None
    description: str | None = None
    source_etag: str | None = None
    put_headers: dict[str, str] = field(default_factory=dict)
    source_auth: dict[str, str] = field(default_factory=dict)
    sign_source: str | None = None  # the account whose key may read the source
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)


@dataclass
class _Ctx:
    request: web.BaseRequest
    method: str
    raw_path: str
    raw_query: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    account: str
    container: str | None
    blob: str | None
    rec: Recorded
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    auth_kind: str | None = None  # "sharedkey" | "sas"

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    @property
    def dest_key(self) -> tuple[str, str, str]:
        assert self.container is not None and self.blob is not None
        return (self.account, self.container, self.blob)


@dataclass
class _Source:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


# -- parsing ------------------------------------------------------------------------------------


def _parse_range(value: str | None, header: str) -> tuple[int, int] | None:
    if value is None:
        return None
    text = value.strip()
    if not text.startswith("bytes="):
        raise StorageError(400, "InvalidHeaderValue", f"The value for {header} is not valid.")
    start_s, _, end_s = text[6:].partition("-")
    try:
        start, end = int(start_s), int(end_s)
    except ValueError:
        raise StorageError(
            400, "InvalidHeaderValue", f"The value for {header} is not valid."
        ) from None
    if start < 0 or end < start:
        raise StorageError(400, "InvalidHeaderValue", f"The value for {header} is not valid.")
    return start, end


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _now() -> datetime:
    return datetime.now(UTC)


def _http_date(when: datetime | None = None) -> str:
    return format_datetime(when or _now(), usegmt=True)


def _iso_ms(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _strip_etag(etag: str | None) -> str:
    return (etag or "").strip().strip('"')


def _error_parts(headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
    code = headers.get("x-ms-error-code", "")
    message = ""
    if body:
        with contextlib.suppress(ElementTree.ParseError, UnicodeDecodeError):
            root = ElementTree.fromstring(body)
            code = code or (root.findtext("Code") or "")
            message = (root.findtext("Message") or "").split("\n", 1)[0]
    return code, message


# -- classification -----------------------------------------------------------------------------

_BLOB_PUT_COMPS = {
    "blocklist": "PutBlockList",
    "metadata": "SetBlobMetadata",
    "properties": "SetBlobProperties",
    "tags": "SetBlobTags",
    "tier": "SetBlobTier",
    "lease": "LeaseBlob",
    "snapshot": "CreateSnapshot",
    "seal": "SealAppendBlob",
    "incrementalcopy": "IncrementalCopy",
    "expiry": "SetBlobExpiry",
    "immutabilitypolicies": "SetImmutabilityPolicy",
    "legalhold": "SetLegalHold",
    "copy": "AbortCopy",
}
_BLOB_GET_COMPS = {
    "blocklist": "GetBlockList",
    "pagelist": "GetPageRanges",
    "metadata": "GetBlobMetadata",
    "tags": "GetBlobTags",
}


def classify(
    method: str, container: str | None, blob: str | None, query: Mapping[str, list[str]], headers
) -> str:
    """The Blob REST operation a request is (the name used in records and `not_implemented`)."""
    comp = (query.get("comp") or [""])[-1].lower()
    restype = (query.get("restype") or [""])[-1].lower()
    copy_source = "x-ms-copy-source" in headers
    if not container:
        return {
            "list": "ListContainers",
            "properties": "GetServiceProperties" if method == "GET" else "SetServiceProperties",
            "stats": "GetServiceStats",
            "userdelegationkey": "GetUserDelegationKey",
            "batch": "SubmitBatch",
            "blobs": "FindBlobsByTags",
        }.get(comp, "GetAccountInfo" if restype == "account" else "Other")
    if not blob:
        if comp == "list":
            return "ListBlobs"
        if comp == "batch":
            return "SubmitBatch"
        if comp == "acl":
            return "GetContainerACL" if method in ("GET", "HEAD") else "SetContainerACL"
        if comp == "metadata":
            return "GetContainerMetadata" if method in ("GET", "HEAD") else "SetContainerMetadata"
        if comp == "lease":
            return "LeaseContainer"
        if comp == "blobs":
            return "FindBlobsByTags"
        return {
            "PUT": "CreateContainer",
            "DELETE": "DeleteContainer",
            "GET": "GetContainerProperties",
            "HEAD": "GetContainerProperties",
        }.get(method, "Other")
    if method == "PUT":
        if not comp:
            if copy_source:
                if headers.get("x-ms-requires-sync", "").lower() == "true":
                    return "CopyBlobFromURL"
                if "x-ms-blob-type" in headers:
                    return "PutBlobFromURL"
                return "CopyBlob"
            return "PutBlob"
        if comp == "block":
            return "PutBlockFromURL" if copy_source else "PutBlock"
        if comp == "appendblock":
            return "AppendBlockFromURL" if copy_source else "AppendBlock"
        if comp == "page":
            if copy_source:
                return "PutPageFromURL"
            return "ClearPages" if headers.get("x-ms-page-write") == "clear" else "PutPage"
        return _BLOB_PUT_COMPS.get(comp, "Other")
    if method in ("GET", "HEAD"):
        if not comp:
            return "GetBlob" if method == "GET" else "GetBlobProperties"
        return _BLOB_GET_COMPS.get(comp, "Other")
    if method == "DELETE":
        return "DeleteBlob"
    if method == "POST" and comp == "query":
        return "QueryBlob"
    return "Other"


# -- the server ---------------------------------------------------------------------------------


class BlobStandIn(ThreadedService):
    """The stand-in server; runs its own event loop in a daemon thread.

    upstream         Azurite's blob origin, e.g. "http://127.0.0.1:10000" (a path after it, such
                     as "/devstoreaccount1", is ignored).
    accounts         {account name: base64 key}, for authenticating clients and signing the
                     stand-in's own requests to Azurite.
    """

    thread_name = "blob-standin"

    def __init__(
        self,
        upstream: str,
        accounts: Mapping[str, str],
        *,
        pending_polls: int | None = None,
        hold_pending: bool = False,
        not_implemented: Iterable[str] = (),
    ) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError("the blob stand-in forwards to loopback only")
        self.upstream = f"{parts.scheme or 'http'}://{parts.netloc}"
        self.upstream_netloc = parts.netloc
        self.accounts = dict(accounts)
        self.pending_polls = pending_polls
        self.hold_pending = hold_pending
        self.not_implemented: set[str] = set(not_implemented)
        self.port = 0
        self.errors: list[str] = []  # unexpected exceptions inside the handler
        self._log: list[Recorded] = []
        self._copies: dict[tuple[str, str, str], CopyState] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.ServerRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._start_error: BaseException | None = None

    # -- public helpers -------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def account_url(self, account: str) -> str:
        return f"{self.endpoint}/{account}"

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._log)

    def requests_of(self, *ops: str) -> list[Recorded]:
        """Recorded requests classified as any of `ops` ("Forwarded": those sent to Azurite)."""
        with self._lock:
            return [r for r in self._log if r.op in ops or ("Forwarded" in ops and r.forwarded)]

    def clear(self) -> None:
        with self._lock:
            self._log.clear()

    def copies(self) -> list[CopyState]:
        with self._lock:
            return list(self._copies.values())

    def pending_copies(self) -> list[str]:
        """Ids of the copies still pending."""
        return [c.id for c in self.copies() if c.status == "pending"]

    def aborted_copies(self) -> list[str]:
        return [c.id for c in self.copies() if c.status == "aborted"]

    # -- life cycle -----------------------------------------------------------------------------

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        self._session = aiohttp.ClientSession(
            timeout=UPSTREAM_TIMEOUT,
            auto_decompress=False,
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
            # Azurite drops idle connections after 5 s: never reuse one that old.
            connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=2.0),
        )
        server = web.Server(self._handle)
        self._runner = web.ServerRunner(server, shutdown_timeout=2.0)
        try:
            await self._runner.setup()
            site = web.TCPSite(self._runner, LOOPBACK, 0)
            await site.start()
            self.port = self._runner.addresses[0][1]
        except BaseException as exc:
            self._start_error = exc
            self._ready.set()
            await self._session.close()
            return
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            await self._runner.cleanup()
            await self._session.close()

    # -- dispatch -------------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        raw_path, _, raw_query = request.raw_path.partition("?")
        query = parse_query(raw_query)
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        segments = raw_path.split("/", 3)
        account = unquote(segments[1]) if len(segments) > 1 else ""
        container = unquote(segments[2]) if len(segments) > 2 and segments[2] else None
        blob = unquote(segments[3]) if len(segments) > 3 and segments[3] else None
        op = classify(request.method, container, blob, query, headers)
        rec = Recorded(
            method=request.method,
            path=raw_path,
            query={k: v[-1] for k, v in query.items()},
            headers=dict(headers),
            op=op,
            body_length=_int(headers.get("content-length")),
        )
        with self._lock:
            self._log.append(rec)
        ctx = _Ctx(
            request,
            request.method,
            raw_path,
            raw_query,
            query,
            headers,
            account,
            container,
            blob,
            rec,
        )
        try:
            response = await self._dispatch(ctx, op)
        except StorageError as exc:
            response = self._error(ctx, exc)
        except Exception as exc:
            self.errors.append(f"{op} {request.method} {raw_path}: {type(exc).__name__}: {exc}")
            response = self._error(
                ctx, StorageError(500, "InternalError", f"Stand-in error: {type(exc).__name__}")
            )
        rec.status = response.status
        return response

    async def _dispatch(self, ctx: _Ctx, op: str) -> web.StreamResponse:
        if op in self.not_implemented:
            if op in AZURITE_LACKS:
                return await self._forward(ctx)
            await self._authenticate(ctx, None)
            return self._not_implemented(ctx)
        if ctx.account not in self.accounts and op in PERMISSIONS:
            return await self._forward(ctx)
        if op == "PutBlobFromURL":
            return await self._put_blob_from_url(ctx)
        if op == "AppendBlockFromURL":
            return await self._append_block_from_url(ctx)
        if op == "PutPageFromURL":
            return await self._put_page_from_url(ctx)
        if op == "CopyBlob" and self.pending_polls is not None:
            return await self._start_copy(ctx)
        if op == "AbortCopy":
            return await self._abort_copy(ctx)
        if op == "GetBlobProperties" and ctx.blob is not None:
            await self._poll(ctx)
        return await self._forward(ctx)

    # -- responses ------------------------------------------------------------------------------

    def _base_headers(self, ctx: _Ctx, server: str = AZURE_SERVER) -> dict[str, str]:
        out = {"x-ms-request-id": ctx.request_id, "Date": _http_date(), "Server": server}
        if ctx.headers.get("x-ms-version"):
            out["x-ms-version"] = ctx.headers["x-ms-version"]
        if ctx.headers.get("x-ms-client-request-id"):
            out["x-ms-client-request-id"] = ctx.headers["x-ms-client-request-id"]
        return out

    def _error(self, ctx: _Ctx, exc: StorageError) -> web.Response:
        body = error_body(exc, ctx.request_id, _iso_ms(_now()))
        headers = self._base_headers(ctx)
        headers.update({"x-ms-error-code": exc.code, "Content-Type": "application/xml"})
        headers.update(exc.headers)
        if ctx.method == "HEAD":
            return web.Response(status=exc.status, headers=headers)
        return web.Response(status=exc.status, headers=headers, body=body)

    def _not_implemented(self, ctx: _Ctx) -> web.Response:
        """Azurite's own 501 answer, byte for byte in form."""
        body = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Error>\n'
            "  <Code>APINotImplemented</Code>\n"
            f"  <Message>{AZURITE_501_MESSAGE}\nRequestId:{ctx.request_id}\n"
            f"Time:{_iso_ms(_now())}</Message>\n</Error>"
        )
        headers = {
            "Server": AZURITE_SERVER,
            "x-ms-error-code": "APINotImplemented",
            "x-ms-request-id": ctx.request_id,
            "Content-Type": "application/xml",
            "Date": _http_date(),
        }
        if ctx.method == "HEAD":
            return web.Response(status=501, headers=headers)
        return web.Response(status=501, headers=headers, body=body.encode())

    def _relay_error(self, ctx: _Ctx, status: int, headers: Mapping[str, str], body: bytes):
        """Azurite's error answer to the stand-in's own plain operation, passed to the client."""
        out = self._base_headers(ctx)
        for name in ("x-ms-error-code", "Content-Type"):
            if headers.get(name):
                out[name] = headers[name]
        if ctx.method == "HEAD":
            return web.Response(status=status, headers=out)
        return web.Response(status=status, headers=out, body=body)

    # -- authentication -------------------------------------------------------------------------

    async def _authenticate(self, ctx: _Ctx, op: str | None) -> None:
        """Authenticate (and, for `op`, authorize) a request the stand-in answers itself."""
        authorization = ctx.headers.get("authorization")
        if authorization:
            self._check_shared_key(ctx, authorization)
            ctx.auth_kind = "sharedkey"
            return
        if ctx.q("sig") is not None:
            granted = await self._check_sas(ctx)
            ctx.auth_kind = "sas"
            if op is not None:
                await self._check_permission(ctx, op, granted)
            return
        raise StorageError(
            401,
            "NoAuthenticationInformation",
            "Server failed to authenticate the request. "
            "Please refer to the information in the www-authenticate header.",
            headers={"WWW-Authenticate": "Bearer"},
        )

    def _check_shared_key(self, ctx: _Ctx, authorization: str) -> None:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme != "SharedKey":
            raise auth_failed(
                f"Authentication scheme {scheme} is not supported by the blob stand-in."
            )
        account, _, signature = credentials.strip().rpartition(":")
        if account != ctx.account or account not in self.accounts:
            raise auth_failed(f"The account {account!r} does not match the request.")
        when = ctx.headers.get("x-ms-date") or ctx.headers.get("date")
        if not when:
            raise auth_failed("Request date header not specified.")
        try:
            sent = parsedate_to_datetime(when)
        except (TypeError, ValueError):
            raise auth_failed(f"The date header {when!r} is not valid.") from None
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=UTC)
        if abs(_now() - sent) > MAX_CLOCK_SKEW:
            raise auth_failed(f"Request date header too old: '{when}'")
        to_sign = shared_key_string_to_sign(
            ctx.method, ctx.headers, account, ctx.raw_path, ctx.query
        )
        expected = sign(self.accounts[account], to_sign)
        if not hmac.compare_digest(expected, signature):
            raise auth_failed(
                f"The MAC signature found in the HTTP request '{signature}' is not the same as "
                f"any computed signature. Server used following string to sign: '{to_sign}'."
            )

    async def _check_sas(self, ctx: _Ctx) -> str:
        """Verify a service or account SAS; returns the permissions it grants."""
        fields = {k: v[-1] for k, v in ctx.query.items()}
        key = self.accounts.get(ctx.account)
        if key is None:
            raise auth_failed(f"Unknown account {ctx.account!r}.")
        sv = fields.get("sv", "")
        if sv < "2015-04-05":
            raise auth_failed(f"The signed version {sv!r} is not supported here.")
        if "skoid" in fields:
            raise auth_failed("User delegation SAS cannot be verified by the stand-in.")
        account_sas = "ss" in fields or "srt" in fields
        if account_sas:
            to_sign = account_sas_string_to_sign(ctx.account, fields)
        else:
            to_sign = service_sas_string_to_sign(fields, self._sas_resource(ctx, fields))
        if not hmac.compare_digest(sign(key, to_sign), fields.get("sig", "")):
            raise auth_failed(f"Signature did not match. String to sign used was {to_sign!r}")
        sp, st, se = fields.get("sp"), fields.get("st"), fields.get("se")
        if not account_sas and fields.get("si"):
            policy = await self._stored_policy(ctx, fields["si"])
            for name, value in (("sp", sp), ("st", st), ("se", se)):
                if value and policy.get(name):
                    raise auth_failed(f"{name} is given by both the SAS and its policy.")
            sp, st, se = sp or policy.get("sp"), st or policy.get("st"), se or policy.get("se")
        now = _now()
        try:
            start = sas_time(st) if st else None
            expiry = sas_time(se) if se else None
        except ValueError as exc:
            raise auth_failed(str(exc)) from None
        if expiry is None or not sp:
            raise auth_failed("The SAS (or its policy) must give an expiry and permissions.")
        if (start is not None and now < start) or now >= expiry:
            raise auth_failed(
                f"Signature not valid in the specified time frame: Start [{st or ''}] - "
                f"Expiry [{se}] - Current [{_http_date(now)}]"
            )
        if fields.get("spr") and "http" not in fields["spr"].replace("https", "").split(","):
            raise StorageError(
                403,
                "AuthorizationProtocolMismatch",
                "This request is not authorized to perform this operation using this protocol.",
            )
        if fields.get("sip") and not ip_allowed(ctx.request.remote or "", fields["sip"]):
            raise StorageError(
                403,
                "AuthorizationSourceIPMismatch",
                "This request is not authorized to perform this operation using this source IP "
                f"{ctx.request.remote}.",
            )
        if account_sas:
            if "b" not in fields.get("ss", ""):
                raise StorageError(
                    403,
                    "AuthorizationServiceMismatch",
                    "This request is not authorized to perform this operation using this service.",
                )
            needed = "o" if ctx.blob else ("c" if ctx.container else "s")
            if needed not in fields.get("srt", ""):
                raise StorageError(
                    403,
                    "AuthorizationResourceTypeMismatch",
                    "This request is not authorized to perform this operation using this "
                    "resource type.",
                )
        return sp

    def _sas_resource(self, ctx: _Ctx, fields: Mapping[str, str]) -> str:
        sr = fields.get("sr", "")
        base = f"/blob/{ctx.account}/{ctx.container or ''}"
        if sr == "c":
            return base
        if sr == "d":
            depth = fields.get("sdd", "")
            if not depth.isdigit() or not ctx.blob:
                raise auth_failed("A directory SAS needs sdd and a blob path.")
            segments = ctx.blob.split("/")
            if int(depth) >= len(segments):
                raise auth_failed("The directory SAS does not cover this blob.")
            return f"{base}/{'/'.join(segments[: int(depth)])}"
        if sr in ("b", "bs", "bv"):
            return f"{base}/{ctx.blob or ''}"
        raise auth_failed(f"The signed resource {sr!r} is not valid.")

    async def _stored_policy(self, ctx: _Ctx, policy_id: str) -> dict[str, str]:
        status, _, body = await self._azurite(
            "GET",
            ctx.account,
            f"/{quote(ctx.account)}/{quote(ctx.container or '')}",
            {"restype": "container", "comp": "acl"},
            {},
        )
        if status != 200:
            raise auth_failed(f"The container's stored access policies: {status}.")
        root = ElementTree.fromstring(body)
        for ident in root.iter("SignedIdentifier"):
            if ident.findtext("Id") == policy_id:
                policy = ident.find("AccessPolicy")
                if policy is None:
                    return {}
                return {
                    "sp": policy.findtext("Permission") or "",
                    "st": policy.findtext("Start") or "",
                    "se": policy.findtext("Expiry") or "",
                }
        raise auth_failed(f"The stored access policy {policy_id!r} does not exist.")

    async def _check_permission(self, ctx: _Ctx, op: str, granted: str) -> None:
        allowed = PERMISSIONS.get(op, ())
        if any(p in granted for p in allowed if p != "c"):
            return
        if "c" in allowed and "c" in granted:
            status, _, _ = await self._azurite("HEAD", ctx.account, ctx.raw_path, {}, {})
            if status == 404:
                return
        raise permission_mismatch()

    # -- upstream -------------------------------------------------------------------------------

    async def _azurite(
        self,
        method: str,
        account: str,
        raw_path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes | None = None,
    ) -> tuple[int, CIMultiDictProxy[str], bytes]:
        """A plain operation at Azurite, signed by the stand-in with the account's SharedKey."""
        assert self._session is not None
        signed = {k.lower(): v for k, v in headers.items() if v is not None}
        signed["x-ms-version"] = UPSTREAM_VERSION
        signed["x-ms-date"] = formatdate(usegmt=True)
        signed["content-length"] = str(len(body) if body else 0)
        query_string = "&".join(
            f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items()
        )
        to_sign = shared_key_string_to_sign(
            method, signed, account, raw_path, {k.lower(): [v] for k, v in query.items()}
        )
        signed["authorization"] = f"SharedKey {account}:{sign(self.accounts[account], to_sign)}"
        url = URL(
            f"{self.upstream}{raw_path}{'?' + query_string if query_string else ''}", encoded=True
        )
        return await self._fetch(method, url, signed, body or None)

    async def _fetch(
        self, method: str, url: URL, headers: Mapping[str, str], body: bytes | None = None
    ) -> tuple[int, CIMultiDictProxy[str], bytes]:
        """One upstream request read in full; retried once on a connection the peer had closed
        (the request never reached it)."""
        assert self._session is not None
        for attempt in (1, 2):
            try:
                async with self._session.request(
                    method, url, headers=dict(headers), data=body, allow_redirects=False
                ) as response:
                    payload = await response.read()
                    return response.status, response.headers, payload
            except aiohttp.ServerDisconnectedError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _forward(self, ctx: _Ctx, *, augment: bool = True) -> web.StreamResponse:
        """Send the request to Azurite verbatim and stream the answer back."""
        assert self._session is not None
        ctx.rec.forwarded = True
        request = ctx.request
        headers = CIMultiDict(
            (k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP
        )
        counted = 0

        async def body() -> Any:
            nonlocal counted
            async for chunk in request.content.iter_chunked(1 << 16):
                counted += len(chunk)
                yield chunk

        has_body = request.body_exists
        url = URL(f"{self.upstream}{request.raw_path}", encoded=True)
        for attempt in (1, 2):
            try:
                upstream = await self._session.request(
                    request.method,
                    url,
                    headers=headers,
                    data=body() if has_body else None,
                    allow_redirects=False,
                )
                break
            except aiohttp.ServerDisconnectedError:
                if attempt == 1 and not has_body:
                    continue  # a stale pooled connection; the request never reached Azurite
                return web.Response(status=502, text="blob stand-in: Azurite disconnected")
            except (aiohttp.ClientError, TimeoutError) as exc:
                return web.Response(status=502, text=f"blob stand-in: Azurite unreachable: {exc}")
        ctx.rec.body_length = counted if has_body else ctx.rec.body_length
        try:
            out_headers = CIMultiDict(
                (k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP
            )
            state = self._copy_for(ctx) if augment and ctx.blob else None
            if ctx.rec.op == "ListBlobs" and upstream.status == 200 and augment:
                include = ",".join(ctx.query.get("include", [])).lower()
                if "copy" in include and self._has_copies_in(ctx):
                    payload = await upstream.read()
                    payload = self._augment_listing(ctx, payload)
                    out_headers.pop("Content-Length", None)
                    return web.Response(status=upstream.status, headers=out_headers, body=payload)
            if state is not None and 200 <= upstream.status < 300:
                self._augment_headers(state, out_headers)
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            response.headers.extend(out_headers)
            await response.prepare(request)
            if request.method != "HEAD" and upstream.status not in (204, 304):
                async for chunk in upstream.content.iter_chunked(1 << 16):
                    await response.write(chunk)
            await response.write_eof()
            return response
        finally:
            upstream.release()

    # -- source -------------------------------------------------------------------------------

    def _source_target(self, source: str) -> tuple[str, dict[str, str], str, str]:
        """(URL to fetch, extra headers, source account, source raw path) for a copy source."""
        parts = urlsplit(source)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise StorageError(
                400, "InvalidHeaderValue", "The value for x-ms-copy-source is not valid."
            )
        if parts.hostname not in LOOPBACK_HOSTS:
            raise StorageError(
                400,
                "CannotVerifyCopySource",
                "The blob stand-in reads copy sources on loopback only.",
                headers={"x-ms-copy-source-status-code": "0"},
            )
        extra: dict[str, str] = {}
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.port == self.port:  # itself: read straight from Azurite, as it would forward
            origin = self.upstream
            extra["Host"] = parts.netloc
        path = parts.path or "/"
        target = f"{origin}{path}{'?' + parts.query if parts.query else ''}"
        account = unquote(path.split("/")[1]) if path.count("/") >= 1 else ""
        return target, extra, account, path

    async def _read_source(
        self,
        ctx: _Ctx,
        *,
        method: str = "GET",
        byte_range: tuple[int, int] | None = None,
        sign_same_account: str | None = None,
        if_match: str | None = None,
        source: str | None = None,
        headers_override: Mapping[str, str] | None = None,
        suffix_query: str = "",
    ) -> _Source:
        assert self._session is not None
        source = source or ctx.headers.get("x-ms-copy-source")
        if not source:
            raise StorageError(
                400,
                "MissingRequiredHeader",
                "An HTTP header that's mandatory for this request is not specified: "
                "x-ms-copy-source.",
            )
        target, headers, account, path = self._source_target(source)
        if suffix_query:
            target += ("&" if "?" in target else "?") + suffix_query
        headers["x-ms-version"] = UPSTREAM_VERSION
        headers["x-ms-date"] = formatdate(usegmt=True)
        conditional = False
        if headers_override is not None:
            headers.update(headers_override)
        else:
            for name, http_name in SOURCE_CONDITIONS.items():
                if ctx.headers.get(name):
                    headers[http_name] = ctx.headers[name]
                    conditional = True
            if ctx.headers.get("x-ms-copy-source-authorization"):
                headers["Authorization"] = ctx.headers["x-ms-copy-source-authorization"]
        if if_match:
            headers["If-Match"] = if_match
            conditional = True
        if byte_range is not None:
            headers["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        source_query = parse_query(urlsplit(target).query)
        if (
            sign_same_account
            and account == sign_same_account
            and account in self.accounts
            and "authorization" not in {k.lower() for k in headers}
            and "sig" not in source_query
        ):
            lowered = {k.lower(): v for k, v in headers.items() if k.lower() != "host"}
            to_sign = shared_key_string_to_sign(method, lowered, account, path, source_query)
            signature = sign(self.accounts[account], to_sign)
            headers["Authorization"] = f"SharedKey {account}:{signature}"
        try:
            status, got, body = await self._fetch(method, URL(target, encoded=True), headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise StorageError(
                400,
                "CannotVerifyCopySource",
                f"The copy source could not be reached: {type(exc).__name__}: {exc}",
                headers={"x-ms-copy-source-status-code": "0"},
            ) from None
        if status >= 300:
            code, message = _error_parts(got, body)
            if conditional and status in (304, 412):
                raise StorageError(
                    412,
                    "SourceConditionNotMet",
                    "The source condition specified using HTTP conditional header(s) is not met.",
                )
            raise StorageError(
                status if 400 <= status < 500 else 400,
                "CannotVerifyCopySource",
                f"The copy source answered {status} {code or ''}: "
                f"{message or 'no message'}".replace("  ", " "),
                headers={
                    "x-ms-copy-source-status-code": str(status),
                    "x-ms-copy-source-error-code": code or "",
                },
            )
        if byte_range is not None and method == "GET":
            expected = byte_range[1] - byte_range[0] + 1
            if len(body) != expected:
                raise StorageError(
                    416,
                    "CannotVerifyCopySource",
                    f"The source range {byte_range[0]}-{byte_range[1]} is beyond the source "
                    f"(read {len(body)} of {expected} bytes).",
                    headers={"x-ms-copy-source-status-code": "416"},
                )
        return _Source(status, got, body)

    @staticmethod
    def _check_source_md5(ctx: _Ctx, data: bytes) -> str:
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
        wanted = ctx.headers.get("x-ms-source-content-md5")
        if wanted and wanted != md5:
            raise StorageError(
                400,
                "Md5Mismatch",
                "The MD5 value specified in the request did not match with the MD5 value "
                "calculated by the server.",
                headers={"x-ms-source-content-md5": wanted},
            )
        return md5

    async def _require_no_body(self, ctx: _Ctx) -> None:
        body = await ctx.request.content.read(1 << 20)
        ctx.rec.body_length = len(body)
        if body:
            raise StorageError(
                400, "InvalidHeaderValue", "The value for Content-Length must be 0 here."
            )

    def _pass_headers(self, ctx: _Ctx, names: Iterable[str]) -> dict[str, str]:
        return {n: ctx.headers[n] for n in names if ctx.headers.get(n)}

    # -- Put Blob From URL ----------------------------------------------------------------------

    async def _put_blob_from_url(self, ctx: _Ctx) -> web.StreamResponse:
        await self._authenticate(ctx, "PutBlobFromURL")
        await self._require_no_body(ctx)
        if ctx.headers.get("x-ms-blob-type") != "BlockBlob":
            raise StorageError(
                400, "InvalidHeaderValue", "The value for x-ms-blob-type is not valid."
            )
        source = await self._read_source(ctx)
        data = source.body
        self._check_source_md5(ctx, data)
        put = self._pass_headers(ctx, DEST_CONDITIONS)
        put["x-ms-blob-type"] = "BlockBlob"
        if ctx.headers.get("x-ms-copy-source-blob-properties", "true").lower() != "false":
            for src_name, put_name in CONTENT_PROPS.items():
                if source.headers.get(src_name):
                    put[put_name] = source.headers[src_name]
            if source.headers.get("content-md5"):
                put["x-ms-blob-content-md5"] = source.headers["content-md5"]
        for name, value in ctx.headers.items():
            if name.startswith(("x-ms-blob-content-", "x-ms-meta-")) or name in (
                "x-ms-blob-cache-control",
                "x-ms-access-tier",
                "x-ms-tags",
            ):
                put[name] = value
        if ctx.headers.get("x-ms-copy-source-tag-option", "").upper() == "COPY":
            put["x-ms-tags"] = await self._source_tags(ctx)
        status, headers, body = await self._azurite("PUT", ctx.account, ctx.raw_path, {}, put, data)
        if status != 201:
            return self._relay_error(ctx, status, headers, body)
        out = self._base_headers(ctx)
        for name in ("ETag", "Last-Modified", "Content-MD5", "x-ms-request-server-encrypted"):
            if headers.get(name):
                out[name] = headers[name]
        out.setdefault("Content-MD5", base64.b64encode(hashlib.md5(data).digest()).decode())
        return web.Response(status=201, headers=out)

    async def _source_tags(self, ctx: _Ctx) -> str:
        tags = await self._read_source(ctx, suffix_query="comp=tags")
        root = ElementTree.fromstring(tags.body)
        pairs = []
        for tag in root.iter("Tag"):
            key, value = tag.findtext("Key") or "", tag.findtext("Value") or ""
            pairs.append(f"{quote(key, safe='')}={quote(value, safe='')}")
        return "&".join(pairs)

    # -- Append Block From URL ------------------------------------------------------------------

    async def _append_block_from_url(self, ctx: _Ctx) -> web.StreamResponse:
        await self._authenticate(ctx, "AppendBlockFromURL")
        await self._require_no_body(ctx)
        byte_range = _parse_range(ctx.headers.get("x-ms-source-range"), "x-ms-source-range")
        source = await self._read_source(ctx, byte_range=byte_range)
        data = source.body
        md5 = self._check_source_md5(ctx, data)
        names = (*DEST_CONDITIONS, "x-ms-blob-condition-maxsize", "x-ms-blob-condition-appendpos")
        put = self._pass_headers(ctx, names)
        status, headers, body = await self._azurite(
            "PUT", ctx.account, ctx.raw_path, {"comp": "appendblock"}, put, data
        )
        if status != 201:
            return self._relay_error(ctx, status, headers, body)
        out = self._base_headers(ctx)
        out["Content-MD5"] = md5
        for name in (
            "ETag",
            "Last-Modified",
            "x-ms-content-crc64",
            "x-ms-blob-append-offset",
            "x-ms-blob-committed-block-count",
            "x-ms-request-server-encrypted",
        ):
            if headers.get(name):
                out[name] = headers[name]
        return web.Response(status=201, headers=out)

    # -- Put Page From URL ----------------------------------------------------------------------

    async def _put_page_from_url(self, ctx: _Ctx) -> web.StreamResponse:
        await self._authenticate(ctx, "PutPageFromURL")
        await self._require_no_body(ctx)
        if ctx.headers.get("x-ms-page-write", "").lower() != "update":
            raise StorageError(
                400, "InvalidHeaderValue", "The value for x-ms-page-write is not valid."
            )
        dest_header = "x-ms-range" if "x-ms-range" in ctx.headers else "range"
        dest = _parse_range(ctx.headers.get(dest_header), dest_header)
        src = _parse_range(ctx.headers.get("x-ms-source-range"), "x-ms-source-range")
        if dest is None or src is None:
            missing = "x-ms-range" if dest is None else "x-ms-source-range"
            raise StorageError(
                400,
                "MissingRequiredHeader",
                f"An HTTP header that's mandatory for this request is not specified: {missing}.",
            )
        for start, end in (dest, src):
            if start % 512 or (end + 1) % 512:
                raise StorageError(416, "InvalidPageRange", "The page range specified is invalid.")
        length = dest[1] - dest[0] + 1
        if src[1] - src[0] + 1 != length:
            raise StorageError(
                400,
                "InvalidHeaderValue",
                "The value for x-ms-source-range must cover as many bytes as x-ms-range.",
            )
        if length > MAX_FROM_URL_PAGE:
            raise StorageError(
                400, "InvalidHeaderValue", "The range must not exceed 4 MiB for Put Page From URL."
            )
        source = await self._read_source(ctx, byte_range=src)
        md5 = self._check_source_md5(ctx, source.body)
        names = (
            *DEST_CONDITIONS,
            "x-ms-if-sequence-number-le",
            "x-ms-if-sequence-number-lt",
            "x-ms-if-sequence-number-eq",
        )
        put = self._pass_headers(ctx, names)
        put["x-ms-page-write"] = "update"
        put["x-ms-range"] = f"bytes={dest[0]}-{dest[1]}"
        status, headers, body = await self._azurite(
            "PUT", ctx.account, ctx.raw_path, {"comp": "page"}, put, source.body
        )
        if status != 201:
            return self._relay_error(ctx, status, headers, body)
        out = self._base_headers(ctx)
        out["Content-MD5"] = md5
        for name in (
            "ETag",
            "Last-Modified",
            "x-ms-content-crc64",
            "x-ms-blob-sequence-number",
            "x-ms-request-server-encrypted",
        ):
            if headers.get(name):
                out[name] = headers[name]
        return web.Response(status=201, headers=out)

    # -- pending Copy Blob ----------------------------------------------------------------------

    def _copy_for(self, ctx: _Ctx) -> CopyState | None:
        if ctx.container is None or ctx.blob is None:
            return None
        with self._lock:
            return self._copies.get(ctx.dest_key)

    def _has_copies_in(self, ctx: _Ctx) -> bool:
        with self._lock:
            return any(k[:2] == (ctx.account, ctx.container) for k in self._copies)

    async def _start_copy(self, ctx: _Ctx) -> web.StreamResponse:
        await self._authenticate(ctx, "CopyBlob")
        await self._require_no_body(ctx)
        existing = self._copy_for(ctx)
        if existing is not None and existing.status == "pending":
            raise StorageError(
                409, "PendingCopyOperation", "There is currently a pending copy operation."
            )
        # A SharedKey-authorized Copy Blob may read a source in its own account with that key.
        same_account = ctx.account if ctx.auth_kind == "sharedkey" else None
        probe = await self._read_source(ctx, method="HEAD", sign_same_account=same_account)
        total = int(probe.headers.get("content-length", "0") or 0)
        put = self._pass_headers(ctx, DEST_CONDITIONS)
        metadata = {k: v for k, v in ctx.headers.items() if k.startswith("x-ms-meta-")}
        if not metadata:
            metadata = {
                k.lower(): v for k, v in probe.headers.items() if k.lower().startswith("x-ms-meta-")
            }
        put.update(metadata)
        for src_name, put_name in CONTENT_PROPS.items():
            if probe.headers.get(src_name):
                put[put_name] = probe.headers[src_name]
        for name in ("x-ms-tags", "x-ms-access-tier"):
            if ctx.headers.get(name):
                put[name] = ctx.headers[name]
        put["x-ms-blob-type"] = "BlockBlob"
        status, headers, body = await self._azurite("PUT", ctx.account, ctx.raw_path, {}, put)
        if status != 201:
            return self._relay_error(ctx, status, headers, body)
        conditions = {"if-none-match", "if-modified-since", "if-unmodified-since", "if-match"}
        final = {k: v for k, v in put.items() if k not in conditions | {"x-ms-if-tags"}}
        source_auth = {}
        if ctx.headers.get("x-ms-copy-source-authorization"):
            source_auth["Authorization"] = ctx.headers["x-ms-copy-source-authorization"]
        assert ctx.container is not None and ctx.blob is not None
        state = CopyState(
            id=str(uuid.uuid4()),
            account=ctx.account,
            container=ctx.container,
            blob=ctx.blob,
            raw_path=ctx.raw_path,
            source=ctx.headers["x-ms-copy-source"],
            total=total,
            etag=_strip_etag(headers.get("ETag")),
            source_etag=probe.headers.get("ETag"),
            put_headers=final,
            source_auth=source_auth,
            sign_source=same_account,
        )
        with self._lock:
            self._copies[ctx.dest_key] = state
        out = self._base_headers(ctx)
        out.update(
            {
                "ETag": headers.get("ETag", ""),
                "Last-Modified": headers.get("Last-Modified", ""),
                "x-ms-copy-id": state.id,
                "x-ms-copy-status": "pending",
            }
        )
        return web.Response(status=202, headers=out)

    async def _poll(self, ctx: _Ctx) -> None:
        state = self._copy_for(ctx)
        if state is None or state.status != "pending":
            return
        async with state.lock:
            if state.status != "pending":
                return
            state.polls += 1
            polls = self.pending_polls if self.pending_polls is not None else 0
            if not self.hold_pending and state.polls > polls:
                await self._complete(ctx, state)

    async def _complete(self, ctx: _Ctx, state: CopyState) -> None:
        """Perform a pending copy for real: read the source, write the destination."""
        try:
            source = await self._read_source(
                ctx,
                source=state.source,
                headers_override=state.source_auth,
                if_match=state.source_etag,
                sign_same_account=state.sign_source,
            )
        except StorageError as exc:
            self._finish(state, "failed", f'{exc.status} {exc.code} "{exc.message}"')
            return
        data = source.body
        put = dict(state.put_headers)
        put["if-match"] = f'"{state.etag}"'
        blob_type = source.headers.get("x-ms-blob-type", "BlockBlob")
        put["x-ms-blob-type"] = blob_type
        if source.headers.get("content-md5") and blob_type == "BlockBlob":
            put["x-ms-blob-content-md5"] = source.headers["content-md5"]
        lease = {"x-ms-lease-id": put["x-ms-lease-id"]} if put.get("x-ms-lease-id") else {}
        writes: list[tuple[dict[str, str], dict[str, str], bytes]] = []
        if blob_type == "PageBlob":
            put["x-ms-blob-content-length"] = str(len(data))
            put.pop("x-ms-access-tier", None)
            first = b""
            for offset in range(0, len(data), CHUNK):
                chunk = data[offset : offset + CHUNK]
                if chunk.count(0) == len(chunk):
                    continue
                end = offset + len(chunk) - 1
                headers = {
                    **lease,
                    "x-ms-page-write": "update",
                    "x-ms-range": f"bytes={offset}-{end}",
                }
                writes.append(({"comp": "page"}, headers, chunk))
        elif blob_type == "AppendBlob":
            put.pop("x-ms-access-tier", None)
            first = b""
            for offset in range(0, len(data), CHUNK):
                writes.append(({"comp": "appendblock"}, dict(lease), data[offset : offset + CHUNK]))
        else:
            first = data
        status, headers, body = await self._azurite(
            "PUT", state.account, state.raw_path, {}, put, first
        )
        etag = headers.get("ETag")
        for query, extra, chunk in writes:
            if status != 201:
                break
            status, headers, body = await self._azurite(
                "PUT", state.account, state.raw_path, query, extra, chunk
            )
            etag = headers.get("ETag")
        if status != 201:
            code, message = _error_parts(headers, body)
            self._finish(state, "failed", f'{status} {code} "{message}"')
            return
        state.total = len(data)
        state.etag = _strip_etag(etag)
        self._finish(state, "success", None)

    @staticmethod
    def _finish(state: CopyState, status: str, description: str | None) -> None:
        state.status = status
        state.description = description
        state.completion_time = _now()

    def _augment_headers(self, state: CopyState, headers: CIMultiDict[str]) -> None:
        if _strip_etag(headers.get("ETag")) != state.etag:
            return  # the destination changed since: the copy properties no longer apply
        for name in COPY_HEADERS:
            headers.popall(name, None)
        for name, value in self._copy_properties(state).items():
            headers[f"x-ms-copy-{name}"] = value

    def _copy_properties(self, state: CopyState) -> dict[str, str]:
        if state.status == "pending":
            polls = self.pending_polls or 0
            done = state.total * min(state.polls, polls) // (polls + 1)
        elif state.status == "success":
            done = state.total
        else:
            done = 0
        props = {
            "id": state.id,
            "source": state.source,
            "status": state.status,
            "progress": f"{done}/{state.total}",
        }
        if state.completion_time is not None:
            props["completion-time"] = _http_date(state.completion_time)
        if state.description:
            props["status-description"] = state.description
        return props

    def _augment_listing(self, ctx: _Ctx, payload: bytes) -> bytes:
        try:
            root = ElementTree.fromstring(payload)
        except ElementTree.ParseError:
            return payload
        elements = {
            "id": "CopyId",
            "source": "CopySource",
            "status": "CopyStatus",
            "progress": "CopyProgress",
            "completion-time": "CopyCompletionTime",
            "status-description": "CopyStatusDescription",
        }
        for blob in root.iter("Blob"):
            name = blob.findtext("Name")
            props = blob.find("Properties")
            if name is None or props is None:
                continue
            with self._lock:
                state = self._copies.get((ctx.account, ctx.container or "", name))
            if state is None or _strip_etag(props.findtext("Etag")) != state.etag:
                continue
            for child in list(props):
                if child.tag in elements.values():
                    props.remove(child)
            for key, value in self._copy_properties(state).items():
                ElementTree.SubElement(props, elements[key]).text = value
        return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)

    async def _abort_copy(self, ctx: _Ctx) -> web.StreamResponse:
        await self._authenticate(ctx, "AbortCopy")
        await self._require_no_body(ctx)
        action = ctx.headers.get("x-ms-copy-action")
        if action is None:
            raise StorageError(
                400,
                "MissingRequiredHeader",
                "An HTTP header that's mandatory for this request is not specified: "
                "x-ms-copy-action.",
            )
        if action.lower() != "abort":
            raise StorageError(
                400, "InvalidHeaderValue", "The value for x-ms-copy-action is not valid."
            )
        copy_id = ctx.q("copyid") or ""
        state = self._copy_for(ctx)
        if state is None or state.status != "pending":
            status, _, _ = await self._azurite("HEAD", ctx.account, ctx.raw_path, {}, {})
            if status == 404:
                raise StorageError(404, "BlobNotFound", "The specified blob does not exist.")
            raise StorageError(
                409, "NoPendingCopyOperation", "There is currently no pending copy operation."
            )
        async with state.lock:
            if state.status != "pending":
                raise StorageError(
                    409, "NoPendingCopyOperation", "There is currently no pending copy operation."
                )
            if state.id != copy_id:
                raise StorageError(
                    409,
                    "CopyIdMismatch",
                    "The specified copy ID did not match the copy ID for the pending copy "
                    "operation.",
                )
            self._finish(state, "aborted", None)
        return web.Response(status=204, headers=self._base_headers(ctx))


@pytest.fixture(name="blob_standin")
def blob_standin_fixture(azurite) -> Iterator[BlobStandIn]:
    """A started stand-in in front of the session's Azurite, knowing both test accounts.

    Function-scoped, so the switches and records start fresh in every test.
    """
    accounts = {azurite.account: azurite.key, azurite.acct2: azurite.acct2_key}
    with BlobStandIn(f"http://{azurite.host}:{azurite.blob_port}", accounts) as standin:
        yield standin


# The same fixture under its pytest name, for `from blob_standin import blob_standin`.
blob_standin = blob_standin_fixture
