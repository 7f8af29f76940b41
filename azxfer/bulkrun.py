"""The lifecycle of a bulk job (`azxfer remove`, `azxfer set-properties`; see bulkjob.py): its
journal, connections, interrupts (copy's rule: the first lets in-flight requests finish and
ends the job Cancelled, resumable; the second ends the process at once, Interrupted), the
events held back while a remove may yet be refused, and its final events and result.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from azxfer.endpoints.factory import JobConnections
from azxfer.errors import AzxferError, UsageError
from azxfer.events import BulkSummary, Event, EventSink, JobFinished, JobStarted, Notice, Retrying
from azxfer.interrupts import install_interrupts, remove_interrupts
from azxfer.jobrun import JobResult, JobSpec
from azxfer.journal.bulkrecord import BulkJournal
from azxfer.journal.crash import CrashHook
from azxfer.journal.store import INTERRUPTED, Journal
from azxfer.locations import redact
from azxfer.models import JobTotals
from azxfer.plan.bulk import BulkOptions

# Asked with (objects to remove, objects listed at the location); True means go ahead.
AskRemove = Callable[[int, int], bool]


class BulkCounts:
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


class BulkRun:
    """One run of a bulk job: its journal, connections, interrupts, events and result.

    A subclass implements `_execute` (list, check, act), returning the job's status, and
    says each object's outcome through `_report`."""

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
        self.counts = BulkCounts()
        self.acting = False  # whether objects were (or may have been) acted on
        # Events held back while the job may yet be refused (a remove past --max-delete):
        # a job refused keeps no journal, so nothing may name it. None: nothing is held.
        self.held: list[Event] | None = None
        self.held_for_limit = False
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
        # Held at first: until the checks of what the service can do pass (a usage error
        # names no job), and for a remove that may pass --max-delete, until it is allowed.
        self.held = []
        self.held_for_limit = may_refuse and not listed_before
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
        except UsageError:
            self._close_journal("Failed", discard=not self.acting)
            raise
        except AzxferError as exc:
            if self.held is not None:
                # Still held (declined, or failed while listing): the job was never announced
                # and keeps no journal, so its one error line is all there is to say.
                self._close_journal("Failed", discard=True)
                raise
            status, error = "Failed", str(exc)
        finally:
            await connections.close()
            remove_interrupts()
        self._release()
        return self._finish(status, error, time.monotonic() - started)

    async def _execute(self, connections: JobConnections) -> str:
        """List, check and act: the job's status."""
        raise NotImplementedError

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
        # A cancelled job's hint is in the CLI's closing error line; a second Ctrl-C
        # (Interrupted) ends the process before that line, so only then a notice says it.
        if (
            kept
            and status != "Cancelled"
            and (status in ("Failed", INTERRUPTED) or counts.failed_count)
        ):
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
