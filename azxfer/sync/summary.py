"""What a sync counts as it goes, and the summary event it ends with."""

from __future__ import annotations

from typing import ClassVar

from msgspec import Struct, field

from azxfer.events import Event
from azxfer.models import JobTotals


class SyncSummary(Event, frozen=True):
    """What the sync did, sent just before job_finished."""

    kind: ClassVar[str] = "sync_summary"
    copied: int
    skipped_identical: int
    failed: int
    extra_at_destination: int
    deleted: int
    delete_failed: int
    deletes_done: bool
    note: str | None = None
    hashed: int = 0
    hashes_cached: int = 0
    folders_deleted: int = 0
    folders_kept: int = 0  # folders the source lacks that still held something


class SyncStats(Struct):
    """The sync's own counts (the engine counts the transfers)."""

    identical: int = 0
    hashed: int = 0
    hashes_cached: int = 0
    dest_total: int = 0
    extra: int = 0
    deleted: int = 0
    delete_failed: int = 0
    deletes_done: bool = False
    folders_deleted: int = 0
    folders_kept: int = 0
    incomplete: list[str] = field(default_factory=list)
    note: str | None = None

    def summary(self, totals: JobTotals) -> SyncSummary:
        """The summary event of a sync that ended with these transfer totals."""
        return SyncSummary(
            copied=totals.files_completed,
            skipped_identical=self.identical,
            failed=totals.files_failed,
            extra_at_destination=self.extra,
            deleted=self.deleted,
            delete_failed=self.delete_failed,
            deletes_done=self.deletes_done,
            note=self.note,
            hashed=self.hashed,
            hashes_cached=self.hashes_cached,
            folders_deleted=self.folders_deleted,
            folders_kept=self.folders_kept,
        )
