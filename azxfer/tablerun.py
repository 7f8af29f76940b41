"""The lifecycle of one table job (export, import, a table copy): its connections, journal,
JobStarted and JobFinished events, entity counts, resume command and result, around the body
that does the work (`tablejob`).

Apart from `tablejob` as `jobrun` is apart from copy: the lifecycle is the same for every
kind of table job, the bodies differ.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from msgspec import Struct

from azxfer.credentials import Credential
from azxfer.endpoints.factory import JobConnections
from azxfer.endpoints.tables.rest import TableRestClient
from azxfer.engine.ratelimit import pace_for
from azxfer.errors import AzxferError, UsageError, first_cause
from azxfer.events import (
    EntitiesDone,
    EntitiesProgress,
    EventSink,
    JobFinished,
    JobStarted,
    Notice,
    Retrying,
)
from azxfer.jobrun import JobResult, JobSpec
from azxfer.locations import Location, redact
from azxfer.models import JobTotals
from azxfer.tables.importer import ImportCounts
from azxfer.tables.jobjournal import TableJobJournal
from azxfer.transport.retry import RetryPolicy

# Batches in flight by default: Azurite and a storage account's partitions both take more, but
# beyond this the emulator's single thread is the limit.
DEFAULT_BATCHES_IN_FLIGHT = 16
# Failed entities named in the final event (every one is counted).
_NAMED_FAILURES = 50


def _display(place: Path | Location) -> str:
    return str(place) if isinstance(place, Path) else place.display


def _where(place: Path | Location) -> str:
    """A place for the journal: a local path, or a URL without its SAS."""
    return str(place) if isinstance(place, Path) else place.url


class TableOutcome(Struct):
    """What a table job's body reports to its lifecycle."""

    status: str
    files: int = 0
    bytes: int = 0
    counts: ImportCounts | None = None


# A table job's work, run by its lifecycle.
Body = Callable[[], Awaitable[TableOutcome]]


class TableRun:
    """The lifecycle of one table job: its connections, events, counts and result."""

    def __init__(
        self,
        sink: EventSink,
        spec: JobSpec,
        others: tuple[Location, ...],
        credentials: tuple[Credential | None, Credential | None],
    ) -> None:
        self.others = others
        self.credentials = credentials
        self.sink = sink
        self.spec = spec
        self.job_id = spec.job_id
        self.env = spec.env or {}
        self.entities = 0
        self.connections: JobConnections | None = None
        self.journal = TableJobJournal()

    def client(self, table: Location, credential: Credential | None) -> TableRestClient:
        """The REST client of `table`, on the job's pool."""
        assert self.connections is not None
        retry = RetryPolicy(on_retry=self._on_retry)
        return TableRestClient(
            self.connections.pool, table.endpoint, table.container, credential, retry
        )

    def progress(self, entities: int, size: int) -> None:
        """Count and report entities read or settled."""
        self.entities += entities
        self.sink.emit(EntitiesProgress(entities, size))

    async def run(
        self, table: Location, place: Path | Location, journaled: bool, dry_run: bool, body: Body
    ) -> JobResult:
        """Run `body` as this job, reporting its start and end."""
        command = self.spec.command
        source, dest = (table, place) if command == "export" else (place, table)
        if journaled:
            self._open_journal(_where(source), _where(dest))
        self.connections = JobConnections.for_job(
            (table, *self.others),
            DEFAULT_BATCHES_IN_FLIGHT,
            self.env,
            self._on_retry,
            pace=pace_for(self.spec.cap_mbps),
        )
        started = time.monotonic()
        said = [credential.describe() if credential else "" for credential in self.credentials]
        self.sink.emit(
            JobStarted(
                self.job_id,
                command,
                _display(source),
                _display(dest),
                dry_run,
                source_credential=said[0],
                dest_credential=said[1],
            )
        )
        outcome, error = TableOutcome("Failed"), None
        try:
            outcome = await body()
        except UsageError:
            self.journal.discard()
            raise
        except AzxferError as exc:
            error = str(exc)
        except BaseExceptionGroup as group:
            cause = first_cause(group)
            if not isinstance(cause, AzxferError) or isinstance(cause, UsageError):
                self.journal.discard()
                raise cause from None
            error = str(cause)
        finally:
            await self.connections.close()
        return self._finish(outcome, error, time.monotonic() - started)

    def _open_journal(self, source: str, dest: str) -> None:
        spec = self.spec
        if spec.job_dir is not None:
            created = (spec.command, source, dest, spec.record or {})
            self.journal = TableJobJournal.open(
                spec.job_dir, spec.job_id, spec.resume, self.env, created
            )

    def _finish(self, outcome: TableOutcome, error: str | None, elapsed: float) -> JobResult:
        counts = outcome.counts or ImportCounts(self.entities, written=self.entities)
        if error is not None:
            counts = ImportCounts(counts.entities, counts.written, counts.skipped, counts.failed)
        rate = round(self.entities / elapsed, 1) if elapsed > 0 else 0.0
        self.sink.emit(
            EntitiesDone(counts.entities, counts.written, counts.skipped, counts.failed, rate)
        )
        totals = JobTotals(
            files_total=outcome.files,
            files_completed=outcome.files if error is None else 0,
            bytes_total=outcome.bytes,
            bytes_done=outcome.bytes,
            failed=counts.failures[:_NAMED_FAILURES],
        )
        status = outcome.status if error is None else "Failed"
        if self.journal.kept:
            self.journal.close(status)
            if status in ("Failed", "CompletedWithErrors"):
                self.sink.emit(Notice("info", f"resume with: {self._resume_command()}"))
        self.sink.emit(
            JobFinished(
                self.job_id,
                status,
                totals.files_total,
                totals.files_completed,
                0,
                totals.files_total - totals.files_completed,
                0,
                totals.bytes_done,
                round(elapsed, 3),
                [{"name": name, "reason": reason} for name, reason in totals.failed],
                cap_mbps=self.spec.cap_mbps,
            )
        )
        if error is None and counts.failed:
            error = f"{counts.failed} of {counts.entities} entities failed"
        return JobResult(self.job_id, status, totals, elapsed, error)

    def _resume_command(self) -> str:
        """The command that continues this job: SAS tokens are never journaled, so a side
        that used one must be given one again."""
        command = f"azxfer resume {self.job_id}"
        for flag, credential in zip(("--source-sas", "--dest-sas"), self.credentials, strict=True):
            if credential is not None and credential.kind == "sas":
                command += f" {flag} '<SAS>'"
        return command

    def _on_retry(self, what: str, attempt: int, wait: float, reason: str) -> None:
        self.sink.emit(Retrying(redact(what), attempt, round(wait, 2), redact(reason)))
