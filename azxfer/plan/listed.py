"""Selecting the paths a bulk job names (--list-of-files, --include-path) without listing the
whole location: each named path is asked for as an exact blob, and listed as a `path/` prefix,
so 10 names in a container of 10 million cost a few requests, not its whole listing.

The entries and their relative paths are those the location's full listing, filtered by the
same filters, would select (an include path selects the object of that name and everything
under it): the job's filter decides each one, with its path relative to the location.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from msgspec.structs import replace

from azxfer.endpoints.base import NameFilter
from azxfer.endpoints.blob.endpoint import BlobEndpoint
from azxfer.models import Entry, Skipped

# Exact names asked for at once; the listing of each prefix then streams, one at a time, so
# memory holds one window of answers whatever the number of names.
STAT_WINDOW = 16


def covering(paths: Sequence[str]) -> list[str]:
    """The paths in name order without repeats or paths under another one (already selected
    with it): each object is selected once."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if kept and path.startswith(kept[-1] + "/"):
            continue
        kept.append(path)
    return kept


class _Under:
    """The job's filter, asked with paths relative to the location from a listing under
    `prefix` (relative to the location)."""

    def __init__(self, prefix: str, inner: NameFilter) -> None:
        self.prefix = prefix + "/"
        self.inner = inner

    def accepts(self, rel_path: str, mtime: float | None) -> bool:
        return self.inner.accepts(self.prefix + rel_path, mtime)

    def may_descend(self, rel_dir: str) -> bool:
        return self.inner.may_descend(self.prefix + rel_dir)


async def blob_paths(
    endpoint: BlobEndpoint, base: str, paths: Sequence[str], filters: NameFilter
) -> AsyncIterator[Entry | Skipped]:
    """The blobs under `base` (a virtual directory's prefix, '' for the container) that the
    named `paths` (relative to it) select, as `filters` decides."""
    named = covering(paths)
    for start in range(0, len(named), STAT_WINDOW):
        window = named[start : start + STAT_WINDOW]
        found = await asyncio.gather(*(endpoint.stat(base + path) for path in window))
        for path, entry in zip(window, found, strict=True):
            if entry is not None and not _marker(entry) and filters.accepts(path, entry.mtime):
                yield replace(entry, rel_path=path)
            under = _Under(path, filters)
            async for item in endpoint.list_entries(f"{base}{path}/", True, under):
                yield replace(item, rel_path=f"{path}/{item.rel_path}")


def _marker(entry: Entry) -> bool:
    """A folder's marker blob, which a listing never selects as an object."""
    return entry.size == 0 and (entry.metadata or {}).get("hdi_isfolder") == "true"
