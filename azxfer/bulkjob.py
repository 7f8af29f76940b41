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
yes refuses (`Declined`, one error line naming --force); nothing is removed then, no journal
is kept, and no event is emitted (those of the listing are held until the check passes).
Interrupts are copy's (bulkrun.py): the first ends the job Cancelled once the requests in
flight are answered, resumable. `spec.resume` continues a journaled job: acting on the
objects its journal holds as not yet done (the listing is not repeated once complete; a
listing cut short is listed again).

Where nothing needs the whole listing first (no --max-delete question: --force, or
set-properties), a new job acts on each full page of files while the listing still runs:
every file is journaled before its page starts and the listing is journaled as complete only
at its end, so a job killed mid-listing is listed again by its resume (what was done is gone
or journaled done). Folders always go after every file, a depth at a time.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
from collections.abc import Sequence

from azxfer.bulkrun import AskRemove, BulkRun
from azxfer.endpoints.base import (
    Destination,
    DirectoryDeletes,
    Endpoint,
    FolderSource,
    SelectionKind,
)
from azxfer.endpoints.bulkcaps import BulkOutcome
from azxfer.endpoints.factory import JobConnections, endpoint_for
from azxfer.endpoints.lookup import NamedPaths
from azxfer.engine.bulk import BulkActions, PageRunner
from azxfer.engine.folderdeletes import FolderOutcome, delete_by_depth
from azxfer.errors import AzxferError, Declined, Interrupted
from azxfer.events import (
    EnumerationDone,
    EventSink,
    ListingProgress,
    Notice,
    PropertiesSet,
)
from azxfer.interrupts import install_interrupts, remove_interrupts
from azxfer.jobrun import JobResult, JobSpec, new_job_id
from azxfer.journal.bulkrecord import folder_depth, is_folder
from azxfer.models import Entry, EntryKind, Skipped
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
from azxfer.plan.listed import named_paths
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

# Failures named in the final event (every one is counted).
_NAMED_FAILURES = 50


def run_bulk(
    options: BulkOptions, sink: EventSink, spec: JobSpec, ask: AskRemove | None = None
) -> JobResult:
    """Run a bulk job to its end (blocking)."""
    return asyncio.run(BulkJob(options, sink, spec, ask).run())


class BulkJob(BulkRun):
    """One run of a bulk job: selects, checks --max-delete, acts, reports each object."""

    # -- the job -----------------------------------------------------------------------------

    async def _execute(self, connections: JobConnections) -> str:
        options, spec = self.options, self.spec
        endpoint = endpoint_for(options.location, options.credential, connections, spec.job_id)
        check_operation(endpoint, options)
        if not self.held_for_limit:
            self._release()
        actions = BulkActions(endpoint, self.operation, options.concurrency, lambda: self.stopping)
        resumed = self.records is not None and spec.resume and self.records.enumerated
        streamed = False
        if not resumed:
            runner = self._runner(actions)
            try:
                ended = await self._list_and_check(endpoint, runner)
                if runner is not None:
                    await runner.drain()  # the pages the listing started
            finally:
                if runner is not None:
                    runner.cancel()
            if ended is not None:
                return ended
            streamed = runner is not None and self.acting
        else:
            assert self.records is not None
            self._emit(EnumerationDone(*self.records.unfinished_files()))
        self.acting = True
        await self._act(actions, files=not streamed)
        return "Cancelled" if self.stopping else self._status()

    async def _list_and_check(
        self, endpoint: Endpoint, runner: PageRunner[tuple[int, Entry]] | None
    ) -> str | None:
        """List, check --max-delete and say (and journal) that the listing is complete;
        None, or the status the job ends with already: Cancelled (the listing was cut
        short: a resume lists again) or DryRun."""
        listed = await self._list(endpoint, runner)
        if self.stopping:
            return "Cancelled"
        self._check_limit(listed)
        self._release()
        self._emit(EnumerationDone(self.counts.selected, self.counts.selected_bytes))
        if self.options.dry_run:
            return "DryRun"
        assert self.records is not None
        self.records.listed()
        return None

    def _runner(self, actions: BulkActions) -> PageRunner[tuple[int, Entry]] | None:
        """What acts on the files while the listing still runs, where nothing needs the
        listing whole first: a new job (a resume's listing may meet rows journaled before,
        done by `_act`), not a dry run, and no --max-delete check (set-properties, or a
        remove with --force). Each file is journaled before its page starts."""
        options, removes = self.options, self.operation.removes
        if options.dry_run or self.spec.resume or (removes and not options.force):
            return None
        return PageRunner(actions, lambda row: row[1], self._page_done)

    async def _list(
        self, endpoint: Endpoint, runner: PageRunner[tuple[int, Entry]] | None = None
    ) -> int:
        """List the selection into the journal (a dry run: report each object), handing
        each full page of files to `runner` when there is one; the number of objects the
        listing found at the location, selected or not."""
        options = self.options
        filters = CountingFilter(options.filters)
        # A whole tree (no filters) is removed with its folders, once they are empty.
        tree = self.operation.removes and options.recursive and options.filters.is_empty
        if tree and isinstance(endpoint, FolderSource):
            endpoint.lists_folders = True
        selection = await endpoint.select(options.recursive, filters, False)
        check_selection(selection.kind, options)
        check_found(selection.kind, options.location)
        items = selection.items
        if self._by_named_paths(endpoint, selection.kind):
            assert isinstance(endpoint, NamedPaths)
            await items.aclose()  # type: ignore[attr-defined]  # never started: no request
            items = named_paths(endpoint, options.filters.include_paths, filters)
            runner = None  # a name listed twice is journaled once: act after the listing
        page: list[tuple[int, Entry]] = []
        async for item in items:
            if self.stopping:
                break
            if isinstance(item, Skipped):
                self._emit(Notice("info", f"skipped '{item.rel_path}': {item.reason}"))
                continue
            if is_folder(item) and not tree:
                continue
            row_id = self._selected(item)
            if runner is not None and not is_folder(item):
                page.append((row_id, item))
                if len(page) >= runner.actions.page_size:
                    self.acting = True
                    # Once a page: acting ahead of the listing, the total is not known yet,
                    # so say how far the listing got (the live line's "of N listed").
                    counts = self.counts
                    self._emit(ListingProgress(counts.selected, counts.selected_bytes))
                    await runner.submit(page)
                    page = []
        if runner is not None and page and not self.stopping:
            self.acting = True
            await runner.submit(page)
        if tree and selection.kind is SelectionKind.DIRECTORY:
            root = _tree_root(endpoint)
            if root:
                self._selected(Entry(root, "", 0, kind=EntryKind.FOLDER))
        return filters.seen

    def _by_named_paths(self, endpoint: Endpoint, kind: SelectionKind) -> bool:
        """Whether to ask for each named path (--list-of-files, --include-path) rather than
        list the whole location: where the location can look names up (Blob, Azure Files,
        local), unless the job needs the number of objects at the location (a remove's
        --max-delete share, without --force)."""
        options = self.options
        needs_total = (
            self.operation.removes and not options.force and options.max_delete.percent is not None
        )
        return (
            isinstance(endpoint, NamedPaths)
            and kind is SelectionKind.DIRECTORY
            and bool(options.filters.include_paths)
            and not needs_total
        )

    def _selected(self, entry: Entry) -> int:
        """Count and journal (a dry run: report) a selected object; its row id (0: none)."""
        if not is_folder(entry):
            self.counts.selected += 1
            self.counts.selected_bytes += entry.size
        if self.options.dry_run:
            self._report(entry, None)
            return 0
        assert self.records is not None
        return self.records.add(entry)

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

    async def _act(self, actions: BulkActions, files: bool) -> None:
        """Act on the journal's unfinished files (unless the listing did: not `files`),
        then remove its unfinished folders."""
        records = self.records
        assert records is not None
        if files:
            # Once stopping, no page is started; those in flight finish and are journaled.
            pages = records.files(actions.page_size)
            pages = itertools.takewhile(lambda _: not self.stopping, pages)
            await actions.run_pages(pages, lambda row: row[1], self._page_done)
        await delete_by_depth(
            records.folders(),
            lambda row: folder_depth(row[1].rel_path),
            lambda row: actions.remove_folder(row[1]),
            self._folder_done,
            actions.concurrency,
            lambda: self.stopping,
        )

    def _folder_done(self, row: tuple[int, Entry], outcome: FolderOutcome) -> None:
        records = self.records
        assert records is not None
        row_id, entry = row
        if isinstance(outcome, Interrupted):  # never started: still pending
            return
        if isinstance(outcome, AzxferError):
            records.failed(row_id, str(outcome))
            self._report(entry, outcome)
            return
        records.done(row_id)
        if outcome:
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


def _tree_root(endpoint: Endpoint) -> str:
    """The folder a tree removal removes last (its location), where the service has folders
    ('' for none, and for a share's or container's root, which stays)."""
    if not isinstance(endpoint, DirectoryDeletes) or not isinstance(endpoint, Destination):
        return ""
    root = endpoint.join("")
    return root.rstrip("/") if root.strip("/") else ""
