"""`sync(options, sink, ask_delete, job)`: a one-way mirror of a folder onto a destination.

A sync is a copy job (same endpoints, journal, JobRunner and events) whose plan comes from
merging two sorted listings instead of enumerating the source alone:

1. The source is listed (a folder, a container or a virtual directory; its *contents* map onto
   the destination path) and so is the destination, both as streams in `sync_key` order: Blob
   storage lists names in that order, and the local walk sorts each folder so that it does too
   (`walk_sort_key`). `merge_join` pairs them holding one entry per side.
2. Each source entry is compared with its destination entry by a strategy of
   `azxfer.plan.sync`; what differs is planned as a transfer, what is the same as a skipped
   transfer with reason "identical". Destination-only entries go to a temporary on-disk SQLite
   table, so memory stays bounded however large either side is.
3. After every copy finished, and only if both listings completed and no copy failed, the
   destination-only entries are deleted (--delete-destination), within --max-delete.

Name filters apply to both listings; --include-after/--include-before select which source
files are copied but never make a destination file look extra (so never cause a delete).
Items a listing skips (symbolic links, special files, unreadable folders) protect the
destination entries of the same path (and below) from deletion; an unreadable folder or file
on either side disables deletes altogether.

MD5s of local files (--compare-hash md5) come from the job directory's shared hash cache
where it can; see `azxfer.sync.hashing`.

Journal: transfers and enumeration skips are journaled as for copy; identical files are not
(a no-op sync of a large tree would otherwise write a row per file, every run). Resume
(`azxfer resume ID`) runs the same sync again in the same journal: both sides are listed and
merged afresh; a source file with an unfinished journaled transfer that still differs
continues it with the same transfer ID (so the staged blocks or partial download are found
and only missing chunks are sent), unless the source changed since (then it starts over);
completed transfers now compare identical and are skipped; deletes are re-evaluated from the
new listings with every safety rail. Deletes themselves are not journaled.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

from msgspec.structs import replace

from azxfer.dryrun import dry_run
from azxfer.endpoints.base import (
    DestinationEndpoint,
    DestinationNames,
    Endpoint,
    FolderSource,
    LocalFiles,
    OrderedListing,
    Selection,
    SelectionKind,
    SortedListing,
    as_destination,
)
from azxfer.endpoints.factory import JobConnections, endpoint_for
from azxfer.endpoints.local.walker import threaded
from azxfer.engine.folders import ask_for_folders
from azxfer.engine.job import JobRunner
from azxfer.engine.movers import mover_for
from azxfer.errors import LocationError, NotFoundError, UsageError
from azxfer.events import EventSink
from azxfer.jobrun import JobResult, JobRun, JobSpec, job_status, new_job_id
from azxfer.journal.hashcache import HashCache
from azxfer.md5policy import Md5Policy
from azxfer.models import Entry, JobTotals, Skipped, Transfer
from azxfer.plan.filters import EntryFilter
from azxfer.plan.overlap import check_sync_apart
from azxfer.plan.sync import BYTE_ORDER, FOLDED_ORDER, MergeOrder, parse_max_delete
from azxfer.sync.deletes import AskDelete, Deleted, ExtraDeletes
from azxfer.sync.extra import ExtraTable
from azxfer.sync.hashing import UploadHashes
from azxfer.sync.options import SyncOptions
from azxfer.sync.planner import SyncPlanner
from azxfer.sync.recorder import SyncRecorder
from azxfer.sync.summary import SyncStats, SyncSummary
from azxfer.sync.walk import SortedWalker

# The options and events of a sync are imported from here by the CLI.
__all__ = ["Deleted", "SyncJob", "SyncOptions", "SyncSummary", "parse_max_delete", "sync"]


def sync(
    options: SyncOptions,
    sink: EventSink,
    ask_delete: AskDelete | None = None,
    job: JobSpec | None = None,
) -> JobResult:
    """Run a sync job to completion (blocking)."""
    spec = job or JobSpec(new_job_id(), command="sync")
    return asyncio.run(SyncJob(options, sink, ask_delete, spec).run())


class SyncJob(JobRun):
    """A copy job whose plan is the merge of the source and destination listings."""

    def __init__(
        self, sync_options: SyncOptions, sink: EventSink, ask: AskDelete | None, spec: JobSpec
    ) -> None:
        super().__init__(sync_options.copy, sink, spec)
        self.sync = sync_options
        self.ask_delete = ask
        self.stats = SyncStats()
        self.extra: ExtraTable | None = None
        self.hashes: HashCache | None = None
        self.uploads: UploadHashes | None = None
        self.started_ns = time.time_ns()
        self.folders = False  # whether both listings include folders
        self.order = BYTE_ORDER  # the order both listings come in (see merge_order)

    async def _execute(self, connections: JobConnections) -> tuple[JobTotals, str]:
        options = self.options
        job_id = self.spec.job_id
        self.started_ns = time.time_ns()
        check_sync_apart(options.source, options.destination)
        source = endpoint_for(
            options.source,
            options.source_credential,
            connections,
            job_id,
            source_properties=not options.destination.is_local or self.sync.compares_md5,
        )
        # A destination's listing carries MD5s only when they are compared (an Azure Files
        # listing then asks every file's properties).
        dest = as_destination(
            endpoint_for(
                options.destination,
                options.dest_credential,
                connections,
                job_id,
                source_properties=self.sync.compares_md5,
            )
        )
        self.order = merge_order(source, dest)
        self.hashes = await self._open_hash_cache()
        # Folders on both sides, so a folder the destination has pairs with the source's.
        self.folders = ask_for_folders(source, True)
        if self.folders and isinstance(dest, FolderSource):
            dest.lists_folders = True
        try:
            selection = await self._select_source(source)
            dest.check_writable()
            if isinstance(dest, LocalFiles) and not options.dry_run:
                # A folder is made before it is walked. A service's listing is the first
                # request: it finds a missing container itself (see _list_destination), which
                # is then created, one round trip less.
                await dest.prepare_destination(True)
            self.extra = ExtraTable()
            plan = self._planner(dest, self.extra).plan(selection, self._list_destination(dest))
            if options.dry_run:
                totals = await dry_run(plan, self.sink)
                await self._deletes(dest, totals)
                return totals, "DryRun"
            self.runner = self._make_runner(source, dest)
            totals = await self.runner.run(plan)
            if self.uploads is not None:
                await self.uploads.finish()
            if self.runner.stopping:
                return totals, "Cancelled"
            await self._deletes(dest, totals)
            status = job_status(totals)
            if self.stats.delete_failed and status != "CompletedWithErrors":
                status = "CompletedWithErrors"
            return totals, status
        finally:
            if self.extra is not None:
                self.extra.close()
            if self.hashes is not None:
                await asyncio.to_thread(self.hashes.close)

    async def _open_hash_cache(self) -> HashCache | None:
        """The job directory's hash cache, when this sync can use it: to look up and store
        local files' MD5s (--compare-hash md5), or to store the MD5s of uploads."""
        options = self.options
        uploads = options.source.is_local and not options.destination.is_local
        wanted = self.sync.compares_md5 or (uploads and not options.dry_run)
        if self.spec.job_dir is None or not wanted:
            return None
        return await asyncio.to_thread(HashCache.open, self.spec.job_dir)

    def _planner(self, dest: DestinationEndpoint, extra: ExtraTable) -> SyncPlanner:
        resumed = self.journal if self.spec.resume else None
        return SyncPlanner(
            self.sync, dest, self.sink, extra, self.stats, resumed, self.hashes, self.order
        )

    def _make_runner(self, source: Endpoint, dest: Endpoint) -> JobRunner:
        options = self.options
        md5 = Md5Policy(options, self.sink)
        verify = md5.verify
        if self.hashes is not None and isinstance(source, LocalFiles):
            self.uploads = uploads = UploadHashes(self.hashes, self.started_ns, options)

            def verify(transfer: Transfer, digest: bytes) -> None:
                md5.verify(transfer, digest)
                uploads.add(transfer.source, digest)

        return JobRunner(
            source,
            dest,
            self.sink,
            options.engine.concurrency,
            options.engine.max_memory,
            options.engine.block_size,
            verify,
            None,
            SyncRecorder(self.journal) if self.journal else None,
            wants_md5=md5.wants,
            mover=mover_for(source, dest, options.s2s),  # blob to blob: server side
        )

    # -- listings ----------------------------------------------------------------------------

    def _name_filter(self) -> EntryFilter:
        spec = replace(self.options.filters, include_after=None, include_before=None)
        return EntryFilter(spec)

    async def _select_source(self, source: Endpoint) -> Selection:
        options = self.options
        needs = "azxfer sync needs a folder, a container or a virtual directory as its source"
        if isinstance(source, LocalFiles):  # walked here: sorted, with the hash cache
            if source.pattern is not None:
                raise UsageError(f"{needs}, not a wildcard")
            if not os.path.isdir(source.path):
                raise LocationError(f"{needs}; '{source.path}' is not a folder")
            walker = SortedWalker(
                self._name_filter(),
                True,
                options.follow_symlinks,
                hashes=self._lookups(),
                folders=self.folders,
                walk_key=self.order.walk_key,
            )
            return Selection(
                SelectionKind.DIRECTORY, "", threaded(walker.walk_dir(source.path, ""))
            )
        selection = await source.select(True, self._name_filter(), options.follow_symlinks)
        if selection.kind is not SelectionKind.DIRECTORY:
            raise UsageError(
                f"{needs}; '{options.source.display}' selects "
                + ("one file" if selection.kind is SelectionKind.SINGLE else "nothing")
            )
        if isinstance(source, OrderedListing):  # listed one directory at a time: sorted here
            items = source.ordered_entries(self._name_filter(), self.order.walk_key)
            return Selection(selection.kind, selection.root_name, items)
        return selection

    async def _list_destination(self, dest: DestinationEndpoint) -> AsyncIterator[Entry | Skipped]:
        """Destination entries and skipped items, in sync_key order."""
        if isinstance(dest, LocalFiles):  # walked here: sorted, with the hash cache
            if not os.path.exists(dest.path):
                return
            if not os.path.isdir(dest.path):
                raise LocationError(f"destination '{dest.path}' is a file, not a folder")
            walker = SortedWalker(
                self._name_filter(),
                True,
                False,
                skip_partials=True,
                hashes=self._lookups(),
                folders=self.folders,
                walk_key=self.order.walk_key,
            )
            async for item in threaded(walker.walk_dir(dest.path, "")):
                yield item
            return
        if isinstance(dest, OrderedListing):
            listing = dest.ordered_entries(self._name_filter(), self.order.walk_key)
        elif isinstance(dest, SortedListing):
            listing = dest.sorted_entries(self._name_filter())
        else:
            raise UsageError("azxfer sync cannot list this destination")
        listed = False
        try:
            async for item in listing:
                listed = True
                yield item
        except NotFoundError:
            if listed:
                raise
            # A missing container is empty. A dry run does not create it.
            if not self.options.dry_run:
                await dest.prepare_destination(True)

    def _lookups(self) -> HashCache | None:
        """The cache a local walk looks MD5s up in (only when comparing MD5s)."""
        return self.hashes if self.sync.compares_md5 else None

    # -- deletes and summary ------------------------------------------------------------------

    async def _deletes(self, dest: Endpoint, totals: JobTotals) -> None:
        assert self.extra is not None
        deletes = ExtraDeletes(self.sync, self.ask_delete, self.stats, self.sink)
        await deletes.run(dest, self.extra, totals)

    def _finish(
        self, status: str, error: str | None, totals: JobTotals, elapsed: float
    ) -> JobResult:
        self.sink.emit(self.stats.summary(totals))
        return super()._finish(status, error, totals, elapsed)


def merge_order(source: Endpoint, dest: DestinationEndpoint) -> MergeOrder:
    """The order both listings of a sync come in. Toward a case-insensitive destination (Azure
    Files) names pair as that service compares them ('A.txt' there is the 'a.txt' of the
    source), when both sides can be listed in that order: a local walk or a listing that sorts
    each directory itself. A Blob source lists in its own byte order only; there `CaseTwins`
    still keeps a twin from being deleted."""
    if not isinstance(dest, DestinationNames) or not dest.name_rules().case_insensitive:
        return BYTE_ORDER
    if isinstance(source, (LocalFiles, OrderedListing)):
        return FOLDED_ORDER
    return BYTE_ORDER
