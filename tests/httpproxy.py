"""A loopback HTTP forward proxy: the stand-in for a corporate proxy (squid and the like).

It speaks what RFC 9110 and RFC 9112 say a proxy speaks:
- `CONNECT host:port` opens a tunnel (bytes relayed both ways until either side closes):
  how https URLs go through a proxy;
- absolute-form requests (`GET http://host:port/path HTTP/1.1`) are forwarded one by one,
  in origin-form and without their Proxy-Authorization header: how http URLs go;
- with `credentials="user:password"`, a request or CONNECT without the matching
  `Proxy-Authorization: Basic` header is answered 407 with `Proxy-Authenticate`.

Names resolve only through `hosts` (a name → a loopback port): tests use names this machine
cannot resolve, so a request that went around the proxy fails instead of passing unnoticed.
Only loopback upstreams. Every request and tunnel is recorded as (method, target, status).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from faultproxy import _HEAD_LIMIT, _IO_TIMEOUT, _read_message
from loopback import LOOPBACK, LoopbackServer


@dataclass(frozen=True)
class Seen:
    method: str
    target: str
    status: int


class HttpProxy(LoopbackServer):
    """The proxy; runs its own event loop in a daemon thread."""

    thread_name = "http-proxy"
    stream_limit = _HEAD_LIMIT

    def __init__(self, hosts: Mapping[str, int], credentials: str | None = None) -> None:
        super().__init__()
        self.hosts = {name.lower(): port for name, port in hosts.items()}
        self.authorization = (
            "Basic " + base64.b64encode(credentials.encode()).decode() if credentials else None
        )
        self.seen: list[Seen] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def methods(self) -> list[str]:
        with self._lock:
            return [s.method for s in self.seen]

    def _record(self, method: str, target: str, status: int) -> None:
        with self._lock:
            self.seen.append(Seen(method, target, status))

    def _upstream(self, authority: str) -> int | None:
        host, _, port = authority.rpartition(":")
        known = self.hosts.get(host.lower())
        return known if known is not None and port.isdigit() else None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_message(reader, is_request=True)
                if request is None:
                    return
                method, target = request.first_line.split(" ")[:2]
                status = self._refusal(request.headers, method, target)
                if status:
                    self._record(method, target, status)
                    writer.write(_refusal(status))
                    await writer.drain()
                    return
                if method == "CONNECT":
                    await self._tunnel(reader, writer, target)
                    return
                if not await self._forward(request, method, target, writer):
                    return
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def _refusal(self, headers: Mapping[str, str], method: str, target: str) -> int:
        if self.authorization and headers.get("proxy-authorization") != self.authorization:
            return 407
        authority = target if method == "CONNECT" else _authority(target)
        return 0 if authority and self._upstream(authority) is not None else 502

    async def _tunnel(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, authority: str
    ) -> None:
        port = self._upstream(authority)
        assert port is not None
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(LOOPBACK, port), _IO_TIMEOUT
        )
        self._record("CONNECT", authority, 200)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        try:
            await asyncio.gather(_relay(reader, up_writer), _relay(up_reader, writer))
        finally:
            up_writer.close()

    async def _forward(
        self, request, method: str, target: str, writer: asyncio.StreamWriter
    ) -> bool:
        authority = _authority(target)
        port = self._upstream(authority)
        assert port is not None
        path = target.split(authority, 1)[1] or "/"
        lines = request.head.decode("latin-1").split("\r\n")
        kept = [f"{method} {path} {lines[0].rsplit(' ', 1)[1]}"] + [
            line for line in lines[1:] if not line.lower().startswith("proxy-authorization:")
        ]
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(LOOPBACK, port, limit=_HEAD_LIMIT), _IO_TIMEOUT
        )
        try:
            up_writer.write("\r\n".join(kept).encode("latin-1") + request.body)
            await up_writer.drain()
            response = await asyncio.wait_for(
                _read_message(up_reader, is_request=False, method=method), _IO_TIMEOUT
            )
        finally:
            up_writer.close()
        if response is None:
            return False
        self._record(method, target, int(response.first_line.split(" ")[1]))
        writer.write(response.head + response.body)
        await writer.drain()
        return response.headers.get("connection", "").lower() != "close"


def _authority(target: str) -> str:
    if not target.lower().startswith("http://"):
        return ""
    return target[len("http://") :].split("/", 1)[0].split("?", 1)[0]


def _refusal(status: int) -> bytes:
    reason = {407: "Proxy Authentication Required", 502: "Bad Gateway"}[status]
    extra = 'Proxy-Authenticate: Basic realm="test"\r\n' if status == 407 else ""
    return (
        f"HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
    ).encode()


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await asyncio.wait_for(reader.read(1 << 16), _IO_TIMEOUT):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, TimeoutError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.write_eof()
