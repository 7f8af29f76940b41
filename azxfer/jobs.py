"""The library facade to journaled jobs: where they live, listing, showing, cleaning, removing,
pruning, and the record a resume starts from. The command line reaches the journal only here.

A job is named by its full ID or a unique prefix of it (at least four characters); an unknown
one is a UsageError that lists the recent jobs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from azxfer.journal.jobs import (
    FINISHED,
    default_job_dir,
    find_job,
    job_dirs,
    list_jobs,
    locate_job,
    parse_age,
)
from azxfer.journal.jobs import clean_jobs as _clean_jobs
from azxfer.journal.jobs import prune_finished as _prune_finished
from azxfer.journal.jobs import remove_job as _remove_job
from azxfer.journal.rows import JobRecord, TransferRow
from azxfer.journal.store import TABLE_COMMANDS, Journal
from azxfer.journal.tablerecord import TableJournal

__all__ = [
    "FINISHED",
    "JobRecord",
    "TransferRow",
    "clean_jobs",
    "default_job_dir",
    "find_job",
    "job_dirs",
    "job_record",
    "jobs_in",
    "list_jobs",
    "locate_job",
    "prune_finished",
    "remove_job",
    "show_job",
    "table_progress",
]


def jobs_in(job_dirs: Sequence[Path]) -> list[JobRecord]:
    """Every readable job of every folder of `job_dirs`, newest first."""
    records = [record for job_dir in job_dirs for record in list_jobs(job_dir)]
    return sorted(records, key=lambda r: r.created, reverse=True)


@contextlib.contextmanager
def show_job(
    job_dir: Path, job_id: str, states: tuple[str, ...]
) -> Iterator[tuple[JobRecord, Iterator[TransferRow]]]:
    """A job's record and its transfers in `states`, streamed in ID order (a large job's rows
    are never all in memory); the journal stays open until the `with` block ends."""
    journal = Journal.open(job_dir, find_job(job_dir, job_id))
    try:
        yield journal.job(), journal.transfers(states)
    finally:
        journal.close()


def job_record(job_dir: Path, job_id: str) -> JobRecord:
    """A job's record (its full ID, command, options and counts): what a resume starts from."""
    journal = Journal.open(job_dir, find_job(job_dir, job_id))
    try:
        return journal.job()
    finally:
        journal.close()


def clean_jobs(job_dir: Path, older_than: str, statuses: tuple[str, ...] | None) -> list[str]:
    """Remove the jobs last updated longer ago than `older_than` ('7d', '12h', '30m', ...),
    only those with one of `statuses` if given; the IDs removed."""
    return _clean_jobs(job_dir, parse_age(older_than), statuses)


def remove_job(job_dir: Path, job_id: str) -> str:
    """Remove one job's journal (it can no longer be resumed); its full ID."""
    full = find_job(job_dir, job_id)
    _remove_job(job_dir, full)
    return full


def prune_finished(job_dir: Path, env: Mapping[str, str]) -> list[str]:
    """At a job's start: remove successful jobs older than the retention of `env`
    (AZXFER_JOB_RETENTION_DAYS, default 7); the IDs removed."""
    return _prune_finished(job_dir, env)


def table_progress(job_dir: Path, job_id: str) -> list[str]:
    """What an export or import journaled, one line per range or source (none for other
    jobs): its data files or confirmed batches and their entities."""
    journal = Journal.open(job_dir, find_job(job_dir, job_id))
    try:
        if journal.job().command not in TABLE_COMMANDS:
            return []
        return TableJournal(journal).summary()
    finally:
        journal.close()
