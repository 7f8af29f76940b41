"""Blobs as the service describes them: the entries of a List Blobs page, and the headers of
Get Blob Properties, read into one `ListedBlob`."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from urllib.parse import unquote
from xml.etree import ElementTree

from msgspec import Struct

from azxfer.models import ContentProps
from azxfer.transport.dates import parse_http_date
from azxfer.transport.headers import Headers


class ListedBlob(Struct, frozen=True):
    """One blob of a listing, as the service described it."""

    name: str
    size: int
    last_modified: float | None
    etag: str | None
    md5: bytes | None
    blob_type: str | None
    content: ContentProps
    metadata: dict[str, str]
    tier: str | None = None  # only when set on the blob (an inferred tier is the account's)


def listed_blob(item: ElementTree.Element) -> ListedBlob:
    # One pass over the children into dicts: a findtext per field rescans them (a listing of
    # thousands of blobs spent a tenth of a no-op sync in this function).
    fields = {child.tag: child for child in item}
    props_node = fields.get("Properties")
    props = {child.tag: child.text for child in props_node} if props_node is not None else {}
    metadata_node = fields.get("Metadata")
    name_node = fields.get("Name")
    name = (name_node.text if name_node is not None else None) or ""
    if name_node is not None and name_node.get("Encoded") == "true":
        # A name holding characters XML 1.0 cannot carry is sent percent-encoded.
        name = unquote(name)
    metadata = (
        {child.tag: child.text or "" for child in metadata_node}
        if metadata_node is not None
        else {}
    )
    return _blob(name, props.get, _LISTING_FIELDS, metadata)


# Where a blob's fields are found: the children of a listed blob's Properties, and the headers
# of Get Blob Properties, in the order `_blob` takes them.
_LISTING_FIELDS = (
    "Content-Length", "Last-Modified", "Etag", "Content-MD5", "BlobType", "Content-Type",
    "Content-Encoding", "Content-Language", "Content-Disposition", "Cache-Control",
    "AccessTierInferred", "AccessTier",
)  # fmt: skip
_HEADER_FIELDS = (
    "Content-Length", "Last-Modified", "ETag", "Content-MD5", "x-ms-blob-type", "Content-Type",
    "Content-Encoding", "Content-Language", "Content-Disposition", "Cache-Control",
    "x-ms-access-tier-inferred", "x-ms-access-tier",
)  # fmt: skip


def described_blob(name: str, headers: Headers) -> ListedBlob:
    """A blob from the headers of Get Blob Properties (the fields a listing gives)."""
    return _blob(name, headers.get, _HEADER_FIELDS, headers.with_prefix("x-ms-meta-"))


def _blob(
    name: str,
    get: Callable[[str], str | None],
    fields: tuple[str, ...],
    metadata: dict[str, str],
) -> ListedBlob:
    (length, modified_at, etag, md5_at, blob_type, content_type, encoding, language,
     disposition, cache_control, tier_inferred, tier) = fields  # fmt: skip
    md5 = get(md5_at)
    modified = get(modified_at)
    return ListedBlob(
        name=name,
        size=int(get(length) or 0),
        last_modified=http_date_seconds(modified) if modified else None,
        etag=get(etag),
        md5=base64.b64decode(md5) if md5 else None,
        blob_type=get(blob_type),
        content=_content_props(
            get(content_type) or None,
            get(encoding) or None,
            get(language) or None,
            get(disposition) or None,
            get(cache_control) or None,
        ),
        metadata=metadata,
        # An inferred tier is the account's default, not the blob's own.
        tier=None if get(tier_inferred) == "true" else (get(tier) or None),
    )


@functools.lru_cache(maxsize=256)
def _content_props(
    content_type: str | None,
    encoding: str | None,
    language: str | None,
    disposition: str | None,
    cache_control: str | None,
) -> ContentProps:
    """Blobs of a listing mostly share their content properties: one (immutable) object each."""
    return ContentProps(content_type, encoding, language, disposition, cache_control)


@functools.lru_cache(maxsize=1024)
def http_date_seconds(value: str) -> float:
    """An HTTP date (RFC 1123) as POSIX seconds; cached, since listed blobs written in the
    same second share it and parsing one costs more than everything else about the blob."""
    return parse_http_date(value)
