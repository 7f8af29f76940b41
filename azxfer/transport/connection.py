"""One keep-alive HTTP/1.1 connection: an asyncio protocol around llhttp (via httptools).

The hot path sends one small request per file, so what a request costs the client is most
of what a file costs. aiohttp spent about 0.6–0.75 ms of CPU per small GET here and 0.15 s
of every start-up on its import; this pool, with llhttp parsing the responses, spends about
0.35–0.4 ms and 5 ms (benchmarks/README.md, session 4). It does only what azxfer's requests
need: one request at a time per connection, Content-Length or chunked responses, bodies
delivered as they arrive with back-pressure on the socket, and idle timeouts instead of a
total one (a 256 MiB range on a slow link may take long, but it must never stall).

Bodies with a Content-Length are not copied on their way in: the socket is read straight into
one of a connection's receive buffers (asyncio's BufferedProtocol), llhttp parses only the
head, and the rest of the body is handed to the reader as views of those buffers. Each piece
is valid until the reader asks for the next one. A download of 512 MiB made about 28,000
page faults more when every read and every parsed piece was a new 256 KiB bytes object
(benchmarks/README.md, session 6).
"""

from __future__ import annotations

import asyncio
import collections

import httptools

from azxfer.transport.failures import ConnectionLost, ResponseTimeout
from azxfer.transport.headers import Headers

# The socket is paused once this much body is waiting for its reader.
_PAUSE_AT = 1024 * 1024
# One read from the socket at most, and so the largest piece a reader gets.
RECV_SIZE = 256 * 1024
# Receive buffers per connection: one is filled while the reader writes out the other; with
# both holding body the reader has not taken, the socket is paused.
_RECV_BUFFERS = 2


class Connection(asyncio.BufferedProtocol):
    """One connection; `begin` starts each exchange, then the caller writes the request and
    awaits `headers()` and the body pieces.

    A piece from `read_piece` may be a view of a receive buffer: it is valid until the next
    call, so a reader that keeps pieces keeps copies (`bytes(piece)`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, idle_timeout: float) -> None:
        self._loop = loop
        self._idle_timeout = idle_timeout
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False  # served an earlier exchange
        self.received = False  # any byte of this exchange's response arrived
        self._parser: httptools.HttpResponseParser | None = None
        self._head_only = False
        self._raw_headers: dict[str, str] = {}
        self._header_case: dict[str, str] = {}
        self._status = 0
        self._headers_done = False
        self._complete = False
        self._keep_alive = False
        # Pieces of body not yet read, each with the receive buffer it lies in (None: a copy).
        self._body: collections.deque[tuple[bytes | memoryview, memoryview | None]] = (
            collections.deque()
        )
        self._buffered = 0
        self._body_seen = 0  # body bytes that went through the parser
        self._direct_left = 0  # body bytes still to come straight from the receive buffers
        self._free: list[memoryview] = []  # receive buffers holding nothing unread
        self._made = 0  # receive buffers made
        self._filling: memoryview | None = None  # lent to the transport by get_buffer
        self._lent: memoryview | None = None  # holds the piece the reader has now
        self._paused = False
        self._error: BaseException | None = None
        self._request_sent = False
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._writing_paused = False
        self._waiting: asyncio.Future[None] | None = None  # what `_wait` awaits now
        self._waiting_since = 0.0
        self._watchdog: asyncio.TimerHandle | None = None

    # -- the exchange, as the pool drives it ---------------------------------------------

    def begin(self, head_only: bool) -> None:
        """Reset for a new request (a fresh parser each time: a HEAD answer announces a body
        that never comes, which would confuse a parser that went on)."""
        self._parser = httptools.HttpResponseParser(self)
        self._head_only = head_only
        self._raw_headers = {}
        self._header_case = {}
        self._status = 0
        self._headers_done = False
        self._complete = False
        self._keep_alive = False
        self._release_lent()
        while self._body:
            self._release(self._body.popleft()[1])
        self._buffered = 0
        self._body_seen = 0
        self._direct_left = 0
        self._request_sent = False
        self.received = False

    def write(self, data: bytes | memoryview) -> None:
        if self._error is not None:
            raise self._error
        assert self.transport is not None
        self.transport.write(data)

    def request_sent(self) -> None:
        """The whole request went out (a request cut short by an early answer leaves the
        connection in a state no other request can follow)."""
        # Still paused: an early answer ended the wait with part of the body unsent.
        self._request_sent = not self._writing_paused

    @property
    def answered(self) -> bool:
        """The answer's head arrived: the rest of the request body is not wanted."""
        return self._headers_done

    async def drain(self) -> None:
        """Wait until the transport has sent enough to take more, the server answered (an
        early answer, such as a refusal of a large upload, ends the upload), or it failed."""
        while self._writing_paused and self._error is None and not self._headers_done:
            self._drain = self._loop.create_future()
            await self._wait(self._drain)
        if self._error is not None:
            raise self._error

    async def headers(self) -> tuple[int, Headers]:
        while not self._headers_done:
            if self._error is not None:
                raise self._error
            self._waiter = self._loop.create_future()
            await self._wait(self._waiter)
        return self._status, Headers(self._raw_headers, self._header_case)

    async def read_piece(self) -> bytes | memoryview:
        """The next piece of the body as it arrived; b"" once the body is complete. The
        piece before it is no longer valid (see the class)."""
        self._release_lent()
        while True:
            if self._body:
                piece, self._lent = self._body.popleft()
                self._buffered -= len(piece)
                self._steer_reading()
                return piece
            if self._complete:
                return b""
            if self._error is not None:
                raise self._error
            self._waiter = self._loop.create_future()
            await self._wait(self._waiter)

    @property
    def reusable(self) -> bool:
        """Whether the exchange ended cleanly and the server keeps the connection open."""
        return (
            self._complete
            and self._keep_alive
            and self._request_sent
            and not self.closed
            and self._error is None
        )

    def close(self) -> None:
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self.transport is not None:
            self.transport.close()

    async def _wait(self, future: asyncio.Future[None]) -> None:
        # A download waits once per piece: a timer armed and cancelled for every wait cost
        # more than the piece's own handling. One watchdog per connection checks instead,
        # and re-arms itself for the deadline of whichever wait is current when it fires.
        self._waiting = future
        self._waiting_since = self._loop.time()
        if self._watchdog is None:
            self._watchdog = self._loop.call_at(
                self._waiting_since + self._idle_timeout, self._check_idle
            )
        try:
            await future
        finally:
            self._waiting = None

    def _check_idle(self) -> None:
        self._watchdog = None
        future = self._waiting
        if future is None or future.done():
            return  # nothing waits: the next wait arms the watchdog again
        deadline = self._waiting_since + self._idle_timeout
        if self._loop.time() < deadline:
            self._watchdog = self._loop.call_at(deadline, self._check_idle)
            return
        future.set_exception(
            ResponseTimeout(f"no data for {self._idle_timeout:g} s; the connection stalled")
        )

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _release_drain(self) -> None:
        drain = self._drain
        if drain is not None and not drain.done():
            self._drain = None
            drain.set_result(None)

    def _fail(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
        for future in (self._waiter, self._drain):
            if future is not None and not future.done():
                future.set_exception(error)
        self._waiter = self._drain = None

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        # A view, not the bytearray: the TLS transport fills it in parts through slices, and
        # a slice of a bytearray would be a copy.
        if self._filling is None:  # else the last one lent was not filled (nothing to read)
            if self._free:
                self._filling = self._free.pop()
            else:
                self._made += 1
                self._filling = memoryview(bytearray(RECV_SIZE))
        return self._filling

    def buffer_updated(self, nbytes: int) -> None:
        buffer, self._filling = self._filling, None
        assert buffer is not None
        self.received = True
        if self._direct_left:
            self._take_direct(buffer, nbytes)
            return
        try:
            if self._parser is None or self._complete:
                # Bytes nobody asked for: the connection cannot be trusted with another request.
                self.close()
                return
            with buffer[:nbytes] as data:
                self._parser.feed_data(data)  # llhttp's callbacks copy what they keep
        except httptools.HttpParserError as exc:
            self._fail(ConnectionLost(f"malformed response: {exc}"))
            self.close()
            return
        finally:
            self._release(buffer)
        self._steer_reading()
        if self._headers_done and not self._complete:
            length = self._raw_headers.get("content-length")
            if length and length.isdigit() and "transfer-encoding" not in self._raw_headers:
                # The rest of the body comes straight from the buffers, past the parser.
                self._direct_left = int(length) - self._body_seen

    def _take_direct(self, buffer: memoryview, nbytes: int) -> None:
        """Body bytes read into `buffer`, queued as a view of it for the reader."""
        if nbytes > self._direct_left:
            # More than the body: bytes nobody asked for, so no other request may follow.
            self._keep_alive = False
            nbytes = self._direct_left
        piece = buffer[:nbytes]
        self._direct_left -= nbytes
        self._body.append((piece, buffer))
        self._buffered += nbytes
        if not self._direct_left:
            self._complete = True
        self._steer_reading()
        self._wake()

    def _release(self, buffer: memoryview | None) -> None:
        if buffer is not None:
            self._free.append(buffer)

    def _release_lent(self) -> None:
        if self._lent is not None:
            self._free.append(self._lent)
            self._lent = None
            self._steer_reading()

    def _steer_reading(self) -> None:
        """Pause the socket while too much body waits for the reader, or while every receive
        buffer holds some of it; resume once neither holds."""
        if self.transport is None or self.closed:
            return
        starved = not self._free and self._made >= _RECV_BUFFERS and self._filling is None
        if not self._paused:
            if starved or self._buffered >= _PAUSE_AT:
                self._paused = True
                self.transport.pause_reading()
        elif not starved and self._buffered < _PAUSE_AT // 2:
            self._paused = False
            self.transport.resume_reading()

    def eof_received(self) -> bool:
        self.closed = True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self._complete:
            reason = f": {exc}" if exc else ""
            self._fail(ConnectionLost(f"the connection was closed mid-response{reason}"))
        self._wake()
        self._release_drain()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._release_drain()

    # -- httptools callbacks -------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        sent = name.decode("latin-1")
        key = sent.lower()
        if key != sent:
            self._header_case[key] = sent
        text = value.decode("latin-1")
        previous = self._raw_headers.get(key)
        self._raw_headers[key] = text if previous is None else f"{previous}, {text}"

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        self._status = self._parser.get_status_code()
        if 100 <= self._status < 200:
            self._raw_headers = {}  # an interim answer; the real one follows
            self._header_case = {}
            return
        self._keep_alive = self._parser.should_keep_alive()
        self._headers_done = True
        if self._head_only:
            self._complete = True
        self._wake()
        self._release_drain()

    def on_body(self, body: bytes) -> None:
        self._body.append((body, None))
        self._buffered += len(body)
        self._body_seen += len(body)
        self._steer_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._headers_done:
            self._complete = True
            self._wake()
