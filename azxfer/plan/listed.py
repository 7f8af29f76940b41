"""Selecting the paths a bulk job names (--list-of-files, --include-path) without listing the
whole location: each named path is looked up (`NamedPaths.look_up`), and a folder of that name
listed, so 10 names in a location of 10 million objects cost a few requests, not its whole
listing.

The entries and their relative paths are those the location's full listing, filtered by the
same filters, would select (an include path selects the object of that name and everything
under it): the job's filter decides each one, with its path relative to the location. A name
that is nothing there selects nothing, as it would in the full listing; so does one with a
'.' or '..' part.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from msgspec.structs import replace

from azxfer.endpoints.base import NameFilter
from azxfer.endpoints.lookup import NamedPaths
from azxfer.models import Entry, Skipped

# Names looked up at once; the listing of each folder then streams, one at a time, so memory
# holds one window of answers whatever the number of names.
LOOKUP_WINDOW = 16


def covering(paths: Sequence[str]) -> list[str]:
    """The paths in name order without repeats or paths under another one (already selected
    with it): each object is selected once."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if kept and path.startswith(kept[-1] + "/"):
            continue
        kept.append(path)
    return kept


def _steps_aside(path: str) -> bool:
    """Whether `path` has a '.' or '..' part: no listing yields such a path, so it selects
    nothing (looked up, '../x' would name an object outside the location)."""
    return any(part in (".", "..") for part in path.split("/"))


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


async def named_paths(
    endpoint: NamedPaths, paths: Sequence[str], filters: NameFilter
) -> AsyncIterator[Entry | Skipped]:
    """The objects of the location that the named `paths` (relative to it) select, as
    `filters` decides."""
    named = [path for path in covering(paths) if not _steps_aside(path)]
    for start in range(0, len(named), LOOKUP_WINDOW):
        window = named[start : start + LOOKUP_WINDOW]
        answers = await asyncio.gather(*(endpoint.look_up(path) for path in window))
        for path, answer in zip(window, answers, strict=True):
            found = answer.found
            # A skipped object is said whatever the filters, as a walk says it.
            taken = isinstance(found, Skipped) or (
                found is not None and filters.accepts(path, found.mtime)
            )
            if found is not None and taken:
                yield replace(found, rel_path=path)
            if not answer.folder:
                continue
            async for item in endpoint.named_folder(path, _Under(path, filters)):
                yield replace(item, rel_path=f"{path}/{item.rel_path}")
