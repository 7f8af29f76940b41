"""The REST fast path for the per-blob requests of a server-side copy.

A blob-to-blob copy of many small blobs costs one request per blob, so, as for uploads, the
SDK's per-request client CPU would be most of the job's: Put Blob From URL, Copy Blob (both
forms) and Put Block From URL go straight to our connection pool here, sent by
`RestBlobClient`'s `transport.rest` client.
Answers are classified as the SDK path's are (`transport.classify` with Blob's codes),
including "not implemented" (for the fallback) and "cannot read the copy source". Each may
take `server_error_attempts`, asked on a 5xx answer how often to try the request in all
(None: the retry policy's): few while the copy engine does not trust the method yet, asked
each time as that may change while the request runs.
"""

from __future__ import annotations

import base64

from azxfer.endpoints.blob.requests import blob_path
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.endpoints.blob.wire import blob_headers
from azxfer.endpoints.copycaps import ServerErrorAttempts
from azxfer.models import ContentProps


async def put_blob_from_url(
    rest: RestBlobClient,
    container: str,
    name: str,
    source_url: str,
    md5: bytes | None,
    content: ContentProps,
    metadata: dict[str, str] | None,
    tags: dict[str, str] | None,
    tier: str | None,
    source_etag: str | None,
    server_error_attempts: ServerErrorAttempts | None = None,
    source_headers: dict[str, str] | None = None,
) -> None:
    """Put Blob From URL with our properties (none taken from the source); `source_headers`
    authorize reading the source (`CopySource.source_headers`)."""
    headers = _properties(md5, content, metadata, tags, tier)
    headers.update(
        {
            "x-ms-blob-type": "BlockBlob",
            "x-ms-copy-source": source_url,
            "x-ms-copy-source-blob-properties": "false",
            **(source_headers or {}),
        }
    )
    if source_etag:
        headers["x-ms-source-if-match"] = source_etag
    await _send(rest, "PUT", container, name, {}, headers, f"blob '{name}'", server_error_attempts)


async def copy_blob(
    rest: RestBlobClient,
    container: str,
    name: str,
    source_url: str,
    metadata: dict[str, str] | None,
    tags: dict[str, str] | None,
    tier: str | None,
    source_etag: str | None,
    synchronous: bool,
    server_error_attempts: ServerErrorAttempts | None = None,
    source_headers: dict[str, str] | None = None,
) -> tuple[str, str]:
    """Copy Blob (or Copy Blob From URL when `synchronous`, which alone takes
    `source_headers`): (copy id, copy status)."""
    headers = _properties(None, ContentProps(), metadata, tags, tier)
    headers["x-ms-copy-source"] = source_url
    headers.update(source_headers or {})
    if synchronous:
        headers["x-ms-requires-sync"] = "true"
    if source_etag:
        headers["x-ms-source-if-match"] = source_etag
    what = f"blob '{name}'"
    answer = await _send(rest, "PUT", container, name, {}, headers, what, server_error_attempts)
    return answer.get("x-ms-copy-id", ""), answer.get("x-ms-copy-status", "success")


async def put_block_from_url(
    rest: RestBlobClient,
    container: str,
    name: str,
    block_id: str,
    source_url: str,
    offset: int,
    length: int,
    server_error_attempts: ServerErrorAttempts | None = None,
    source_headers: dict[str, str] | None = None,
) -> None:
    """Put Block From URL for bytes [offset, offset+length) of the source."""
    # Block IDs go on the wire base64-encoded once more, as the SDK and `put_block` send them.
    wire_id = base64.b64encode(block_id.encode()).decode()
    headers = {
        "x-ms-copy-source": source_url,
        "x-ms-source-range": f"bytes={offset}-{offset + length - 1}",
        **(source_headers or {}),
    }
    query = {"comp": "block", "blockid": wire_id}
    what = f"blob '{name}'"
    await _send(rest, "PUT", container, name, query, headers, what, server_error_attempts)


def _properties(
    md5: bytes | None,
    content: ContentProps,
    metadata: dict[str, str] | None,
    tags: dict[str, str] | None,
    tier: str | None,
) -> dict[str, str]:
    headers = blob_headers(content, md5 or b"", metadata, tags, tier)
    if not md5:
        del headers["x-ms-blob-content-md5"]
    return headers


async def _send(
    rest: RestBlobClient,
    method: str,
    container: str,
    name: str,
    query: dict[str, str],
    headers: dict[str, str],
    what: str,
    server_error_attempts: ServerErrorAttempts | None = None,
) -> dict[str, str]:
    """Send a body-less request with our retries; the response headers on success."""
    path = blob_path(container, name)
    _, answer, _ = await rest.rest.send(
        method, path, query, headers, None, what, server_error_attempts=server_error_attempts
    )
    return {k.lower(): v for k, v in answer.items()}
