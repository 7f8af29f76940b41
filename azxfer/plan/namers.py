"""Destination names: what every namer offers the planners.

A destination driver that offers `DestinationNames` declares its service's `NameRules` (plain
data); the planner builds the namer that applies them (`plan.planner.namer_for`): a
`BlobNamer` (`plan.blobnames`) or a `FileNamer` (`plan.filenames`). The planners (copy and
sync) ask the namer for every source entry's stored name, never knowing the service:

- `name(entry)`: the stored relative name, or why the entry cannot be sent (another source
  has that name);
- `stored(path)`: a path given whole (a single file's target, an --as-subdir folder);
- `reason(source)`: why `source` is stored under another name (said with the translation);
- `refusal(dest_ref)`: why a destination reference cannot be stored at all (too long).
"""

from __future__ import annotations

from typing import Protocol

from msgspec import Struct

from azxfer.models import Entry


class StoredName(Struct, frozen=True):
    """The relative name a source entry gets at the destination, and why it cannot be sent
    (if so)."""

    rel: str
    conflict: str | None = None


class Namer(Protocol):
    """Names of one job's source entries as the destination's service stores them."""

    def name(self, entry: Entry) -> StoredName:
        """The stored name of `entry` (relative, as `entry.rel_path` is)."""

    def stored(self, path: str) -> str:
        """`path` ('/'-separated, given whole) as the service stores it."""

    def reason(self, source: str) -> str:
        """Why `source` is stored under another name."""

    def refusal(self, dest_ref: str) -> str | None:
        """Why the object at `dest_ref` cannot be stored (nothing is sent), or None."""
