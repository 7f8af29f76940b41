"""Planning a resumed job: the journal's unfinished transfers, then whatever enumeration
had not reached when the earlier run stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from msgspec.structs import replace

from azxfer.endpoints.base import Endpoint
from azxfer.events import EventSink, Notice
from azxfer.journal.codec import entry_from_json, props_from_json
from azxfer.journal.rows import TransferRow, TransferState
from azxfer.journal.store import Journal
from azxfer.models import Entry, Planned, Transfer


async def resume_plan(
    journal: Journal,
    source: Endpoint,
    sink: EventSink,
    enumerate_rest: Callable[[], AsyncIterator[Planned]] | None,
) -> AsyncIterator[Planned]:
    """Unfinished journaled transfers (checked against their source), then new entries."""
    rows = list(journal.transfers(TransferState.UNFINISHED))
    for row in rows:
        yield await _resumed(journal, source, sink, row)
    if enumerate_rest is not None:
        async for item in enumerate_rest():
            if not journal.has_source(item.transfer.source.key):
                yield item


async def _resumed(
    journal: Journal, source: Endpoint, sink: EventSink, row: TransferRow
) -> Planned:
    entry = entry_from_json(row.entry)
    transfer = Transfer(row.id, entry, row.dest_ref, row.dest_display)
    props = props_from_json(row.props)
    if not row.dest_ref:  # planned as failed: another source has its destination
        return Planned(transfer, props, resume=(), fail_reason=row.reason or "not transferred")
    if entry.is_point_in_time:  # immutable: cannot have changed
        chunks = tuple(journal.chunks(row.id))
        return Planned(transfer, props, resume=chunks, chunk_size=row.chunk_size)
    current = await source.stat(entry.ref)
    if current is None:
        return Planned(transfer, props, skip_reason="the source no longer exists", resume=())
    if source_changed(entry, current):
        sink.emit(
            Notice(
                "warning",
                f"'{entry.ref}' changed since the job started: "
                "transferring it again from the start",
            )
        )
        journal.forget_chunks(row.id)
        fresh = replace(current, ref=entry.ref, rel_path=entry.rel_path)
        # resume=None: a fresh start; blocks staged from the old content must not be trusted.
        return Planned(Transfer(row.id, fresh, row.dest_ref, row.dest_display), props)
    chunks = tuple(journal.chunks(row.id))
    return Planned(transfer, props, resume=chunks, chunk_size=row.chunk_size)


def source_changed(before: Entry, now: Entry) -> bool:
    """Whether a source differs from what was journaled: size, else ETag, else mtime."""
    if before.size != now.size:
        return True
    if before.etag and now.etag:
        return before.etag != now.etag
    return before.mtime is not None and now.mtime is not None and before.mtime != now.mtime
