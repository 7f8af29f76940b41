"""`azxfer list` on a local path (`Lister`): a folder (its files and folders, one level or
the whole tree), a file, or a wildcard last part; the same walk a copy's listing uses."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from azxfer.endpoints.base import NameFilter
from azxfer.endpoints.listing import Listed, ListField, iso_time
from azxfer.endpoints.local.walker import Walker, threaded
from azxfer.errors import LocationError
from azxfer.models import Entry

LOCAL_LIST_FIELDS = frozenset({ListField.LAST_MODIFIED})


async def list_local_items(
    path: str,
    pattern: str | None,
    recursive: bool,
    filters: NameFilter,
    fields: frozenset[ListField],
) -> AsyncIterator[Listed]:
    """The files and folders under `path` (matching `pattern` at the top, if given);
    symbolic links and special files are not listed, as a copy does not take them."""
    walker = Walker(filters, recursive, False, folders=True, top_folders=True)
    if pattern is not None:
        if not os.path.isdir(path):
            raise LocationError(f"local folder '{path}' does not exist")
        found = threaded(walker.walk_pattern(path, pattern))
    elif os.path.isdir(path):
        found = threaded(walker.walk_dir(path, ""))
    elif os.path.isfile(path):
        st = os.stat(path)
        yield _listed(Entry(path, os.path.basename(path), st.st_size, st.st_mtime), fields)
        return
    else:
        raise LocationError(f"local path '{path}' does not exist")
    async for item in found:
        if isinstance(item, Entry):
            yield _listed(item, fields)


def _listed(entry: Entry, fields: frozenset[ListField]) -> Listed:
    shown = (
        {ListField.LAST_MODIFIED.value: iso_time(entry.mtime)}
        if ListField.LAST_MODIFIED in fields and entry.mtime is not None
        else None
    )
    return Listed(entry.rel_path, entry.size, is_directory=entry.is_folder, properties=shown)
