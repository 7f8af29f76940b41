"""`azxfer jobs`: list, show, clean and remove journaled jobs."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from azxfer.cli.common import job_dirs_from, journal_option

if TYPE_CHECKING:
    from azxfer.jobs import JobRecord

STATES = ("pending", "active", "completed", "failed", "skipped")


@click.group("jobs", short_help="Inspect and manage journaled jobs")
def jobs_group() -> None:
    """Inspect and manage journaled jobs (every copy, sync, export and import is one).

    \b
    Examples:
      azxfer jobs list
      azxfer jobs show 3f2a9c1e --with-status failed
      azxfer jobs clean --older-than 30d --with-status Completed
    """


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _counts(counts: dict[str, int], all_states: bool) -> str:
    """A job's counts: transfers per state, or a table job's entities."""
    if "entities" in counts:
        return f"{counts['entities']} entities"
    return ", ".join(f"{counts[s]} {s}" for s in STATES if all_states or counts[s])


def job_report(record: JobRecord) -> dict[str, Any]:
    """One job's JSON object for `jobs list --output-type json` (its locations without
    secrets, as the journal keeps them; times in UTC)."""
    return {
        "event": "job",
        "job_id": record.id,
        "command": record.command,
        "source": record.source,
        "destination": record.destination,
        "started": _utc(record.created),
        "updated": _utc(record.updated),
        "status": record.status,
        "counts": record.counts,
    }


def _utc(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")


@jobs_group.command("list")
@journal_option
@click.option(
    "--output-type",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: a table; json: one JSON event 'job' per job per line.",
)
def list_command(journal_dir: Path | None, output_type: str) -> None:
    """List jobs, newest first: ID, command, start, status, counts.

    \b
    Examples:
      azxfer jobs list
      azxfer jobs list --journal-dir /mnt/state/azxfer-jobs
      azxfer jobs list --output-type json
    """
    from azxfer.jobs import jobs_in

    records = jobs_in(job_dirs_from(journal_dir))
    if output_type == "json":
        for record in records:
            click.echo(json.dumps(job_report(record), ensure_ascii=False))
        return
    if not records:
        click.echo("No jobs.")
        return
    rows = [("ID", "COMMAND", "STARTED", "STATUS", "COUNTS")]
    rows += [
        (r.id, r.command, _when(r.created), r.status, _counts(r.counts, False) or "none")
        for r in records
    ]
    for line in aligned(rows):
        click.echo(line)


def aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """The rows as lines, each column as wide as its widest cell, two spaces apart (the last
    column is not padded)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    ]


@jobs_group.command("show")
@click.argument("job_id")
@click.option("--with-status", type=click.Choice(STATES), help="Only transfers in this state.")
@journal_option
def show_command(job_id: str, with_status: str | None, journal_dir: Path | None) -> None:
    """Show a job and its transfers. JOB_ID may be a unique prefix of the ID.

    \b
    Examples:
      azxfer jobs show 3f2a9c1e
      azxfer jobs show 3f2a9c1e --with-status failed
      azxfer jobs show 3f2a9c1e --with-status skipped
    """
    from azxfer.jobs import locate_job, show_job, table_progress

    states = (with_status,) if with_status else STATES
    job_dir, job_id = locate_job(job_dirs_from(journal_dir), job_id)
    with show_job(job_dir, job_id, states) as (r, transfers):
        # A bulk job (remove, set-properties) acts on one location: no destination to name.
        target = f" -> {r.destination}" if r.destination else ""
        click.echo(f"Job {r.id}: {r.command} {r.source}{target}")
        # A table job enumerates no files: its ranges or sources follow instead.
        enumerated = "" if "entities" in r.counts else f"  Enumerated: {_yes(r.enumerated)}"
        click.echo(
            f"  Started: {_when(r.created)}  Updated: {_when(r.updated)}  "
            f"Status: {r.status}{enumerated}"
        )
        click.echo("  " + _counts(r.counts, all_states=True))
        for line in table_progress(job_dir, r.id):
            click.echo(f"  {line}")
        for t in transfers:
            reason = f"  ({t.reason})" if t.reason else ""
            # A bulk job's row is one object (it journals no destination), as AzCopy shows.
            names = f"{t.source_ref} -> {t.dest_display}" if t.dest_ref else t.source_ref
            click.echo(f"  {t.id:>6}  {t.state:9}  {names}{reason}")


@jobs_group.command("clean")
@click.option(
    "--older-than",
    default="7d",
    show_default=True,
    help="Remove jobs last updated longer ago than this (e.g. 7d, 12h, 30m).",
)
@click.option(
    "--with-status",
    multiple=True,
    help="Only jobs with this final status (repeatable), e.g. Completed, Failed.",
)
@journal_option
def clean_command(older_than: str, with_status: tuple[str, ...], journal_dir: Path | None) -> None:
    """Remove old jobs' journals.

    \b
    Examples:
      azxfer jobs clean
      azxfer jobs clean --older-than 12h --with-status Completed --with-status CompletedWithSkipped
    """
    from azxfer.jobs import clean_jobs

    statuses = tuple(with_status) or None
    removed = [
        job_id
        for job_dir in job_dirs_from(journal_dir)
        for job_id in clean_jobs(job_dir, older_than, statuses)
    ]
    click.echo(f"Removed {len(removed)} job(s).")


@jobs_group.command("remove")
@click.argument("job_id")
@journal_option
def remove_command(job_id: str, journal_dir: Path | None) -> None:
    """Remove one job's journal (it can no longer be resumed).

    \b
    Examples:
      azxfer jobs remove 3f2a9c1e
    """
    from azxfer.jobs import locate_job, remove_job

    job_dir, job_id = locate_job(job_dirs_from(journal_dir), job_id)
    full = remove_job(job_dir, job_id)
    click.echo(f"Removed job {full}.")
