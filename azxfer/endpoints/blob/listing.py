"""Blobs as entries: from the REST path's listing or the SDK's properties, and the names
snapshots are copied under."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from azxfer.endpoints.blob.listed import ListedBlob
from azxfer.models import BlobProps, BlobType, ContentProps, Entry, Skipped
from azxfer.transport.wire import quoted_etag


def entry_from_listing(listed: ListedBlob, rel: str) -> Entry:
    return Entry(
        ref=listed.name,
        rel_path=rel,
        size=listed.size,
        mtime=listed.last_modified,
        md5=listed.md5,
        etag=quoted_etag(listed.etag),
        content=listed.content,
        metadata=listed.metadata or None,
        service=BlobProps(
            blob_type=BlobType(listed.blob_type) if listed.blob_type else None,
            tier=listed.tier,
        ),
    )


def is_folder_marker(props: Any) -> bool:
    metadata = getattr(props, "metadata", None) or {}
    return props.size == 0 and metadata.get("hdi_isfolder") == "true"


def entry_from_properties(props: Any, rel: str) -> Entry:
    settings = props.content_settings
    md5 = settings.content_md5
    blob_type = props.blob_type
    return Entry(
        ref=props.name,
        rel_path=rel,
        size=props.size,
        mtime=props.last_modified.timestamp() if props.last_modified else None,
        md5=bytes(md5) if md5 else None,
        etag=quoted_etag(props.etag),
        content=ContentProps(
            content_type=settings.content_type,
            content_encoding=settings.content_encoding,
            content_language=settings.content_language,
            content_disposition=settings.content_disposition,
            cache_control=settings.cache_control,
        ),
        metadata=dict(props.metadata) if props.metadata else None,
        service=BlobProps(
            blob_type=BlobType(getattr(blob_type, "value", blob_type)) if blob_type else None,
            # An inferred tier is the account's default: the copy should get its own account's.
            tier=None
            if getattr(props, "blob_tier_inferred", False)
            else _tier_name(props.blob_tier),
            snapshot=getattr(props, "snapshot", None) or None,
        ),
    )


def _tier_name(tier: Any) -> str | None:
    value = getattr(tier, "value", tier)
    return str(value) if value else None


def snapshot_name(rel_path: str, snapshot: str, precise: bool = False) -> str:
    """AzCopy v8's name for a snapshot copy: `name (YYYY-MM-DD HHMMSS).ext`; `precise` adds
    the fraction of a second (`HHMMSS.fffffff`) to tell apart snapshots of the same second."""
    stamp = snapshot.rstrip("Z") if precise else snapshot[:19]
    stamp = stamp.replace("T", " ").replace(":", "")
    folder, _, leaf = rel_path.rpartition("/")
    stem, dot, ext = leaf.rpartition(".")
    if not stem:  # no extension (or a dot-file): the stamp goes at the end
        stem, dot, ext = leaf, "", ""
    named = f"{stem} ({stamp}){dot}{ext}"
    return f"{folder}/{named}" if folder else named


async def one_entry(entry: Entry) -> AsyncIterator[Entry | Skipped]:
    yield entry
