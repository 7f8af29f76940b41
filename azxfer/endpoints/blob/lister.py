"""`azxfer list` on Blob storage (`Lister`): a container, a virtual directory, a name prefix or
a wildcard, one level (virtual directories as entries) or every blob, streamed page by page
from List Blobs with only the datasets the asked properties need."""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import unquote
from xml.etree import ElementTree

from azxfer.endpoints.base import NameFilter
from azxfer.endpoints.blob.listed import http_date_seconds
from azxfer.endpoints.listing import Listed, ListField, iso_time
from azxfer.errors import CredentialError, LocationError, UsageError

if TYPE_CHECKING:
    from azxfer.endpoints.blob.endpoint import BlobEndpoint

_WILDCARD_CHARS = "*?["

# The properties a listing gives, by the child of a listed blob's <Properties> holding each
# (LastModifiedTime and Metadata are read apart: a time is shown as ISO 8601, metadata is a map).
_PROPERTY_TAGS = {
    ListField.BLOB_TYPE: "BlobType",
    ListField.ACCESS_TIER: "AccessTier",
    ListField.CONTENT_TYPE: "Content-Type",
    ListField.CONTENT_ENCODING: "Content-Encoding",
    ListField.CONTENT_MD5: "Content-MD5",
    ListField.LEASE_STATE: "LeaseState",
    ListField.LEASE_DURATION: "LeaseDuration",
    ListField.LEASE_STATUS: "LeaseStatus",
    ListField.ARCHIVE_STATUS: "ArchiveStatus",
    ListField.ETAG: "Etag",
    ListField.CREATION_TIME: "Creation-Time",
}
BLOB_LIST_FIELDS = frozenset(
    {*_PROPERTY_TAGS, ListField.LAST_MODIFIED, ListField.VERSION_ID, ListField.METADATA}
)


class _Scope:
    """Where a listing looks: the names under `base` (shown relative to it) that start with
    `prefix`, the first part of each matching `pattern` if one is given."""

    def __init__(self, base: str, prefix: str = "", pattern: str | None = None) -> None:
        self.base = base
        self.prefix = prefix
        self.pattern = pattern


async def list_blob_items(
    endpoint: BlobEndpoint, recursive: bool, filters: NameFilter, fields: frozenset[ListField]
) -> AsyncIterator[Listed]:
    """The blobs (and, one level deep, virtual directories) the endpoint's location names."""
    location = endpoint.location
    if location.snapshot or location.version_id:
        raise UsageError("list takes a container, directory, prefix or blob, not a snapshot")
    rest = endpoint.rest
    assert rest is not None  # every BlobEndpoint a job builds has the REST path
    include = "metadata" if ListField.METADATA in fields else ""
    scope = await _scope(endpoint, location.path)
    what = f"listing container {endpoint.where}"
    if scope is None:  # the path names one blob: list it from its own listing entry
        async for item in _single(endpoint, location.path, include, fields, what):
            yield item
        return
    delimiter = None if recursive else "/"
    start = scope.base + scope.prefix
    base_length = len(scope.base)
    shown_dirs: set[str] | None = None if recursive else set()
    try:
        async for raw in rest.list_pages(location.container, start, delimiter, include):
            items = _page_items(raw, base_length, fields, scope.pattern, filters, shown_dirs)
            for item in items:
                yield item
    except Exception as exc:
        raise endpoint.classify(exc, what) from None


async def _scope(endpoint: BlobEndpoint, path: str) -> _Scope | None:
    """The scope `path` names, or None when it names one blob (as a copy resolves it)."""
    if any(c in path for c in _WILDCARD_CHARS):
        folder, _, pattern = path.rpartition("/")
        if any(c in folder for c in _WILDCARD_CHARS):
            raise LocationError("wildcards are allowed only in the last part of a blob path")
        base = f"{folder}/" if folder else ""
        # Only names starting with the pattern's literal head can match: list just those.
        head = len(pattern)
        for char in _WILDCARD_CHARS:
            if char in pattern:
                head = min(head, pattern.index(char))
        return _Scope(base, pattern[:head], pattern)
    if not path or path.endswith("/"):
        return _Scope(path)
    try:
        if await endpoint.stat(path) is not None:
            return None
    except CredentialError:
        # A SAS that may list but not read (sp=l) cannot look at one blob: the listing
        # that follows tells whether the credential lists at all.
        pass
    assert endpoint.rest is not None
    try:
        is_folder = await endpoint.rest.has_blobs(endpoint.location.container, path + "/")
    except Exception as exc:
        raise endpoint.classify(exc, f"listing container {endpoint.where}") from None
    if is_folder:
        return _Scope(path + "/")
    # Neither a blob nor a virtual directory: a name prefix, as AzCopy's list takes it.
    folder = path.rpartition("/")[0]
    base = f"{folder}/" if folder else ""
    return _Scope(base, path[len(base) :])


async def _single(
    endpoint: BlobEndpoint, name: str, include: str, fields: frozenset[ListField], what: str
) -> AsyncIterator[Listed]:
    """The one blob `name`, with its properties as a listing gives them (its name sorts first
    among those it prefixes, so the first page's first entry is it)."""
    assert endpoint.rest is not None
    base_length = len(name) - len(name.rpartition("/")[2])
    try:
        pages = endpoint.rest.list_pages(endpoint.location.container, name, None, include)
        async for raw in pages:
            for node in ElementTree.fromstring(raw).iterfind("Blobs/Blob"):
                if _name(node) == name:
                    yield _blob(node, base_length, fields)
                return
    except Exception as exc:
        raise endpoint.classify(exc, what) from None


def _page_items(
    raw: bytes,
    base_length: int,
    fields: frozenset[ListField],
    pattern: str | None,
    filters: NameFilter,
    shown_dirs: set[str] | None,
) -> list[Listed]:
    """The selected entries of one List Blobs page, in its order (virtual directories, which
    only a one-level listing has, among the blobs). `shown_dirs` (one-level listings): the
    folder markers listed so far, so the virtual directory of a marker's blobs is not listed
    a second time."""
    blobs = ElementTree.fromstring(raw).find("Blobs")
    nodes = list(blobs) if blobs is not None else []
    if shown_dirs is not None:
        # Azure interleaves a page's virtual directories with its blobs in name order;
        # Azurite sends them first: one order for both (a page is at most 5,000 entries).
        nodes.sort(key=_name)
    selected: list[Listed] = []
    for node in nodes:
        if node.tag == "BlobPrefix":
            rel = _name(node)[base_length:].rstrip("/")
            shown = shown_dirs is not None and rel in shown_dirs
            if rel and not shown and _matches(rel, pattern) and filters.may_descend(rel):
                selected.append(Listed(rel, 0, is_directory=True))
            continue
        if node.tag != "Blob":
            continue
        item = _blob(node, base_length, fields)
        if not item.name or not _matches(item.name.partition("/")[0], pattern):
            continue
        if item.is_directory:
            if filters.may_descend(item.name):
                selected.append(item)
                if shown_dirs is not None:
                    shown_dirs.add(item.name)
        elif filters.accepts(item.name, _mtime(node)):
            selected.append(item)
    return selected


def _matches(name: str, pattern: str | None) -> bool:
    return pattern is None or fnmatch.fnmatchcase(name, pattern)


def _name(node: ElementTree.Element) -> str:
    found = node.find("Name")
    name = (found.text if found is not None else None) or ""
    if found is not None and found.get("Encoded") == "true":
        # A name holding characters XML 1.0 cannot carry is sent percent-encoded.
        name = unquote(name)
    return name


def _mtime(node: ElementTree.Element) -> float | None:
    modified = node.findtext("Properties/Last-Modified")
    return http_date_seconds(modified) if modified else None


def _blob(node: ElementTree.Element, base_length: int, fields: frozenset[ListField]) -> Listed:
    """A listed blob; a folder marker (zero bytes, named 'a/' or with metadata
    hdi_isfolder=true) is the directory it stands for."""
    name = _name(node)
    props_node = node.find("Properties")
    props = {child.tag: child.text or "" for child in props_node} if props_node is not None else {}
    size = int(props.get("Content-Length") or 0)
    metadata_node = node.find("Metadata")
    metadata = (
        {child.tag: child.text or "" for child in metadata_node}
        if metadata_node is not None
        else None
    )
    marker = size == 0 and (name.endswith("/") or (metadata or {}).get("hdi_isfolder") == "true")
    shown: dict[str, str] = {}
    for field in fields:
        tag = _PROPERTY_TAGS.get(field)
        if tag is not None and props.get(tag):
            shown[field.value] = props[tag]
    if ListField.LAST_MODIFIED in fields and props.get("Last-Modified"):
        shown[ListField.LAST_MODIFIED.value] = iso_time(http_date_seconds(props["Last-Modified"]))
    if ListField.VERSION_ID in fields and node.findtext("VersionId"):
        shown[ListField.VERSION_ID.value] = node.findtext("VersionId") or ""
    return Listed(
        name[base_length:].rstrip("/") if marker else name[base_length:],
        0 if marker else size,
        is_directory=marker,
        properties=shown or None,
        metadata=metadata if ListField.METADATA in fields else None,
    )
