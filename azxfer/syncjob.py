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

MD5s of local files (--compare-hash md5) come from the shared hash cache of the job directory
(`azxfer.journal.hashcache`) when the file's size, times and inode still match: the local
walk looks each file up as it stats it (in the walk's thread), and only misses are read and
hashed (in a worker thread), then stored. The MD5 the engine computes while uploading a file
is stored too, so the sync after an upload hashes nothing.

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
import hashlib
import logging
import os
import re
import sqlite3
import stat as stat_mod
import time
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
    _mover_for,
    _status,
    new_job_id,
)
from azxfer.endpoints.base import Endpoint, Selection, SelectionKind, WriteProps
from azxfer.endpoints.blob import BlobConnections, BlobEndpoint
from azxfer.endpoints.local import LocalEndpoint, _threaded, _Walker
from azxfer.engine.job import JobRunner, Planned
from azxfer.errors import AzxferError, LocationError, NotFoundError, UsageError
from azxfer.events import Event, EventSink, Notice
from azxfer.journal.codec import entry_from_json, entry_to_json, props_to_json
from azxfer.journal.hashcache import HashCache, stat_key
from azxfer.journal.recorder import JournalRecorder
from azxfer.journal.store import TransferRow, TransferState
from azxfer.locations import redact
from azxfer.models import BlobType, Entry, JobTotals, Outcome, Skipped, Transfer
from azxfer.options import CopyOptions
from azxfer.plan.compare import OverwritePolicy
from azxfer.plan.filters import EntryFilter
from azxfer.plan.naming import LocalNameMapper
from azxfer.plan.planner import CopyPlanner, _type_for_name
from azxfer.plan.resume import _changed
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
_NO_PROPS = WriteProps()


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
    hashed: int = 0
    hashes_cached: int = 0


@dataclass(slots=True)
class _Stats:
    identical: int = 0
    hashed: int = 0
    hashes_cached: int = 0
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
        self.hashes: HashCache | None = None
        self.uploads: _UploadHashes | None = None
        self.started_ns = time.time_ns()

    @property
    def _md5_compare(self) -> bool:
        return self.sync.compare_hash == "md5" and not self.sync.mirror

    async def _execute(self, connections: BlobConnections) -> tuple[JobTotals, str]:
        options = self.options
        job_id = self.spec.job_id
        self.started_ns = time.time_ns()
        source = _endpoint(options.source, options.source_credential, connections, job_id)
        dest = _endpoint(options.destination, options.dest_credential, connections, job_id)
        self.hashes = await self._open_hash_cache()
        try:
            selection = await self._select_source(source)
            if not options.dry_run:
                await dest.prepare_destination(True)
            self.extra = _ExtraTable()
            plan = self._plan(selection, self._list_destination(dest), dest)
            if options.dry_run:
                totals = await _dry_run(plan, self.sink)
                await self._deletes(dest, totals)
                return totals, "DryRun"
            self.runner = self._make_runner(source, dest)
            totals = await self.runner.run(plan)
            if self.uploads is not None:
                await self.uploads.finish()
            if self.runner.stopping:
                return totals, "Cancelled"
            await self._deletes(dest, totals)
            status = _status(totals)
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
        wanted = self._md5_compare or (uploads and not options.dry_run)
        if self.spec.job_dir is None or not wanted:
            return None
        return await asyncio.to_thread(HashCache.open, self.spec.job_dir)

    def _make_runner(self, source: Endpoint, dest: Endpoint) -> JobRunner:
        options = self.options
        md5 = _Md5Policy(options, self.sink)
        verify = md5.verify
        if self.hashes is not None and isinstance(source, LocalEndpoint):
            self.uploads = uploads = _UploadHashes(self.hashes, self.started_ns, options)

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
            _SyncRecorder(self.journal) if self.journal else None,
            wants_md5=md5.wants,
            mover=_mover_for(source, dest, options),  # blob to blob: server side
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
            walker = _SortedWalker(
                self._name_filter(), True, options.follow_symlinks, hashes=self._lookups()
            )
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
            walker = _SortedWalker(
                self._name_filter(), True, False, skip_partials=True, hashes=self._lookups()
            )
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

    def _lookups(self) -> HashCache | None:
        """The cache a local walk looks MD5s up in (only when comparing MD5s)."""
        return self.hashes if self._md5_compare else None

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
        journal = self.journal if self.spec.resume else None
        if journal is not None:
            planner.next_id = journal.max_transfer_id()

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
            if self._md5_compare and dst is not None and src.size == dst.size:
                if options.source.is_local:
                    src = await self._local_md5(src)
                if to_local:
                    dst = await self._local_md5(dst)
            decision = compare(src, dst)
            dest_ref = dest.join(dest_rel)
            display = redact(planner._display(dest_ref))
            row = journal.transfer_for_source(src.ref) if journal is not None else None
            if not decision.transfer:
                if journal and row and row.state in TransferState.UNFINISHED:
                    # Committed by the earlier run just before it could journal that.
                    journal.set_state(row.id, TransferState.SKIPPED, IDENTICAL)
                self.stats.identical += 1
                transfer = Transfer(planner._new_id(), src, dest_ref, display)
                # No write properties: nothing is written (and guessing a content type for
                # every identical file was a tenth of a no-op sync's CPU).
                yield Planned(transfer, _NO_PROPS, decision.reason or IDENTICAL)
                continue
            log.info("copy %s: %s", src.rel_path, decision.reason)
            if row is not None:
                yield self._continue(row, src, dest_ref, display, planner._props(src))
                continue
            transfer = Transfer(planner._new_id(), src, dest_ref, display)
            yield Planned(transfer, planner._props(src))
        while pending_skips:
            yield pending_skips.pop(0)

    def _continue(
        self, row: TransferRow, src: Entry, dest_ref: str, display: str, props: WriteProps
    ) -> Planned:
        """A resumed sync's transfer of a source the earlier run journaled: continue it where
        it stopped if it is unfinished and its source unchanged, else start it over (under
        the same transfer ID, so the journal keeps one row per source)."""
        journal = self.journal
        assert journal is not None
        transfer = Transfer(row.id, src, dest_ref, display)
        unfinished = row.state in TransferState.UNFINISHED
        same = row.dest_ref == dest_ref and not _changed(entry_from_json(row.entry), src)
        if unfinished and same:
            chunks = tuple(journal.chunks(row.id))
            return Planned(transfer, props, resume=chunks, chunk_size=row.chunk_size)
        if unfinished:
            self.sink.emit(
                Notice(
                    "warning",
                    f"'{src.ref}' changed since the job started: transferring it again from "
                    "the start",
                )
            )
        journal.replan(
            TransferRow(
                row.id,
                src.ref,
                dest_ref,
                display,
                src.size,
                src.mtime,
                entry_to_json(src),
                props_to_json(props),
                0,
                TransferState.PENDING,
                None,
            )
        )
        return Planned(transfer, props)  # resume=None: a fresh start; old blocks not trusted

    async def _local_md5(self, entry: Entry) -> Entry:
        """A local entry with its MD5: from the cache (the walk looked it up), else read."""
        if entry.md5 is not None:
            self.stats.hashes_cached += 1
            return entry
        self.stats.hashed += 1
        digest = await asyncio.to_thread(_md5_and_cache, entry.ref, self.hashes)
        return replace(entry, md5=digest)

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
                hashed=stats.hashed,
                hashes_cached=stats.hashes_cached,
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
        hashes: HashCache | None = None,
    ) -> None:
        super().__init__(filters, recursive, follow_symlinks)
        self.skip_partials = skip_partials
        self.hashes = hashes

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

    def _visit(
        self, item: os.DirEntry[str], rel: str, ancestors: set[tuple[int, int]]
    ) -> Iterator[Entry | Skipped]:
        """As the plain walk; with a hash cache, a file's entry carries its cached MD5 (looked
        up here, in the walk's thread, with the stat the walk already made)."""
        hashes = self.hashes
        if hashes is None:
            yield from super()._visit(item, rel, ancestors)
            return
        for found in super()._visit(item, rel, ancestors):
            if type(found) is Entry and found.ref == item.path:
                try:
                    key = stat_key(item.stat())  # the walk's own (cached) stat
                except OSError:
                    yield found
                    continue
                digest = hashes.lookup(os.path.abspath(found.ref), key)
                if digest is not None:
                    found = replace(found, md5=digest)
            yield found

    def _is_dir(self, item: os.DirEntry[str]) -> bool:
        try:
            if item.is_symlink():
                return self.follow and stat_mod.S_ISDIR(os.stat(item.path).st_mode)
            return item.is_dir(follow_symlinks=False)
        except OSError:
            return False


class _SyncRecorder(JournalRecorder):
    """The journal recorder, minus identical files: a no-op sync of a large tree would
    otherwise write (and later prune) one row per file on every run. A resumed sync finds
    them identical again from the listings, so nothing is lost."""

    def planned(self, item: Planned) -> None:
        if item.skip_reason == IDENTICAL:
            return
        super().planned(item)

    def finished(self, transfer: Transfer, outcome: Outcome, reason: str | None) -> None:
        if outcome is Outcome.SKIPPED and reason == IDENTICAL:
            return
        super().finished(transfer, outcome, reason)


class _UploadHashes:
    """Stores the MD5 the engine computed while uploading a local file into the hash cache,
    in batches on a worker thread. An MD5 is kept only for a block blob (a page blob's is of
    the zero-padded data) and only if the file's size and mtime after the upload read are
    those the listing saw (so it did not change while it was read); it is dated from the job
    start, which precedes the read (see the racy rule in hashcache)."""

    BATCH = 256

    def __init__(self, cache: HashCache, started_ns: int, options: CopyOptions) -> None:
        self.cache = cache
        self.started_ns = started_ns
        self.blob_type = options.upload.blob_type
        self.pending: list[tuple[Entry, bytes]] = []
        self.tasks: set[asyncio.Future[None]] = set()

    def add(self, entry: Entry, digest: bytes) -> None:
        if not digest or (self.blob_type or _type_for_name(entry.rel_path)) is not BlobType.BLOCK:
            return
        self.pending.append((entry, digest))
        if len(self.pending) >= self.BATCH:
            self._spawn()

    def _spawn(self) -> None:
        batch, self.pending = self.pending, []
        task = asyncio.ensure_future(asyncio.to_thread(self._store, batch))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _store(self, batch: list[tuple[Entry, bytes]]) -> None:
        for entry, digest in batch:
            try:
                st = os.stat(entry.ref)
            except OSError:
                continue
            if st.st_size == entry.size and st.st_mtime == entry.mtime:
                self.cache.store(os.path.abspath(entry.ref), stat_key(st), digest, self.started_ns)

    async def finish(self) -> None:
        """Store what is left; wait for every batch."""
        if self.pending:
            self._spawn()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


def _md5_and_cache(path: str, cache: HashCache | None) -> bytes | None:
    """A local file's MD5 (None if it cannot be read), stored in the cache if the file did
    not change while it was read."""
    started = time.time_ns()
    try:
        before = os.stat(path)
    except OSError:
        return None
    digest = _md5_file(path)
    if digest is None or cache is None:
        return digest
    try:
        after = os.stat(path)
    except OSError:
        return digest
    if stat_key(before) == stat_key(after):
        cache.store(os.path.abspath(path), stat_key(after), digest, started)
    return digest


def _md5_file(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "md5").digest()
    except OSError:
        return None
