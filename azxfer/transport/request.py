"""The parts of an HTTP/1.1 request that need no event loop: where a URL goes, and the head
that is sent for it. Shared by the connection pool (`pool`) and the listing fetched at
process start (`early_listing`), which must not wait for asyncio to be imported."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import NamedTuple
from urllib.parse import urlsplit

from azxfer import __version__

Body = bytes | memoryview | AsyncIterable[bytes | memoryview] | None
# A job's bandwidth cap: awaited with the size of each piece of data body before it is sent or
# after it is received (see `engine.ratelimit`).
Pace = Callable[[int], Awaitable[None]]


class Origin(NamedTuple):
    """Where requests go: one pool of connections each."""

    scheme: str
    host: str
    port: int
    host_header: str


@functools.lru_cache(maxsize=64)
def origin_of(origin: str) -> Origin:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {origin}")
    default = 443 if parts.scheme == "https" else 80
    port = parts.port or default
    return Origin(parts.scheme, parts.hostname, port, parts.netloc.rpartition("@")[2])


def split_url(url: str) -> tuple[Origin, str]:
    """(origin, request target) of an absolute URL."""
    start = url.find("://")
    slash = url.find("/", start + 3) if start >= 0 else -1
    if slash < 0:
        query = url.find("?", start + 3) if start >= 0 else -1
        if query < 0:
            return origin_of(url), "/"
        return origin_of(url[:query]), "/" + url[query:]
    return origin_of(url[:slash]), url[slash:]


def request_head(method: str, target: str, host: str, headers: dict[str, str], body: Body) -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    if lines.count("\n") != len(headers) or lines.count("\r") != len(headers):
        raise ValueError("a header name or value contains a line break")
    if not any(name.lower() == "content-length" for name in headers):
        if isinstance(body, bytes | memoryview):
            lines += f"Content-Length: {len(body)}\r\n"
        elif body is not None:
            raise ValueError("a streamed body needs a Content-Length header")
        elif method in ("PUT", "POST", "PATCH"):
            lines += "Content-Length: 0\r\n"
    return (
        f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: azxfer/{__version__}\r\n"
        f"{lines}\r\n"
    ).encode()
