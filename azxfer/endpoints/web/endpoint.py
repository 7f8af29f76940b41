"""A plain web object as a source: any http(s) URL that is not a storage account.

One object (a public file, a presigned URL from another cloud) is looked up with HEAD and
read with ranged GETs conditional on its ETag, so a file that changes mid-copy fails instead
of mixing versions. Its query may be a signature, so it never appears in messages.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from azxfer.endpoints.base import NameFilter, Selection, SelectionKind
from azxfer.endpoints.copycaps import CopySource
from azxfer.errors import (
    CredentialError,
    IntegrityError,
    LocationError,
    NotFoundError,
    RetryableError,
    TransferError,
    UnreachableError,
)
from azxfer.locations import Location
from azxfer.models import ContentProps, Entry, Skipped
from azxfer.transport.aio import aiohttp
from azxfer.transport.http import cannot_connect, connection_failure
from azxfer.transport.proxy import AiohttpProxy
from azxfer.transport.request import Pace
from azxfer.transport.retry import RetryPolicy, with_retries

_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class WebEndpoint:
    """A driver for one web object (read-only)."""

    def __init__(
        self,
        location: Location,
        session: aiohttp.ClientSession,
        retry: RetryPolicy,
        proxy: AiohttpProxy | None = None,
        pace: Pace | None = None,
    ) -> None:
        """`proxy`: how the requests go through a proxy (`ProxySettings.for_aiohttp` of the
        URL; a redirect elsewhere goes through the same one)."""
        self.location = location
        self.session = session
        self.retry = retry
        self.proxy = proxy or AiohttpProxy()
        self.pace = pace  # the job's bandwidth cap, applied to the bytes read
        self.what = f"'{location.display}'"

    async def select(
        self, recursive: bool, filters: NameFilter, follow_symlinks: bool
    ) -> Selection:
        """The object itself, named after the last part of its path."""
        entry = await self.stat(self.location.path)
        if entry is None:
            raise NotFoundError(f"{self.what} not found")
        return Selection(SelectionKind.SINGLE, "", _one(entry))

    async def stat(self, ref: str) -> Entry | None:
        """HEAD the object: size, ETag, Last-Modified, content headers, Content-MD5."""

        async def attempt() -> Entry | None:
            try:
                async with self._request("HEAD", {}) as response:
                    if response.status == 404:
                        return None
                    _raise_for(response.status, self.what)
                    return _entry(self.location.path, response.headers)
            except aiohttp.ClientSSLError as exc:
                raise connection_failure(exc, self.what) from None
            except aiohttp.ClientConnectorError as exc:
                where = self.location.endpoint
                raise UnreachableError(f"cannot reach {where}: {cannot_connect(exc)}") from None
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                raise RetryableError(f"{self.what}: connection failed: {exc}") from None

        return await with_retries(attempt, self.retry, self.what)

    async def open_reader(self, entry: Entry) -> WebReader:
        """Ranged reads of the object."""
        return WebReader(self, entry)

    def url_unreadable(self) -> str | None:
        """A web URL is read by the destination's service as it is."""
        return None

    async def copy_source(self, entry: Entry) -> CopySource:
        """The web URL itself."""
        return CopySource(self.location.web_url, entry)

    async def open_writer(self, *args: object, **kwargs: object) -> None:
        """Web objects are sources only."""
        raise LocationError("a web URL can only be a source")

    async def delete(self, ref: str) -> None:
        """Web objects are not deleted (--move is refused for them)."""
        raise LocationError("a web URL source cannot be deleted (--move)")

    async def close(self) -> None:
        """The session belongs to the job's connections."""

    def _request(self, method: str, headers: dict[str, str]) -> Any:
        return self.session.request(
            method,
            self.location.web_url,
            headers={**headers, **self.proxy.headers},
            allow_redirects=True,
            **self.proxy.arguments,  # type: ignore[arg-type]
        )


async def _body(response: Any, pace: Pace | None) -> bytes:
    """The answer's body; under a bandwidth cap, paced piece by piece as it arrives."""
    if pace is None:
        return await response.read()
    pieces = []
    async for piece in response.content.iter_any():
        await pace(len(piece))
        pieces.append(piece)
    return b"".join(pieces)


class WebReader:
    """Ranged GETs of one web object, conditional on the ETag seen by HEAD."""

    def __init__(self, endpoint: WebEndpoint, entry: Entry) -> None:
        self.endpoint = endpoint
        self.entry = entry

    async def read(self, offset: int, length: int) -> bytes:
        """`length` bytes at `offset`; a server that ignores Range is an error past byte 0."""
        endpoint = self.endpoint
        headers = {"Range": f"bytes={offset}-{offset + length - 1}"}
        if self.entry.etag:
            headers["If-Match"] = self.entry.etag

        async def attempt() -> bytes:
            try:
                async with endpoint._request("GET", headers) as response:
                    if response.status == 412:
                        raise IntegrityError(f"{endpoint.what} changed during the transfer")
                    _raise_for(response.status, endpoint.what)
                    if response.status == 200 and (offset or length < self.entry.size):
                        raise TransferError(
                            f"{endpoint.what}: the server does not support ranged reads; "
                            "use a --block-size-mb larger than the file"
                        )
                    data = await _body(response, endpoint.pace)
            except aiohttp.ClientSSLError as exc:
                raise connection_failure(exc, endpoint.what) from None
            except aiohttp.ClientConnectorError as exc:
                where = endpoint.location.endpoint
                raise UnreachableError(f"cannot reach {where}: {cannot_connect(exc)}") from None
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
                raise RetryableError(f"{endpoint.what}: connection failed: {exc}") from None
            if len(data) != length:
                raise RetryableError(f"{endpoint.what}: got {len(data)} of {length} bytes")
            return data

        return await with_retries(attempt, endpoint.retry, endpoint.what)

    async def finish(self) -> None:
        """Every read was conditional on the ETag (when the server gave one)."""

    async def close(self) -> None:
        """Nothing to release."""


def _raise_for(status: int, what: str) -> None:
    if status < 300:
        return
    if status in _RETRY_STATUS:
        raise RetryableError(f"{what}: server busy ({status})")
    if status == 404:
        raise NotFoundError(f"{what} not found")
    if status in (401, 403):
        raise CredentialError(
            f"access to {what} denied ({status}): the URL's signature may be wrong or expired"
        )
    raise TransferError(f"{what}: HTTP {status}")


def _entry(path: str, headers: Any) -> Entry:
    size = headers.get("Content-Length")
    if size is None:
        raise TransferError("the server did not say how large the file is (no Content-Length)")
    modified = headers.get("Last-Modified")
    md5 = headers.get("Content-MD5")
    name = unquote(path.rstrip("/").rpartition("/")[2])
    return Entry(
        ref=path,
        rel_path=name,
        size=int(size),
        mtime=_timestamp(modified),
        md5=_md5(md5),
        etag=headers.get("ETag"),
        content=ContentProps(
            content_type=headers.get("Content-Type"),
            content_encoding=headers.get("Content-Encoding"),
            content_language=headers.get("Content-Language"),
            content_disposition=headers.get("Content-Disposition"),
            cache_control=headers.get("Cache-Control"),
        ),
    )


def _timestamp(value: str | None) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


def _md5(value: str | None) -> bytes | None:
    try:
        digest = base64.b64decode(value, validate=True) if value else None
    except (binascii.Error, ValueError):
        return None
    return digest if digest is not None and len(digest) == 16 else None


async def _one(entry: Entry) -> AsyncIterator[Entry | Skipped]:
    yield entry
