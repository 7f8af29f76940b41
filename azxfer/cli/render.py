"""Reporters: render engine events as rich progress, plain lines, or NDJSON."""

from __future__ import annotations

import enum
import json
import sys
import time
from typing import TYPE_CHECKING, TextIO

from azxfer import events as ev
from azxfer.cli.progressline import (
    Counts,
    RateWindow,
    activity_text,
    eta_text,
    rate_text,
    size_text,
)
from azxfer.locations import redact

if TYPE_CHECKING:
    from rich.progress import Progress

PLAIN_INTERVAL = 2.0


class OutputLevel(enum.IntEnum):
    """--output-level, AzCopy's: how much of a job is shown; each level shows what the one
    before it does, and more."""

    QUIET = 0  # errors only
    ESSENTIAL = 1  # errors, warnings and the final summary
    DEFAULT = 2  # everything: the start, progress, per-file lines, notes


# The events that make up a job's final summary (those of sync and table jobs included).
_SUMMARY_KINDS = frozenset({"job_finished", "entities_done", "sync_summary", "bulk_summary"})


def least_level(event: ev.Event) -> OutputLevel:
    """The least verbose output level that shows `event`: anything that failed and error
    notices at every level; warnings and the summary from essential; the rest at default."""
    if isinstance(event, ev.Notice):
        if event.level == "error":
            return OutputLevel.QUIET
        return OutputLevel.ESSENTIAL if event.level == "warning" else OutputLevel.DEFAULT
    if getattr(event, "outcome", None) == "failed":
        return OutputLevel.QUIET
    if event.kind in _SUMMARY_KINDS:
        return OutputLevel.ESSENTIAL
    return OutputLevel.DEFAULT


class UtcClock:
    """ISO-8601 UTC times with milliseconds, e.g. 2026-12-06T14:55:29.123Z (AzCopy's
    TimeStamp). The part up to the second is formatted once a second, not per event: events go
    out per file and per progress tick."""

    def __init__(self) -> None:
        self.second = -1
        self.prefix = ""

    def stamp(self, now: float | None = None) -> str:
        """The time `now` (seconds since the epoch; default: the current time)."""
        now = time.time() if now is None else now
        second = int(now)
        if second != self.second:
            self.second = second
            self.prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self.prefix}.{int((now - second) * 1000):03d}Z"


class JsonReporter:
    """One JSON object per event per line on stdout, nothing else; each has a UTC `time`.

    Below the default output level, the events that level does not show are left out; but
    `job_finished` always ends the stream, even when quiet (a reader knows the job is over,
    and how it ended, without waiting for the exit code)."""

    def __init__(self, out: TextIO, level: OutputLevel = OutputLevel.DEFAULT) -> None:
        self.out = out
        self.level = level
        self.last_flush = time.monotonic()
        self.clock = UtcClock()

    def shows(self, event: ev.Event) -> bool:
        """Whether `event` is written at this output level."""
        return least_level(event) <= self.level or isinstance(event, ev.JobFinished)

    def emit(self, event: ev.Event) -> None:
        """Write the event as a line; flush at most twice a second and at the end."""
        if self.level is not OutputLevel.DEFAULT and not self.shows(event):
            return
        record = event.to_json()
        record["time"] = self.clock.stamp()
        self.out.write(redact(json.dumps(record, ensure_ascii=False)) + "\n")
        now = time.monotonic()
        if isinstance(event, ev.JobFinished) or now - self.last_flush > 0.5:
            self.out.flush()
            self.last_flush = now

    def close(self) -> None:
        """Flush what is left."""
        self.out.flush()


class TextReporter:
    """Progress on stderr (rich on a terminal, else periodic lines); summary on stdout. Below
    the default output level, only what that level shows (see `least_level`)."""

    def __init__(
        self,
        out: TextIO,
        err: TextIO,
        live: bool,
        journaled: bool = True,
        level: OutputLevel = OutputLevel.DEFAULT,
    ) -> None:
        self.out = out
        self.level = level
        self.journaled = journaled  # whether `azxfer jobs show` can list this job's transfers
        self.err = err
        self.counts = Counts()
        self.window = RateWindow()
        self.dry_run = False
        self.live: Progress | None = None
        self.task = None
        # Progress (live or plain lines) is shown at the default level only.
        self.live_wanted = live and level is OutputLevel.DEFAULT
        self.started = time.monotonic()
        self.last_line = self.started

    def shows(self, event: ev.Event) -> bool:
        """Whether `event` is rendered at this output level."""
        return least_level(event) <= self.level

    def emit(self, event: ev.Event) -> None:
        """Update counters and render whatever this event changes (and this level shows)."""
        self.counts.update(event)
        if isinstance(event, ev.JobStarted):
            self.dry_run = event.dry_run
        if self.level is not OutputLevel.DEFAULT and not self.shows(event):
            return
        if isinstance(event, ev.JobStarted):
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
        elif isinstance(event, ev.FolderDone):
            self._folder(event)
        elif isinstance(event, ev.SourceFolderRemoved):
            self._removed_folder(event)
        elif isinstance(event, ev.Notice):
            self._line(f"{event.level}: {event.message}")
        elif isinstance(event, ev.JobFinished):
            self._stop_live()
            self._summary(event)
            return
        if self.level is OutputLevel.DEFAULT:
            self._refresh()

    def _folder(self, event: ev.FolderDone) -> None:
        """A folder to make (dry run) or one that failed; skipped folders are said once, by
        the job's notice."""
        if event.outcome == "planned":
            self.out.write(f"DRYRUN: make folder {redact(event.source)} -> {event.destination}\n")
        elif event.outcome == "failed":
            self._line(f"FAILED: folder {redact(event.source)}: {event.reason}")

    def _removed_folder(self, event: ev.SourceFolderRemoved) -> None:
        """A source folder a move emptied: listed by a dry run, said when removing failed."""
        if event.dry_run:
            self.out.write(f"DRYRUN: remove folder {redact(event.source)}\n")
        elif event.outcome == "failed":
            self._line(f"FAILED: remove folder {redact(event.source)}: {event.reason}")

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
        from azxfer.cli.liveline import live_progress

        self.live = live_progress(self.err, self._rate_and_eta)
        self.task = self.live.add_task(activity_text(self.counts), total=None)
        self.live.start()

    def _rate_and_eta(self, now: float) -> str:
        rate = self.window.rate(now)
        return f"{rate_text(rate)}  {eta_text(self.counts, rate)}"

    def _stop_live(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def _refresh(self) -> None:
        counts = self.counts
        now = time.monotonic()
        self.window.add(now, counts.bytes_done)
        if self.live is not None and self.task is not None:
            self.live.update(
                self.task,
                completed=counts.bytes_done,
                total=counts.bytes_total or None,
                description=activity_text(counts),
            )
            return
        # Nothing queued yet means nothing to report (a job failing at its first request, for
        # one, must leave just its error line on stderr).
        if counts.files_total and not self.dry_run and now - self.last_line >= PLAIN_INTERVAL:
            self.last_line = now
            rate = self.window.rate(now)
            self.err.write(
                f"progress: {activity_text(counts)}, {size_text(counts.bytes_done)} of "
                f"{size_text(counts.bytes_total)}, {rate_text(rate)}, {eta_text(counts, rate)}\n"
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
            f"  Bytes:   {size_text(event.bytes_transferred)} transferred in "
            f"{event.elapsed_seconds:.2f} s ({size_text(rate)}/s"
            + (f", capped at {event.cap_mbps:g} Mbps)" if event.cap_mbps else ")"),
        ]
        folders = _folders_line(event, self.dry_run)
        if folders:
            lines.insert(2, folders)
        lines += self._skipped_lines(event.job_id)
        lines += [f"  Failed:  {redact(f['name'])}: {f['reason']}" for f in event.failed[:50]]
        if len(event.failed) > 50:
            where = self._where_listed(event.job_id, "failed")
            lines.append(f"  … and {len(event.failed) - 50} more failed ({where} lists every one)")
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    def _skipped_lines(self, job_id: str) -> list[str]:
        """The skipped items by name, the first few; a dry run has listed each one already."""
        counts = self.counts
        if self.dry_run or not counts.skipped_count:
            return []
        lines = [f"  Skipped: {redact(name)}: {reason}" for name, reason in counts.skipped]
        more = counts.skipped_count - len(counts.skipped)
        if more:
            where = self._where_listed(job_id, "skipped")
            lines.append(f"  … and {more} more skipped ({where} lists every one)")
        return lines

    def _where_listed(self, job_id: str, state: str) -> str:
        """Where every transfer in `state` can be seen: the journal, or JSON output for jobs
        that keep none."""
        if self.journaled:
            return f"azxfer jobs show {job_id} --with-status {state}"
        return "--output-type json"

    def close(self) -> None:
        """Stop any live display."""
        self._stop_live()
        self.out.flush()


def _dry_run_files(event: ev.JobFinished) -> str:
    """A dry run transfers nothing: its files are those it would copy, those it skips, and
    those planning found would fail (two sources with one destination)."""
    would = event.files_total - event.files_skipped - event.files_failed
    return (
        f"  Files:   {event.files_total} total, {would} would be transferred, "
        f"{event.files_skipped} skipped (up to date or excluded)"
        + (f", {event.files_failed} failed" if event.files_failed else "")
    )


def _folders_line(event: ev.JobFinished, dry_run: bool) -> str | None:
    """The folders of the summary, counted apart from files (None if the job had none; a dry
    run has listed those it would make)."""
    made, skipped, failed = event.folders_completed, event.folders_skipped, event.folders_failed
    if not (made or skipped or failed):
        return None
    parts = [] if dry_run else [f"{made} made"]
    parts.append(f"{skipped} not copied")
    if failed:
        parts.append(f"{failed} failed")
    return "  Folders: " + ", ".join(parts)


def make_reporter(
    output_type: str, journaled: bool = True, output_level: str = "default"
) -> JsonReporter | TextReporter:
    """The reporter for --output-type: json, or text (live only on a terminal), showing what
    --output-level asks for. `journaled`: whether the job keeps a journal (bench's do not)."""
    level = OutputLevel[output_level.upper()]
    if output_type == "json":
        return JsonReporter(sys.stdout, level)
    live = sys.stderr.isatty()
    return TextReporter(sys.stdout, sys.stderr, live, journaled=journaled, level=level)
