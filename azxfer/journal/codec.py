"""Entries and write properties to and from the JSON the journal stores."""

from __future__ import annotations

from typing import Any

from azxfer.models import BlobType, ContentProps, Entry, WriteProps


def entry_to_json(entry: Entry) -> dict[str, Any]:
    """A JSON-ready dict of an entry (MD5 as hex; tier, snapshot and version only if set)."""
    data = {
        "ref": entry.ref,
        "rel_path": entry.rel_path,
        "size": entry.size,
        "mtime": entry.mtime,
        "md5": entry.md5.hex() if entry.md5 else None,
        "etag": entry.etag,
        "blob_type": entry.blob_type.value if entry.blob_type else None,
        "content": content_to_json(entry.content) if entry.content else None,
        "metadata": entry.metadata,
    }
    optional = {"tier": entry.tier, "snapshot": entry.snapshot, "version_id": entry.version_id}
    data.update({key: value for key, value in optional.items() if value is not None})
    return data


def entry_from_json(data: dict[str, Any]) -> Entry:
    """The entry a dict from entry_to_json describes."""
    return Entry(
        ref=data["ref"],
        rel_path=data["rel_path"],
        size=data["size"],
        mtime=data["mtime"],
        md5=bytes.fromhex(data["md5"]) if data.get("md5") else None,
        etag=data.get("etag"),
        blob_type=BlobType(data["blob_type"]) if data.get("blob_type") else None,
        content=ContentProps(**data["content"]) if data.get("content") else None,
        metadata=data.get("metadata"),
        tier=data.get("tier"),
        snapshot=data.get("snapshot"),
        version_id=data.get("version_id"),
    )


def props_to_json(props: WriteProps) -> dict[str, Any]:
    """A JSON-ready dict of write properties."""
    return {
        "blob_type": props.blob_type.value,
        "content": content_to_json(props.content),
        "metadata": props.metadata,
        "tags": props.tags,
        "tier": props.tier,
        "mtime": props.mtime,
    }


def content_to_json(content: ContentProps) -> dict[str, str | None]:
    """A JSON-ready dict of content properties (written out: a generic asdict copies
    recursively, and the journal calls this twice per planned transfer)."""
    return {
        "content_type": content.content_type,
        "content_encoding": content.content_encoding,
        "content_language": content.content_language,
        "content_disposition": content.content_disposition,
        "cache_control": content.cache_control,
    }


def props_from_json(data: dict[str, Any]) -> WriteProps:
    """The write properties a dict from props_to_json describes."""
    return WriteProps(
        blob_type=BlobType(data["blob_type"]),
        content=ContentProps(**data["content"]),
        metadata=data.get("metadata"),
        tags=data.get("tags"),
        tier=data.get("tier"),
        mtime=data.get("mtime"),
    )
