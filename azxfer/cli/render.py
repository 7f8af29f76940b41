"""Reporters: render engine events as rich progress, plain lines, or NDJSON."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, TextIO

from azxfer import events as ev
from azxfer.locations import redact

if TYPE_CHECKING:
    from rich.progress import Progress

PLAIN_INTERVAL = 2.0


class JsonReporter:
    """One JSON object per event per line on stdout, nothing else."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.last_flush = time.monotonic()

    def emit(self, event: ev.Event) -> None:
        """Write the event as a line; flush at most twice a second and at the end."""
        self.out.write(redact(json.dumps(event.to_json(), ensure_ascii=False)) + "\n")
        now = time.monotonic()
        if isinstance(event, ev.JobFinished) or now - self.last_flush > 0.5:
            self.out.flush()
            self.last_flush = now

    def close(self) -> None:
        """Flush what is left."""
        self.out.flush()


class _Counts:
    """Running totals a text reporter shows."""

    def __init__(self) -> None:
        self.files_total = 0
        self.files_done = 0
        self.bytes_total = 0
        self.bytes_done = 0
        self.enumerated = False
        self.retries = 0
        self._partial: dict[int, int] = {}

    def update(self, event: ev.Event) -> None:
        if isinstance(event, ev.TransferQueued):
            self.files_total += 1
            self.bytes_total += event.size
        elif isinstance(event, ev.Progress):
            self._partial[event.transfer_id] = self._partial.get(event.transfer_id, 0) + event.bytes
            self.bytes_done += event.bytes
        elif isinstance(event, ev.TransferDone):
            moved = self._partial.pop(event.transfer_id, 0)
            self.files_done += 1
            if event.outcome == "completed":
                self.bytes_done += event.size - moved
            else:
                self.bytes_done -= moved
                if event.outcome == "skipped" and event.source:
                    self.bytes_total -= event.size
        elif isinstance(event, ev.EnumerationDone):
            self.enumerated = True
        elif isinstance(event, ev.Retrying):
            self.retries += 1


class TextReporter:
    """Progress on stderr (rich on a terminal, else periodic lines); summary on stdout."""

    def __init__(self, out: TextIO, err: TextIO, live: bool) -> None:
        self.out = out
        self.err = err
        self.counts = _Counts()
        self.dry_run = False
        self.live: Progress | None = None
        self.task = None
        self.live_wanted = live
        self.started = time.monotonic()
        self.last_line = self.started

    def emit(self, event: ev.Event) -> None:
        """Update counters and render whatever this event changes."""
        self.counts.update(event)
        if isinstance(event, ev.JobStarted):
            self.dry_run = event.dry_run
            self.out.write(
                f"Job {event.job_id}: {event.command} {redact(event.source)} -> "
                f"{redact(event.destination)}{' (dry run)' if event.dry_run else ''}\n"
            )
            self.out.flush()
            if self.live_wanted and not event.dry_run:
                self._start_live()
        elif isinstance(event, ev.TransferQueued) and self.dry_run:
            self.out.write(f"DRYRUN: copy {redact(event.source)} -> {event.destination}\n")
        elif isinstance(event, ev.TransferDone) and event.outcome == "failed":
            self._line(f"FAILED: {redact(event.source)}: {event.reason}")
        elif isinstance(event, ev.TransferDone) and event.outcome == "skipped" and self.dry_run:
            self.out.write(f"DRYRUN: skip {redact(event.source)}: {event.reason}\n")
        elif isinstance(event, ev.Notice):
            self._line(f"{event.level}: {event.message}")
        elif isinstance(event, ev.JobFinished):
            self._stop_live()
            self._summary(event)
            return
        self._refresh()

    def _line(self, text: str) -> None:
        """A report line: above the live display on a terminal, else on stdout.

        stderr is kept for progress and the one final error line.
        """
        if self.live is not None:
            self.live.console.print(redact(text), markup=False)
        else:
            self.out.write(redact(text) + "\n")

    def _start_live(self) -> None:
        # rich is imported only for a terminal: it costs ~40 ms of start-up, which a piped or
        # scripted run (plain lines) would pay for nothing.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.live = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=self.err, highlight=False, soft_wrap=True),
            transient=True,
        )
        self.task = self.live.add_task("files 0/0", total=None)
        self.live.start()

    def _stop_live(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def _refresh(self) -> None:
        counts = self.counts
        if self.live is not None and self.task is not None:
            self.live.update(
                self.task,
                completed=counts.bytes_done,
                total=counts.bytes_total or None,
                description=f"files {counts.files_done}/{counts.files_total}"
                + (f", {counts.retries} retries" if counts.retries else ""),
            )
            return
        now = time.monotonic()
        # Nothing queued yet means nothing to report (a job failing at its first request, for
        # one, must leave just its error line on stderr).
        if counts.files_total and not self.dry_run and now - self.last_line >= PLAIN_INTERVAL:
            self.last_line = now
            rate = counts.bytes_done / max(now - self.started, 1e-6)
            self.err.write(
                f"progress: {counts.files_done}/{counts.files_total} files, "
                f"{_size(counts.bytes_done)} of {_size(counts.bytes_total)}, {_size(rate)}/s"
                + (f", {counts.retries} retries" if counts.retries else "")
                + "\n"
            )
            self.err.flush()

    def _summary(self, event: ev.JobFinished) -> None:
        rate = event.bytes_transferred / max(event.elapsed_seconds, 1e-6)
        lines = [
            f"Job {event.job_id} summary: {event.status}",
            _dry_run_files(event)
            if self.dry_run
            else f"  Files:   {event.files_total} total, {event.files_completed} transferred, "
            f"{event.files_skipped} skipped, {event.files_failed} failed"
            + (
                f", {event.files_interrupted} interrupted (resumable)"
                if event.files_interrupted
                else ""
            ),
            *(
                [f"  Retries: {self.counts.retries} requests sent again after transient failures"]
                if self.counts.retries
                else []
            ),
            f"  Bytes:   {_size(event.bytes_transferred)} transferred in "
            f"{event.elapsed_seconds:.2f} s ({_size(rate)}/s)",
        ]
        lines += [f"  Failed:  {redact(f['name'])}: {f['reason']}" for f in event.failed[:50]]
        if len(event.failed) > 50:
            lines.append(
                f"  … and {len(event.failed) - 50} more failed "
                f"(see: azxfer jobs show {event.job_id} --with-status failed)"
            )
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    def close(self) -> None:
        """Stop any live display."""
        self._stop_live()
        self.out.flush()


def _dry_run_files(event: ev.JobFinished) -> str:
    """A dry run transfers nothing: its files are those it would copy and those it skips."""
    would = event.files_total - event.files_skipped
    return (
        f"  Files:   {event.files_total} total, {would} would be transferred, "
        f"{event.files_skipped} skipped (up to date or excluded)"
    )


def _size(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def make_reporter(output_type: str) -> JsonReporter | TextReporter:
    """The reporter for --output-type: json, or text (live only on a terminal)."""
    if output_type == "json":
        return JsonReporter(sys.stdout)
    return TextReporter(sys.stdout, sys.stderr, live=sys.stderr.isatty())
