"""Running a table job (export, import, and their resumes) from the command line: the copy
reporter asked for, wrapped so that text output shows entity progress (entities/s) and the
closing entity counts, which file jobs do not have.

Apart from `tables` (the two commands' options) because `resume` runs table jobs too.
"""

from __future__ import annotations

import time
from typing import Any

import click

from azxfer.cli.progressline import size_text
from azxfer.cli.render import PLAIN_INTERVAL, make_reporter
from azxfer.cli.run import start_job
from azxfer.events import EntitiesDone, EntitiesProgress, Event
from azxfer.locations import redact


def run_table_job(
    command: str, opts: dict[str, Any], record: dict[str, Any] | None, job: Any,
    resume_id: str | None = None,
) -> int:  # fmt: skip
    """Run a (new or resumed) table job with the reporter asked for; the exit code."""
    spec = start_job(command, opts, record, resume_id)
    output_type = str(opts.get("output_type") or "text")
    level = str(opts.get("output_level") or "default")
    inner = make_reporter(output_type, journaled=False, output_level=level)
    reporter = TableReporter(inner, output_type == "text")
    try:
        result = job(reporter, spec)
    finally:
        reporter.close()
    if result.error and result.exit_code:
        click.echo(f"azxfer: error: {redact(result.error)}", err=True)
    return int(result.exit_code)


class TableReporter:
    """The copy reporter, plus entity progress (entities/s) and counts in text mode."""

    def __init__(self, reporter: Any, text: bool) -> None:
        self.reporter = reporter
        self.text = text
        self.started = self.last = time.monotonic()
        self.entities = self.bytes = 0

    def emit(self, event: Event) -> None:
        if isinstance(event, EntitiesProgress):
            self.entities += event.entities
            self.bytes += event.bytes
            now = time.monotonic()
            shown = self.reporter.shows(event)
            if self.text and shown and now - self.last >= PLAIN_INTERVAL:
                self.last = now
                rate = self.entities / max(now - self.started, 1e-6)
                click.echo(
                    f"progress: {self.entities} entities, {size_text(self.bytes)}, "
                    f"{rate:.0f} entities/s",
                    err=True,
                )
            if self.text:
                return
        if self.text and isinstance(event, EntitiesDone):
            if not self.reporter.shows(event):
                return
            self.reporter._line(
                f"Entities: {event.entities_total} total, {event.entities_written} written, "
                f"{event.entities_skipped} skipped, {event.entities_failed} failed "
                f"({event.entities_per_second:.0f} entities/s)"
            )
            return
        self.reporter.emit(event)

    def close(self) -> None:
        self.reporter.close()
