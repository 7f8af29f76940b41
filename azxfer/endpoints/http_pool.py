"""A pool of keep-alive HTTP/1.1 connections for the REST fast path (see `http_connection`).

    async with pool.request("GET", url, headers) as response:
        body = await response.read()          # or: while piece := await response.readany()

`url` is sent exactly as given (already percent-encoded). At most `limit` requests are in
flight at once; an idle connection is reused, most recently used first. A request whose
reused connection turns out to have been closed by the server before it answered is sent
once more on a new connection, as browsers and Go's client do; any other failure is the
caller's to retry (see `engine.retry`), as one of the errors of `http_connection`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterable
from types import TracebackType

from azxfer.endpoints.http_connection import (
    CertificateError,
    ConnectError,
    Connection,
    ConnectionLost,
    Headers,
    HttpError,
    ResponseTimeout,
)
from azxfer.endpoints.http_request import Body, Origin, request_head, split_url

__all__ = [
    "Body",
    "CertificateError",
    "ConnectError",
    "ConnectionLost",
    "Headers",
    "HttpError",
    "HttpPool",
    "HttpResponse",
    "ResponseTimeout",
]

# A body up to this size goes out in the same write as the request head.
_JOIN_BODY = 64 * 1024


class HttpResponse:
    """The status and headers of an answer; its body is read with `read` or `readany`."""

    __slots__ = ("_connection", "headers", "status")

    def __init__(self, status: int, headers: Headers, connection: Connection) -> None:
        self.status = status
        self.headers = headers
        self._connection = connection

    async def read(self) -> bytes:
        """The whole body."""
        pieces = []
        while piece := await self._connection.read_piece():
            pieces.append(bytes(piece))  # a view is valid only until the next piece
        return b"".join(pieces)

    async def readany(self) -> bytes | memoryview:
        """The next piece of the body as it arrived; b"" at its end. The piece is valid only
        until the next call (it may be a view of the connection's receive buffer)."""
        return await self._connection.read_piece()


class _Exchange:
    """One request: sent on entry, its connection returned to the pool (or closed) on exit."""

    __slots__ = ("_body", "_connection", "_headers", "_method", "_origin", "_pool", "_url")

    def __init__(
        self, pool: HttpPool, method: str, url: str, headers: dict[str, str], body: Body
    ) -> None:
        self._pool = pool
        self._method = method
        self._url = url
        self._headers = headers
        self._body = body
        self._origin: Origin | None = None
        self._connection: Connection | None = None

    async def __aenter__(self) -> HttpResponse:
        origin, target = split_url(self._url)
        self._origin = origin
        head = request_head(self._method, target, origin.host_header, self._headers, self._body)
        pool = self._pool
        await pool._slots.acquire()
        try:
            connection = pool._idle_connection(origin) or await pool._open(origin)
            self._connection = connection
            try:
                return await self._send(connection, head)
            except ConnectionLost:
                replayable = not isinstance(self._body, AsyncIterable)
                if not (connection.reused and not connection.received and replayable):
                    raise
            connection.close()  # closed by the server while idle: once more, on a new one
            connection = await pool._open(origin)
            self._connection = connection
            return await self._send(connection, head)
        except BaseException:
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            pool._slots.release()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if connection.reusable and self._origin is not None:
            self._pool._keep(self._origin, connection)
        else:
            connection.close()
        self._pool._slots.release()

    async def _send(self, connection: Connection, head: bytes) -> HttpResponse:
        connection.begin(self._method == "HEAD")
        body = self._body
        if body is None or isinstance(body, bytes | memoryview):
            if body and len(body) <= _JOIN_BODY:
                connection.write(head + body)
            else:
                connection.write(head)
                if body:
                    connection.write(body)
            await connection.drain()
            connection.request_sent()
        else:
            connection.write(head)
            async for piece in body:
                if connection.answered:
                    break  # an early answer: the rest is not wanted
                connection.write(piece)
                await connection.drain()
            else:
                connection.request_sent()
        status, headers = await connection.headers()
        return HttpResponse(status, headers, connection)


class HttpPool:
    """Keep-alive connections to any number of origins, at most `limit` requests in flight."""

    def __init__(
        self,
        limit: int,
        tls: ssl.SSLContext | None = None,
        connect_timeout: float = 30.0,
        idle_timeout: float = 120.0,
    ) -> None:
        """`tls`: the context of https connections (none: https is refused)."""
        self._slots = asyncio.Semaphore(limit)
        self._tls = tls
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self._idle: dict[Origin, list[Connection]] = {}

    def request(
        self, method: str, url: str, headers: dict[str, str], body: Body = None
    ) -> _Exchange:
        """Send a request; use as `async with`: the response is valid inside the block."""
        return _Exchange(self, method, url, headers, body)

    async def close(self) -> None:
        """Close the idle connections (requests in flight close theirs when they end)."""
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing

    def _idle_connection(self, origin: Origin) -> Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
            connection.close()
        return None

    def _keep(self, origin: Origin, connection: Connection) -> None:
        connection.reused = True
        self._idle.setdefault(origin, []).append(connection)

    async def _open(self, origin: Origin) -> Connection:
        loop = asyncio.get_running_loop()
        secure = origin.scheme == "https"
        if secure and self._tls is None:
            raise CertificateError(f"https to {origin.host} is not enabled for this job")
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: Connection(loop, self._idle_timeout),
                    origin.host,
                    origin.port,
                    ssl=self._tls if secure else None,
                    server_hostname=origin.host if secure else None,
                )
        except ssl.SSLCertVerificationError as exc:
            raise CertificateError(exc.verify_message or str(exc)) from None
        except ssl.SSLError as exc:
            raise CertificateError(f"TLS handshake with {origin.host} failed: {exc}") from None
        except TimeoutError:
            raise ResponseTimeout(
                f"connecting to {origin.host}:{origin.port} took over {self._connect_timeout:g} s"
            ) from None
        except OSError as exc:
            raise ConnectError(origin.host, origin.port, exc) from None
        return connection
