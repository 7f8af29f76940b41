"""A loopback, fault-injecting HTTP/1.1 reverse proxy in front of Azurite's blob endpoint.

Point azxfer at `http://127.0.0.1:<proxy.port>/devstoreaccount1/...`: every request is
forwarded to Azurite byte for byte (method, path+query, headers and body unchanged, so
SharedKey and SAS signatures stay valid), unless a `Rule` matches it. Rules match by method,
substrings of the path and query and the presence of a request header, may let the first
`skip` matches through, fire at most `times` times, and may fire only with a `probability`
drawn from a seeded RNG.

Actions
-------
reset       close the client's connection (RST) without a response; Azurite never sees it.
status      answer with `status` (e.g. 503 + x-ms-error-code ServerBusy + Retry-After).
delay       sleep `delay` seconds, then forward normally (a stall shorter than the timeout).
truncate    forward, then send the response head and only half of its body, then close
            the connection (the Content-Length promised more).
drop_after  forward and let Azurite apply the request, then reset the client connection
            (so the client retries an operation that already happened).

Every request is recorded (method, path, query, status or the action taken), so tests can
count e.g. Put Block calls. Loopback only: the proxy listens on and forwards to 127.0.0.1.

Usage (a fixture in the test module)::

    @pytest.fixture
    def fault_proxy(azurite):
        with FaultProxy(azurite.blob_port) as proxy:
            yield proxy
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

from loopback import LOOPBACK, LoopbackServer

ACTIONS = ("reset", "status", "delay", "truncate", "drop_after")
_HEAD_LIMIT = 1 << 20
_IO_TIMEOUT = 60.0


@dataclass
class Rule:
    """One fault: what it matches, what it does, and how often."""

    action: str
    method: str | None = None
    path: str | None = None  # substring of the (URL-decoded) path
    query: str | None = None  # substring of the raw query string
    header: str | None = None  # a request header that must be present (lower-case name)
    times: int = 1  # fire at most this many times (always bounded)
    skip: int = 0  # let this many matching requests through first
    probability: float = 1.0  # fire on a match with this probability (seeded RNG)
    status: int = 503
    error_code: str | None = "ServerBusy"
    retry_after: float | None = 1
    delay: float = 2.0
    # After firing once, fire again only on the same request (method, target, range):
    # a retry of the request it hit, not a sibling request in flight at the same time.
    same_request: bool = True
    seen: int = 0
    fired: int = 0
    hit: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; use one of {ACTIONS}")
        if self.times < 0:
            raise ValueError("times must be >= 0 (rules are always bounded)")

    def matches(self, method: str, path: str, query: str, headers: dict[str, str]) -> bool:
        return (
            (self.method is None or self.method.upper() == method.upper())
            and (self.path is None or self.path in path)
            and (self.query is None or self.query in query)
            and (self.header is None or self.header in headers)
        )


@dataclass(frozen=True)
class Recorded:
    """One request as the proxy saw it."""

    method: str
    path: str
    query: str
    status: int | None  # the status the client received (None: no response)
    action: str | None  # the rule action applied, None when forwarded untouched
    upstream_status: int | None = None  # what Azurite answered, when it was asked


@dataclass
class _Message:
    head: bytes
    first_line: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class FaultProxy(LoopbackServer):
    """The proxy server; runs its own event loop in a daemon thread."""

    thread_name = "fault-proxy"
    stream_limit = _HEAD_LIMIT

    def __init__(self, upstream_port: int, seed: int = 1234, upstream_host: str = LOOPBACK):
        if upstream_host not in (LOOPBACK, "localhost"):
            raise ValueError("the fault proxy forwards to loopback only")
        super().__init__()
        self.upstream = (LOOPBACK, upstream_port)
        self.rng = random.Random(seed)
        self._rules: list[Rule] = []
        self._log: list[Recorded] = []
        self._lock = threading.Lock()

    # -- rules and records --------------------------------------------------------------------

    def add(self, *rules: Rule) -> FaultProxy:
        with self._lock:
            self._rules.extend(rules)
        return self

    def rule(self, action: str, **kwargs: object) -> Rule:
        """Add one rule built from keyword arguments; returns it (to inspect `fired`)."""
        made = Rule(action, **kwargs)  # type: ignore[arg-type]
        self.add(made)
        return made

    def clear(self) -> None:
        """Faults off: every later request is forwarded untouched."""
        with self._lock:
            self._rules.clear()

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._log)

    @property
    def faults_fired(self) -> int:
        with self._lock:
            return sum(1 for r in self._log if r.action is not None)

    def count(
        self,
        method: str | None = None,
        path: str | None = None,
        query: str | None = None,
        status: int | None = None,
        action: str | None = None,
    ) -> int:
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method)
            and (path is None or path in r.path)
            and (query is None or query in r.query)
            and (status is None or r.status == status)
            and (action is None or r.action == action)
        )

    def url(self, account: str, container: str, path: str = "") -> str:
        base = f"http://{LOOPBACK}:{self.port}/{account}/{container}"
        return f"{base}/{path}" if path else base

    def _pick(self, request: _Message, path: str, query: str, key: str) -> Rule | None:
        method = request.first_line.split(" ")[0]
        with self._lock:
            for rule in self._rules:
                matched = rule.matches(method, path, query, request.headers)
                if rule.fired >= rule.times or not matched:
                    continue
                if rule.same_request and rule.hit is not None and rule.hit != key:
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                rule.hit = key
                return rule
        return None

    def _record(self, item: Recorded) -> None:
        with self._lock:
            self._log.append(item)

    # -- serving ------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_message(reader, is_request=True)
                if request is None:
                    break
                if not await self._handle(request, writer):
                    break
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:  # never let a proxy bug hang a client: drop the connection
            _reset(writer)
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _handle(self, request: _Message, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the client connection must be closed."""
        method, target = request.first_line.split(" ")[:2]
        raw_path, _, query = target.partition("?")
        path = unquote(raw_path)
        ranged = request.headers.get("x-ms-range") or request.headers.get("range") or ""
        rule = self._pick(request, path, query, f"{method} {target} {ranged}")
        action = rule.action if rule else None

        def record(status: int | None, upstream: int | None = None) -> None:
            self._record(Recorded(method, path, query, status, action, upstream))

        if rule is not None and rule.action == "reset":
            record(None)
            _reset(writer)
            return False
        if rule is not None and rule.action == "status":
            record(rule.status)
            writer.write(_error_response(rule, method))
            await writer.drain()
            return True
        if rule is not None and rule.action == "delay":
            await asyncio.sleep(rule.delay)

        response = await self._forward(request, method)
        status = int(response.first_line.split(" ")[1])
        if rule is not None and rule.action == "drop_after":
            record(None, status)
            _reset(writer)
            return False
        if rule is not None and rule.action == "truncate" and response.body:
            record(status, status)
            writer.write(response.head + response.body[: len(response.body) // 2])
            await writer.drain()
            return False  # closed (FIN) short of the promised Content-Length
        record(status, status)
        writer.write(response.head + response.body)
        await writer.drain()
        return response.headers.get("connection", "").lower() != "close"

    async def _forward(self, request: _Message, method: str) -> _Message:
        """Send the request to Azurite on a fresh connection and read the whole response."""
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(*self.upstream, limit=_HEAD_LIMIT), _IO_TIMEOUT
        )
        try:
            up_writer.write(request.head + request.body)
            await up_writer.drain()
            response = await asyncio.wait_for(
                _read_message(up_reader, is_request=False, method=method), _IO_TIMEOUT
            )
            if response is None:
                raise ConnectionError("upstream closed without a response")
            return response
        finally:
            up_writer.close()
            with contextlib.suppress(Exception):
                await up_writer.wait_closed()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0) so the client sees a connection reset."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _error_response(rule: Rule, method: str) -> bytes:
    code = rule.error_code or "InjectedFault"
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error>'
        f"<Code>{code}</Code><Message>fault injected by the test proxy</Message></Error>"
    ).encode()
    reason = {408: "Request Timeout", 429: "Too Many Requests", 500: "Internal Server Error"}
    lines = [
        f"HTTP/1.1 {rule.status} {reason.get(rule.status, 'Injected Fault')}",
        "Content-Type: application/xml",
        f"Content-Length: {len(body)}",
        "x-ms-request-id: 00000000-0000-0000-0000-000000000000",
        "x-ms-version: 2021-10-04",
        "Connection: keep-alive",
    ]
    if rule.error_code:
        lines.append(f"x-ms-error-code: {rule.error_code}")
    if rule.retry_after is not None:
        lines.append(f"Retry-After: {rule.retry_after:g}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return head if method.upper() == "HEAD" else head + body


def _parse_headers(lines: Iterable[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


async def _read_message(
    reader: asyncio.StreamReader, is_request: bool, method: str = "GET"
) -> _Message | None:
    """One HTTP/1.1 message with its raw head and raw body (chunked bodies kept as sent)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    text = head.decode("latin-1")
    first, *rest = text[:-4].split("\r\n")
    headers = _parse_headers(rest)
    msg = _Message(head, first, headers)
    status = 0 if is_request else int(first.split(" ")[1])
    if not is_request and (method.upper() == "HEAD" or status in (204, 304) or status < 200):
        return msg
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            parts.append(size_line)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    line = await reader.readuntil(b"\r\n")
                    parts.append(line)
                    if line == b"\r\n":
                        break
                break
            parts.append(await reader.readexactly(size + 2))
        msg.body = b"".join(parts)
    elif "content-length" in headers:
        msg.body = await reader.readexactly(int(headers["content-length"]))
    elif not is_request:
        msg.body = await reader.read()  # delimited by the connection closing
    return msg
