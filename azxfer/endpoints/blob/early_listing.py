"""A container listing fetched on a thread from the moment the process starts.

Before a job sends its first request, the interpreter spends 100–150 ms of CPU loading click,
asyncio and the engine (benchmarks/README.md, session 8), and the service, which has to build
the listing, sits idle meanwhile. A command line that will certainly list a container starts
that listing before any of it is loaded (`cli.entry`): on a thread, over one blocking socket,
with requests built exactly as `rest` builds them (`requests`). The job's listing
(`RestBlobClient.list_blobs`) then takes the pages fetched so far and goes on from the last.

It is only ever a head start:
- the job uses it only for exactly the listing it asks for (endpoint, container, prefix,
  delimiter and credential), and only once (`EarlyListings.take`);
- it stops after `EARLY_PAGES` pages, so a guess the job never uses costs the service little;
- any failure (no connection, a refusal, an error answer, a stall) just ends it, and the job's
  own request, with its retries, meets the problem and reports it as it would have.
It logs nothing and keeps nothing but the pages.

This module is imported before the event loop exists: the standard library, httptools and the
sans-IO request builders only; asyncio is imported by the one coroutine that needs it.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import httptools

from azxfer.endpoints.blob.requests import (
    FIRST_PAGE,
    RequestSigner,
    list_query,
    next_marker,
    next_page_size,
)
from azxfer.transport.request import Origin, request_head, split_url

if TYPE_CHECKING:
    import asyncio

# Pages of 250, 500, 1,000, 2,000, 4,000 and 5,000 entries: 12,750 names, about 9 MB of XML.
EARLY_PAGES = 6
# No connection, or no byte of an answer, for this long ends the head start.
_STALL_SECONDS = 30.0
_RECV_SIZE = 1024 * 1024

Page = tuple[bytes, bool]  # (the page, whether it is the last this listing fetches)


class EarlyListing:
    """List Blobs pages of one container, prefix and delimiter, fetched on a thread."""

    def __init__(
        self, signer: RequestSigner, container: str, prefix: str, delimiter: str | None
    ) -> None:
        self.signer = signer
        self.container = container
        self.prefix = prefix
        self.delimiter = delimiter
        self._pages: collections.deque[Page] = collections.deque()
        self._ended = False
        self._lock = threading.Lock()
        self._wake: Callable[[], None] | None = None

    def start(self) -> EarlyListing:
        """Start fetching (a daemon thread: a job that never takes it does not wait for it)."""
        threading.Thread(target=self._run, name="azxfer-early-listing", daemon=True).start()
        return self

    def serves(
        self, signer: RequestSigner, container: str, prefix: str, delimiter: str | None
    ) -> bool:
        """Whether this is exactly the listing `signer` would send for these."""
        return (
            signer.endpoint == self.signer.endpoint
            and signer.account == self.signer.account
            and signer.credential == self.signer.credential
            and (container, prefix, delimiter) == (self.container, self.prefix, self.delimiter)
        )

    async def next_page(self) -> Page | None:
        """The next page and whether it is the last this listing fetches (the listing's end,
        or its page budget); None when there is no next page (it failed, or was taken)."""
        import asyncio  # here only: this module is loaded before asyncio is

        while True:
            with self._lock:
                if self._pages:
                    return self._pages.popleft()
                if self._ended:
                    return None
                loop = asyncio.get_running_loop()
                ready: asyncio.Future[None] = loop.create_future()
                self._wake = functools.partial(loop.call_soon_threadsafe, _settle, ready)
            await ready

    # -- the fetching thread -----------------------------------------------------------------

    def _run(self) -> None:
        # Any failure just ends it (see the module's docstring).
        with contextlib.suppress(Exception):
            self._fetch()
        self._publish(None)

    def _fetch(self) -> None:
        origin, _ = split_url(self.signer.origin)
        with _connect(origin) as sock:
            size = FIRST_PAGE
            self._ask(sock, origin, "", size)
            for count in range(1, EARLY_PAGES + 1):
                status, page, keep_alive = _read_answer(sock)
                if status != 200:
                    return
                marker = next_marker(page)
                last = not marker or count == EARLY_PAGES or not keep_alive
                if not last:
                    # Asked before this page is handed over: handing it over wakes the job's
                    # loop, and this thread may then wait for the interpreter while the
                    # service would sit idle.
                    size = next_page_size(size)
                    self._ask(sock, origin, marker, size)
                self._publish((page, last))
                if last:
                    return

    def _ask(self, sock: socket.socket, origin: Origin, marker: str, size: int) -> None:
        query = list_query(self.prefix, self.delimiter, marker, size)
        url, headers = self.signer.prepare("GET", self.container, "", query, {}, None)
        _, target = split_url(url)
        sock.sendall(request_head("GET", target, origin.host_header, headers, None))

    def _publish(self, page: Page | None) -> None:
        with self._lock:
            if page is not None and not self._ended:
                self._pages.append(page)
            if page is None or page[1]:
                self._ended = True
            wake, self._wake = self._wake, None
        if wake is not None:
            with contextlib.suppress(RuntimeError):  # the job's loop has closed: none waits
                wake()


def _settle(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


def _connect(origin: Origin) -> socket.socket:
    sock = socket.create_connection((origin.host, origin.port), timeout=_STALL_SECONDS)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if origin.scheme != "https":
        return sock
    from azxfer.transport.http import tls_context  # https only (it loads the CA store)

    return tls_context().wrap_socket(sock, server_hostname=origin.host)


class _Answer:
    """httptools' callbacks for one response: its body pieces, whether the connection stays
    open after it (known once the head is parsed), and whether it is complete."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.keep_alive = False
        self.complete = False

    def on_headers_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, piece: bytes) -> None:
        self.body.append(piece)

    def on_message_complete(self) -> None:
        self.complete = True


def _read_answer(sock: socket.socket) -> tuple[int, bytes, bool]:
    """(status, body, whether the connection may carry another request) of one response."""
    answer = _Answer()
    buffer = bytearray(_RECV_SIZE)
    while not answer.complete:
        received = sock.recv_into(buffer)
        if not received:
            raise ConnectionError("the connection closed before the answer was complete")
        answer.parser.feed_data(buffer[:received])
    return answer.parser.get_status_code(), b"".join(answer.body), answer.keep_alive


class EarlyListings:
    """The early listings of one command line, each handed to the job at most once."""

    def __init__(self, listings: list[EarlyListing]) -> None:
        self._listings = listings

    def take(
        self, signer: RequestSigner, container: str, prefix: str, delimiter: str | None
    ) -> EarlyListing | None:
        """The listing started for exactly this request, if any; it is not handed out again
        (a second listing of the same prefix is the job asking for the container as it is)."""
        for listing in self._listings:
            if listing.serves(signer, container, prefix, delimiter):
                self._listings.remove(listing)
                return listing
        return None
