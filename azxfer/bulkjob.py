"""The library facade of bulk operations over a filtered listing: `run_bulk(options, sink,
spec, ask)` removes the selected objects (`azxfer remove`) or changes their tier, metadata
or tags (`azxfer set-properties`), and returns a `JobResult` (exit codes as for copy).

One job for both, on the shared core: the location's driver selects as a copy source does
(`plan.bulk`), the journal records every selected object before anything is done to it and
each outcome after (`journal.bulkrecord`), and `engine.bulk` acts on pages of objects with
the service's batch requests where it has them. Events: JobStarted, one `Deleted` (remove) or
`PropertiesSet` per object, `BulkSummary`, JobFinished.

A remove of more objects than --max-delete allows (a count, or a share of the objects listed
at the location, sync's rule) asks `ask` first, and without one (no terminal) or without a
yes refuses with one error line naming --force; nothing is removed then, and no journal is
kept. `spec.resume` continues a journaled job: acting on the objects its journal holds as not
yet done (the listing is not repeated once complete; a listing cut short is listed again).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from azxfer.endpoints.base import (
    BulkOutcome,
    Destination,
    DirectoryDeletes,
    Endpoint,
    FolderSource,
    SelectionKind,
)
from azxfer.endpoints.factory import JobConnections, endpoint_for
from azxfer.engine.bulk import BulkActions
from azxfer.errors import AzxferError, UsageError
from azxfer.events import (
    BulkSummary,
    EventSink,
    JobFinished,
    JobStarted,
    Notice,
    PropertiesSet,
    Retrying,
)
from azxfer.jobrun import JobResult, JobSpec, new_job_id
from azxfer.journal.bulkrecord import BulkJournal, is_folder
from azxfer.journal.crash import CrashHook
from azxfer.journal.store import Journal
from azxfer.locations import redact
from azxfer.models import Entry, EntryKind, JobTotals, Skipped
from azxfer.plan.bulk import (
    REMOVE,
    SET_PROPERTIES,
    BulkOperation,
    BulkOptions,
    CountingFilter,
    check_found,
    check_operation,
    check_selection,
    with_list_of_files,
)
from azxfer.sync.deletes import Deleted

__all__ = [
    "REMOVE",
    "SET_PROPERTIES",
    "BulkOperation",
    "BulkOptions",
    "JobSpec",
    "new_job_id",
    "run_bulk",
    "with_list_of_files",
]

# Asked with (objects to remove, objects listed at the location); True means go ahead.
AskRemove = Callable[[int, int], bool]
# Failures named in the final event (every one is counted).
_NAMED_FAILURES = 50


def run_bulk(
    options: BulkOptions, sink: EventSink, spec: JobSpec, ask: AskRemove | None = None
) -> JobResult:
    """Run a bulk job to its end (blocking)."""
    return asyncio.run(BulkJob(options, sink, spec, ask).run())


class _Counts:
    """What a bulk job did (or, in a dry run, would do)."""

    def __init__(self) -> None:
        self.selected = 0  # objects (not folders) selected by the listing of this run
        self.done = 0
        self.bytes = 0
        self.failed: list[tuple[str, str]] = []
        self.failed_count = 0
        self.folders_removed = 0
        self.folders_kept = 0


class BulkJob:
    """One run of a bulk job: its journal, connections, events and result."""

    def __init__(
        self, options: BulkOptions, sink: EventSink, spec: JobSpec, ask: AskRemove | None
    ) -> None:
        self.options = options
        self.operation = options.operation
        self.sink = sink
        self.spec = spec
        self.ask = ask
        self.journal: Journal | None = None
        self.records: BulkJournal | None = None
        self.counts = _Counts()
        self.acting = False  # whether objects were (or may have been) acted on

    async def run(self) -> JobResult:
        """Run the job, reporting its start and end."""
        options, spec = self.options, self.spec
        connections = JobConnections.for_job(
            (options.location,), options.concurrency, spec.env or {}, self._on_retry
        )
        started = time.monotonic()
        self._open_journal()
        credential = options.credential.describe() if options.credential else ""
        self.sink.emit(
            JobStarted(
                spec.job_id,
                spec.command,
                options.location.display,
                "",
                options.dry_run,
                source_credential=credential,
            )
        )
        status, error = "Completed", None
        try:
            status = await self._execute(connections)
        except UsageError:
            self._close_journal("Failed", discard=not self.acting)
            raise
        except AzxferError as exc:
            status, error = "Failed", str(exc)
        finally:
            await connections.close()
        return self._finish(status, error, time.monotonic() - started)

    # -- the job -----------------------------------------------------------------------------

    async def _execute(self, connections: JobConnections) -> str:
        options, spec = self.options, self.spec
        endpoint = endpoint_for(options.location, options.credential, connections, spec.job_id)
        check_operation(endpoint, options)
        actions = BulkActions(endpoint, self.operation, options.concurrency)
        resumed = self.records is not None and spec.resume and self.records.enumerated
        if not resumed:
            self._check_limit(await self._list(endpoint))
            if options.dry_run:
                return "DryRun"
            assert self.records is not None
            self.records.listed()
        self.acting = True
        await self._act(actions)
        return self._status()

    async def _list(self, endpoint: Endpoint) -> int:
        """List the selection into the journal (a dry run: report each object); the number
        of objects the listing found at the location, selected or not."""
        options = self.options
        filters = CountingFilter(options.filters)
        # A whole tree (no filters) is removed with its folders, once they are empty.
        tree = self.operation.removes and options.recursive and options.filters.is_empty
        if tree and isinstance(endpoint, FolderSource):
            endpoint.lists_folders = True
        selection = await endpoint.select(options.recursive, filters, False)
        check_selection(selection.kind, options)
        check_found(selection.kind, options.location)
        async for item in selection.items:
            if isinstance(item, Skipped):
                self.sink.emit(Notice("info", f"skipped '{item.rel_path}': {item.reason}"))
                continue
            if is_folder(item) and not tree:
                continue
            self._selected(item)
        if tree and selection.kind is SelectionKind.DIRECTORY:
            root = _tree_root(endpoint)
            if root:
                self._selected(Entry(root, "", 0, kind=EntryKind.FOLDER))
        return filters.seen

    def _selected(self, entry: Entry) -> None:
        if not is_folder(entry):
            self.counts.selected += 1
        if self.options.dry_run:
            self._report(entry, None)
        else:
            assert self.records is not None
            self.records.add(entry)

    def _check_limit(self, listed: int) -> None:
        """More removes than --max-delete allows go ahead only with --force or a yes."""
        options, count = self.options, self.counts.selected
        if not self.operation.removes or options.force or count <= 1:
            return
        limit = options.max_delete
        if not limit.exceeded(count, listed):
            return
        share = 100 * count / max(listed, 1)
        said = (
            f"{count} of {listed} objects ({share:.0f}%) is more than --max-delete "
            f"{limit.describe()}"
        )
        if options.dry_run:
            self.sink.emit(Notice("warning", f"{said}: a real run would ask, or need --force"))
            return
        if self.ask is None:
            raise AzxferError(f"refusing to remove {said}; nothing was removed (give --force)")
        if not self.ask(count, listed):
            raise AzxferError("nothing was removed: declined at the prompt")

    async def _act(self, actions: BulkActions) -> None:
        records = self.records
        assert records is not None
        await actions.run_pages(
            records.files(actions.page_size), lambda row: row[1], self._page_done
        )
        for row_id, entry in records.folders():
            try:
                removed = await actions.remove_folder(entry)
            except AzxferError as exc:
                records.failed(row_id, str(exc))
                self._report(entry, exc)
                continue
            records.done(row_id)
            if removed:
                self.counts.folders_removed += 1
                self._report(entry, None)
            else:
                self.counts.folders_kept += 1
                self.sink.emit(
                    Notice("info", f"kept folder '{entry.ref}': something is still in it")
                )

    def _page_done(
        self, page: Sequence[tuple[int, Entry]], outcomes: Sequence[BulkOutcome]
    ) -> None:
        records = self.records
        assert records is not None
        for (row_id, entry), outcome in zip(page, outcomes, strict=True):
            if outcome is None:
                records.done(row_id)
            else:
                records.failed(row_id, str(outcome))
            self._report(entry, outcome)

    def _report(self, entry: Entry, outcome: BulkOutcome) -> None:
        """Count an object's outcome and say it."""
        counts, dry = self.counts, self.options.dry_run
        folder = is_folder(entry)
        if outcome is not None:
            counts.failed_count += 1
            if len(counts.failed) < _NAMED_FAILURES:
                counts.failed.append((entry.ref, str(outcome)))
        elif not folder:
            counts.done += 1
            counts.bytes += entry.size
        elif dry:
            counts.folders_removed += 1
        state, reason = ("failed", str(outcome)) if outcome is not None else ("completed", None)
        if self.operation.removes:
            self.sink.emit(Deleted(entry.ref, dry, state, reason, folder=folder))
        else:
            self.sink.emit(PropertiesSet(entry.ref, self.operation.changes(), dry, state, reason))

    def _status(self) -> str:
        counts = self.counts
        if counts.failed_count:
            return "CompletedWithErrors" if counts.done or counts.folders_removed else "Failed"
        return "Completed"

    # -- journal and end -----------------------------------------------------------------------

    def _open_journal(self) -> None:
        spec, options = self.spec, self.options
        if spec.job_dir is None or options.dry_run:
            return
        crash = CrashHook.from_env(spec.env or {})
        if spec.resume:
            self.journal = Journal.open(spec.job_dir, spec.job_id, crash, lock=True)
        else:
            location = options.location
            where = location.local_path if location.is_local else location.url
            record = spec.record or {}
            self.journal = Journal.create(
                spec.job_dir, spec.job_id, spec.command, where, "", record, crash
            )
        self.records = BulkJournal(self.journal)

    def _close_journal(self, status: str, discard: bool) -> None:
        """Record the final status; a new job that never acted leaves no journal."""
        journal = self.journal
        if journal is None:
            return
        self.journal = self.records = None
        if discard and not self.spec.resume:
            journal.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{journal.path}{suffix}").unlink(missing_ok=True)
            return
        journal.set_status(status)
        journal.close()

    def _finish(self, status: str, error: str | None, elapsed: float) -> JobResult:
        counts, spec = self.counts, self.spec
        kept = self.journal is not None and (self.acting or self.spec.resume)
        self._close_journal(status, discard=not self.acting)
        if kept and (status == "Failed" or counts.failed_count):
            self.sink.emit(Notice("info", f"resume with: {self.resume_command()}"))
        self.sink.emit(
            BulkSummary(
                self.operation.kind,
                self.options.dry_run,
                counts.done,
                counts.bytes,
                counts.failed_count,
                counts.folders_removed,
                counts.folders_kept,
            )
        )
        total = counts.done + counts.failed_count
        totals = JobTotals(
            files_total=total,
            files_completed=counts.done,
            files_failed=counts.failed_count,
            bytes_total=counts.bytes,
            bytes_done=counts.bytes,
            failed=counts.failed,
            folders_completed=counts.folders_removed,
        )
        self.sink.emit(
            JobFinished(
                spec.job_id,
                status,
                total,
                counts.done,
                0,
                counts.failed_count,
                0,
                0 if self.options.dry_run else counts.bytes,
                round(elapsed, 3),
                [{"name": name, "reason": reason} for name, reason in counts.failed],
                counts.folders_removed,
            )
        )
        if error is None and counts.failed_count:
            error = f"{counts.failed_count} of {total} objects failed"
            if kept:
                error += f" (resume with: {self.resume_command()})"
        return JobResult(spec.job_id, status, totals, elapsed, error, 0.0, self.resume_command())

    def resume_command(self) -> str:
        """The command that continues this job (a SAS is never journaled: give it again)."""
        command = f"azxfer resume {self.spec.job_id}"
        credential = self.options.credential
        if credential is not None and credential.kind == "sas":
            command += " --source-sas '<SAS>'"
        return command

    def _on_retry(self, what: str, attempt: int, wait: float, reason: str) -> None:
        self.sink.emit(Retrying(redact(what), attempt, round(wait, 2), redact(reason)))


def _tree_root(endpoint: Endpoint) -> str:
    """The folder a tree removal removes last (its location), where the service has folders
    ('' for none, and for a share's or container's root, which stays)."""
    if not isinstance(endpoint, DirectoryDeletes) or not isinstance(endpoint, Destination):
        return ""
    root = endpoint.join("")
    return root.rstrip("/") if root.strip("/") else ""
