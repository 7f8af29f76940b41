"""What the Blob REST path puts on the wire besides the request line: the headers of writes
(bodies, ranged reads and MD5s hashed off the event loop: `transport.wire`)."""

from __future__ import annotations

from urllib.parse import quote

from azxfer.models import ContentProps
from azxfer.transport.wire import b64, md5_of

__all__ = ["b64", "blob_headers", "md5_of"]


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
