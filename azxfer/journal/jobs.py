"""Where journals live and managing them: list, remove, clean, and automatic pruning."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from platformdirs.api import PlatformDirsABC

from azxfer.errors import UsageError
from azxfer.folders import legacy_state_folder, state_folder
from azxfer.journal.hashcache import prune_cache
from azxfer.journal.rows import JobRecord
from azxfer.journal.store import SUFFIX, Journal, journal_path

JOB_DIR_ENV = "AZXFER_JOB_DIR"
RETENTION_ENV = "AZXFER_JOB_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 7.0
FINISHED = ("Completed", "CompletedWithSkipped", "DryRun")
# Touched when finished jobs were last pruned (see `prune_finished`).
PRUNE_STAMP = ".pruned"
# The journals' folder under the state folder.
JOBS = "jobs"


def default_job_dir(env: Mapping[str, str], dirs: PlatformDirsABC | None = None) -> Path:
    """Where new jobs' journals go: $AZXFER_JOB_DIR, else `jobs` in the platform's state
    folder (`azxfer.folders`; `dirs`: another platform's folders)."""
    if env.get(JOB_DIR_ENV):
        return Path(env[JOB_DIR_ENV]).expanduser()
    return state_folder(dirs) / JOBS


def job_dirs(env: Mapping[str, str], dirs: PlatformDirsABC | None = None) -> list[Path]:
    """Every folder whose jobs are listed and resumed: the default one, then the folder of
    versions before platformdirs where that differs and exists (macOS, Windows)."""
    default = default_job_dir(env, dirs)
    if env.get(JOB_DIR_ENV):
        return [default]
    legacy = legacy_state_folder(env) / JOBS
    return [default, legacy] if legacy != default and legacy.is_dir() else [default]


def job_ids(job_dir: Path) -> list[str]:
    """IDs of every journal in `job_dir`."""
    if not job_dir.is_dir():
        return []
    return [p.name[: -len(SUFFIX)] for p in job_dir.iterdir() if p.name.endswith(SUFFIX)]


def list_jobs(job_dir: Path, ids: list[str] | None = None) -> list[JobRecord]:
    """Every readable job (or those of `ids`), newest first."""
    records = []
    for job_id in job_ids(job_dir) if ids is None else ids:
        try:
            journal = Journal.open(job_dir, job_id)
            try:
                records.append(journal.job())
            finally:
                journal.close()
        except Exception:
            continue
    return sorted(records, key=lambda r: r.created, reverse=True)


def find_job(job_dir: Path, job_id: str) -> str:
    """The full ID for `job_id` or a unique prefix of it, else a UsageError listing recent ones."""
    ids = job_ids(job_dir)
    if job_id in ids:
        return job_id
    matches = [i for i in ids if i.startswith(job_id)] if len(job_id) >= 4 else []
    if len(matches) == 1:
        return matches[0]
    recent = ", ".join(r.id for r in list_jobs(job_dir)[:5]) or "none"
    raise UsageError(f"no job '{job_id}' in {job_dir} (recent jobs: {recent})")


def locate_job(job_dirs: Sequence[Path], job_id: str) -> tuple[Path, str]:
    """The first of `job_dirs` holding `job_id` (or a unique prefix of it) and its full ID;
    else the UsageError of the first folder."""
    missing: UsageError | None = None
    for job_dir in job_dirs:
        try:
            return job_dir, find_job(job_dir, job_id)
        except UsageError as exc:
            missing = missing or exc
    assert missing is not None, "no job folder to look in"
    raise missing


def remove_job(job_dir: Path, job_id: str) -> None:
    """Delete a job's journal files."""
    base = journal_path(job_dir, job_id)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{base}{suffix}").unlink(missing_ok=True)


def parse_age(text: str) -> float:
    """Seconds from '7d', '12h', '30m', '45s' or a plain number of days."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dhms]?)\s*", text)
    if not match:
        raise UsageError(f"'{text}' is not an age such as 7d, 12h or 30m")
    scale = {"d": 86400, "h": 3600, "m": 60, "s": 1, "": 86400}[match[2]]
    return float(match[1]) * scale


def clean_jobs(
    job_dir: Path,
    older_than: float,
    statuses: tuple[str, ...] | None,
    now: float | None = None,
    ids: list[str] | None = None,
) -> list[str]:
    """Remove jobs last updated more than `older_than` seconds ago (with one of `statuses`).

    Without `statuses` (every job qualifies) it also drops the hash cache's entries not seen
    for `older_than` (so `azxfer jobs clean --older-than 0s` empties it). `ids` narrows which
    journals are opened to look (default: all).
    """
    now = time.time() if now is None else now
    if statuses is None:
        prune_cache(job_dir, older_than, now)
    removed = []
    for record in list_jobs(job_dir, ids):
        if now - record.updated < older_than:
            continue
        if statuses is not None and record.status not in statuses:
            continue
        remove_job(job_dir, record.id)
        removed.append(record.id)
    return removed


def prune_finished(job_dir: Path, env: Mapping[str, str], now: float | None = None) -> list[str]:
    """Remove successful jobs older than AZXFER_JOB_RETENTION_DAYS (default 7), and hash cache
    entries not seen for as long.

    This is called at every job's start, so it is cheap there:
    - only journals whose files were last written before the cut-off are opened (a job's
      `updated` time is never later than its journal's last write): opening every journal cost
      about a millisecond per job kept;
    - it looks at the journals at most once per `_prune_interval` (a stamp file's time): even
      statting each one took 32-60 ms at every start with 573 journals kept (under a
      profiler), and that grows with every job kept.
    """
    older_than = retention_days(env) * 86400
    now = time.time() if now is None else now
    stamp = job_dir / PRUNE_STAMP
    with contextlib.suppress(OSError):
        if 0 <= now - stamp.stat().st_mtime < _prune_interval(older_than):
            return []
    prune_cache(job_dir, older_than, now)
    candidates = _written_before(job_dir, now - older_than)
    removed = clean_jobs(job_dir, older_than, FINISHED, now, candidates)
    with contextlib.suppress(OSError):  # no job folder yet: the next start prunes
        os.close(os.open(stamp, os.O_WRONLY | os.O_CREAT, 0o600))  # private, as the journals
        os.utime(stamp, (now, now))
    return removed


def _prune_interval(older_than: float) -> float:
    """How long after one pruning the next is skipped: an hour, or a hundredth of the
    retention if that is shorter (a retention of 0 prunes at every start)."""
    return min(3600.0, older_than / 100)


def _written_before(job_dir: Path, cutoff: float) -> list[str]:
    """IDs of journals whose files (database and write-ahead log) were all last written
    before `cutoff`."""
    return [job_id for job_id in job_ids(job_dir) if _last_write(job_dir, job_id) <= cutoff]


def _last_write(job_dir: Path, job_id: str) -> float:
    """When a journal's files were last written (infinitely recent if it cannot be told)."""
    base = journal_path(job_dir, job_id)
    try:
        latest = base.stat().st_mtime
    except OSError:
        return float("inf")
    wal = Path(f"{base}-wal")
    with contextlib.suppress(OSError):
        latest = max(latest, wal.stat().st_mtime)
    return latest


def retention_days(env: Mapping[str, str]) -> float:
    """AZXFER_JOB_RETENTION_DAYS, else 7."""
    try:
        return float(env.get(RETENTION_ENV, DEFAULT_RETENTION_DAYS))
    except ValueError:
        return DEFAULT_RETENTION_DAYS
