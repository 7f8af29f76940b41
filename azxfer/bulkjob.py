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
import contextlib
import itertools
import os
import signal
import sys
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
from azxfer.errors import AzxferError, Declined, Interrupted, UsageError
from azxfer.events import (
    BulkSummary,
    EnumerationDone,
    Event,
    EventSink,
    JobFinished,
    JobStarted,
    Notice,
    PropertiesSet,
    Retrying,
)
from azxfer.jobrun import (
    JobResult,
    JobSpec,
    install_interrupts,
    new_job_id,
    remove_interrupts,
)
from azxfer.journal.bulkrecord import BulkJournal, is_folder
from azxfer.journal.crash import CrashHook
from azxfer.journal.store import INTERRUPTED, Journal
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
        self.selected_bytes = 0
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
        # Events held back while the job may yet be refused (a remove past --max-delete):
        # a job refused keeps no journal, so nothing may name it. None: nothing is held.
        self.held: list[Event] | None = None
        self.interrupts = 0
        self.started = time.monotonic()

    @property
    def stopping(self) -> bool:
        """Whether an interrupt asked the job to stop (in-flight requests finish)."""
        return self.interrupts > 0

    async def run(self) -> JobResult:
        """Run the job, reporting its start and end."""
        options, spec = self.options, self.spec
        connections = JobConnections.for_job(
            (options.location,), options.concurrency, spec.env or {}, self._on_retry
        )
        started = self.started = time.monotonic()
        self._open_journal()
        listed_before = self.records is not None and spec.resume and self.records.enumerated
        may_refuse = self.operation.removes and not (options.force or options.dry_run)
        if may_refuse and not listed_before:
            self.held = []
        credential = options.credential.describe() if options.credential else ""
        self._emit(
            JobStarted(
                spec.job_id,
                spec.command,
                options.location.display,
                "",
                options.dry_run,
                source_credential=credential,
            )
        )
        install_interrupts(self._on_interrupt)
        status, error = "Completed", None
        try:
            status = await self._execute(connections)
        except (UsageError, Declined):
            self._close_journal("Failed", discard=not self.acting)
            raise
        except AzxferError as exc:
            status, error = "Failed", str(exc)
        finally:
            await connections.close()
            remove_interrupts()
        self._release()
        return self._finish(status, error, time.monotonic() - started)

    # -- the job -----------------------------------------------------------------------------

    async def _execute(self, connections: JobConnections) -> str:
        options, spec = self.options, self.spec
        endpoint = endpoint_for(options.location, options.credential, connections, spec.job_id)
        check_operation(endpoint, options)
        actions = BulkActions(endpoint, self.operation, options.concurrency, lambda: self.stopping)
        resumed = self.records is not None and spec.resume and self.records.enumerated
        if not resumed:
            listed = await self._list(endpoint)
            if self.stopping:  # the listing was cut short: a resume lists again
                return "Cancelled"
            self._check_limit(listed)
            self._release()
            self._emit(EnumerationDone(self.counts.selected, self.counts.selected_bytes))
            if options.dry_run:
                return "DryRun"
            assert self.records is not None
            self.records.listed()
        else:
            assert self.records is not None
            self._emit(EnumerationDone(*self.records.unfinished_files()))
        self.acting = True
        await self._act(actions)
        return "Cancelled" if self.stopping else self._status()

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
            if self.stopping:
                break
            if isinstance(item, Skipped):
                self._emit(Notice("info", f"skipped '{item.rel_path}': {item.reason}"))
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
            self.counts.selected_bytes += entry.size
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
            f"remove would delete {count} of {listed} objects ({share:.0f}%), more than "
            f"--max-delete {limit.describe()} allows"
        )
        if options.dry_run:
            self._emit(Notice("warning", f"{said}: a real run would ask, or need --force"))
            return
        if self.ask is None:
            raise Declined(f"{said}; nothing was removed (give --force to remove them)")
        if not self._asked(count, listed):
            raise Declined(f"{said}; nothing was removed: declined at the prompt")

    def _asked(self, count: int, listed: int) -> bool:
        """The answer to the --max-delete question; Ctrl-C at the prompt is a no."""
        assert self.ask is not None
        remove_interrupts()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            return self.ask(count, listed)
        except KeyboardInterrupt:
            return False
        finally:
            install_interrupts(self._on_interrupt)

    async def _act(self, actions: BulkActions) -> None:
        records = self.records
        assert records is not None
        # Once stopping, no page is started; those in flight finish and are journaled.
        pages = itertools.takewhile(lambda _: not self.stopping, records.files(actions.page_size))
        await actions.run_pages(pages, lambda row: row[1], self._page_done)
        for row_id, entry in records.folders():
            if self.stopping:
                return
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
                self._emit(Notice("info", f"kept folder '{entry.ref}': something is still in it"))

    def _page_done(
        self, page: Sequence[tuple[int, Entry]], outcomes: Sequence[BulkOutcome]
    ) -> None:
        records = self.records
        assert records is not None
        for (row_id, entry), outcome in zip(page, outcomes, strict=True):
            if isinstance(outcome, Interrupted):  # never started: still pending
                continue
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
            self._emit(Deleted(entry.ref, dry, state, reason, folder=folder))
        else:
            self._emit(PropertiesSet(entry.ref, self.operation.changes(), dry, state, reason))

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
        self._release()
        kept = self.journal is not None and (self.acting or self.spec.resume or self.stopping)
        self._close_journal(status, discard=not kept)
        if kept and (status in ("Failed", "Cancelled", INTERRUPTED) or counts.failed_count):
            self._emit(Notice("info", f"resume with: {self.resume_command()}"))
        self._emit(
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
        self._emit(
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
        self._emit(Retrying(redact(what), attempt, round(wait, 2), redact(reason)))

    # -- events and interrupts -------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        if self.held is None:
            self.sink.emit(event)
        else:
            self.held.append(event)

    def _release(self) -> None:
        """The job goes ahead (or ends as a job): say what was held back."""
        held, self.held = self.held, None
        for event in held or ():
            self.sink.emit(event)

    def _on_interrupt(self) -> None:
        """First interrupt: start nothing more and let in-flight requests finish (they are
        journaled). Second: report the job as it stands and end the process at once (every
        journal write is a committed transaction, so the journal stays consistent)."""
        self.interrupts += 1
        if self.interrupts > 1:
            with contextlib.suppress(Exception):
                self._finish(INTERRUPTED, "interrupted", time.monotonic() - self.started)
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(130)
        self._emit(
            Notice(
                "warning",
                "stopping: in-flight requests are finishing (interrupt again to quit at once)",
            )
        )


def _tree_root(endpoint: Endpoint) -> str:
    """The folder a tree removal removes last (its location), where the service has folders
    ('' for none, and for a share's or container's root, which stays)."""
    if not isinstance(endpoint, DirectoryDeletes) or not isinstance(endpoint, Destination):
        return ""
    root = endpoint.join("")
    return root.rstrip("/") if root.strip("/") else ""
