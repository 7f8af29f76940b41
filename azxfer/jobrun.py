"""The lifecycle every job shares (copy, sync, and their resumes): the job's spec and result,
its journal, interrupt handling and final event, the final status and the resume command.
(What both kinds of plan use besides: `dryrun`, `md5policy`; the signal handlers: `interrupts`.)

A kind of job subclasses `JobRun` and implements `_execute`: list and plan, run the plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any, NoReturn

from msgspec import Struct
from msgspec.structs import replace

from azxfer.credentials import Credential
from azxfer.endpoints.blob.early_listing import EarlyListings
from azxfer.endpoints.factory import JobConnections
from azxfer.engine.job import JobRunner
from azxfer.engine.ratelimit import pace_for, requests_under_cap
from azxfer.errors import AzxferError, Cancelled, UsageError
from azxfer.events import (
    EventSink,
    JobFinished,
    JobStarted,
    Notice,
    Retrying,
)
from azxfer.interrupts import install_interrupts, remove_interrupts
from azxfer.journal.crash import CrashHook
from azxfer.journal.store import INTERRUPTED, Journal
from azxfer.locations import Location, Service, redact
from azxfer.models import JobTotals
from azxfer.options import CopyOptions

SUPPORTED_PAIRS = {
    (Service.LOCAL, Service.BLOB),
    (Service.BLOB, Service.LOCAL),
    (Service.BLOB, Service.BLOB),
    (Service.WEB, Service.BLOB),
    (Service.WEB, Service.LOCAL),
    (Service.LOCAL, Service.FILE),
    (Service.FILE, Service.LOCAL),
    (Service.FILE, Service.FILE),
    (Service.FILE, Service.BLOB),
    (Service.BLOB, Service.FILE),
}


class JobSpec(Struct, frozen=True):
    """Which job this run is: its ID, its journal folder, and what to record for a resume.

    `record` holds the command's options without secrets; `resume` continues an existing
    journal instead of creating one. No `job_dir` means the job is not journaled.
    `early_listings`: the listings the command line started before the job was built.
    `env`: the environment the job runs in (its proxies, the test crash hook).
    `cap_mbps`: this run's bandwidth cap in megabits per second (None: none); a run's own,
    never journaled, as AzCopy's --cap-mbps.
    """

    job_id: str
    command: str = "copy"
    job_dir: Path | None = None
    record: dict[str, Any] | None = None
    resume: bool = False
    env: dict[str, str] | None = None
    early_listings: EarlyListings | None = None
    cap_mbps: float | None = None


class JobResult(Struct):
    """How a job ended."""

    job_id: str
    status: str
    totals: JobTotals
    elapsed: float
    error: str | None = None
    request_seconds: float = 0.0
    resume_command: str = ""

    @property
    def effective_concurrency(self) -> float:
        """Requests in flight on average over the job (request time / wall time)."""
        return self.request_seconds / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 when nothing failed, 130 when interrupted, else 1."""
        if self.status in ("Cancelled", INTERRUPTED):
            return 130
        return 1 if self.status in ("Failed", "CompletedWithErrors") else 0


def new_job_id() -> str:
    """A fresh job identifier."""
    return str(uuid.uuid4())


class JobRun:
    """One run of a job: checks, journal, signals, connections, final event.

    Subclasses implement `_execute`, which creates the endpoints, plans, and runs the plan
    (setting `self.runner` before it starts moving data), returning the totals and status.
    """

    def __init__(self, options: CopyOptions, sink: EventSink, spec: JobSpec) -> None:
        if spec.cap_mbps:  # fewer requests in flight, so none is paced to a crawl
            requests = requests_under_cap(options.engine.concurrency, spec.cap_mbps)
            options = replace(options, engine=replace(options.engine, concurrency=requests))
        self.options = options
        self.sink = sink
        self.spec = spec
        self.runner: JobRunner | None = None
        self.journal: Journal | None = None
        self.interrupts = 0
        self.started = time.monotonic()

    async def run(self) -> JobResult:
        """Run the job to its end and report it (JobStarted first, JobFinished last)."""
        options, spec = self.options, self.spec
        _check_options(options)
        connections = JobConnections.for_job(
            (options.source, options.destination),
            options.engine.concurrency,
            spec.env or {},
            self._on_retry,
            spec.early_listings,
            pace_for(spec.cap_mbps),
        )
        started = self.started = time.monotonic()
        self.journal = self._open_journal()
        self.sink.emit(
            JobStarted(
                spec.job_id,
                spec.command,
                options.source.display,
                options.destination.display,
                options.dry_run,
                _described(options.source_credential),
                _described(options.dest_credential),
            )
        )
        self._install_signal_handlers()
        status, error, totals = "Completed", None, JobTotals()
        try:
            totals, status = await self._execute(connections)
        except asyncio.CancelledError:
            status, error = "Cancelled", "interrupted"
        except UsageError:
            # A bad location found while enumerating is still a command-line error.
            if self.runner is None or self.runner.totals.files_total == 0:
                self._discard_journal()
            elif self.journal is not None:
                self.journal.set_status("Failed")
                self.journal.close()
                self.journal = None
            raise
        except AzxferError as exc:
            status, error = "Failed", str(exc)
        finally:
            await connections.close()
            self._remove_signal_handlers()
        if self.runner is not None:
            totals = self.runner.totals
        return self._finish(status, error, totals, time.monotonic() - started)

    async def _execute(self, connections: JobConnections) -> tuple[JobTotals, str]:
        """Plan and move this job's transfers: (totals, status)."""
        raise NotImplementedError

    def _open_journal(self) -> Journal | None:
        spec = self.spec
        if spec.job_dir is None or self.options.dry_run:
            return None
        crash = CrashHook.from_env(spec.env or {})
        if spec.resume:
            return Journal.open(spec.job_dir, spec.job_id, crash, lock=True)
        return Journal.create(
            spec.job_dir,
            spec.job_id,
            spec.command,
            _where(self.options.source),
            _where(self.options.destination),
            spec.record or {},
            crash,
        )

    def _discard_journal(self) -> None:
        """A job that never started (bad command line) leaves no journal behind."""
        if self.journal is None or self.spec.resume:
            return
        path = self.journal.path
        self.journal.close()
        self.journal = None
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def _finish(
        self, status: str, error: str | None, totals: JobTotals, elapsed: float
    ) -> JobResult:
        job_id = self.spec.job_id
        if self.journal is not None:
            self.journal.set_status(status)
            self.journal.close()
        unfinished = self.runner is not None and (
            totals.files_interrupted
            or totals.files_failed
            or totals.folders_failed
            or status in ("Cancelled", INTERRUPTED)
        )
        resume = resume_command(job_id, self.options)
        # A cancelled job's hint is in the CLI's closing error line (said once); a second
        # Ctrl-C (Interrupted) ends the process before that line, so then a notice says it.
        if unfinished and status != "Cancelled" and self.spec.job_dir is not None:
            self.sink.emit(Notice("info", f"resume with: {resume}"))
        self.sink.emit(
            JobFinished(
                job_id,
                status,
                totals.files_total,
                totals.files_completed,
                totals.files_skipped,
                totals.files_failed,
                totals.files_interrupted,
                totals.bytes_done,
                round(elapsed, 3),
                [{"name": name, "reason": reason} for name, reason in totals.failed],
                totals.folders_completed,
                totals.folders_skipped,
                totals.folders_failed,
                self.spec.cap_mbps,
            )
        )
        if status == "Cancelled" and self.runner is None:
            raise Cancelled("interrupted")
        busy = self.runner.ctx.requests.busy_seconds if self.runner is not None else 0.0
        return JobResult(job_id, status, totals, elapsed, error, busy, resume)

    def _on_retry(self, what: str, attempt: int, wait: float, reason: str) -> None:
        self.sink.emit(Retrying(redact(what), attempt, round(wait, 2), redact(reason)))

    # -- interruption ------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        task = asyncio.current_task()
        install_interrupts(lambda: self._on_interrupt(task))

    def _remove_signal_handlers(self) -> None:
        remove_interrupts()

    def _on_interrupt(self, task: asyncio.Task[Any] | None) -> None:
        """First interrupt: stop scheduling and let in-flight chunks finish. Second: exit now
        (every journal write is a committed transaction, so the journal stays consistent)."""
        self.interrupts += 1
        if self.interrupts > 1:
            self._quit_now()
        self.sink.emit(
            Notice(
                "warning",
                "stopping: in-flight chunks are finishing (interrupt again to quit at once)",
            )
        )
        if self.runner is not None:
            self.runner.stop()
        elif task is not None:
            task.cancel()

    def _quit_now(self) -> NoReturn:
        """Second interrupt: report the job as it stands and end the process at once.

        JobFinished is what makes a reporter restore the terminal (cursor, last line); the
        transfers still in flight count as interrupted, and the journal says Interrupted
        (every journal write is a committed transaction, so it stays consistent)."""
        totals = self.runner.totals if self.runner is not None else JobTotals()
        totals.files_interrupted = totals.files_total - (
            totals.files_completed + totals.files_skipped + totals.files_failed
        )
        with contextlib.suppress(Exception):
            self._finish(INTERRUPTED, "interrupted", totals, time.monotonic() - self.started)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(130)


def _check_options(options: CopyOptions) -> None:
    """Refuse what no job can do, before anything is created."""
    pair = (options.source.service, options.destination.service)
    if pair not in SUPPORTED_PAIRS:
        raise UsageError(f"copying from {pair[0].value} to {pair[1].value} is not supported")
    if options.move and options.source.read_only:
        raise UsageError("--move cannot delete from the read-only secondary endpoint")
    if options.move and options.source.service is Service.WEB:
        raise UsageError("--move cannot delete a web URL source")


def _where(location: Location) -> str:
    """A location for the journal: a local path, or a URL without its SAS."""
    return location.local_path if location.is_local else location.url


def resume_command(job_id: str, options: CopyOptions) -> str:
    """The command that continues a job. SAS tokens are never journaled, so a side that used
    one must be given a SAS again: the command says so."""
    command = f"azxfer resume {job_id}"
    for flag, credential in (
        ("--source-sas", options.source_credential),
        ("--dest-sas", options.dest_credential),
    ):
        if credential is not None and credential.kind == "sas":
            command += f" {flag} '<SAS>'"
    return command


def job_status(totals: JobTotals) -> str:
    """The status of a job that ran to its end, from its totals: files failed and none
    completed is a failed job (AzCopy's rule), not one that completed with errors."""
    if totals.files_failed or totals.folders_failed:
        done = totals.files_completed or totals.folders_completed
        return "CompletedWithErrors" if done else "Failed"
    if totals.files_skipped:
        return "CompletedWithSkipped"
    return "Completed"


def _described(credential: Credential | None) -> str:
    """What the job says of a side's credential: its kind and origin, never the secret."""
    return credential.describe() if credential is not None else ""
