"""The text output of a bulk job (`azxfer remove`, `azxfer set-properties`): its start, what a
dry run would do, failures, notices, progress, and the summary, at the --output-level asked
for (render.py's rule: quiet shows failures, essential adds warnings and the summary).

Progress is copy's: a rich live line on a terminal (objects done of the total once the
listing is over, failed, objects/s, ETA), else a plain line every few seconds on stderr.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TextIO

from azxfer.cli.progressline import RateWindow, count_rate_text, eta_after, size_text
from azxfer.cli.render import PLAIN_INTERVAL, OutputLevel, least_level
from azxfer.events import (
    BulkSummary,
    EnumerationDone,
    Event,
    JobFinished,
    JobStarted,
    ListingProgress,
    Notice,
    PropertiesSet,
)
from azxfer.locations import redact

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class BulkCounts:
    """Objects done and failed so far, how many the listing selected so far (said while a job
    acts ahead of its listing), and the total (once the listing is over)."""

    def __init__(self) -> None:
        self.listed = 0
        self.total = 0
        self.done = 0
        self.failed = 0
        self.enumerated = False

    @property
    def finished(self) -> int:
        """Objects the job is through with, either way."""
        return self.done + self.failed

    def activity(self, verb: str) -> str:
        """What is going on: still listing, or objects done of the total (and failures)."""
        if not self.enumerated:
            if self.listed:
                return f"listing… {self.finished} {verb} of {self.listed} listed"
            return f"listing… {self.finished} {verb}" if self.finished else "listing…"
        failed = f", {self.failed} failed" if self.failed else ""
        return f"objects {self.finished}/{self.total}{failed}"

    def eta(self, per_second: float | None) -> str:
        """Time left at the recent rate; nothing while listing (no total to count down)."""
        if not self.enumerated:
            return ""
        return eta_after(max(self.total - self.finished, 0), self.enumerated, per_second)


class BulkTextReporter:
    """Text output of a bulk job; progress on stderr, everything else on stdout."""

    def __init__(
        self, out: TextIO, err: TextIO, live: bool, level: OutputLevel = OutputLevel.DEFAULT
    ) -> None:
        self.out = out
        self.err = err
        self.level = level
        self.live_wanted = live and level is OutputLevel.DEFAULT
        self.summary: BulkSummary | None = None
        self.verb = "done"
        self.dry_run = False
        self.counts = BulkCounts()
        self.window = RateWindow()
        self.live: Progress | None = None
        self.task: TaskID | None = None
        self.last_line = time.monotonic()

    def emit(self, event: Event) -> None:
        """Render whatever this event adds (and this level shows)."""
        if isinstance(event, EnumerationDone):
            self.counts.total, self.counts.enumerated = event.files, True
        elif isinstance(event, ListingProgress):
            self.counts.listed = event.files
        elif isinstance(event, BulkSummary):
            self.summary = event
        if self.level is not OutputLevel.DEFAULT and least_level(event) > self.level:
            return
        if isinstance(event, JobStarted):
            self._started(event)
        elif isinstance(event, Notice):
            self._line(f"{event.level}: {event.message}")
        elif isinstance(event, PropertiesSet):
            self._object("set " + ", ".join(event.changes) + " on", event.target, event)
        elif isinstance(event, JobFinished):
            self._stop_live()
            self._finished(event)
            return
        elif getattr(event, "kind", "") == "deleted":
            self._object("remove", event.destination, event)  # type: ignore[attr-defined]
        if self.level is OutputLevel.DEFAULT and not self.dry_run:
            self._refresh()

    def _started(self, event: JobStarted) -> None:
        self.dry_run = event.dry_run
        self.verb = "removed" if event.command == "remove" else "updated"
        dry = " (dry run)" if event.dry_run else ""
        self._line(f"Job {event.job_id}: {event.command} {event.source}{dry}")
        self.out.flush()
        if self.live_wanted and not event.dry_run:
            # rich is imported only for a terminal (see TextReporter._start_live).
            from azxfer.cli.liveline import live_progress

            self.live = live_progress(self.err, self._rate_and_eta, sizes=False)
            self.task = self.live.add_task(self.counts.activity(self.verb), total=None)
            self.live.start()

    def _object(self, verb: str, name: str, event: Any) -> None:
        if event.dry_run:
            self._line(f"DRYRUN: {verb} {name}")
        elif event.outcome == "failed":
            self.counts.failed += 1
            self._line(f"FAILED: {verb} {name}: {event.reason}")
        elif not getattr(event, "folder", False):
            self.counts.done += 1

    def _rate_and_eta(self, now: float, between: str = "  ") -> str:
        rate = self.window.rate(now)
        eta = self.counts.eta(rate)
        return f"{count_rate_text(rate)}{between}{eta}" if eta else count_rate_text(rate)

    def _refresh(self) -> None:
        counts = self.counts
        now = time.monotonic()
        self.window.add(now, counts.finished)
        if self.live is not None and self.task is not None:
            self.live.update(
                self.task,
                completed=counts.finished,
                total=counts.total if counts.enumerated else None,
                description=counts.activity(self.verb),
            )
            return
        # Nothing done yet means nothing to report (a job failing at its first request must
        # leave just its error line on stderr).
        if counts.finished and now - self.last_line >= PLAIN_INTERVAL:
            self.last_line = now
            status = self._rate_and_eta(now, ", ")
            self.err.write(f"progress: {counts.activity(self.verb)}, {status}\n")
            self.err.flush()

    def _finished(self, event: JobFinished) -> None:
        lines = [f"Job {event.job_id} summary: {event.status}"]
        summary = self.summary
        if summary is not None:
            removes = summary.operation == "remove"
            verb = (
                ("Would remove" if removes else "Would update")
                if summary.dry_run
                else ("Removed" if removes else "Updated")
            )
            lines.append(
                f"  {verb}: {summary.done} ({size_text(summary.bytes)}), Failed: {summary.failed}"
            )
            if summary.folders_removed or summary.folders_kept:
                gone = "would be removed" if summary.dry_run else "removed"
                lines.append(
                    f"  Folders: {summary.folders_removed} {gone}, {summary.folders_kept} kept"
                )
        lines += [f"  Failed:  {f['name']}: {f['reason']}" for f in event.failed]
        more = event.files_failed - len(event.failed)
        if more > 0:
            lines.append(f"  … and {more} more failed (azxfer jobs show {event.job_id} lists all)")
        lines.append(f"  Elapsed: {event.elapsed_seconds:.2f} s")
        for line in lines:
            self._line(line)

    def _line(self, text: str) -> None:
        """A report line: above the live display on a terminal, else on stdout."""
        if self.live is not None:
            self.live.console.print(redact(text), markup=False)
        else:
            self.out.write(redact(text) + "\n")

    def _stop_live(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def close(self) -> None:
        """Stop any live display; flush what is left."""
        self._stop_live()
        self.out.flush()
