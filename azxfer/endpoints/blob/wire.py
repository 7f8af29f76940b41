"""What the Blob REST path puts on the wire besides the request line: MD5s hashed off the
event loop, and the headers of writes (bodies and ranged reads: `transport.wire`)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from urllib.parse import quote

from azxfer.models import ContentProps

# Hashing a body this large on the event loop would stall every other request.
_THREAD_MD5 = 1024 * 1024


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def md5_of(data: bytes) -> bytes:
    """The MD5 digest of `data`; a large body is hashed in a worker thread (hashlib releases
    the GIL), so the event loop keeps serving the other requests meanwhile."""
    if len(data) >= _THREAD_MD5:
        return await asyncio.to_thread(lambda: hashlib.md5(data).digest())
    return hashlib.md5(data).digest()


def blob_headers(
    content: ContentProps,
    md5: bytes,
    metadata: dict[str, str] | None,
    tags: dict[str, str] | None,
    tier: str | None,
) -> dict[str, str]:
    headers = {"x-ms-blob-content-md5": b64(md5)}
    for header, value in (
        ("x-ms-blob-content-type", content.content_type),
        ("x-ms-blob-content-encoding", content.content_encoding),
        ("x-ms-blob-content-language", content.content_language),
        ("x-ms-blob-content-disposition", content.content_disposition),
        ("x-ms-blob-cache-control", content.cache_control),
        ("x-ms-access-tier", tier),
    ):
        if value:
            headers[header] = value
    for key, value in (metadata or {}).items():
        headers[f"x-ms-meta-{key}"] = value
    if tags:
        headers["x-ms-tags"] = "&".join(
            f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags.items()
        )
    return headers
