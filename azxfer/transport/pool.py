"""A pool of keep-alive HTTP/1.1 connections for the REST fast path (see `connection`).

    async with pool.request("GET", url, headers) as response:
        body = await response.read()          # or: while piece := await response.readany()

`url` is sent exactly as given (already percent-encoded). At most `limit` requests are in
flight at once; an idle connection is reused, most recently used first. A request whose
reused connection turns out to have been closed by the server before it answered is sent
once more on a new connection, as browsers and Go's client do; any other failure is the
caller's to retry (see `retry`), as one of the errors of `connection`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterable
from types import TracebackType

from azxfer.transport.connection import Connection
from azxfer.transport.failures import (
    CertificateError,
    ConnectError,
    ConnectionLost,
    HttpError,
    ProxyRefused,
    ResponseTimeout,
)
from azxfer.transport.headers import Headers
from azxfer.transport.proxy import NO_PROXIES, Proxy, ProxySettings
from azxfer.transport.request import Body, Origin, Pace, request_head, split_url

log = logging.getLogger("azxfer.http")

__all__ = [
    "Body",
    "CertificateError",
    "ConnectError",
    "ConnectionLost",
    "Headers",
    "HttpError",
    "HttpPool",
    "HttpResponse",
    "Pace",
    "ProxyRefused",
    "ResponseTimeout",
]

# A body up to this size goes out in the same write as the request head.
_JOIN_BODY = 64 * 1024
# The most a proxy may say in answer to CONNECT before the tunnel is open.
_TUNNEL_HEAD_LIMIT = 64 * 1024


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

    __slots__ = (
        "_body",
        "_connection",
        "_headers",
        "_method",
        "_origin",
        "_pool",
        "_started",
        "_status",
        "_url",
    )

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
        # Set only when DEBUG logging is on: when the request started, and its answer.
        self._started = 0.0
        self._status = ""

    async def __aenter__(self) -> HttpResponse:
        if not self._pool.debug:
            return await self._enter()
        self._started = time.monotonic()
        try:
            response = await self._enter()
        except BaseException as exc:
            self._status = type(exc).__name__
            self._log()
            raise
        self._status = str(response.status)
        return response

    def _log(self) -> None:
        """One DEBUG line per request: method, URL without its query (a SAS, or any other
        cloud's presigned signature, lives there), status, duration."""
        elapsed = (time.monotonic() - self._started) * 1000
        url = self._url.partition("?")[0]
        log.debug("%s %s -> %s in %.1f ms", self._method, url, self._status, elapsed)

    async def _enter(self) -> HttpResponse:
        origin, target = split_url(self._url)
        self._origin = origin
        pool = self._pool
        headers = self._headers
        forward = pool._forward_proxy(origin)
        if forward is not None:  # http through a proxy: the absolute URL as the target
            target = f"http://{origin.host_header}{target}"
            if forward.authorization:
                headers = {**headers, "Proxy-Authorization": forward.authorization}
        head = request_head(self._method, target, origin.host_header, headers, self._body)
        await pool._slots.acquire()
        try:
            connection = pool._idle_connection(origin) or await pool._open(origin)
            self._connection = connection
            try:
                return _forwarded(await self._send(connection, head), forward, origin)
            except ConnectionLost:
                replayable = not isinstance(self._body, AsyncIterable)
                if not (connection.reused and not connection.received and replayable):
                    raise
            connection.close()  # closed by the server while idle: once more, on a new one
            connection = await pool._open(origin)
            self._connection = connection
            return _forwarded(await self._send(connection, head), forward, origin)
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
        if self._started:  # DEBUG: logged once the answer was read (its time included)
            self._log()
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
        proxies: ProxySettings = NO_PROXIES,
        pace: Pace | None = None,
    ) -> None:
        """`tls`: the context of https connections (none: https is refused). `proxies`: which
        origins go through which proxy (see `transport.proxy`). `pace`: the job's bandwidth
        cap, which the REST clients on this pool apply to the data they send and read (None:
        no cap, and no cost)."""
        self.pace = pace
        self._slots = asyncio.Semaphore(limit)
        # Asked once: with DEBUG off, a request pays no clock reads or formatting for it.
        self.debug = log.isEnabledFor(logging.DEBUG)
        self._tls = tls
        self._proxies = proxies
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

    def _forward_proxy(self, origin: Origin) -> Proxy | None:
        """The proxy plain-http requests to `origin` are sent to, if any."""
        if origin.scheme != "http":
            return None
        return self._proxies.for_url("http", origin.host, origin.port)

    async def _open(self, origin: Origin) -> Connection:
        loop = asyncio.get_running_loop()
        secure = origin.scheme == "https"
        if secure and self._tls is None:
            raise CertificateError(f"https to {origin.host} is not enabled for this job")
        proxy = self._proxies.for_url(origin.scheme, origin.host, origin.port)
        host, port = (proxy.host, proxy.port) if proxy is not None else (origin.host, origin.port)
        try:
            async with asyncio.timeout(self._connect_timeout):
                if proxy is not None and secure:
                    sock = await _tunnel(loop, proxy, origin)
                    _, connection = await loop.create_connection(
                        lambda: Connection(loop, self._idle_timeout),
                        sock=sock,
                        ssl=self._tls,
                        server_hostname=origin.host,
                    )
                else:
                    _, connection = await loop.create_connection(
                        lambda: Connection(loop, self._idle_timeout),
                        host,
                        port,
                        ssl=self._tls if secure else None,
                        server_hostname=origin.host if secure else None,
                    )
        except ssl.SSLCertVerificationError as exc:
            raise CertificateError(exc.verify_message or str(exc)) from None
        except ssl.SSLError as exc:
            if speaks_no_tls(exc):
                raise NotTlsError(origin.host, origin.port) from None
            raise CertificateError(f"TLS handshake with {origin.host} failed: {exc}") from None
        except TimeoutError:
            through = f" through the proxy at {proxy.address}" if proxy is not None else ""
            raise ResponseTimeout(
                f"connecting to {origin.host}:{origin.port}{through} took over "
                f"{self._connect_timeout:g} s"
            ) from None
        except OSError as exc:
            raise ConnectError(host, port, exc, proxy is not None) from None
        return connection


# What OpenSSL says when the bytes that came back are not a TLS record at all (most often an
# http server's "HTTP/1.1 400" answer to the ClientHello): a wrong scheme, not a bad certificate.
_NOT_TLS_REASONS = frozenset(
    {
        "WRONG_VERSION_NUMBER",
        "RECORD_LAYER_FAILURE",
        "UNKNOWN_PROTOCOL",
        "HTTP_REQUEST",
        "PACKET_LENGTH_TOO_LONG",
    }
)


class NotTlsError(HttpError):
    """The server answered an https connection with something other than TLS."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"the server at {host}:{port} did not speak TLS (is it an http:// endpoint?)"
        )


def speaks_no_tls(exc: BaseException | None) -> bool:
    """Whether a TLS handshake failed because the peer is not speaking TLS at all."""
    return isinstance(exc, ssl.SSLError) and exc.reason in _NOT_TLS_REASONS


def _forwarded(response: HttpResponse, proxy: Proxy | None, origin: Origin) -> HttpResponse:
    """The response, unless it is the forwarding proxy's 407 (it wants other credentials)."""
    if proxy is not None and response.status == 407:
        raise ProxyRefused(proxy.address, f"{origin.host}:{origin.port}", "407")
    return response


async def _tunnel(loop: asyncio.AbstractEventLoop, proxy: Proxy, origin: Origin) -> socket.socket:
    """A socket connected to the proxy, with a CONNECT tunnel to `origin` open through it."""
    infos = await loop.getaddrinfo(proxy.host, proxy.port, type=socket.SOCK_STREAM)
    error: OSError = OSError(f"no address for {proxy.host}")
    for family, kind, protocol, _, address in infos:
        sock = socket.socket(family, kind, protocol)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, address)
            break
        except OSError as exc:
            sock.close()
            error = exc
    else:
        raise error
    try:
        authority = f"[{origin.host}]" if ":" in origin.host else origin.host
        authority = f"{authority}:{origin.port}"
        lines = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
        if proxy.authorization:
            lines += f"Proxy-Authorization: {proxy.authorization}\r\n"
        await loop.sock_sendall(sock, f"{lines}\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            if len(head) > _TUNNEL_HEAD_LIMIT:
                raise ConnectionLost(f"the proxy at {proxy.address} sent an endless answer")
            piece = await loop.sock_recv(sock, 4096)
            if not piece:
                raise ConnectionLost(
                    f"the proxy at {proxy.address} closed the connection instead of a tunnel"
                )
            head += piece
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1").strip()
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ConnectionLost(f"the proxy at {proxy.address} did not answer in HTTP")
        if not 200 <= int(parts[1]) < 300:
            raise ProxyRefused(proxy.address, authority, " ".join(parts[1:]))
        if head.index(b"\r\n\r\n") + 4 != len(head):
            # The server speaks first only after the TLS client hello, so nothing may follow.
            raise ConnectionLost(f"the proxy at {proxy.address} sent data before the tunnel")
    except BaseException:
        sock.close()
        raise
    return sock
