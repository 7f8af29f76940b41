"""The library facade: `copy(options, sink, job) -> JobResult`. Knows nothing of the CLI.

The lifecycle a copy shares with sync (journal, signals, final event) is `azxfer.jobrun`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from azxfer.dryrun import dry_run
from azxfer.endpoints.base import Endpoint, Selection, SelectionKind, as_destination
from azxfer.endpoints.copycaps import SecurityDescriptors
from azxfer.endpoints.factory import JobConnections, endpoint_for
from azxfer.engine.emptied import EmptiedFolders
from azxfer.engine.folders import ask_for_folders
from azxfer.engine.job import JobRunner
from azxfer.engine.movers import mover_for
from azxfer.errors import NotFoundError
from azxfer.events import EventSink
from azxfer.jobrun import SUPPORTED_PAIRS, JobResult, JobRun, JobSpec, job_status, new_job_id
from azxfer.journal.recorder import JournalRecorder
from azxfer.md5policy import Md5Policy
from azxfer.models import JobTotals, Planned, Transfer
from azxfer.options import CopyOptions
from azxfer.plan.compare import Ask, OverwritePolicy
from azxfer.plan.filters import EntryFilter, FilterSpec
from azxfer.plan.planner import CopyPlanner
from azxfer.plan.resume import resume_plan

# The job's spec and result are imported from here by the CLI and `azxfer bench`.
__all__ = ["SUPPORTED_PAIRS", "CopyJob", "JobResult", "JobSpec", "copy", "new_job_id"]


def copy(
    options: CopyOptions, sink: EventSink, ask: Ask | None = None, job: JobSpec | None = None
) -> JobResult:
    """Run a copy job to completion (blocking)."""
    return asyncio.run(CopyJob(options, sink, ask, job or JobSpec(new_job_id())).run())


class CopyJob(JobRun):
    """A copy job: its plan enumerates the source (resumed, the journal's unfinished first)."""

    def __init__(
        self, options: CopyOptions, sink: EventSink, ask: Ask | None, spec: JobSpec
    ) -> None:
        super().__init__(options, sink, spec)
        self.ask = ask

    async def _execute(self, connections: JobConnections) -> tuple[JobTotals, str]:
        options = self.options
        source = endpoint_for(
            options.source,
            options.source_credential,
            connections,
            self.spec.job_id,
            options.s2s.include_snapshots,
            source_properties=not options.destination.is_local,
            delimiter=options.delimiter,
        )
        dest = as_destination(
            endpoint_for(
                options.destination, options.dest_credential, connections, self.spec.job_id
            )
        )
        if (
            options.s2s.preserve_permissions
            and isinstance(source, SecurityDescriptors)
            and isinstance(dest, SecurityDescriptors)
        ):
            dest.carry_permissions_from(source)
        planner = CopyPlanner(
            options, dest, OverwritePolicy(options.overwrite, self.ask), self.sink
        )
        walks_folders = ask_for_folders(source, options.recursive)
        emptied = (
            EmptiedFolders(options.dry_run)
            if options.move and options.delete_empty_src_dirs and walks_folders
            else None
        )
        selection: Selection | None = None

        async def enumerate_all() -> AsyncIterator[Planned]:
            nonlocal selection
            selection = await source.select(
                options.recursive, EntryFilter(options.filters), options.follow_symlinks
            )
            planner.check_overlap(selection)  # before the destination is made ready
            if not options.dry_run:
                await dest.prepare_destination(selection.kind is not SelectionKind.SINGLE)
            async for item in planner.plan(selection):
                yield item

        if options.dry_run:
            plan = enumerate_all() if emptied is None else emptied.watch(enumerate_all())
            totals = await dry_run(plan, self.sink)
            await self._remove_emptied(emptied, source, selection)
            return totals, "DryRun"
        plan = enumerate_all()
        recorder = JournalRecorder(self.journal) if self.journal else None
        if self.spec.resume and self.journal is not None:
            record = self.journal.job()
            planner.next_id = self.journal.max_transfer_id()
            rest = None if record.enumerated else enumerate_all
            if rest is None:
                await dest.prepare_destination(True)
            plan = resume_plan(self.journal, source, self.sink, rest)
        deleter = _source_deleter(source) if options.move else None
        if emptied is not None and deleter is not None:
            plan = emptied.watch(plan)
            deleter = emptied.after(deleter)
        md5 = Md5Policy(options, self.sink)
        self.runner = JobRunner(
            source,
            dest,
            self.sink,
            options.engine.concurrency,
            options.engine.max_memory,
            options.engine.block_size,
            md5.verify,
            deleter,
            recorder,
            md5.wants,
            mover_for(source, dest, options.s2s),
        )
        totals = await self.runner.run(plan)
        if self.runner.stopping:
            return totals, "Cancelled"
        if not totals.folders_failed:  # a folder not made at the destination must stay
            await self._remove_emptied(emptied, source, selection)
        if (
            totals.files_total == 0
            and not (totals.folders_completed or totals.folders_skipped or totals.folders_failed)
            and selection is not None
            and (selection.kind is SelectionKind.PATTERN)
        ):
            raise NotFoundError(f"nothing matched {options.source.display}")
        return totals, job_status(totals)

    async def _remove_emptied(
        self, emptied: EmptiedFolders | None, source: Endpoint, selection: Selection | None
    ) -> None:
        """--delete-empty-src-dirs: remove the source folders this move emptied; the root
        only if it was copied as a folder (`--as-subdir`)."""
        if emptied is None or selection is None:
            return
        options = self.options
        as_folder = selection.kind is SelectionKind.DIRECTORY and options.as_subdir
        # A Blob source's markers may go only if no filter hid a blob under their folder.
        every_file_selected = options.filters == FilterSpec()
        await emptied.remove(
            source, self.sink, as_folder, every_file_selected, options.engine.concurrency
        )


def _source_deleter(source: Endpoint) -> Callable[[Transfer], Any]:
    """For --move: deletes each transfer's source once it is copied."""

    async def delete_source(transfer: Transfer) -> None:
        await source.delete(transfer.source.ref)

    return delete_source
