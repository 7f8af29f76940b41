"""`azxfer list` on Azure Files (`Lister`): a share, a directory, a file or a wildcard last
part; files and directories, one level or the whole tree, walked as a copy's listing is
(`listing.walk`) but asking List Directories and Files only for the properties shown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from msgspec.structs import replace

from azxfer.endpoints.base import NameFilter
from azxfer.endpoints.files.listing import walk
from azxfer.endpoints.listing import Listed, ListField, iso_time
from azxfer.errors import LocationError, NotFoundError
from azxfer.models import Entry, file_props

if TYPE_CHECKING:
    from azxfer.endpoints.files.endpoint import FilesEndpoint

_WILDCARD_CHARS = "*?["
_TIMES = frozenset(
    {
        ListField.LAST_MODIFIED,
        ListField.CREATION_TIME,
        ListField.LAST_WRITE_TIME,
        ListField.CHANGE_TIME,
    }
)
FILES_LIST_FIELDS = frozenset({*_TIMES, ListField.ETAG, ListField.ATTRIBUTES})


def list_include(fields: frozenset[ListField]) -> str:
    """The `include` of List Directories and Files that gives `fields` ('': names, sizes)."""
    include = []
    if fields & _TIMES:
        include.append("Timestamps")
    if ListField.ETAG in fields:
        include.append("ETag")
    if ListField.ATTRIBUTES in fields:
        include.append("Attributes")
    return ",".join(include)


async def list_file_items(
    endpoint: FilesEndpoint, recursive: bool, filters: NameFilter, fields: frozenset[ListField]
) -> AsyncIterator[Listed]:
    """The files and directories the endpoint's location names."""
    path = endpoint.location.path
    pattern: str | None = None
    if any(c in path for c in _WILDCARD_CHARS):
        path, _, pattern = path.rpartition("/")
        if any(c in path for c in _WILDCARD_CHARS):
            raise LocationError("wildcards are allowed only in the last part of a file path")
    elif path.strip("/"):
        path = path.strip("/")
        if not endpoint.location.path.endswith("/"):
            single = await endpoint.stat(path)
            if single is not None:
                leaf = path.rpartition("/")[2]
                yield _listed(replace(single, rel_path=leaf), fields)
                return
        exists = endpoint.rest.directory_exists(path)
        if not await endpoint._call(exists, f"directory '{path}'"):
            raise NotFoundError(f"no file or directory '{path}' in share {endpoint.where}")
    include = list_include(fields)

    async def list_page(directory: str, marker: str) -> bytes:
        return await endpoint.rest.list_page(directory, marker, include=include)

    found = walk(list_page, path, recursive, filters, pattern, folders=recursive, top_folders=True)
    try:
        async for entry in found:
            yield _listed(entry, fields)
    except Exception as exc:
        raise endpoint.explain(exc, f"listing share {endpoint.where}") from None


def _listed(entry: Entry, fields: frozenset[ListField]) -> Listed:
    smb = file_props(entry)
    given = {
        ListField.CREATION_TIME: smb.creation_time,
        ListField.LAST_WRITE_TIME: smb.last_write_time,
        ListField.CHANGE_TIME: smb.change_time,
        ListField.ATTRIBUTES: smb.attributes,
        ListField.ETAG: entry.etag,
        ListField.LAST_MODIFIED: iso_time(entry.mtime) if entry.mtime is not None else None,
    }
    shown = {field.value: value for field, value in given.items() if field in fields and value}
    return Listed(
        entry.rel_path, entry.size, is_directory=entry.is_folder, properties=shown or None
    )
