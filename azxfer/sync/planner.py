"""Planning a sync: the merge of the source and destination listings, compared entry by entry.

What differs is planned as a transfer, what is the same as a skipped transfer with reason
"identical"; destination-only entries go to the `ExtraTable`. Items a listing skips protect
the destination entries of their path (an unreadable one also makes the listing incomplete).

Resumed (the journal of an earlier run given), a source file with an unfinished journaled
transfer that still differs continues it with the same transfer ID, unless the source changed
since (then it starts over).

Entries are compared under the names the destination really stores (the destination's namer:
`azxfer.plan.blobnames`, `azxfer.plan.filenames`): a file 'a\\b' is compared with blob 'a/b'
and that blob is protected from deletes; a file whose stored name another source file has
fails instead of overwriting it. On a case-insensitive destination a destination-only entry
whose name differs from a source entry's only in case is the same object to the service: it
is never deleted (`CaseTwins`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from msgspec.structs import replace

from azxfer.endpoints.base import DestinationEndpoint, DestinationNames, Selection
from azxfer.events import EventSink, Notice
from azxfer.journal.codec import entry_from_json, entry_to_json, props_to_json
from azxfer.journal.hashcache import HashCache
from azxfer.journal.rows import TransferRow, TransferState
from azxfer.journal.store import Journal
from azxfer.locations import redact
from azxfer.models import Entry, Planned, Skipped, Transfer, WriteProps
from azxfer.plan.compare import Decision, OverwritePolicy
from azxfer.plan.filenames import CaseTwins
from azxfer.plan.filters import EntryFilter
from azxfer.plan.planner import CopyPlanner, namer_for
from azxfer.plan.resume import source_changed
from azxfer.plan.sync import BYTE_ORDER, IDENTICAL, MergeOrder, Pair, merge_join, strategy_for
from azxfer.sync.extra import ExtraTable
from azxfer.sync.hashing import md5_and_cache
from azxfer.sync.options import SyncOptions
from azxfer.sync.summary import SyncStats

log = logging.getLogger("azxfer.sync")

_NO_PROPS = WriteProps()


class SyncPlanner:
    """Turns the two sorted listings of a sync into Planned transfers for one destination."""

    def __init__(
        self,
        options: SyncOptions,
        dest: DestinationEndpoint,
        sink: EventSink,
        extra: ExtraTable,
        stats: SyncStats,
        journal: Journal | None,
        hashes: HashCache | None,
        order: MergeOrder = BYTE_ORDER,
    ) -> None:
        """`journal` is the earlier run's when resuming (else None); `hashes` caches local
        files' MD5s (when comparing MD5s); `order` is the order both listings come in (names
        pair as its key compares them: case-folded toward a case-insensitive destination)."""
        copy = options.copy
        self.options = options
        self.dest = dest
        self.sink = sink
        self.extra = extra
        self.stats = stats
        self.journal = journal
        self.hashes = hashes
        self.order = order
        self.key = order.key
        self.planner = CopyPlanner(copy, dest, OverwritePolicy(copy.overwrite, None), sink)
        self.compare = strategy_for(options.compare_hash, options.mirror, options.skew)
        self.time_filter = EntryFilter(copy.filters)
        self.has_times = bool(copy.filters.include_after or copy.filters.include_before)
        self.pending_skips: list[Planned] = []
        if self.planner.namer is not None:
            # As the sync's own walk selects: recursive, name filters only (a file the time
            # filters leave out is still present, and its blob stays).
            names = replace(copy.filters, include_after=None, include_before=None)
            self.planner.namer = namer_for(
                dest, copy.source.is_local, EntryFilter(names), True, copy.follow_symlinks
            )
        self.twins = _case_twins(dest)
        if journal is not None:
            self.planner.next_id = journal.max_transfer_id()

    async def plan(
        self, selection: Selection, dest_items: AsyncIterator[Entry | Skipped]
    ) -> AsyncIterator[Planned]:
        """Merge the listings; yield a Planned transfer (or 'identical' skip) per source file."""
        merged = merge_join(
            self._src_entries(selection),
            self._dst_entries(dest_items),
            self.key,
            ties=self.order.folds_case,
        )
        async for pair in merged:
            while self.pending_skips:
                yield self.pending_skips.pop(0)
            planned = await self._plan_pair(pair)
            if planned is not None:
                yield planned
        while self.pending_skips:
            yield self.pending_skips.pop(0)

    async def _src_entries(self, selection: Selection) -> AsyncIterator[Entry]:
        """The source's entries; its skipped items wait to be yielded as skipped transfers."""
        async for item in selection.items:
            if isinstance(item, Skipped):
                self._protect(item, "source")
                skip = Planned(self.planner.skip_transfer(item), WriteProps(), item.reason)
                self.pending_skips.append(skip)
                continue
            yield item

    async def _dst_entries(
        self, dest_items: AsyncIterator[Entry | Skipped]
    ) -> AsyncIterator[Entry]:
        async for item in dest_items:
            if isinstance(item, Skipped):
                self._protect(item, "destination")
                continue
            if not item.is_folder:  # --max-delete's share is of files
                self.stats.dest_total += 1
            yield item

    def _protect(self, item: Skipped, side: str) -> None:
        if item.reason.startswith("cannot"):
            self.stats.incomplete.append(f"{side} '{item.rel_path}': {item.reason}")
        self.extra.protect(self.key(item.rel_path))

    async def _plan_pair(self, pair: Pair) -> Planned | None:
        """The plan for one step of the merge: None for a destination-only entry (noted as
        extra) or a source entry not to copy."""
        src, dst = pair.src, pair.dst
        if src is None:
            assert dst is not None
            if dst.is_folder:  # deleted after the files, if it is empty then
                self.extra.add_folder(pair.key, dst.ref, self.planner.display(dst.ref))
                return None
            self.extra.add(pair.key, dst.ref, self.planner.display(dst.ref))
            self._protect_twins(dst.rel_path, from_source=False)
            return None
        self._protect_twins(src.rel_path, from_source=True)
        self.extra.imply_parents(pair.key)
        if src.is_folder:  # merged by key: `dst` is the same folder, or none
            return None if dst is not None else self.planner.plan_folder(src, src.rel_path)
        if self.has_times and not self.time_filter.accepts(src.rel_path, src.mtime):
            return None  # not selected for copying, but present: its destination stays
        dest_rel = src.rel_path
        if self.planner.mapper is not None:
            local = await self._local_name(src, dst)
            if local is None:
                return None
            dest_rel, dst = local
        elif self.planner.namer is not None:
            stored = await self._stored_name(src, dst)
            if isinstance(stored, Planned):
                return stored
            dest_rel, dst = stored
        if self.options.compares_md5 and dst is not None and src.size == dst.size:
            src, dst = await self._with_md5s(src, dst)
        return self._planned(src, self.dest.join(dest_rel), self.compare(src, dst))

    async def _local_name(self, src: Entry, dst: Entry | None) -> tuple[str, Entry | None] | None:
        """Where `src` goes in a local destination, and what is there; None to skip it. A name
        that cannot be used as it is goes under another (said, and protected from deletes)."""
        mapper = self.planner.mapper
        assert mapper is not None
        mapped = mapper.map(src.rel_path)
        if mapped is None:
            return None
        if not mapped.reason:
            return src.rel_path, dst
        self.sink.emit(
            Notice("warning", f"'{src.rel_path}' saved as '{mapped.local_rel}': {mapped.reason}")
        )
        self.extra.protect(self.key(mapped.local_rel))
        return mapped.local_rel, await self.dest.stat(self.dest.join(mapped.local_rel))

    def _protect_twins(self, rel_path: str, from_source: bool) -> None:
        if self.twins is not None:
            for twin in self.twins.add(rel_path, from_source):
                self.extra.protect(self.key(twin))

    async def _stored_name(
        self, src: Entry, dst: Entry | None
    ) -> tuple[str, Entry | None] | Planned:
        """The name the destination stores `src` under, and what is there (a translated name
        is said, and protected from deletes); a failed transfer if another source file has
        that name or it cannot be stored."""
        namer = self.planner.namer
        assert namer is not None
        named = namer.name(src)
        dest_ref = self.dest.join(named.rel)
        refused = named.conflict or namer.refusal(dest_ref)
        if refused is not None:
            row = self.journal.transfer_for_source(src.ref) if self.journal else None
            if row is None:
                return self.planner.conflict(self.planner.new_id(), src, dest_ref, refused)
            failed = self.planner.conflict(row.id, src, dest_ref, refused)
            return replace(failed, resume=())  # journaled already: only its outcome is new
        if named.rel == src.rel_path:
            return named.rel, dst
        reason = namer.reason(src.rel_path)
        self.sink.emit(Notice("warning", f"'{src.rel_path}' stored as '{named.rel}': {reason}"))
        self.extra.protect(self.key(named.rel))
        return named.rel, await self.dest.stat(dest_ref)

    async def _with_md5s(self, src: Entry, dst: Entry) -> tuple[Entry, Entry]:
        """Both entries with MD5s to compare: the local side's from the cache, or read."""
        copy = self.options.copy
        if copy.source.is_local:
            src = await self._local_md5(src)
        if copy.destination.is_local:
            dst = await self._local_md5(dst)
        return src, dst

    async def _local_md5(self, entry: Entry) -> Entry:
        """A local entry with its MD5: from the cache (the walk looked it up), else read."""
        if entry.md5 is not None:
            self.stats.hashes_cached += 1
            return entry
        self.stats.hashed += 1
        digest = await asyncio.to_thread(md5_and_cache, entry.ref, self.hashes)
        return replace(entry, md5=digest)

    def _planned(self, src: Entry, dest_ref: str, decision: Decision) -> Planned:
        """The transfer of `src` to `dest_ref`, or its 'identical' skip."""
        planner, journal = self.planner, self.journal
        display = redact(planner.display(dest_ref))
        row = journal.transfer_for_source(src.ref) if journal is not None else None
        if not decision.transfer:
            if journal and row and row.state in TransferState.UNFINISHED:
                # Committed by the earlier run just before it could journal that.
                journal.set_state(row.id, TransferState.SKIPPED, IDENTICAL)
            self.stats.identical += 1
            transfer = Transfer(planner.new_id(), src, dest_ref, display)
            # No write properties: nothing is written (and guessing a content type for
            # every identical file was a tenth of a no-op sync's CPU).
            return Planned(transfer, _NO_PROPS, decision.reason or IDENTICAL)
        log.info("copy %s: %s", src.rel_path, decision.reason)
        if row is not None:
            return self._continue(row, src, dest_ref, display, planner.props_for(src))
        transfer = Transfer(planner.new_id(), src, dest_ref, display)
        return Planned(transfer, planner.props_for(src))

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
        same = row.dest_ref == dest_ref and not source_changed(entry_from_json(row.entry), src)
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


def _case_twins(dest: DestinationEndpoint) -> CaseTwins | None:
    """A case-twin tracker if `dest` holds names case-insensitively."""
    if isinstance(dest, DestinationNames):
        rules = dest.name_rules()
        if rules.case_insensitive:
            return CaseTwins(rules)
    return None
