"""Blobs as entries: from the REST path's listing or the SDK's properties, and the names
snapshots are copied under."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from msgspec.structs import replace

from azxfer.endpoints.blob.listed import ListedBlob
from azxfer.models import BlobProps, BlobType, ContentProps, Entry, EntryKind, Skipped
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


def slashed(rel: str, delimiter: str) -> str:
    """`rel` with '/' for each `delimiter` (virtual directories separated by another
    character, AzCopy v8's /Delimiter); the usual '/' costs nothing."""
    return rel if delimiter == "/" else rel.replace(delimiter, "/")


def is_folder_marker(props: Any) -> bool:
    metadata = getattr(props, "metadata", None) or {}
    return props.size == 0 and metadata.get("hdi_isfolder") == "true"


def folder_from_marker(entry: Entry) -> Entry:
    """The folder a marker blob stands for: 'a/b' with `hdi_isfolder=true`, or a zero-byte
    'a/b/'. Whether anything lies under it is not known while listing."""
    return replace(entry, rel_path=entry.rel_path.rstrip("/"), kind=EntryKind.FOLDER)


class FolderOrder:
    """Puts the folders of a name-ordered listing where a walk puts them (`walk_sort_key`:
    a folder sorts as its name followed by '/'), so a sorted listing stays in merge order.

    A marker 'a/b' is listed before 'a/b-c' and 'a/b.txt', which sort before 'a/b/': it is
    held until the listing passes 'a/b/'. Only the folders listed but not yet passed are
    held; a folder listed twice (a marker and a zero-byte 'a/b/') comes once.
    """

    def __init__(self) -> None:
        self.held: list[tuple[bytes, Entry]] = []  # (key, folder) in key order

    def hold(self, folder: Entry) -> None:
        """Keep `folder` until the listing passes its place."""
        key = _key(folder.rel_path) + b"/"
        held = self.held
        if any(k == key for k, _ in held):
            return
        held.append((key, folder))
        held.sort(key=lambda pair: pair[0])

    def before(self, entry: Entry) -> list[Entry]:
        """The held folders that go before file `entry` (one of the same key is dropped:
        the file 'a/b/' with data has the place of the folder 'a/b')."""
        key = _key(entry.rel_path)
        ready = []
        while self.held and self.held[0][0] <= key:
            held_key, folder = self.held.pop(0)
            if held_key != key:
                ready.append(folder)
        return ready

    def rest(self) -> list[Entry]:
        """The folders still held when the listing ends."""
        folders = [folder for _, folder in self.held]
        self.held.clear()
        return folders


def _key(rel_path: str) -> bytes:
    """The byte order Blob storage lists names in (that of `plan.sync.sync_key`)."""
    return rel_path.encode("utf-8", "surrogatepass")


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
