"""Entries and write properties to and from the JSON the journal stores.

A service's own properties (`Entry.service`, `WriteProps.service`) are stored opaquely, as the
tagged msgspec Struct they are (`{"type": "blob", ...}`): this module knows no service's
fields. Journals written before they moved there keep the Blob fields at the top level; those
still decode (`_old_entry_service`, `_old_props_service`), so their jobs resume.
"""

from __future__ import annotations

from typing import Any

import msgspec

from azxfer.models import (
    BlobProps,
    BlobType,
    ContentProps,
    Entry,
    EntryKind,
    ServiceProps,
    WriteProps,
)


def entry_to_json(entry: Entry) -> dict[str, Any]:
    """A JSON-ready dict of an entry (MD5 as hex; the service's properties only if any)."""
    data = {
        "ref": entry.ref,
        "rel_path": entry.rel_path,
        "size": entry.size,
        "mtime": entry.mtime,
        "md5": entry.md5.hex() if entry.md5 else None,
        "etag": entry.etag,
        "content": content_to_json(entry.content) if entry.content else None,
        "metadata": entry.metadata,
    }
    if entry.service is not None:
        data["service"] = service_to_json(entry.service)
    if entry.kind is not EntryKind.FILE:  # files, nearly every entry, store no kind
        data["kind"] = entry.kind.value
    return data


def entry_from_json(data: dict[str, Any]) -> Entry:
    """The entry a dict from entry_to_json (of this or an earlier version) describes."""
    service = data.get("service")
    return Entry(
        ref=data["ref"],
        rel_path=data["rel_path"],
        size=data["size"],
        mtime=data["mtime"],
        md5=bytes.fromhex(data["md5"]) if data.get("md5") else None,
        etag=data.get("etag"),
        content=ContentProps(**data["content"]) if data.get("content") else None,
        metadata=data.get("metadata"),
        service=service_from_json(service) if service else _old_entry_service(data),
        kind=EntryKind(data["kind"]) if "kind" in data else EntryKind.FILE,
    )


def props_to_json(props: WriteProps) -> dict[str, Any]:
    """A JSON-ready dict of write properties."""
    return {
        "content": content_to_json(props.content),
        "metadata": props.metadata,
        "mtime": props.mtime,
        "service": service_to_json(props.service) if props.service is not None else None,
    }


def props_from_json(data: dict[str, Any]) -> WriteProps:
    """The write properties a dict from props_to_json (of this or an earlier version)
    describes."""
    if "service" in data:
        service = service_from_json(data["service"]) if data["service"] else None
    else:
        service = _old_props_service(data)
    return WriteProps(
        content=ContentProps(**data["content"]),
        metadata=data.get("metadata"),
        mtime=data.get("mtime"),
        service=service,
    )


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


def service_to_json(service: ServiceProps) -> dict[str, Any]:
    """A JSON-ready dict of a service's properties, tagged with the service ("type")."""
    return msgspec.to_builtins(service)


def service_from_json(data: dict[str, Any]) -> ServiceProps:
    """The service properties a dict from service_to_json describes."""
    return msgspec.convert(data, ServiceProps)


def _old_entry_service(data: dict[str, Any]) -> BlobProps | None:
    """The Blob properties of an entry journaled with them at the top level (None if it
    had none: a local file)."""
    blob_type, tier = data.get("blob_type"), data.get("tier")
    snapshot, version_id = data.get("snapshot"), data.get("version_id")
    if not (blob_type or tier or snapshot or version_id):
        return None
    return BlobProps(
        blob_type=BlobType(blob_type) if blob_type else None,
        tier=tier,
        snapshot=snapshot,
        version_id=version_id,
    )


def _old_props_service(data: dict[str, Any]) -> BlobProps:
    """The Blob properties of write properties journaled with them at the top level (they
    always named a blob type, even for a download, where it was never read)."""
    return BlobProps(
        blob_type=BlobType(data["blob_type"]), tier=data.get("tier"), tags=data.get("tags")
    )
