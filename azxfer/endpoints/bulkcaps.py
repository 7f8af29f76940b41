"""The capabilities bulk jobs use: deleting, re-tiering and re-labelling many objects in place.

`remove`, `set-properties` and sync's deletes (`engine.bulk`, `sync.deletes`) pick these by
capability, once per job; they live apart from the transfer contract in `endpoints.base`
because no copy uses them and only the Blob driver offers most of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from azxfer.errors import AzxferError
from azxfer.models import Entry

# What a bulk remove does with a blob's snapshots: None (a blob that has some fails, as the
# service says), "include" (the blob and its snapshots), "only" (the snapshots; the blob stays).
SnapshotRule = str | None

# The outcome of one object of a bulk operation: None when done, else why not.
BulkOutcome = AzxferError | None


@runtime_checkable
class BatchDeleter(Protocol):
    """A service that deletes many objects in one request (Blob Batch) and knows snapshots.

    Answers one outcome per entry, in order; an object already gone counts as deleted (a resumed
    job deletes again what its killed run may have deleted). One failing fails only itself."""

    batch_size: int  # entries per call that make one request

    async def delete_many(
        self, entries: Sequence[Entry], snapshots: SnapshotRule
    ) -> list[BulkOutcome]:
        """Delete each object of `entries` (with `snapshots`; an entry that is itself a
        snapshot or version is deleted alone)."""


@runtime_checkable
class TierSetter(Protocol):
    """Objects with an access tier that can be changed in place (Set Blob Tier, batched)."""

    batch_size: int

    async def set_tiers(
        self, entries: Sequence[Entry], tier: str, rehydrate: str | None
    ) -> list[BulkOutcome]:
        """Give each entry `tier` (from Archive with `rehydrate` priority, if given)."""


@runtime_checkable
class MetadataSetter(Protocol):
    """Objects whose metadata can be replaced in place (Set Blob Metadata)."""

    async def set_metadata(self, ref: str, metadata: dict[str, str]) -> None:
        """Replace the object's metadata with `metadata` (empty: none)."""


@runtime_checkable
class TagSetter(Protocol):
    """Objects whose index tags can be replaced in place (Set Blob Tags)."""

    async def set_tags(self, ref: str, tags: dict[str, str]) -> None:
        """Replace the object's tags with `tags` (empty: none)."""
