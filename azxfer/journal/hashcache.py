"""The local MD5 cache: what `azxfer sync --compare-hash md5` learned about local files.

Every job has its own journal, so a per-job table could never spare the next run a rehash:
the cache is one SQLite database shared by all jobs, `hash-cache.sqlite` in the job directory
(WAL, mode 0600, like the journals). One row per absolute path holds the MD5 of the file's
content and the stat fields it was computed under; a lookup hits only when all of them still
match the file:

- `size` and `mtime_ns`: any ordinary write changes them.
- `ctime_ns`: catches a rewrite whose mtime was put back (`touch -d`, `cp -p`, `rsync -t`,
  `tar x`): nobody can set ctime. It also changes on chmod/chown/rename, which costs at most
  one needless rehash.
- `ino`: catches a file replaced by another (an editor's save-by-rename) that kept size and
  times. The device number is left out on purpose: it is not stable across reboots for
  removable and network filesystems, and the absolute path already names the file.

Racy entries: on a filesystem with coarse timestamps (1 s, FAT's 2 s), a file written again
within the same tick as the hash keeps its size and times. So an entry is trusted only if the
file's mtime and ctime are older than `RACY_SECONDS` before the moment hashing started (git's
"racily clean" rule); otherwise the file is hashed again (and the new entry stored), until it
is old enough.

Bounded: rows are only written for files that were hashed (or uploaded by a sync); `seen` is
refreshed at most once a day per row; rows not seen for the job retention period
(AZXFER_JOB_RETENTION_DAYS) are pruned. Nothing secret is stored: paths, stat numbers and
MD5s. The cache is best effort: any SQLite error disables it for the rest of the run (a
warning in the log), it never fails a job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("azxfer.hashcache")

CACHE_NAME = "hash-cache.sqlite"
SCHEMA_VERSION = 1
RACY_SECONDS = 2.0
SEEN_REFRESH_SECONDS = 86400.0
FLUSH_ROWS = 512

_SCHEMA = """
CREATE TABLE IF NOT EXISTS md5 (
    path BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    md5 BLOB NOT NULL,
    hashed_ns INTEGER NOT NULL,
    seen REAL NOT NULL
) WITHOUT ROWID;
"""

# (size, mtime_ns, ctime_ns, ino): what must still match for a cached MD5 to hold.
StatKey = tuple[int, int, int, int]


def stat_key(st: os.stat_result) -> StatKey:
    """The fields of a stat result that a cache entry is valid for."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def cache_path(job_dir: Path) -> Path:
    """Where the hash cache of a job directory lives."""
    return job_dir / CACHE_NAME


class HashCache:
    """The open cache. Thread-safe: one connection behind a lock (lookups come from the walk's
    thread, stores from hashing threads and the event loop)."""

    def __init__(self, path: Path, racy_seconds: float = RACY_SECONDS) -> None:
        self.path = path
        self.racy_ns = int(racy_seconds * 1e9)
        self.lock = threading.Lock()
        self.db: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0
        self._writes: list[tuple[object, ...]] = []
        self._touches: list[tuple[float, bytes]] = []
        self.now = time.time()
        self.db = _connect(path)

    @classmethod
    def open(cls, job_dir: Path) -> HashCache | None:
        """The cache of `job_dir`, created if needed, or recreated if it is not a database;
        None (and a log line) if it cannot be used now (locked for long, unwritable, written
        by a newer azxfer): the sync then hashes without a cache."""
        path = cache_path(job_dir)
        try:
            try:
                return cls(path)
            except sqlite3.OperationalError:
                raise  # locked, read-only, I/O: leave the file alone
            except sqlite3.DatabaseError as exc:  # not a database, or malformed
                log.warning("hash cache %s is damaged (%s): recreating it", path, exc)
                _remove(path)
                return cls(path)
        except (OSError, sqlite3.Error, _Unusable) as exc:
            log.warning("hash cache %s unusable (%s): hashing without it", path, exc)
            return None

    # -- reads -------------------------------------------------------------------------------

    def lookup(self, path: str, key: StatKey) -> bytes | None:
        """The cached MD5 of the file at absolute `path` whose stat fields are `key`, or None
        when there is none, the file changed since, or the entry is racy."""
        with self.lock:
            if self.db is None:
                return None
            try:
                row = self.db.execute(
                    "SELECT size, mtime_ns, ctime_ns, ino, md5, hashed_ns, seen FROM md5 "
                    "WHERE path = ?",
                    (os.fsencode(path),),
                ).fetchone()
            except sqlite3.Error as exc:
                self._disable(exc)
                return None
            if row is None or tuple(row[:4]) != key or not self._settled(key, row[5]):
                self.misses += 1
                return None
            self.hits += 1
            if self.now - row[6] > SEEN_REFRESH_SECONDS:
                self._touches.append((self.now, os.fsencode(path)))
                if len(self._touches) >= FLUSH_ROWS:
                    self._flush()
            return bytes(row[4])

    def _settled(self, key: StatKey, hashed_ns: int) -> bool:
        """Whether the file's times are older than the hash by more than the racy window."""
        return max(key[1], key[2]) < hashed_ns - self.racy_ns

    # -- writes ------------------------------------------------------------------------------

    def store(self, path: str, key: StatKey, md5: bytes, hashed_ns: int) -> None:
        """Remember the MD5 of the file at absolute `path` as read from `hashed_ns` on, while
        its stat fields were `key`. Written in batches (and on close)."""
        with self.lock:
            if self.db is None:
                return
            self._writes.append((os.fsencode(path), *key, md5, hashed_ns, self.now))
            if len(self._writes) >= FLUSH_ROWS:
                self._flush()

    def flush(self) -> None:
        """Commit the queued writes."""
        with self.lock:
            self._flush()

    def _flush(self) -> None:
        writes, self._writes = self._writes, []
        touches, self._touches = self._touches, []
        if self.db is None or not (writes or touches):
            return
        try:
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO md5 VALUES (?, ?, ?, ?, ?, ?, ?, ?)", writes
                )
                self.db.executemany("UPDATE md5 SET seen = ? WHERE path = ?", touches)
        except sqlite3.Error as exc:
            self._disable(exc)

    def prune(self, older_than: float, now: float | None = None) -> int:
        """Remove entries not seen for `older_than` seconds; returns how many."""
        now = time.time() if now is None else now
        with self.lock:
            self._flush()
            if self.db is None:
                return 0
            try:
                with self.db:
                    cursor = self.db.execute("DELETE FROM md5 WHERE seen < ?", (now - older_than,))
                return cursor.rowcount
            except sqlite3.Error as exc:
                self._disable(exc)
                return 0

    def close(self) -> None:
        """Flush and close."""
        with self.lock:
            self._flush()
            if self.db is not None:
                self.db.close()
                self.db = None

    def _disable(self, exc: sqlite3.Error) -> None:
        log.warning("hash cache %s disabled for this run: %s", self.path, exc)
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
        self.db = None

    def entries(self) -> Iterable[tuple[bytes, bytes]]:
        """(path, md5) of every entry (for tests and inspection)."""
        with self.lock:
            self._flush()
            if self.db is None:
                return []
            return [(bytes(p), bytes(m)) for p, m in self.db.execute("SELECT path, md5 FROM md5")]


def prune_cache(job_dir: Path, older_than: float, now: float | None = None) -> int:
    """Prune the hash cache of `job_dir`, if there is one; returns the entries removed."""
    path = cache_path(job_dir)
    if not path.exists():
        return 0
    cache = HashCache.open(job_dir)
    if cache is None:
        return 0
    try:
        return cache.prune(older_than, now)
    finally:
        cache.close()


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    db = sqlite3.connect(path, check_same_thread=False, timeout=10)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise _Unusable(f"written by another azxfer version ({version})")
        with db:
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.close()
        raise
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{path}{suffix}", 0o600)
    return db


class _Unusable(Exception):
    """A cache this version must not use (nor destroy)."""


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
