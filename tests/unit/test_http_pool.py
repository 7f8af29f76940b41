"""`azxfer.transport.pool` (over `http_connection`), azxfer's own keep-alive HTTP/1.1
client, tested against real loopback servers that each test starts (asyncio.start_server on
127.0.0.1, port 0; nothing of the client is mocked).

What is tested: the request as it arrives on the wire (target untouched, Host, User-Agent,
Content-Length, bodies of every kind, refused header line breaks); keep-alive reuse and every
reason not to reuse (Connection: close, a server that closed, a broken, stalled, malformed or
abandoned exchange, stray bytes); Content-Length, chunked, HEAD, 204/304 and 1xx interim
answers; the transparent second attempt on a connection the server closed while idle (and
when it must not be made); the errors (ConnectError, ConnectionLost, ResponseTimeout,
CertificateError); the in-flight limit and its slots; back-pressure on a large body; TLS with
a private CA (trustme). The back-pressure test also looks at the connection's buffer, the one
place where a test reads the client's internals.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import trustme
from httpproxy import HttpProxy

from azxfer import __version__
from azxfer.transport import connection as http_connection
from azxfer.transport.pool import (
    CertificateError,
    ConnectError,
    ConnectionLost,
    HttpPool,
    ProxyRefused,
    ResponseTimeout,
)
from azxfer.transport.proxy import proxy_settings

DEADLINE = 5.0  # no test may run longer than this, whatever the client does
IDLE = 0.3  # the idle timeout of the tests that stall


def run(main: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(DEADLINE):
            await main()

    asyncio.run(bounded())


# -- a loopback HTTP server whose every connection is driven by the test ----------------------


@dataclass
class Request:
    connection: int  # which accepted connection it came on, from 1
    head: bytes  # request line and header lines, exactly as received
    method: str
    target: str
    names: list[str]  # header names, as sent
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass
class Peer:
    """One accepted connection."""

    server: Server
    number: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    closed_by_client: asyncio.Event = field(default_factory=asyncio.Event)

    async def request(self) -> Request | None:
        """The next request (body by its Content-Length), or None once the client closed."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise
            self.closed_by_client.set()
            return None
        except ConnectionError:
            self.closed_by_client.set()
            return None
        lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ")
        assert version == "HTTP/1.1"
        names = []
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            names.append(name)
            headers[name.lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        request = Request(self.number, head, method, target, names, headers, body)
        self.server.requests.append(request)
        return request

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def until_closed_by_client(self) -> None:
        """Read (and drop) whatever comes until the client closes the connection."""
        with contextlib.suppress(ConnectionError):
            while await self.reader.read(65536):
                pass
        self.closed_by_client.set()


Handler = Callable[[Peer], Awaitable[None]]


class Server:
    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self._handler = handler
        self._tls = tls
        self.peers: list[Peer] = []
        self.requests: list[Request] = []
        self.port = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def accepted(self) -> int:
        return len(self.peers)

    def url(self, target: str = "/", host: str = "127.0.0.1") -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://{host}:{self.port}{target}"

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        for peer in self.peers:
            peer.writer.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = Peer(self, len(self.peers) + 1, reader, writer)
        self.peers.append(peer)
        # The handler runs as a task of its own, so that __aexit__ can cancel it (cancelling
        # the task asyncio.start_server made for this coroutine would be logged as an error).
        task = asyncio.ensure_future(self._handler(peer))
        self._tasks.add(task)
        try:
            await task
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
        finally:
            writer.close()
            self._tasks.discard(task)


def answer(
    status: int = 200, body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()
) -> bytes:
    lines = [f"HTTP/1.1 {status} Whatever"]
    if not any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def target_echo(request: Request) -> bytes:
    return answer(body=f"{request.method} {request.target}".encode())


def keep_alive(respond: Callable[[Request], bytes] = target_echo) -> Handler:
    """Answer every request of the connection with `respond(request)`."""

    async def handler(peer: Peer) -> None:
        while (request := await peer.request()) is not None:
            await peer.send(respond(request))

    return handler


def per_connection(*handlers: Handler) -> Handler:
    """The n-th connection is served by the n-th handler (the last one serves the rest)."""

    async def handler(peer: Peer) -> None:
        await handlers[min(peer.number, len(handlers)) - 1](peer)

    return handler


@contextlib.asynccontextmanager
async def open_pool(limit: int = 4, **options: object) -> AsyncIterator[HttpPool]:
    pool = HttpPool(limit, **options)  # type: ignore[arg-type]
    try:
        yield pool
    finally:
        await pool.close()


async def get(
    pool: HttpPool, url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    async with pool.request(method, url, headers or {}) as response:
        return response.status, await response.read()


async def closed_by_client(peer: Peer, within: float = 0.5) -> bool:
    """Whether the client has closed this connection (waiting up to `within` seconds)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(peer.closed_by_client.wait(), within)
    return peer.closed_by_client.is_set()


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- 1. the request on the wire ------------------------------------------------------------


def test_get_sends_the_target_as_given_with_host_user_agent_and_our_headers() -> None:
    target = "/c/a%2Fb%20c?x=1%2B2&comp=list&sig=a%3D%3D"

    def respond(request: Request) -> bytes:
        return answer(body=b"hello, world", headers=(("X-Ms-Request-Id", "abc-123"),))

    async def main() -> None:
        async with Server(keep_alive(respond)) as server, open_pool() as pool:
            headers = {"x-ms-version": "2025-01-05", "Authorization": "SharedKey acc:s1g=="}
            async with pool.request("GET", server.url(target), headers) as response:
                assert response.status == 200
                assert response.headers.get("x-ms-request-id") == "abc-123"
                assert response.headers.get("X-MS-REQUEST-ID") == "abc-123"
                assert await response.read() == b"hello, world"
        (request,) = server.requests
        assert request.head.startswith(f"GET {target} HTTP/1.1\r\n".encode())
        assert request.headers["host"] == f"127.0.0.1:{server.port}"
        assert request.headers["user-agent"] == f"azxfer/{__version__}"
        assert request.headers["x-ms-version"] == "2025-01-05"
        assert request.headers["authorization"] == "SharedKey acc:s1g=="
        assert "content-length" not in request.headers  # a GET without a body
        assert request.body == b""

    run(main)


@pytest.mark.parametrize(
    ("tail", "target"),
    [("", "/"), ("/", "/"), ("?comp=list", "/?comp=list"), ("/a//b/?q=%20", "/a//b/?q=%20")],
)
def test_the_request_target_of_every_url_shape(tail: str, target: str) -> None:
    async def main() -> None:
        async with Server(keep_alive()) as server, open_pool() as pool:
            url = f"http://127.0.0.1:{server.port}{tail}"
            assert await get(pool, url) == (200, f"GET {target}".encode())
        assert server.requests[0].headers["host"] == f"127.0.0.1:{server.port}"

    run(main)


def test_response_headers_are_case_insensitive_and_repeated_ones_joined() -> None:
    def respond(request: Request) -> bytes:
        extra = (("X-A", "1"), ("x-a", "2"), ("Content-Type", "text/plain"))
        return answer(body=b"", headers=extra)

    async def main() -> None:
        async with (
            Server(keep_alive(respond)) as server,
            open_pool() as pool,
            pool.request("GET", server.url(), {}) as response,
        ):
            headers = response.headers
            assert headers.get("X-a") == "1, 2"
            assert headers["CONTENT-TYPE"] == "text/plain"
            assert "content-type" in headers
            assert "x-missing" not in headers
            assert headers.get("x-missing") is None
            assert headers.get("x-missing", "d") == "d"
            assert dict(headers.items())["content-length"] == "0"
            with pytest.raises(KeyError):
                headers["x-missing"]

    run(main)


def test_headers_by_prefix_keep_the_names_as_sent() -> None:
    """Azure's x-ms-meta-* names are case-preserving: the prefix matches in any case, the
    rest of each name comes back as the server wrote it, and an interim answer's are gone."""

    async def respond(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(b"HTTP/1.1 100 Continue\r\nx-ms-meta-Interim: no\r\n\r\n")
            extra = (("X-MS-META-MixedCase", "a"), ("x-ms-meta-lower", "b"), ("x-ms-metax", "c"))
            await peer.send(answer(body=b"", headers=extra))

    async def main() -> None:
        async with (
            Server(respond) as server,
            open_pool() as pool,
            pool.request("GET", server.url(), {}) as response,
        ):
            assert response.headers.with_prefix("x-ms-meta-") == {"MixedCase": "a", "lower": "b"}
            assert response.headers.with_prefix("X-Ms-Meta-") == {"MixedCase": "a", "lower": "b"}
            assert response.headers.get("x-ms-meta-mixedcase") == "a"
            assert response.headers.with_prefix("x-none-") == {}

    run(main)


# -- 2. keep-alive --------------------------------------------------------------------------


def test_sequential_requests_reuse_one_connection() -> None:
    async def main() -> None:
        async with Server(keep_alive()) as server, open_pool() as pool:
            assert await get(pool, server.url("/one")) == (200, b"GET /one")
            async with pool.request("GET", server.url("/two"), {}) as response:
                pieces = []
                while piece := await response.readany():
                    pieces.append(piece)
                assert b"".join(pieces) == b"GET /two"
            assert await get(pool, server.url("/three")) == (200, b"GET /three")
        assert server.accepted == 1
        assert [r.connection for r in server.requests] == [1, 1, 1]

    run(main)


def test_connection_close_from_the_server_is_honoured_even_if_the_socket_stays_open() -> None:
    def respond(request: Request) -> bytes:
        return answer(body=request.target.encode(), headers=(("Connection", "close"),))

    async def main() -> None:
        # keep_alive() goes on reading: only the header tells the client not to reuse
        async with Server(keep_alive(respond)) as server, open_pool() as pool:
            assert await get(pool, server.url("/one")) == (200, b"/one")
            assert await get(pool, server.url("/two")) == (200, b"/two")
        assert server.accepted == 2
        assert [r.connection for r in server.requests] == [1, 2]

    run(main)


def test_connection_close_and_then_closed_by_the_server() -> None:
    async def once(peer: Peer) -> None:
        request = await peer.request()
        assert request is not None
        await peer.send(answer(body=request.target.encode(), headers=(("Connection", "close"),)))

    async def main() -> None:
        async with Server(once) as server, open_pool() as pool:
            for n in range(3):
                assert await get(pool, server.url(f"/{n}")) == (200, f"/{n}".encode())
        assert server.accepted == 3

    run(main)


def test_origins_do_not_share_connections() -> None:
    async def main() -> None:
        async with (
            Server(keep_alive()) as first,
            Server(keep_alive()) as second,
            open_pool() as pool,
        ):
            for server in (first, second, first, second):
                assert await get(pool, server.url("/x")) == (200, b"GET /x")
                assert server.requests[-1].headers["host"] == f"127.0.0.1:{server.port}"
        assert (first.accepted, second.accepted) == (1, 1)
        assert (len(first.requests), len(second.requests)) == (2, 2)

    run(main)


def test_pool_close_closes_the_idle_connections() -> None:
    async def main() -> None:
        async with Server(keep_alive()) as server:
            async with open_pool() as pool:
                await get(pool, server.url())
                assert not server.peers[0].closed_by_client.is_set()
            assert await closed_by_client(server.peers[0], 1)

    run(main)


# -- 3. chunked answers -------------------------------------------------------------------

CHUNKS = [b"alpha-", bytes(range(256)) * 20, b"-omega"]


async def chunked(peer: Peer) -> None:
    while await peer.request() is not None:
        await peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for chunk in CHUNKS:
            await peer.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await asyncio.sleep(0.02)
        await peer.send(b"0\r\n\r\n")


def test_chunked_body_read_whole_and_by_pieces() -> None:
    async def main() -> None:
        async with Server(chunked) as server, open_pool() as pool:
            assert await get(pool, server.url()) == (200, b"".join(CHUNKS))
            async with pool.request("GET", server.url(), {}) as response:
                assert response.headers.get("transfer-encoding") == "chunked"
                pieces = []
                while piece := await response.readany():
                    pieces.append(piece)
                assert b"".join(pieces) == b"".join(CHUNKS)
                assert len(pieces) >= len(CHUNKS)  # delivered as they came
                assert await response.readany() == b""  # and the end stays the end
                assert await response.read() == b""
        assert server.accepted == 1  # reused after a chunked answer

    run(main)


def test_chunked_body_with_extensions_and_trailers() -> None:
    async def handler(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n"
            )

    async def main() -> None:
        async with Server(handler) as server, open_pool() as pool:
            assert await get(pool, server.url()) == (200, b"hello world")
            assert await get(pool, server.url()) == (200, b"hello world")
        assert server.accepted == 1

    run(main)


# -- 4. answers without a body --------------------------------------------------------------


def test_head_with_content_length_but_no_body_then_get_on_the_same_connection() -> None:
    def respond(request: Request) -> bytes:
        if request.method == "HEAD":
            return b'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: "e"\r\n\r\n'
        return answer(body=b"after the head")

    async def main() -> None:
        async with Server(keep_alive(respond)) as server, open_pool(idle_timeout=IDLE) as pool:
            started = time.monotonic()
            async with pool.request("HEAD", server.url("/blob"), {}) as response:
                assert response.status == 200
                assert response.headers.get("content-length") == "1234"
                assert await response.read() == b""
                assert await response.readany() == b""
            assert time.monotonic() - started < IDLE  # did not wait for the announced body
            assert await get(pool, server.url()) == (200, b"after the head")
            assert await get(pool, server.url("/x"), "HEAD") == (200, b"")
            assert await get(pool, server.url()) == (200, b"after the head")
        assert server.accepted == 1
        assert "content-length" not in server.requests[0].headers

    run(main)


def test_head_announcing_a_chunked_body() -> None:
    def respond(request: Request) -> bytes:
        if request.method == "HEAD":
            return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        return answer(body=b"got")

    async def main() -> None:
        async with Server(keep_alive(respond)) as server, open_pool(idle_timeout=IDLE) as pool:
            assert await get(pool, server.url(), "HEAD") == (200, b"")
            assert await get(pool, server.url()) == (200, b"got")
        assert server.accepted == 1

    run(main)


@pytest.mark.parametrize(
    "head", [b"HTTP/1.1 204 No Content\r\n\r\n", b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"]
)
def test_204_and_304_without_content_length_have_no_body(head: bytes) -> None:
    def respond(request: Request) -> bytes:
        return head if request.target == "/empty" else answer(body=b"next")

    async def main() -> None:
        async with Server(keep_alive(respond)) as server, open_pool(idle_timeout=IDLE) as pool:
            status, body = await get(pool, server.url("/empty"))
            assert (status, body) == (int(head[9:12]), b"")
            assert await get(pool, server.url()) == (200, b"next")
        assert server.accepted == 1

    run(main)


# -- 5. request bodies --------------------------------------------------------------------


def stored(request: Request) -> bytes:
    if request.method != "PUT":
        return target_echo(request)
    return answer(201, headers=(("X-Got", str(len(request.body))),))


@pytest.mark.parametrize("size", [1, 1000, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 7])
@pytest.mark.parametrize("kind", [bytes, memoryview])
def test_put_with_a_bytes_body_arrives_exactly(size: int, kind: type) -> None:
    data = random.Random(size).randbytes(size)

    async def main() -> None:
        async with Server(keep_alive(stored)) as server, open_pool() as pool:
            async with pool.request("PUT", server.url("/b"), {}, kind(data)) as response:
                assert response.status == 201
                assert response.headers.get("x-got") == str(size)
            assert await get(pool, server.url("/after")) == (200, b"GET /after")
        put, after = server.requests
        assert put.body == data
        assert put.headers["content-length"] == str(size)
        assert put.names.count("Content-Length") == 1
        assert after.connection == 1 and after.body == b""

    run(main)


def test_put_with_an_async_iterator_of_memoryview_slices() -> None:
    data = random.Random(7).randbytes(1_000_003)

    async def slices() -> AsyncIterator[memoryview]:
        view = memoryview(data)
        for start in range(0, len(data), 70_001):
            await asyncio.sleep(0)
            yield view[start : start + 70_001]

    async def main() -> None:
        async with Server(keep_alive(stored)) as server, open_pool() as pool:
            headers = {"Content-Length": str(len(data)), "x-ms-blob-type": "BlockBlob"}
            async with pool.request("PUT", server.url("/s"), headers, slices()) as response:
                assert response.status == 201
                assert await response.read() == b""
        (put,) = server.requests
        assert put.body == data
        assert put.names.count("Content-Length") == 1
        assert put.headers["x-ms-blob-type"] == "BlockBlob"

    run(main)


def test_our_own_content_length_is_not_doubled() -> None:
    async def main() -> None:
        async with Server(keep_alive(stored)) as server, open_pool() as pool:
            headers = {"content-length": "5"}
            async with pool.request("PUT", server.url(), headers, b"hello") as response:
                assert response.status == 201
        (put,) = server.requests
        assert [n.lower() for n in put.names].count("content-length") == 1
        assert put.body == b"hello"

    run(main)


@pytest.mark.parametrize(
    ("method", "length"), [("PUT", "0"), ("POST", "0"), ("GET", None), ("DELETE", None)]
)
def test_content_length_0_for_a_bodyless_put(method: str, length: str | None) -> None:
    async def main() -> None:
        async with Server(keep_alive()) as server, open_pool() as pool:
            assert await get(pool, server.url("/x"), method) == (200, f"{method} /x".encode())
        assert server.requests[0].headers.get("content-length") == length

    run(main)


def test_a_streamed_body_without_content_length_is_refused_before_sending() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        yield b"never"

    async def main() -> None:
        async with Server(keep_alive()) as server, open_pool(limit=1) as pool:
            with pytest.raises(ValueError, match="Content-Length"):
                async with pool.request("PUT", server.url(), {}, pieces()):
                    pass
            assert await get(pool, server.url("/ok")) == (200, b"GET /ok")  # slot kept
        assert [r.target for r in server.requests] == ["/ok"]

    run(main)


@pytest.mark.parametrize(
    "headers",
    [
        {"x-ms-meta-a": "v\r\nX-Evil: 1"},
        {"x-ms-meta-a": "v\nX-Evil: 1"},
        {"x-ms-meta-a": "v\rX-Evil: 1"},
        {"x-ms-meta-a\r\nX-Evil": "1"},
        {"x-ok": "1", "x-ms-meta-a": "\r\n"},
    ],
)
def test_a_line_break_in_a_header_is_refused_and_nothing_sent(headers: dict[str, str]) -> None:
    async def main() -> None:
        async with Server(keep_alive()) as server, open_pool(limit=1) as pool:
            with pytest.raises(ValueError, match="line break"):
                async with pool.request("PUT", server.url("/bad"), headers, b"body"):
                    pass
            assert server.accepted == 0
            assert await get(pool, server.url("/ok")) == (200, b"GET /ok")  # slot kept
        assert [r.target for r in server.requests] == ["/ok"]
        assert b"Evil" not in server.requests[0].head

    run(main)


# -- 6. a kept connection the server closed -----------------------------------------------


def test_an_idle_connection_the_server_closed_is_replaced() -> None:
    async def one_then_close(peer: Peer) -> None:
        request = await peer.request()
        assert request is not None
        await peer.send(target_echo(request))  # no Connection: close, then closes

    async def main() -> None:
        async with Server(one_then_close) as server, open_pool() as pool:
            assert await get(pool, server.url("/one")) == (200, b"GET /one")
            await asyncio.sleep(0.05)  # the end of the stream arrives
            assert await get(pool, server.url("/two")) == (200, b"GET /two")
            assert await get(pool, server.url("/three")) == (200, b"GET /three")
        assert server.accepted == 3

    run(main)


async def answers_one_then_drops_the_next(peer: Peer) -> None:
    request = await peer.request()
    assert request is not None
    await peer.send(target_echo(request))
    await peer.request()  # the next request arrives ... and the server closes unanswered


def test_a_request_on_a_kept_connection_closed_unanswered_is_sent_once_more() -> None:
    async def main() -> None:
        handler = per_connection(answers_one_then_drops_the_next, keep_alive())
        async with Server(handler) as server, open_pool() as pool:
            assert await get(pool, server.url("/one")) == (200, b"GET /one")
            async with pool.request("PUT", server.url("/two"), {}, b"payload") as response:
                assert (response.status, await response.read()) == (200, b"PUT /two")
            assert await get(pool, server.url("/three")) == (200, b"GET /three")
        seen = [(r.connection, r.target, r.body) for r in server.requests]
        assert seen == [
            (1, "/one", b""),
            (1, "/two", b"payload"),
            (2, "/two", b"payload"),
            (2, "/three", b""),
        ]

    run(main)


def test_no_second_attempt_once_the_answer_began() -> None:
    async def begins_then_drops(peer: Peer) -> None:
        request = await peer.request()
        assert request is not None
        await peer.send(target_echo(request))
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\n")

    async def main() -> None:
        async with (
            Server(per_connection(begins_then_drops, keep_alive())) as server,
            open_pool() as pool,
        ):
            await get(pool, server.url("/one"))
            with pytest.raises(ConnectionLost):
                await get(pool, server.url("/two"))
            assert server.accepted == 1
            assert await get(pool, server.url("/three")) == (200, b"GET /three")
        assert [(r.connection, r.target) for r in server.requests] == [
            (1, "/one"),
            (1, "/two"),
            (2, "/three"),
        ]

    run(main)


def test_no_second_attempt_of_a_streamed_body() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"stream"

    async def main() -> None:
        handler = per_connection(answers_one_then_drops_the_next, keep_alive())
        async with Server(handler) as server, open_pool() as pool:
            await get(pool, server.url("/one"))
            headers = {"Content-Length": "6"}
            with pytest.raises(ConnectionLost):
                async with pool.request("PUT", server.url("/two"), headers, body()):
                    pass
        assert server.accepted == 1
        assert server.requests[-1].body == b"stream"

    run(main)


def test_no_second_attempt_on_a_new_connection() -> None:
    async def drops(peer: Peer) -> None:
        await peer.request()

    async def main() -> None:
        async with Server(drops) as server, open_pool() as pool:
            with pytest.raises(ConnectionLost):
                await get(pool, server.url())
        assert server.accepted == 1

    run(main)


# -- 7. a connection lost mid-body --------------------------------------------------------


async def ten_of_100_then_close(peer: Peer) -> None:
    await peer.request()
    await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")


@pytest.mark.parametrize("how", ["read", "readany"])
def test_a_connection_closed_mid_body_is_lost_and_not_reused(how: str) -> None:
    async def main() -> None:
        async with (
            Server(per_connection(ten_of_100_then_close, keep_alive())) as server,
            open_pool(limit=1, idle_timeout=2) as pool,
        ):
            with pytest.raises(ConnectionLost):
                async with pool.request("GET", server.url("/cut"), {}) as response:
                    assert response.status == 200
                    if how == "readany":
                        assert await response.readany() == b"0123456789"
                        await response.readany()
                    else:
                        await response.read()
            assert await get(pool, server.url("/next")) == (200, b"GET /next")
        assert server.accepted == 2
        assert server.requests[-1].connection == 2

    run(main)


def test_a_chunked_body_cut_before_its_last_chunk_is_lost() -> None:
    async def cut(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")

    async def main() -> None:
        async with (
            Server(per_connection(cut, keep_alive())) as server,
            open_pool(idle_timeout=2) as pool,
        ):
            with pytest.raises(ConnectionLost):
                await get(pool, server.url())
            assert await get(pool, server.url("/next")) == (200, b"GET /next")
        assert server.accepted == 2

    run(main)


# -- 8. stalls ----------------------------------------------------------------------------


async def never_answers(peer: Peer) -> None:
    await peer.request()
    await peer.until_closed_by_client()


def test_a_server_that_never_answers_times_out_and_the_connection_is_dropped() -> None:
    async def main() -> None:
        async with (
            Server(per_connection(never_answers, keep_alive())) as server,
            open_pool(limit=1, idle_timeout=IDLE) as pool,
        ):
            started = time.monotonic()
            with pytest.raises(ResponseTimeout) as caught:
                await get(pool, server.url("/silent"))
            elapsed = time.monotonic() - started
            assert isinstance(caught.value, TimeoutError)
            assert IDLE * 0.9 <= elapsed < IDLE + 0.4
            assert await closed_by_client(server.peers[0], 0.5)
            assert await get(pool, server.url("/next")) == (200, b"GET /next")
        assert server.accepted == 2

    run(main)


def test_a_stall_after_a_long_trickle_times_out_one_timeout_after_the_last_byte() -> None:
    # The connection's one watchdog was armed by the first wait; it must neither fire at that
    # first deadline (bytes kept coming) nor miss the stall that follows them.
    async def trickles_then_stalls(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for byte in b"abcdefg":
            await asyncio.sleep(IDLE / 3)
            await peer.send(bytes([byte]))
        await peer.until_closed_by_client()

    async def main() -> None:
        async with (
            Server(per_connection(trickles_then_stalls, keep_alive())) as server,
            open_pool(limit=1, idle_timeout=IDLE) as pool,
        ):
            async with pool.request("GET", server.url(), {}) as response:
                received = b""
                last_byte = time.monotonic()
                # A watchdog that never fires again is a plain TimeoutError here, not a pass.
                with pytest.raises(ResponseTimeout):
                    async with asyncio.timeout(IDLE * 10):
                        while True:
                            received += bytes(await response.readany())
                            last_byte = time.monotonic()
                silence = time.monotonic() - last_byte
            assert received == b"abcdefg"  # 7 × IDLE/3: past the first wait's deadline
            assert IDLE * 0.9 <= silence < IDLE + 0.4

    run(main)


def test_a_stall_mid_body_times_out() -> None:
    async def stalls(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        await peer.until_closed_by_client()

    async def main() -> None:
        async with (
            Server(per_connection(stalls, keep_alive())) as server,
            open_pool(limit=1, idle_timeout=IDLE) as pool,
        ):
            async with pool.request("GET", server.url(), {}) as response:
                started = time.monotonic()
                assert await response.readany() == b"0123456789"
                with pytest.raises(ResponseTimeout):
                    await response.readany()
                assert IDLE * 0.9 <= time.monotonic() - started < IDLE + 0.4
            assert await closed_by_client(server.peers[0], 0.5)
            assert await get(pool, server.url("/next")) == (200, b"GET /next")
        assert server.accepted == 2

    run(main)


def test_the_timeout_is_per_silence_not_for_the_whole_body() -> None:
    async def trickles(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n")
        for byte in b"abcdef":
            await asyncio.sleep(IDLE / 3)
            await peer.send(bytes([byte]))
        await peer.until_closed_by_client()

    async def main() -> None:
        async with Server(trickles) as server, open_pool(idle_timeout=IDLE) as pool:
            started = time.monotonic()
            assert await get(pool, server.url()) == (200, b"abcdef")
            assert time.monotonic() - started > IDLE  # longer than the timeout in all

    run(main)


def test_connect_timeout_is_a_response_timeout() -> None:
    # A listening socket whose accept queue is full drops new SYNs: the connect hangs.
    async def main() -> None:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(0)
            port = listener.getsockname()[1]
            fillers = []
            try:
                for _ in range(8):
                    filler = socket.socket()
                    filler.setblocking(False)
                    fillers.append(filler)
                    with contextlib.suppress(BlockingIOError):
                        filler.connect(("127.0.0.1", port))
                await asyncio.sleep(0.05)
                async with open_pool(connect_timeout=0.2) as pool:
                    started = time.monotonic()
                    with pytest.raises(ResponseTimeout) as caught:
                        await get(pool, f"http://127.0.0.1:{port}/")
                    assert isinstance(caught.value, TimeoutError)
                    assert time.monotonic() - started < 0.6
            finally:
                for filler in fillers:
                    filler.close()

    run(main)


# -- 9. refused ---------------------------------------------------------------------------


def test_a_refused_connection_is_a_connect_error_with_host_and_port() -> None:
    port = refused_port()

    async def main() -> None:
        async with open_pool(limit=1) as pool:
            for _ in range(3):  # and the slot comes back each time
                async with asyncio.timeout(1):
                    with pytest.raises(ConnectError) as caught:
                        await get(pool, f"http://127.0.0.1:{port}/x")
                assert (caught.value.host, caught.value.port) == ("127.0.0.1", port)
                assert isinstance(caught.value.os_error, ConnectionRefusedError)
                assert f"127.0.0.1:{port}" in str(caught.value)

    run(main)


def test_a_url_that_is_not_http_is_refused() -> None:
    async def main() -> None:
        async with open_pool(limit=1) as pool:
            for url in ("ftp://127.0.0.1/x", "http:///nohost"):
                with pytest.raises(ValueError):
                    await get(pool, url)

    run(main)


# -- 10. malformed answers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    ],
)
def test_a_malformed_answer_is_a_lost_connection(reply: bytes) -> None:
    async def malformed(peer: Peer) -> None:
        await peer.request()
        await peer.send(reply)
        await peer.until_closed_by_client()

    async def main() -> None:
        async with (
            Server(per_connection(malformed, keep_alive())) as server,
            open_pool(limit=1, idle_timeout=2) as pool,
        ):
            with pytest.raises(ConnectionLost, match="malformed"):
                await get(pool, server.url())
            assert await closed_by_client(server.peers[0], 0.5)
            assert await get(pool, server.url("/next")) == (200, b"GET /next")
        assert server.accepted == 2

    run(main)


def test_stray_bytes_after_an_answer_mean_the_connection_is_not_reused_and_is_closed() -> None:
    async def stray(peer: Peer) -> None:
        request = await peer.request()
        assert request is not None
        await peer.send(target_echo(request))
        await asyncio.sleep(0.05)
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nboo!")  # unasked
        await peer.until_closed_by_client()

    async def main() -> None:
        async with Server(per_connection(stray, keep_alive())) as server, open_pool() as pool:
            assert await get(pool, server.url("/one")) == (200, b"GET /one")
            await asyncio.sleep(0.1)
            assert await get(pool, server.url("/two")) == (200, b"GET /two")
            assert server.accepted == 2
            # the first connection is of no more use: the client must close it, not leak it
            assert await closed_by_client(server.peers[0]), "the first connection was leaked"

    run(main)


# -- 11. the in-flight limit --------------------------------------------------------------


@pytest.mark.parametrize(("limit", "expected"), [(1, 1), (2, 2), (5, 5)])
def test_never_more_requests_in_flight_than_the_limit(limit: int, expected: int) -> None:
    in_flight = 0
    most = 0

    async def handler(peer: Peer) -> None:
        nonlocal in_flight, most
        while (request := await peer.request()) is not None:
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0.05)
            in_flight -= 1
            await peer.send(target_echo(request))

    async def main() -> None:
        async with Server(handler) as server, open_pool(limit=limit) as pool:
            results = await asyncio.gather(*(get(pool, server.url(f"/{n}")) for n in range(5)))
            assert results == [(200, f"GET /{n}".encode()) for n in range(5)]
            assert server.accepted == expected  # the kept connections were reused
        assert most == expected

    run(main)


# -- 12. back-pressure --------------------------------------------------------------------


def _slow_read_of_a_large_body(chunked: bool) -> None:
    """An 8 MiB body read slowly: what waits for the reader, and the body as it arrived."""
    size = 8 * 1024 * 1024
    data = random.Random(12).randbytes(size)
    sent = 0

    async def big(peer: Peer) -> None:
        nonlocal sent
        while await peer.request() is not None:
            if chunked:
                await peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            else:
                await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            for start in range(0, size, 256 * 1024):
                piece = data[start : start + 256 * 1024]
                await peer.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent = start + 256 * 1024
            if chunked:
                await peer.send(b"0\r\n\r\n")

    async def main() -> None:
        async with Server(big) as server, open_pool(idle_timeout=2) as pool:
            async with pool.request("GET", server.url(), {}) as response:
                connection = response._connection
                await asyncio.sleep(0.2)  # the server pushes all it can meanwhile
                held = connection._buffered
                sent_while_asleep = sent
                pieces = []
                most = held
                while piece := await response.readany():
                    pieces.append(bytes(piece))  # a piece is valid until the next read
                    most = max(most, connection._buffered)
                    if len(pieces) % 8 == 0:
                        await asyncio.sleep(0.001)  # a slow reader
                body = b"".join(pieces)
            assert len(body) == size
            assert body == data
            if chunked:
                # Parsed pieces: the socket was paused once about _PAUSE_AT waited for the
                # reader (one read of the transport more at most).
                limit = http_connection._PAUSE_AT + http_connection.RECV_SIZE
                assert http_connection._PAUSE_AT <= held <= limit
            else:
                # Read straight into the receive buffers: paused once both held body (after
                # what came with the head, which the parser copied).
                limit = 3 * http_connection.RECV_SIZE
                assert held <= limit
                assert connection._made == 2  # no buffer per piece
            assert most <= limit
            # Without back-pressure all of the body would be waiting.
            assert sent_while_asleep > held + 512 * 1024
            assert await get(pool, server.url()) == (200, data)  # and reused after
        assert server.accepted == 1

    run(main)


def test_a_large_body_read_slowly_arrives_whole_and_in_order_under_back_pressure() -> None:
    _slow_read_of_a_large_body(chunked=False)


def test_a_large_chunked_body_read_slowly_arrives_whole_and_in_order_under_back_pressure() -> None:
    _slow_read_of_a_large_body(chunked=True)


def streaming(data: bytes):
    """A server that answers every request with `data`, sent in pieces of 64 KiB."""

    async def send(peer: Peer) -> None:
        while await peer.request() is not None:
            await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data))
            for start in range(0, len(data), 64 * 1024):
                await peer.send(data[start : start + 64 * 1024])

    return send


def test_pieces_of_a_body_are_views_of_the_receive_buffer_valid_until_the_next_read() -> None:
    size = 3 * 1024 * 1024
    data = random.Random(5).randbytes(size)

    big = streaming(data)

    async def main() -> None:
        async with Server(big) as server, open_pool() as pool:
            async with pool.request("GET", server.url(), {}) as response:
                got = bytearray()
                views = 0
                while piece := await response.readany():
                    assert len(piece) <= http_connection.RECV_SIZE
                    views += isinstance(piece, memoryview)
                    got += piece
                assert got == data
                assert views > 0  # past the head, pieces are not copied
            assert await get(pool, server.url()) == (200, data)  # read() keeps copies
        assert server.accepted == 1

    run(main)


def test_bytes_past_a_body_read_straight_from_the_socket_mean_no_reuse() -> None:
    size = 1024 * 1024
    data = random.Random(7).randbytes(size)

    async def extra(peer: Peer) -> None:
        request = await peer.request()
        assert request is not None
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        await peer.send(data[:-10])
        await asyncio.sleep(0.05)  # the head and most of the body are read by now
        await peer.send(data[-10:] + b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nboo!")
        await peer.until_closed_by_client()

    async def main() -> None:
        async with Server(per_connection(extra, keep_alive())) as server, open_pool() as pool:
            assert await get(pool, server.url("/one")) == (200, data)
            assert await get(pool, server.url("/two")) == (200, b"GET /two")
            assert server.accepted == 2
            assert await closed_by_client(server.peers[0]), "the first connection was leaked"

    run(main)


# -- 13. leaving the block early ----------------------------------------------------------


def test_an_exception_before_the_body_is_read_drops_the_connection_and_frees_the_slot() -> None:
    async def half(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")
        await peer.until_closed_by_client()

    async def main() -> None:
        async with (
            Server(per_connection(half, keep_alive())) as server,
            open_pool(limit=1, idle_timeout=2) as pool,
        ):
            with pytest.raises(RuntimeError, match="caller"):
                async with pool.request("GET", server.url("/one"), {}) as response:
                    assert response.status == 200
                    raise RuntimeError("caller")
            assert await closed_by_client(server.peers[0], 0.5)
            async with asyncio.timeout(1):  # the one slot is free again
                assert await get(pool, server.url("/two")) == (200, b"GET /two")
        assert server.accepted == 2
        assert [(r.connection, r.target) for r in server.requests] == [(1, "/one"), (2, "/two")]

    run(main)


def test_an_unread_complete_body_does_not_leak_into_the_next_answer() -> None:
    def respond(request: Request) -> bytes:
        return answer(body=b"body of " + request.target.encode())

    async def main() -> None:
        async with Server(keep_alive(respond)) as server, open_pool(limit=1) as pool:
            with pytest.raises(RuntimeError):
                async with pool.request("GET", server.url("/one"), {}):
                    await asyncio.sleep(0.05)  # the whole answer has arrived
                    raise RuntimeError("caller")
            async with pool.request("GET", server.url("/unread"), {}):
                pass
            assert await get(pool, server.url("/two")) == (200, b"body of /two")
            assert await get(pool, server.url("/three")) == (200, b"body of /three")

    run(main)


def test_a_cancelled_reader_drops_the_connection_and_frees_the_slot() -> None:
    async def stalls(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
        await peer.until_closed_by_client()

    async def main() -> None:
        async with (
            Server(per_connection(stalls, keep_alive())) as server,
            open_pool(limit=1, idle_timeout=2) as pool,
        ):
            task = asyncio.create_task(get(pool, server.url("/stuck")))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await closed_by_client(server.peers[0], 0.5)
            async with asyncio.timeout(1):
                assert await get(pool, server.url("/two")) == (200, b"GET /two")
        assert server.accepted == 2

    run(main)


# -- 14. interim answers ------------------------------------------------------------------


@pytest.mark.parametrize("apart", [False, True])
def test_100_continue_and_103_before_the_real_answer(apart: bool) -> None:
    async def interim(peer: Peer) -> None:
        while (request := await peer.request()) is not None:
            await peer.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            if apart:
                await asyncio.sleep(0.02)
            await peer.send(b"HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n")
            if apart:
                await asyncio.sleep(0.02)
            await peer.send(answer(body=b"done " + request.target.encode()))

    async def main() -> None:
        async with Server(interim) as server, open_pool(idle_timeout=2) as pool:
            for target in ("/one", "/two"):
                async with pool.request("PUT", server.url(target), {}, b"x") as response:
                    assert response.status == 200
                    assert response.headers.get("link") is None  # the interim's own
                    assert response.headers.get("content-length") == str(5 + len(target))
                    assert await response.read() == b"done " + target.encode()
        assert server.accepted == 1

    run(main)


# -- 15. TLS ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_tls(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_https_with_a_trusted_ca(ca: trustme.CA, host: str) -> None:
    async def main() -> None:
        tls = server_tls(ca, "127.0.0.1", "localhost")
        async with Server(keep_alive(), tls=tls) as server:
            async with open_pool(tls=client_tls(ca)) as pool:
                assert await get(pool, server.url("/a%20b", host)) == (200, b"GET /a%20b")
                async with pool.request("PUT", server.url("/p", host), {}, b"z" * 100_000) as r:
                    assert r.status == 200
            assert server.requests[0].headers["host"] == f"{host}:{server.port}"
            assert server.requests[1].body == b"z" * 100_000
        assert server.accepted == 1

    run(main)


def test_https_large_body_is_read_straight_into_the_receive_buffers(ca: trustme.CA) -> None:
    size = 3 * 1024 * 1024
    data = random.Random(9).randbytes(size)

    big = streaming(data)

    async def main() -> None:
        tls = server_tls(ca, "127.0.0.1")
        async with Server(big, tls=tls) as server, open_pool(tls=client_tls(ca)) as pool:
            async with pool.request("GET", server.url(), {}) as response:
                got = bytearray()
                views = 0
                while piece := await response.readany():
                    views += isinstance(piece, memoryview)
                    got += piece
                assert got == data
                assert views > 0  # the TLS transport fills the buffers as the plain one does
                assert response._connection._made <= 2
            assert await get(pool, server.url()) == (200, data)
        assert server.accepted == 1

    run(main)


def test_https_with_an_untrusted_certificate_is_a_certificate_error(ca: trustme.CA) -> None:
    async def main() -> None:
        async with (
            Server(keep_alive(), tls=server_tls(ca, "127.0.0.1")) as server,
            open_pool(tls=ssl.create_default_context()) as pool,
        ):
            with pytest.raises(CertificateError):
                await get(pool, server.url())
        assert server.requests == []

    run(main)


def test_https_to_a_name_the_certificate_does_not_hold_is_a_certificate_error(
    ca: trustme.CA,
) -> None:
    async def main() -> None:
        async with (
            Server(keep_alive(), tls=server_tls(ca, "localhost")) as server,
            open_pool(tls=client_tls(ca)) as pool,
        ):
            with pytest.raises(CertificateError):
                await get(pool, server.url("/", "127.0.0.1"))
        assert server.requests == []

    run(main)


def test_https_without_a_tls_context_is_refused(ca: trustme.CA) -> None:
    async def main() -> None:
        async with (
            Server(keep_alive(), tls=server_tls(ca, "127.0.0.1")) as server,
            open_pool(limit=1) as pool,
        ):
            for _ in range(2):  # and the slot comes back
                async with asyncio.timeout(1):
                    with pytest.raises(CertificateError):
                        await get(pool, server.url())
        assert server.accepted == 0

    run(main)


def test_plain_http_to_a_tls_server_is_not_a_hang() -> None:
    # a TLS server answers plain HTTP with an alert or by closing: malformed or lost, quickly
    async def main() -> None:
        ca = trustme.CA()
        async with Server(keep_alive(), tls=server_tls(ca, "127.0.0.1")) as server:
            plain = f"http://127.0.0.1:{server.port}/"
            async with open_pool(idle_timeout=2) as pool:
                started = time.monotonic()
                with pytest.raises(ConnectionLost):
                    await get(pool, plain)
                assert time.monotonic() - started < 1

    run(main)


# -- an answer that comes before the upload is done ---------------------------------------


@pytest.mark.parametrize("then", ["closes", "waits"])
def test_an_early_answer_to_a_large_upload_is_delivered_or_lost_but_not_a_stall(
    then: str,
) -> None:
    # A server may refuse an upload at once (401/403 of an expired SAS, 413) without reading
    # the body, then close the connection (the client's writes then meet a reset) or leave it
    # open. Either way the answer is there: the client must deliver it (or at worst report
    # the connection lost) at once, not wait out the idle timeout and call it a stall. The
    # body is much larger than the socket buffers, so the client is waiting for its writes
    # to drain when the answer comes.
    size = 32 * 1024 * 1024
    # Longer than IDLE: sending 32 MiB on a loaded 2-core machine can itself take 0.3 s, and
    # a client that waited the timeout out would still take all of it.
    idle = 2.0

    async def refuses(peer: Peer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        await peer.send(answer(403, b"expired", (("Connection", "close"),)))
        if then == "waits":
            await asyncio.sleep(DEADLINE)

    async def main() -> None:
        async with Server(refuses) as server, open_pool(idle_timeout=idle) as pool:
            body = bytes(size)
            started = time.monotonic()
            try:
                async with pool.request("PUT", server.url(), {}, body) as response:
                    assert response.status == 403
                    assert await response.read() == b"expired"
            except ConnectionLost:
                pass
            except ResponseTimeout as exc:
                pytest.fail(f"the 403 had arrived, yet the upload waited it out: {exc!r}")
            assert time.monotonic() - started < idle

    run(main)


# -- 14. through a proxy (tests/httpproxy.py stands in for squid and the like) --------------


def test_https_goes_through_a_connect_tunnel_kept_alive_across_requests(ca: trustme.CA) -> None:
    async def main() -> None:
        tls = server_tls(ca, "blob.proxied.test")
        async with Server(keep_alive(), tls=tls) as server:
            with HttpProxy({"blob.proxied.test": server.port}) as proxy:
                proxies = proxy_settings({"HTTPS_PROXY": proxy.url})
                async with open_pool(tls=client_tls(ca), proxies=proxies) as pool:
                    url = server.url("/a?b=1", "blob.proxied.test")
                    assert await get(pool, url) == (200, b"GET /a?b=1")
                    assert await get(pool, url) == (200, b"GET /a?b=1")
            # One tunnel, both requests in it, in origin-form, verified against the name.
            assert proxy.methods() == ["CONNECT"]
            assert proxy.seen[0].target == f"blob.proxied.test:{server.port}"
            assert server.accepted == 1
            assert server.requests[0].headers["host"] == f"blob.proxied.test:{server.port}"

    run(main)


def test_http_goes_as_absolute_form_requests_with_the_proxy_credentials() -> None:
    async def main() -> None:
        async with Server(keep_alive()) as server:
            with HttpProxy({"plain.proxied.test": server.port}, "user:p@ss w") as proxy:
                proxies = proxy_settings({"http_proxy": f"user:p%40ss%20w@{proxy.url[7:]}"})
                async with open_pool(proxies=proxies) as pool:
                    url = server.url("/c/b%20x?comp=list", "plain.proxied.test")
                    assert await get(pool, url) == (200, b"GET /c/b%20x?comp=list")
            assert proxy.seen[0].method == "GET"
            assert proxy.seen[0].target == url  # the whole URL, as a proxy wants it
            # The proxy took its credentials off; the server saw the request as sent directly.
            assert "proxy-authorization" not in server.requests[0].headers
            assert server.requests[0].headers["host"] == f"plain.proxied.test:{server.port}"

    run(main)


def test_a_refused_tunnel_is_a_proxy_error_without_the_credentials(ca: trustme.CA) -> None:
    async def main() -> None:
        async with Server(keep_alive(), tls=server_tls(ca, "blob.proxied.test")) as server:
            with HttpProxy({"blob.proxied.test": server.port}, "user:right") as proxy:
                proxies = proxy_settings({"HTTPS_PROXY": f"http://user:wrong@{proxy.url[7:]}"})
                async with open_pool(tls=client_tls(ca), proxies=proxies) as pool:
                    with pytest.raises(ProxyRefused) as caught:
                        await get(pool, server.url("/", "blob.proxied.test"))
            message = str(caught.value)
            assert "refused to connect to blob.proxied.test:" in message
            assert ": 407 Proxy Authentication Required; give its user and password" in message
            assert f"127.0.0.1:{proxy.port}" in message
            assert "wrong" not in message
            assert server.accepted == 0

    run(main)


def test_an_unreachable_proxy_is_a_connect_error_naming_the_proxy() -> None:
    async def main() -> None:
        port = refused_port()
        proxies = proxy_settings({"HTTPS_PROXY": f"http://u:secret@127.0.0.1:{port}"})
        async with open_pool(tls=ssl.create_default_context(), proxies=proxies) as pool:
            with pytest.raises(ConnectError) as caught:
                await get(pool, "https://account.blob.core.windows.net/c")
        assert f"cannot connect to the proxy at 127.0.0.1:{port}" in str(caught.value)
        assert "secret" not in str(caught.value)

    run(main)


def test_loopback_and_no_proxy_hosts_are_reached_directly() -> None:
    async def main() -> None:
        dead = f"http://127.0.0.1:{refused_port()}"
        async with Server(keep_alive()) as server:
            proxies = proxy_settings({"HTTP_PROXY": dead, "NO_PROXY": "direct.test"})
            async with open_pool(proxies=proxies) as pool:
                assert await get(pool, server.url("/x")) == (200, b"GET /x")
                assert await get(pool, server.url("/y", "localhost")) == (200, b"GET /y")
                # Not resolvable here, and not sent to the (dead) proxy either: direct.
                with pytest.raises(ConnectError) as caught:
                    await get(pool, "http://direct.test:1/z")
                assert "proxy" not in str(caught.value)

    run(main)
