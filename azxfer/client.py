"""The library facade: `copy(options, sink) -> JobResult`. Knows nothing of the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
import uuid
from dataclasses import dataclass, field

from azxfer.credentials import Credential
from azxfer.endpoints.base import SelectionKind
from azxfer.endpoints.blob import BlobConnections, BlobEndpoint
from azxfer.endpoints.local import LocalEndpoint
from azxfer.engine.job import JobRunner
from azxfer.errors import AzxferError, Cancelled, IntegrityError, NotFoundError, UsageError
from azxfer.events import (
    EnumerationDone,
    EventSink,
    JobFinished,
    JobStarted,
    Notice,
    TransferDone,
    TransferQueued,
)
from azxfer.locations import Location
from azxfer.models import JobTotals, Outcome, Service, Transfer
from azxfer.options import CheckMd5, CopyOptions
from azxfer.plan.compare import Ask, OverwritePolicy
from azxfer.plan.filters import EntryFilter
from azxfer.plan.planner import CopyPlanner

log = logging.getLogger("azxfer")

SUPPORTED_PAIRS = {
    (Service.LOCAL, Service.BLOB),
    (Service.BLOB, Service.LOCAL),
    (Service.BLOB, Service.BLOB),
}


@dataclass(slots=True)
class JobResult:
    """How a job ended."""

    job_id: str
    status: str
    totals: JobTotals
    elapsed: float
    error: str | None = None
    planned: list[Transfer] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when nothing failed, 130 when interrupted, else 1."""
        if self.status == "Cancelled":
            return 130
        return 1 if self.status in ("Failed", "CompletedWithErrors") else 0


def new_job_id() -> str:
    """A fresh job identifier."""
    return str(uuid.uuid4())


def copy(
    options: CopyOptions, sink: EventSink, ask: Ask | None = None, job_id: str | None = None
) -> JobResult:
    """Run a copy job to completion (blocking); interruptions end it as Cancelled."""
    return asyncio.run(_copy(options, sink, ask, job_id or new_job_id()))


async def _copy(options: CopyOptions, sink: EventSink, ask: Ask | None, job_id: str) -> JobResult:
    pair = (options.source.service, options.destination.service)
    if pair not in SUPPORTED_PAIRS:
        raise UsageError(f"copying from {pair[0].value} to {pair[1].value} is not supported")
    started = time.monotonic()
    sink.emit(
        JobStarted(
            job_id, "copy", options.source.display, options.destination.display, options.dry_run
        )
    )
    _cancel_on_sigterm()
    connections = BlobConnections(options.engine.concurrency)
    runner: JobRunner | None = None
    status, error = "Completed", None
    totals = JobTotals()
    try:
        source = _endpoint(options.source, options.source_credential, connections, job_id)
        dest = _endpoint(options.destination, options.dest_credential, connections, job_id)
        selection = await source.select(
            options.recursive, EntryFilter(options.filters), options.follow_symlinks
        )
        if options.move and options.source.read_only:
            raise UsageError("--move cannot delete from the read-only secondary endpoint")
        if not options.dry_run:
            await dest.prepare_destination(selection.kind.value != "single")
        policy = OverwritePolicy(options.overwrite, ask)
        plan = CopyPlanner(options, dest, policy, sink).plan(selection)
        if options.dry_run:
            totals = await _dry_run(plan, sink)
            status = "DryRun"
        else:
            after = _mover(source) if options.move else None
            runner = JobRunner(
                source,
                dest,
                sink,
                options.engine.concurrency,
                options.engine.max_memory,
                options.engine.block_size,
                _verifier(options, sink),
                after,
            )
            totals = await runner.run(plan)
            status = _status(totals)
        if totals.files_total == 0 and selection.kind is SelectionKind.PATTERN:
            raise NotFoundError(f"nothing matched {options.source.display}")
    except asyncio.CancelledError:
        status, error = "Cancelled", "interrupted"
        totals = runner.totals if runner else totals
    except AzxferError as exc:
        status, error = "Failed", str(exc)
        totals = runner.totals if runner else totals
        if isinstance(exc, UsageError) and runner is None:
            await connections.close()
            raise
    finally:
        await connections.close()
    elapsed = time.monotonic() - started
    sink.emit(
        JobFinished(
            job_id,
            status,
            totals.files_total,
            totals.files_completed,
            totals.files_skipped,
            totals.files_failed,
            totals.bytes_done,
            round(elapsed, 3),
            [{"name": name, "reason": reason} for name, reason in totals.failed],
        )
    )
    if status == "Cancelled":
        raise Cancelled("interrupted; transfers in flight were abandoned")
    return JobResult(job_id, status, totals, elapsed, error)


def _endpoint(
    location: Location, credential: Credential | None, connections: BlobConnections, job_id: str
) -> LocalEndpoint | BlobEndpoint:
    if location.is_local:
        return LocalEndpoint(location.local_path, location.pattern, f"azxfer-{job_id[:8]}")
    return BlobEndpoint(location, connections.service(location, credential), credential)


async def _dry_run(plan, sink: EventSink) -> JobTotals:
    totals = JobTotals()
    async for item in plan:
        transfer = item.transfer
        totals.files_total += 1
        if item.skip_reason is not None:
            totals.files_skipped += 1
            sink.emit(
                TransferDone(
                    transfer.id,
                    transfer.source.ref,
                    transfer.dest_display,
                    Outcome.SKIPPED.value,
                    transfer.source.size,
                    item.skip_reason,
                )
            )
            continue
        totals.bytes_total += transfer.source.size
        sink.emit(
            TransferQueued(
                transfer.id, transfer.source.ref, transfer.dest_display, transfer.source.size
            )
        )
    sink.emit(EnumerationDone(totals.files_total, totals.bytes_total))
    return totals


def _status(totals: JobTotals) -> str:
    if totals.files_failed:
        return "CompletedWithErrors"
    if totals.files_skipped:
        return "CompletedWithSkipped"
    return "Completed"


def _verifier(options: CopyOptions, sink: EventSink):
    mode = options.check_md5
    checks = options.destination.is_local and mode is not CheckMd5.NO_CHECK

    def verify(transfer: Transfer, digest: bytes) -> None:
        if not checks:
            return
        expected = transfer.source.md5
        if expected is None:
            if mode is CheckMd5.FAIL_IF_DIFFERENT_OR_MISSING:
                raise IntegrityError(
                    f"'{transfer.source.ref}' has no Content-MD5 to verify "
                    "(--check-md5 FailIfDifferentOrMissing)"
                )
            return
        if expected != digest:
            message = (
                f"MD5 mismatch for '{transfer.source.ref}': the blob says "
                f"{expected.hex()}, the data is {digest.hex()}"
            )
            if mode is CheckMd5.LOG_ONLY:
                log.warning(message)
                sink.emit(Notice("warning", message))
                return
            raise IntegrityError(message)

    return verify


def _mover(source: LocalEndpoint | BlobEndpoint):
    async def delete_source(transfer: Transfer) -> None:
        await source.delete(transfer.source.ref)

    return delete_source


def _cancel_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C: cancel the job so partial files are cleaned up."""
    task = asyncio.current_task()
    if task is None:
        return
    with contextlib.suppress(NotImplementedError, RuntimeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
