"""Reading and writing one job's journal (a SQLite database in WAL mode, mode 0600).

Writes are batched into transactions that commit at most `FLUSH_SECONDS` apart, except chunk
records, which commit at once (a chunk staged but not journaled is found again through the
destination's uncommitted block list, so batching them would only cost re-sends). The rows
it reads and writes are plain data in `rows`.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import operator
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from azxfer.errors import UsageError
from azxfer.journal.crash import CrashHook
from azxfer.journal.rows import JobRecord, TransferRow, TransferState, transfer_row
from azxfer.journal.schema import SCHEMA, SCHEMA_VERSION
from azxfer.models import Chunk

FLUSH_SECONDS = 0.25
FLUSH_ROWS = 512
SUFFIX = ".azxfer-job"
_ENCODER = msgspec.json.Encoder()


def _to_json(value: dict[str, Any]) -> str:
    """A planned transfer's entry or properties as JSON text (msgspec: ~2 µs for an entry,
    where json.dumps took ~14 µs; this runs twice for every file a job plans)."""
    return _ENCODER.encode(value).decode()


# Jobs of entities, not files: counted by the entities their journal holds.
TABLE_COMMANDS = ("export", "import")
_TABLE_ENTITIES = (
    "SELECT (SELECT COALESCE(SUM(entities), 0) FROM table_range) "
    "+ (SELECT COALESCE(SUM(entities), 0) FROM table_batch)"
)

# A job recorded as running whose process is gone (its run lock is free): killed, crashed,
# or quit at a second interrupt. Resumable, like any job that did not finish.
RUNNING = "Running"
INTERRUPTED = "Interrupted"


def journal_path(job_dir: Path, job_id: str) -> Path:
    """Where the journal of `job_id` lives."""
    return job_dir / f"{job_id}{SUFFIX}"


class Journal:
    """The open journal of one job."""

    def __init__(self, path: Path, crash: CrashHook | None = None, lock: bool = False) -> None:
        self.path = path
        self._lock_fd = _lock(path) if lock else -1
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.crash = crash or CrashHook.from_env({})
        self._pending_sql: list[tuple[str, tuple[Any, ...]]] = []
        self._last_flush = time.monotonic()

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        job_dir: Path,
        job_id: str,
        command: str,
        source: str,
        destination: str,
        options: dict[str, Any],
        crash: CrashHook | None = None,
    ) -> Journal:
        """Create the journal of a new job (0600), recording its command and options."""
        job_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = journal_path(job_dir, job_id)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        journal = cls(path, crash, lock=True)
        journal.db.executescript(SCHEMA)
        now = time.time()
        journal.db.execute(
            "INSERT INTO job VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
            (
                job_id,
                command,
                source,
                destination,
                json.dumps(options),
                now,
                now,
                RUNNING,
                SCHEMA_VERSION,
            ),
        )
        journal._protect()
        return journal

    @classmethod
    def open(
        cls, job_dir: Path, job_id: str, crash: CrashHook | None = None, lock: bool = False
    ) -> Journal:
        """Open an existing job's journal; `lock` to run it (refused while another runs it)."""
        path = journal_path(job_dir, job_id)
        if not path.exists():
            raise UsageError(f"no job {job_id} in {job_dir}")
        journal = cls(path, crash, lock)
        journal._protect()
        return journal

    def _protect(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(f"{self.path}{suffix}")
            if candidate.exists():
                os.chmod(candidate, 0o600)

    def close(self) -> None:
        """Flush, close, and release the run lock."""
        self.flush()
        self.db.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    # -- writes ------------------------------------------------------------------------------

    def _queue(self, sql: str, args: tuple[Any, ...]) -> None:
        self._pending_sql.append((sql, args))
        if (
            len(self._pending_sql) >= FLUSH_ROWS
            or time.monotonic() - self._last_flush >= FLUSH_SECONDS
        ):
            self.flush()

    def _tick(self, kind: str) -> None:
        """Count an event for the crash hook, committed first when the hook counts it."""
        if self.crash.kind == kind:
            self.flush()
        self.crash.tick(kind)

    def flush(self) -> None:
        """Commit every queued write in one transaction."""
        self._last_flush = time.monotonic()
        if not self._pending_sql:
            return
        batch, self._pending_sql = self._pending_sql, []
        with self.db:
            self.db.execute("BEGIN")
            # Runs of one statement go in one executemany (the rows of a batch are mostly
            # alike: planned transfers, then state changes).
            for sql, run in itertools.groupby(batch, key=operator.itemgetter(0)):
                self.db.executemany(sql, [args for _, args in run])

    def add_transfer(self, row: TransferRow) -> None:
        """Journal a planned transfer (before it is acted on)."""
        self._queue(
            "INSERT OR IGNORE INTO transfer VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.id,
                row.source_ref,
                row.entry.get("rel_path", ""),
                row.dest_ref,
                row.dest_display,
                row.size,
                row.mtime,
                row.entry.get("etag"),
                None,
                _to_json(row.entry),
                _to_json(row.props),
                row.chunk_size,
                row.state,
                row.reason,
            ),
        )
        self._tick("enumerated")

    def mark_enumerated(self) -> None:
        """Record that enumeration finished: resume need not enumerate again."""
        self._queue("UPDATE job SET enumerated = 1", ())
        self.flush()

    def set_state(self, transfer_id: int, state: str, reason: str | None = None) -> None:
        """Record a transfer's new state."""
        self._queue(
            "UPDATE transfer SET state = ?, reason = ? WHERE id = ?", (state, reason, transfer_id)
        )
        if state == TransferState.COMPLETED:
            self._tick("completed")

    def start_transfer(self, transfer_id: int, chunk_size: int) -> None:
        """Mark a transfer active with its chunk size (committed, at the latest, with its first
        chunk record: resume treats pending and active transfers alike)."""
        self._queue(
            "UPDATE transfer SET state = ?, chunk_size = ? WHERE id = ?",
            (TransferState.ACTIVE, chunk_size, transfer_id),
        )

    def chunk_done(self, transfer_id: int, chunk: Chunk) -> None:
        """Record a chunk that reached the destination (committed at once)."""
        self._queue(
            "INSERT OR REPLACE INTO chunk VALUES (?, ?, ?, ?)",
            (transfer_id, chunk.index, chunk.offset, chunk.length),
        )
        self.flush()
        self.crash.tick("chunks")

    def forget_chunks(self, transfer_id: int) -> None:
        """Drop a transfer's chunk records (it restarts from zero)."""
        self._queue("DELETE FROM chunk WHERE transfer_id = ?", (transfer_id,))
        self.flush()

    def replan(self, row: TransferRow) -> None:
        """Plan an already journaled transfer again from the start (a resumed sync found its
        source changed, or a finished transfer to repeat): new entry, state, no chunks."""
        self._queue(
            "UPDATE transfer SET source_ref = ?, rel_path = ?, dest_ref = ?, dest_display = ?, "
            "size = ?, mtime = ?, etag = ?, entry = ?, props = ?, chunk_size = ?, state = ?, "
            "reason = ? WHERE id = ?",
            (
                row.source_ref,
                row.entry.get("rel_path", ""),
                row.dest_ref,
                row.dest_display,
                row.size,
                row.mtime,
                row.entry.get("etag"),
                _to_json(row.entry),
                _to_json(row.props),
                row.chunk_size,
                row.state,
                row.reason,
                row.id,
            ),
        )
        self._queue("DELETE FROM chunk WHERE transfer_id = ?", (row.id,))
        self.flush()

    def set_status(self, status: str) -> None:
        """Record the job's status."""
        self._queue("UPDATE job SET status = ?, updated = ?", (status, time.time()))
        self.flush()

    # -- reads -------------------------------------------------------------------------------

    def job(self) -> JobRecord:
        """The job row with counts per state; a job recorded as running that no process runs
        any more is told as Interrupted."""
        self.flush()
        row = self.db.execute(
            "SELECT id, command, source, destination, options, created, updated, status, "
            "enumerated FROM job"
        ).fetchone()
        counts = dict.fromkeys(TransferState.ALL, 0)
        for state, count in self.db.execute("SELECT state, COUNT(*) FROM transfer GROUP BY state"):
            counts[state] = count
        if row[1] in TABLE_COMMANDS:
            counts["entities"] = self.db.execute(_TABLE_ENTITIES).fetchone()[0]
        return JobRecord(
            row[0],
            row[1],
            row[2],
            row[3],
            json.loads(row[4]),
            row[5],
            row[6],
            INTERRUPTED if row[7] == RUNNING and self._abandoned() else row[7],
            bool(row[8]),
            counts,
        )

    def _abandoned(self) -> bool:
        """Whether no process holds this journal's run lock (never true for the runner)."""
        if self._lock_fd >= 0:
            return False
        try:
            fd = _lock(self.path)
        except UsageError:
            return False
        os.close(fd)
        return True

    def transfers(self, states: tuple[str, ...] = TransferState.ALL) -> Iterator[TransferRow]:
        """Journaled transfers in id order, optionally only those in `states`."""
        self.flush()
        marks = ",".join("?" * len(states))
        cursor = self.db.execute(
            "SELECT id, source_ref, dest_ref, dest_display, size, mtime, entry, props, "
            f"chunk_size, state, reason FROM transfer WHERE state IN ({marks}) ORDER BY id",
            states,
        )
        for r in cursor:
            yield transfer_row(r)

    def transfer_for_source(self, source_ref: str) -> TransferRow | None:
        """The committed transfer row of a source, if any. Does not flush: meant for looking
        up what an earlier run journaled, once per source, without committing this run's
        queued writes each time."""
        r = self.db.execute(
            "SELECT id, source_ref, dest_ref, dest_display, size, mtime, entry, props, "
            "chunk_size, state, reason FROM transfer WHERE source_ref = ?",
            (source_ref,),
        ).fetchone()
        if r is None:
            return None
        return transfer_row(r)

    def has_source(self, source_ref: str) -> bool:
        """Whether enumeration already journaled this source."""
        self.flush()
        return (
            self.db.execute("SELECT 1 FROM transfer WHERE source_ref = ?", (source_ref,)).fetchone()
            is not None
        )

    def max_transfer_id(self) -> int:
        """The highest transfer id used so far (0 if none)."""
        self.flush()
        return self.db.execute("SELECT COALESCE(MAX(id), 0) FROM transfer").fetchone()[0]

    def chunks(self, transfer_id: int) -> list[Chunk]:
        """Chunks journaled as done for a transfer."""
        self.flush()
        return [
            Chunk(i, o, n)
            for i, o, n in self.db.execute(
                "SELECT idx, offset, length FROM chunk WHERE transfer_id = ? ORDER BY idx",
                (transfer_id,),
            )
        ]


def _lock(path: Path) -> int:
    """Hold an exclusive lock on the journal for as long as this process runs the job."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UsageError(
            f"job {path.name.removesuffix(SUFFIX)} is running in another process"
        ) from None
    return fd
