"""A dry run of copy or sync: what the plan would do, reported as the real run would report
it (queued, skipped, failed), with nothing moved.

Apart from `jobrun` because it is one way to consume a plan, as the engine is the other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

from azxfer.engine.folders import dry_run_folder, is_folder, report_skips
from azxfer.engine.job import transfer_done
from azxfer.events import EnumerationDone, EventSink, TransferQueued
from azxfer.models import JobTotals, Outcome, Planned, Transfer


async def dry_run(plan: AsyncIterator[Planned], sink: EventSink) -> JobTotals:
    """Report what the plan would do (queued, skipped, or failed as planning found it must
    be), moving nothing."""
    totals = JobTotals()
    folder_skips: Counter[str] = Counter()
    async for item in plan:
        transfer = item.transfer
        if is_folder(item):
            dry_run_folder(item, totals, sink, folder_skips)
            continue
        totals.files_total += 1
        if item.skip_reason is not None:
            totals.files_skipped += 1
            _report_done(sink, transfer, Outcome.SKIPPED, item.skip_reason)
            continue
        if item.fail_reason is not None:
            # The real run would fail it without a request (another source has its
            # destination), so the dry run must not show it as one it would copy.
            totals.files_failed += 1
            totals.failed.append((transfer.source.ref, item.fail_reason))
            _report_done(sink, transfer, Outcome.FAILED, item.fail_reason)
            continue
        totals.bytes_total += transfer.source.size
        sink.emit(
            TransferQueued(
                transfer.id, transfer.source.ref, transfer.dest_display, transfer.source.size
            )
        )
    report_skips(sink, folder_skips)
    sink.emit(EnumerationDone(totals.files_total, totals.bytes_total))
    return totals


def _report_done(sink: EventSink, transfer: Transfer, outcome: Outcome, reason: str) -> None:
    sink.emit(transfer_done(transfer, outcome, reason))
