"""One request as the handlers see it, and the headers every answer carries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from aiohttp import web

from . import errors
from .store import http_date, now_ticks, smb_time

SERVER = "Windows-Azure-File/1.0 Microsoft-HTTPAPI/2.0"


@dataclass(slots=True)
class Call:
    """A parsed request: lower-cased `headers`, decoded `query` (last value of each name),
    the `account`, `share` name (None at the account level) and decoded file `path` ('' for
    the share's root)."""

    request: web.BaseRequest
    method: str
    raw_path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    account: str
    share: str | None
    path: str
    op: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    auth: str | None = None  # "sharedkey" | "sas" | "account-sas" | "bearer"
    permissions: str = ""  # what a SAS grants

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def h(self, name: str) -> str | None:
        return self.headers.get(name)

    def int_header(self, name: str, *, required: bool = False) -> int | None:
        value = self.headers.get(name)
        if value is None:
            if required:
                raise errors.missing_header(name)
            return None
        try:
            number = int(value)
        except ValueError:
            raise errors.invalid_header(name) from None
        if number < 0:
            raise errors.invalid_header(name)
        return number

    def flag(self, name: str) -> bool:
        return (self.headers.get(name) or "").strip().lower() == "true"

    def metadata(self) -> dict[str, str]:
        """The x-ms-meta-* headers, their names in the case they were sent in."""
        return {
            k[10:]: v for k, v in self.request.headers.items() if k.lower().startswith("x-ms-meta-")
        }


def base_headers(call: Call) -> dict[str, str]:
    out = {"x-ms-request-id": call.request_id, "Date": http_date(now_ticks()), "Server": SERVER}
    version = call.headers.get("x-ms-version")
    if version:
        out["x-ms-version"] = version
    client_id = call.headers.get("x-ms-client-request-id")
    if client_id:
        out["x-ms-client-request-id"] = client_id
    return out


def reply(
    call: Call,
    status: int,
    headers: dict[str, str] | None = None,
    body: bytes | memoryview | None = None,
    content_type: str | None = None,
) -> web.Response:
    out = base_headers(call)
    if headers:
        out.update(headers)
    if content_type:
        out["Content-Type"] = content_type
    if body is None or call.method == "HEAD":
        # A HEAD answer keeps the Content-Length of what GET would send, and sends nothing.
        return web.Response(status=status, headers=out)
    return web.Response(status=status, headers=out, body=body)


# A large body goes out in pieces of this size, each awaited (the transport's flow control):
# handed to asyncio whole, a 64 MiB body is copied into its buffer and shifted down after
# every send, which cost the stand-in four times the CPU of the client it served.
STREAM_PIECE = 1024 * 1024


async def stream_reply(
    call: Call, status: int, headers: dict[str, str], pieces: list[bytes | memoryview]
) -> web.StreamResponse:
    """An answer whose body (the concatenation of `pieces`) is written piece by piece."""
    out = base_headers(call)
    out.update(headers)
    length = int(out.pop("Content-Length"))
    response = web.StreamResponse(status=status, headers=out)
    response.content_length = length
    await response.prepare(call.request)
    for piece in pieces:
        view = memoryview(piece)
        for offset in range(0, len(view), STREAM_PIECE):
            await response.write(view[offset : offset + STREAM_PIECE])
    await response.write_eof()
    return response


def error_reply(call: Call, exc: errors.StorageError) -> web.Response:
    headers = base_headers(call)
    headers.update({"x-ms-error-code": exc.code, "Content-Type": "application/xml"})
    headers.update(exc.headers)
    if call.method == "HEAD":
        return web.Response(status=exc.status, headers=headers)
    body = errors.error_body(exc, call.request_id, smb_time(now_ticks()))
    return web.Response(status=exc.status, headers=headers, body=body)
