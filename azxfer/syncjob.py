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
on either side disables deletes altogether. Deletes are not journaled, and a sync job cannot
be resumed: running the same sync again copies only what is still different.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import sqlite3
import stat as stat_mod
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

from azxfer.client import (
    JobResult,
    JobSpec,
    _dry_run,
    _endpoint,
    _Job,
    _Md5Policy,
    _status,
    new_job_id,
)
from azxfer.endpoints.base import Endpoint, Selection, SelectionKind, WriteProps
from azxfer.endpoints.blob import BlobConnections, BlobEndpoint
from azxfer.endpoints.local import LocalEndpoint, _threaded, _Walker
from azxfer.engine.job import JobRunner, Planned
from azxfer.errors import AzxferError, LocationError, NotFoundError, UsageError
from azxfer.events import Event, EventSink, Notice
from azxfer.journal.recorder import JournalRecorder
from azxfer.locations import redact
from azxfer.models import Entry, JobTotals, Skipped, Transfer
from azxfer.options import CopyOptions
from azxfer.plan.compare import OverwritePolicy
from azxfer.plan.filters import EntryFilter
from azxfer.plan.naming import LocalNameMapper
from azxfer.plan.planner import CopyPlanner
from azxfer.plan.sync import (
    DEFAULT_DELETE_LIMIT,
    DEFAULT_SKEW_SECONDS,
    IDENTICAL,
    DeleteLimit,
    merge_join,
    strategy_for,
    sync_key,
    walk_sort_key,
)

log = logging.getLogger("azxfer.sync")

# Partial downloads of any azxfer job (kept for its resume): never listed, never deleted.
_PARTIAL = re.compile(r"^\..*\.azxfer-[0-9a-f]{8}-\d+\.part$")
_HASH_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """Everything `azxfer sync` needs: the copy options plus comparison and delete settings."""

    copy: CopyOptions
    compare_hash: str | None = None
    mirror: bool = False
    delete_destination: str = "false"  # false | true | prompt
    max_delete: DeleteLimit = DEFAULT_DELETE_LIMIT
    skew: float = DEFAULT_SKEW_SECONDS


@dataclass(frozen=True, slots=True)
class Deleted(Event):
    """A destination entry not in the source was deleted (or, in a dry run, would be)."""

    kind: ClassVar[str] = "deleted"
    destination: str
    dry_run: bool
    outcome: str = "completed"  # or "failed"
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SyncSummary(Event):
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


@dataclass(slots=True)
class _Stats:
    identical: int = 0
    dest_total: int = 0
    extra: int = 0
    deleted: int = 0
    delete_failed: int = 0
    deletes_done: bool = False
    incomplete: list[str] = field(default_factory=list)
    note: str | None = None


# Asked with the number of destination entries to delete; True means go ahead.
AskDelete = Callable[[int], bool]


def sync(
    options: SyncOptions,
    sink: EventSink,
    ask_delete: AskDelete | None = None,
    job: JobSpec | None = None,
) -> JobResult:
    """Run a sync job to completion (blocking)."""
    spec = job or JobSpec(new_job_id(), command="sync")
    return asyncio.run(SyncJob(options, sink, ask_delete, spec).run())


class SyncJob(_Job):
    """A copy job whose plan is the merge of the source and destination listings."""

    def __init__(
        self, sync_options: SyncOptions, sink: EventSink, ask: AskDelete | None, spec: JobSpec
    ) -> None:
        super().__init__(sync_options.copy, sink, None, spec)
        self.sync = sync_options
        self.ask_delete = ask
        self.stats = _Stats()
        self.extra: _ExtraTable | None = None

    async def _execute(self, connections: BlobConnections) -> tuple[JobTotals, str]:
        options = self.options
        if self.spec.resume:
            raise UsageError("sync jobs cannot be resumed: run the same azxfer sync again")
        job_id = self.spec.job_id
        source = _endpoint(options.source, options.source_credential, connections, job_id)
        dest = _endpoint(options.destination, options.dest_credential, connections, job_id)
        selection = await self._select_source(source)
        if not options.dry_run:
            await dest.prepare_destination(True)
        self.extra = _ExtraTable()
        try:
            plan = self._plan(selection, self._list_destination(dest), dest)
            if options.dry_run:
                totals = await _dry_run(plan, self.sink)
                await self._deletes(dest, totals)
                return totals, "DryRun"
            self.runner = self._make_runner(source, dest)
            totals = await self.runner.run(plan)
            if self.runner.stopping:
                return totals, "Cancelled"
            await self._deletes(dest, totals)
            status = _status(totals)
            if self.stats.delete_failed and status != "CompletedWithErrors":
                status = "CompletedWithErrors"
            return totals, status
        finally:
            self.extra.close()

    def _make_runner(self, source: Endpoint, dest: Endpoint) -> JobRunner:
        options = self.options
        md5 = _Md5Policy(options, self.sink)
        return JobRunner(
            source,
            dest,
            self.sink,
            options.engine.concurrency,
            options.engine.max_memory,
            options.engine.block_size,
            md5.verify,
            None,
            JournalRecorder(self.journal) if self.journal else None,
            wants_md5=md5.wants,
        )

    # -- listings ----------------------------------------------------------------------------

    def _name_filter(self) -> EntryFilter:
        spec = replace(self.options.filters, include_after=None, include_before=None)
        return EntryFilter(spec)

    async def _select_source(self, source: LocalEndpoint | BlobEndpoint) -> Selection:
        options = self.options
        needs = "azxfer sync needs a folder, a container or a virtual directory as its source"
        if isinstance(source, LocalEndpoint):
            if source.pattern is not None:
                raise UsageError(f"{needs}, not a wildcard")
            if not os.path.isdir(source.path):
                raise LocationError(f"{needs}; '{source.path}' is not a folder")
            walker = _SortedWalker(self._name_filter(), True, options.follow_symlinks)
            return Selection(
                SelectionKind.DIRECTORY, "", _threaded(walker.walk_dir(source.path, ""))
            )
        selection = await source.select(True, self._name_filter(), options.follow_symlinks)
        if selection.kind is not SelectionKind.DIRECTORY:
            raise UsageError(
                f"{needs}; '{options.source.display}' selects "
                + ("one blob" if selection.kind is SelectionKind.SINGLE else "nothing")
            )
        return selection

    async def _list_destination(
        self, dest: LocalEndpoint | BlobEndpoint
    ) -> AsyncIterator[Entry | Skipped]:
        """Destination entries and skipped items, in sync_key order."""
        if isinstance(dest, LocalEndpoint):
            if not os.path.exists(dest.path):
                return
            if not os.path.isdir(dest.path):
                raise LocationError(f"destination '{dest.path}' is a file, not a folder")
            walker = _SortedWalker(self._name_filter(), True, False, skip_partials=True)
            async for item in _threaded(walker.walk_dir(dest.path, "")):
                yield item
            return
        prefix = dest.location.path.rstrip("/")
        base = f"{prefix}/" if prefix else ""
        listing = dest._list(base, True, self._name_filter())
        try:
            async for item in listing:
                yield item
        except NotFoundError:
            if not self.options.dry_run:
                raise
            # A dry run does not create the container: a missing one is empty.

    # -- planning ----------------------------------------------------------------------------

    async def _plan(
        self,
        selection: Selection,
        dest_items: AsyncIterator[Entry | Skipped],
        dest: LocalEndpoint | BlobEndpoint,
    ) -> AsyncIterator[Planned]:
        """Merge the listings; yield a Planned transfer (or 'identical' skip) per source file."""
        options = self.options
        planner = CopyPlanner(options, dest, OverwritePolicy(options.overwrite, None), self.sink)
        compare = strategy_for(self.sync.compare_hash, self.sync.mirror, self.sync.skew)
        time_filter = EntryFilter(options.filters)
        has_times = bool(options.filters.include_after or options.filters.include_before)
        to_local = options.destination.is_local
        mapper = LocalNameMapper(Path(options.destination.local_path)) if to_local else None
        extra = self.extra
        assert extra is not None
        pending_skips: list[Planned] = []

        async def src_entries() -> AsyncIterator[Entry]:
            async for item in selection.items:
                if isinstance(item, Skipped):
                    self._protect(item, "source")
                    skip = Planned(planner._skip_transfer(item), WriteProps(), item.reason)
                    pending_skips.append(skip)
                    continue
                yield item

        async def dst_entries() -> AsyncIterator[Entry]:
            async for item in dest_items:
                if isinstance(item, Skipped):
                    self._protect(item, "destination")
                    continue
                self.stats.dest_total += 1
                yield item

        async for pair in merge_join(src_entries(), dst_entries()):
            while pending_skips:
                yield pending_skips.pop(0)
            src, dst = pair.src, pair.dst
            if src is None:
                assert dst is not None
                extra.add(pair.key, dst.ref, planner._display(dst.ref))
                continue
            if has_times and not time_filter.accepts(src.rel_path, src.mtime):
                continue  # not selected for copying, but present: its destination stays
            dest_rel = src.rel_path
            if mapper is not None:
                mapped = mapper.map(src.rel_path)
                if mapped is None:
                    continue
                if mapped.reason:
                    self.sink.emit(
                        Notice(
                            "warning",
                            f"'{src.rel_path}' saved as '{mapped.local_rel}': {mapped.reason}",
                        )
                    )
                    dest_rel = mapped.local_rel
                    extra.protect(sync_key(dest_rel))
                    dst = await dest.stat(dest.join(dest_rel))
            if self.sync.compare_hash == "md5" and dst is not None and src.size == dst.size:
                if options.source.is_local:
                    src = await _with_local_md5(src)
                if to_local:
                    dst = await _with_local_md5(dst)
            decision = compare(src, dst)
            dest_ref = dest.join(dest_rel)
            transfer = Transfer(
                planner._new_id(), src, dest_ref, redact(planner._display(dest_ref))
            )
            if not decision.transfer:
                self.stats.identical += 1
                yield Planned(transfer, planner._props(src), decision.reason or IDENTICAL)
                continue
            log.info("copy %s: %s", src.rel_path, decision.reason)
            yield Planned(transfer, planner._props(src))
        while pending_skips:
            yield pending_skips.pop(0)

    def _protect(self, item: Skipped, side: str) -> None:
        assert self.extra is not None
        if item.reason.startswith("cannot"):
            self.stats.incomplete.append(f"{side} '{item.rel_path}': {item.reason}")
        self.extra.protect(sync_key(item.rel_path))

    # -- deletes -----------------------------------------------------------------------------

    async def _deletes(self, dest: LocalEndpoint | BlobEndpoint, totals: JobTotals) -> None:
        extra = self.extra
        assert extra is not None
        stats = self.stats
        count = extra.count()
        stats.extra = count
        mode = self.sync.delete_destination
        if count == 0 or mode == "false":
            if count and mode == "false":
                stats.note = f"{count} destination entries not in the source were kept"
            return
        if stats.incomplete:
            stats.note = "nothing deleted: a listing was incomplete"
            self.sink.emit(
                Notice(
                    "warning",
                    f"not deleting: a listing was incomplete ({stats.incomplete[0]})",
                )
            )
            return
        if totals.files_failed:
            stats.note = "nothing deleted: some copies failed"
            self.sink.emit(Notice("warning", f"not deleting: {totals.files_failed} copies failed"))
            return
        limit = self.sync.max_delete
        if limit.exceeded(count, stats.dest_total):
            share = 100 * count / max(stats.dest_total, 1)
            stats.note = "nothing deleted: more than --max-delete"
            raise AzxferError(
                f"refusing to delete {count} of {stats.dest_total} destination entries "
                f"({share:.0f}%): more than --max-delete {limit.describe()}; nothing was "
                "deleted (raise --max-delete to allow it)"
            )
        dry = self.options.dry_run
        declined = mode == "prompt" and not dry and not (self.ask_delete and self.ask_delete(count))
        if declined:
            stats.note = "nothing deleted: declined at the prompt"
            self.sink.emit(Notice("info", f"kept {count} destination entries (declined)"))
            return
        slots = asyncio.Semaphore(max(1, min(self.options.engine.concurrency, 64)))

        async def delete_one(ref: str, display: str) -> None:
            async with slots:
                try:
                    await dest.delete(ref)
                except AzxferError as exc:
                    stats.delete_failed += 1
                    self.sink.emit(Deleted(display, False, "failed", str(exc)))
                    return
            stats.deleted += 1
            self.sink.emit(Deleted(display, False))

        batch: list[asyncio.Task[None]] = []
        for ref, display in extra.candidates():
            if dry:
                self.sink.emit(Deleted(display, True))
                continue
            batch.append(asyncio.create_task(delete_one(ref, display)))
            if len(batch) >= 256:
                await asyncio.gather(*batch)
                batch = []
        if batch:
            await asyncio.gather(*batch)
        stats.deletes_done = not dry

    def _finish(
        self, status: str, error: str | None, totals: JobTotals, elapsed: float
    ) -> JobResult:
        stats = self.stats
        self.sink.emit(
            SyncSummary(
                copied=totals.files_completed,
                skipped_identical=stats.identical,
                failed=totals.files_failed,
                extra_at_destination=stats.extra,
                deleted=stats.deleted,
                delete_failed=stats.delete_failed,
                deletes_done=stats.deletes_done,
                note=stats.note,
            )
        )
        return super()._finish(status, error, totals, elapsed)


class _ExtraTable:
    """Destination-only entries and protected paths, in a temporary on-disk SQLite database
    (removed when closed), so memory does not grow with the destination's size."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" = a private temporary file, deleted on close
        self.db.execute("CREATE TABLE extra (key BLOB PRIMARY KEY, ref TEXT, display TEXT)")
        self.db.execute("CREATE TABLE protected (key BLOB PRIMARY KEY)")

    def add(self, key: bytes, ref: str, display: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO extra VALUES (?, ?, ?)", (key, _text(ref), _text(display))
        )

    def protect(self, key: bytes) -> None:
        self.db.execute("INSERT OR IGNORE INTO protected VALUES (?)", (key,))

    def _protected(self, key: bytes) -> bool:
        parts = key.split(b"/")
        prefixes = [b"/".join(parts[: i + 1]) for i in range(len(parts))]
        marks = ",".join("?" * len(prefixes))
        row = self.db.execute(
            f"SELECT 1 FROM protected WHERE key IN ({marks}) LIMIT 1", prefixes
        ).fetchone()
        return row is not None

    def candidates(self) -> Iterator[tuple[str, str]]:
        """(ref, display) of every unprotected extra entry, in key order."""
        cursor = self.db.execute("SELECT key, ref, display FROM extra ORDER BY key")
        while rows := cursor.fetchmany(512):
            for key, ref, display in rows:
                if not self._protected(key):
                    yield _untext(ref), _untext(display)

    def count(self) -> int:
        return sum(1 for _ in self.candidates())

    def close(self) -> None:
        self.db.close()


def _text(value: str) -> str:
    """SQLite text must be valid UTF-8: keep undecodable local names' bytes reversibly."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return "\x00b:" + value.encode("utf-8", "surrogateescape").hex()


def _untext(value: str) -> str:
    if value.startswith("\x00b:"):
        return bytes.fromhex(value[3:]).decode("utf-8", "surrogateescape")
    return value


class _SortedWalker(_Walker):
    """The local walk, each folder ordered by `walk_sort_key` so relative paths come out in
    the byte order Blob storage lists names in."""

    def __init__(
        self,
        filters: EntryFilter,
        recursive: bool,
        follow_symlinks: bool,
        skip_partials: bool = False,
    ) -> None:
        super().__init__(filters, recursive, follow_symlinks)
        self.skip_partials = skip_partials

    def _scan(
        self, folder: str, prefix: str, ancestors: set[tuple[int, int]], top: bool = False
    ) -> Iterator[Entry | Skipped]:
        try:
            items = list(os.scandir(folder))
        except OSError as exc:
            yield Skipped(folder, prefix, f"cannot list folder: {exc.strerror}")
            return
        items.sort(key=lambda d: walk_sort_key(d.name, self._is_dir(d)))
        for item in items:
            if self.skip_partials and _PARTIAL.match(item.name):
                continue
            rel = f"{prefix}/{item.name}" if prefix else item.name
            yield from self._visit(item, rel, ancestors)

    def _is_dir(self, item: os.DirEntry[str]) -> bool:
        try:
            if item.is_symlink():
                return self.follow and stat_mod.S_ISDIR(os.stat(item.path).st_mode)
            return item.is_dir(follow_symlinks=False)
        except OSError:
            return False


async def _with_local_md5(entry: Entry) -> Entry:
    """A local file's entry with its MD5 computed (None if it cannot be read)."""
    digest = await asyncio.to_thread(_md5_file, entry.ref)
    return replace(entry, md5=digest)


def _md5_file(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "md5").digest()
    except OSError:
        return None
