"""Finding objects by name without listing the folders above them: the capability behind a
bulk job's named paths (--list-of-files, --include-path of `remove` and `set-properties`), so
ten names on a location of millions cost a few requests, not its whole listing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from msgspec import Struct

from azxfer.endpoints.base import NameFilter
from azxfer.models import Entry, Skipped


class Named(Struct, frozen=True):
    """What a path names: `found`, the object of that name (an `Entry`, a `Skipped` saying
    why it is not taken, or None), and `folder`, whether a folder of that name may hold
    objects (to be listed with `NamedPaths.named_folder`)."""

    found: Entry | Skipped | None
    folder: bool


@runtime_checkable
class NamedPaths(Protocol):
    """A location whose objects can be looked up by their path relative to it."""

    async def look_up(self, rel_path: str) -> Named:
        """What `rel_path` ('/'-separated, relative to the location) names; one or two
        requests, whatever the location holds."""

    def named_folder(self, rel_path: str, filters: NameFilter) -> AsyncIterator[Entry | Skipped]:
        """Every object under the folder `rel_path` (relative to the location), its rel_path
        relative to that folder, as `filters` (asked with such paths) selects; nothing if
        there is no such folder."""
