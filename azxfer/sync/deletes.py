"""The last step of a sync: deleting the destination entries that are not in the source
(--delete-destination).

Deletes happen only after every copy finished, only if both listings completed and no copy
failed, and only within --max-delete (with `prompt`, once confirmed). Items a listing
skipped protect the destination entries of the same path (and below): see `ExtraTable`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from azxfer.endpoints.base import DirectoryDeletes, Endpoint
from azxfer.endpoints.bulkcaps import BulkOutcome
from azxfer.engine.bulk import BulkActions, paged
from azxfer.engine.folderdeletes import FolderOutcome, delete_by_depth
from azxfer.errors import AzxferError
from azxfer.events import Event, EventSink, Notice
from azxfer.models import Entry, JobTotals
from azxfer.plan.bulk import REMOVE, BulkOperation
from azxfer.sync.extra import ExtraTable
from azxfer.sync.options import SyncOptions
from azxfer.sync.summary import SyncStats

# Asked with the number of destination entries to delete; True means go ahead.
AskDelete = Callable[[int], bool]


class Deleted(Event, frozen=True):
    """A destination entry not in the source was deleted (or, in a dry run, would be)."""

    kind: ClassVar[str] = "deleted"
    destination: str
    dry_run: bool
    outcome: str = "completed"  # or "failed"
    reason: str | None = None
    folder: bool = False  # a folder the source lacks (deleted after its files)


class ExtraDeletes:
    """Deletes a sync's destination-only entries, when every safety rail allows it."""

    def __init__(
        self, options: SyncOptions, ask: AskDelete | None, stats: SyncStats, sink: EventSink
    ) -> None:
        self.options = options
        self.ask = ask
        self.stats = stats
        self.sink = sink

    async def run(self, dest: Endpoint, extra: ExtraTable, totals: JobTotals) -> None:
        """Delete (in a dry run, report) every unprotected extra entry, or note why not."""
        count = extra.count()
        self.stats.extra = count
        if self._allowed(count, totals):
            await self._delete_all(dest, extra)
            if isinstance(dest, DirectoryDeletes):
                await self._delete_folders(dest, extra)

    def _allowed(self, count: int, totals: JobTotals) -> bool:
        """Whether to delete `count` entries; if not, the reason is noted (and said when it
        is not what was asked for). More than --max-delete is an error."""
        stats = self.stats
        mode = self.options.delete_destination
        if mode != "false" and count == 0 and not stats.incomplete and not totals.files_failed:
            return mode == "true" or self.options.copy.dry_run  # folders only: no prompt
        if count == 0 or mode == "false":
            if count and mode == "false":
                stats.note = f"{count} destination entries not in the source were kept"
            return False
        if stats.incomplete:
            stats.note = "nothing deleted: a listing was incomplete"
            self.sink.emit(
                Notice(
                    "warning",
                    f"not deleting: a listing was incomplete ({stats.incomplete[0]})",
                )
            )
            return False
        if totals.files_failed:
            stats.note = "nothing deleted: some copies failed"
            self.sink.emit(Notice("warning", f"not deleting: {totals.files_failed} copies failed"))
            return False
        self._check_limit(count)
        dry = self.options.copy.dry_run
        declined = mode == "prompt" and not dry and not (self.ask and self.ask(count))
        if declined:
            stats.note = "nothing deleted: declined at the prompt"
            self.sink.emit(Notice("info", f"kept {count} destination entries (declined)"))
            return False
        return True

    def _check_limit(self, count: int) -> None:
        stats = self.stats
        limit = self.options.max_delete
        if limit.exceeded(count, stats.dest_total):
            share = 100 * count / max(stats.dest_total, 1)
            stats.note = "nothing deleted: more than --max-delete"
            raise AzxferError(
                f"refusing to delete {count} of {stats.dest_total} destination entries "
                f"({share:.0f}%): more than --max-delete {limit.describe()}; nothing was "
                "deleted (raise --max-delete to allow it)"
            )

    async def _delete_all(self, dest: Endpoint, extra: ExtraTable) -> None:
        """Delete the extra entries as `azxfer remove` does (`engine.bulk`): in Blob Batches
        of 256 where the service takes them, else one request each, a page at a time (so a
        large destination does not make a task per entry at once). A blob goes with its
        snapshots, as a blob the source lacks does."""
        stats = self.stats
        if self.options.copy.dry_run:
            for _, display in extra.candidates():
                self.sink.emit(Deleted(display, True))
            return
        operation = BulkOperation(REMOVE, snapshots="include")
        actions = BulkActions(dest, operation, self._concurrency())

        def done(page: Sequence[tuple[str, str]], outcomes: Sequence[BulkOutcome]) -> None:
            for (_, display), outcome in zip(page, outcomes, strict=True):
                if outcome is None:
                    stats.deleted += 1
                    self.sink.emit(Deleted(display, False))
                else:
                    stats.delete_failed += 1
                    self.sink.emit(Deleted(display, False, "failed", str(outcome)))

        pages = paged(extra.candidates(), actions.page_size)
        await actions.run_pages(pages, lambda item: Entry(item[0], item[1], 0), done)
        stats.deletes_done = True

    async def _delete_folders(self, dest: DirectoryDeletes, extra: ExtraTable) -> None:
        """Delete the folders the source lacks, a depth at a time, deepest first (a parent
        can go only once its children are gone; `engine.folderdeletes`). One that still
        holds something (a file the filters left out, a failed delete) stays, and is said."""
        if self.options.copy.dry_run:
            for _, _, display in extra.folder_candidates():
                self.sink.emit(Deleted(display, True, folder=True))
            return
        await delete_by_depth(
            extra.folder_candidates(),
            lambda folder: folder[0],
            lambda folder: dest.delete_directory(folder[1]),
            self._folder_done,
            self._concurrency(),
        )

    def _folder_done(self, folder: tuple[int, str, str], outcome: FolderOutcome) -> None:
        stats, display = self.stats, folder[2]
        if isinstance(outcome, AzxferError):
            stats.delete_failed += 1
            self.sink.emit(Deleted(display, False, "failed", str(outcome), folder=True))
        elif outcome:
            stats.folders_deleted += 1
            self.sink.emit(Deleted(display, False, folder=True))
        else:
            stats.folders_kept += 1
            self.sink.emit(
                Notice(
                    "info",
                    f"kept folder '{display}': it holds entries this sync does not "
                    "select (or could not delete)",
                )
            )

    def _concurrency(self) -> int:
        """Deletes in flight at once: the job's concurrency, at most 64 (as `remove`)."""
        return max(1, min(self.options.copy.engine.concurrency, 64))
