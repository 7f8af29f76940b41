"""What any storage REST request puts on the wire besides its request line and signature:
bodies sent in slices, MD5s hashed off the event loop, the headers of ranged reads, and what
an answer that brought less than asked for means. The same in the Blob and File services
(both read ranges with x-ms-range; Files takes no If-Match, so its answers' ETags are
checked)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar

from azxfer.errors import AzxferError, IntegrityError, RetryableError
from azxfer.transport.request import Body, Pace

T = TypeVar("T")

# A larger body is sent as slices of this size, each written once the socket has room: given
# whole, the event loop's transport would copy all it cannot send at once into its buffer.
_BODY_PIECE = 256 * 1024
# Hashing a body this large on the event loop would stall every other request.
_THREAD_MD5 = 1024 * 1024


def b64(data: bytes) -> str:
    """`data` in base64, as headers carry MD5s."""
    return base64.b64encode(data).decode()


async def md5_of(data: bytes) -> bytes:
    """The MD5 digest of `data`; a large body is hashed in a worker thread (hashlib releases
    the GIL), so the event loop keeps serving the other requests meanwhile."""
    if len(data) >= _THREAD_MD5:
        return await asyncio.to_thread(lambda: hashlib.md5(data).digest())
    return hashlib.md5(data).digest()


def body_of(data: bytes | None) -> Body:
    """What is sent for `data`: small bodies as they are, larger ones slice by slice
    (Content-Length is always set, so this is never chunked encoding)."""
    if data is None or len(data) <= _BODY_PIECE:
        return data
    return _slices(memoryview(data))


async def _slices(view: memoryview) -> AsyncGenerator[memoryview, None]:
    for start in range(0, len(view), _BODY_PIECE):
        yield view[start : start + _BODY_PIECE]


async def paced_body(data: bytes | None, pace: Pace) -> Body:
    """`body_of(data)` under a bandwidth cap: a small body is paced whole before it is sent
    (and stays bytes, so it can be sent again on a fresh connection), a larger one slice by
    slice as the socket takes it."""
    if data is None or len(data) <= _BODY_PIECE:
        if data:
            await pace(len(data))
        return data
    return _paced_slices(memoryview(data), pace)


async def sent_at_pace(size: int, pace: Pace, send: Callable[[], Awaitable[T]]) -> T:
    """`send()`, a request whose body of `size` bytes other code sends whole (the SDK's), made
    once those bytes are paid for under the cap, in one slot of their own: chunks sent side
    by side go one after another, never more than one at once (the burst is one chunk)."""
    await pace(size)
    return await send()


async def _paced_slices(view: memoryview, pace: Pace) -> AsyncGenerator[memoryview, None]:
    for start in range(0, len(view), _BODY_PIECE):
        piece = view[start : start + _BODY_PIECE]
        await pace(len(piece))
        yield piece


def read_headers(start: int, end: int, etag: str | None, whole: bool) -> dict[str, str]:
    """The headers of a read of bytes [start, end). A read of the whole object asks for neither
    a range nor an If-Match: the service does measurably less work for a plain GET (about a
    tenth of its CPU per small blob on the emulator), and the answer's ETag, checked by
    `check_etag`, refuses an object that changed just as the condition would have."""
    if whole:
        return {}
    headers = {"x-ms-range": f"bytes={start}-{end - 1}"}
    if etag:
        headers["If-Match"] = etag
    return headers


def quoted_etag(etag: str | None) -> str | None:
    """ETags in one form: listings give them bare, property headers quoted."""
    if not etag:
        return None
    return etag if etag.startswith('"') else f'"{etag}"'


def check_etag(got: str | None, want: str | None, what: str) -> None:
    if want and got != want:
        raise IntegrityError(f"{what} changed during the transfer")


def short_answer(
    what: str, got: int, asked: int, end: int, content_range: str | None, ranged: bool
) -> AzxferError:
    """The error of a complete answer that brought `got` of the `asked` bytes before `end`.

    When the object itself ends sooner (the total of the answer's Content-Range; or, for a
    request without a range, the whole object came) no retry can bring the rest: it fails at
    once, as the SDK path and local files do. Otherwise the answer was cut short: retried.
    """
    total = content_range.rpartition("/")[2] if content_range else ""
    if (total.isdigit() and int(total) < end) or (not ranged and not content_range):
        return IntegrityError(f"{what} returned {got} of {asked} bytes")
    return RetryableError(f"{what}: got {got} of {asked} bytes")
