"""Unit tests for the shared MD5 cache (azxfer.journal.hashcache) and the journal methods a
resumed sync uses (transfer_for_source, replan)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from azxfer.journal.hashcache import (
    CACHE_NAME,
    HashCache,
    cache_path,
    prune_cache,
    stat_key,
)
from azxfer.journal.jobs import clean_jobs, prune_finished
from azxfer.journal.rows import TransferRow, TransferState
from azxfer.journal.store import Journal
from azxfer.models import Chunk

DAY = 86400.0


def aged_file(path: Path, data: bytes, age: float = 10.0) -> Path:
    """A file whose mtime lies `age` s back (its ctime is now: see `cache_for`)."""
    path.write_bytes(data)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


def hashed_at(offset: float = 0.0) -> int:
    return time.time_ns() + int(offset * 1e9)


@pytest.fixture
def cache(tmp_path: Path):
    # racy window 0: files made a moment ago count as settled (the rule has its own test)
    c = HashCache(cache_path(tmp_path / "jobs"), racy_seconds=0)
    yield c
    c.close()


def test_store_then_lookup_hits_until_the_file_changes(tmp_path: Path, cache: HashCache) -> None:
    f = aged_file(tmp_path / "a.txt", b"hello")
    key = stat_key(os.stat(f))
    assert cache.lookup(str(f), key) is None
    digest = hashlib.md5(b"hello").digest()
    cache.store(str(f), key, digest, hashed_at(1))
    assert cache.lookup(str(f), key) is None  # queued, not yet written
    cache.flush()
    assert cache.lookup(str(f), key) == digest
    assert (cache.hits, cache.misses) == (1, 2)
    size, mtime_ns, ctime_ns, ino = key
    for changed in (
        (size + 1, mtime_ns, ctime_ns, ino),
        (size, mtime_ns + 1, ctime_ns, ino),
        (size, mtime_ns, ctime_ns + 1, ino),
        (size, mtime_ns, ctime_ns, ino + 1),
    ):
        assert cache.lookup(str(f), changed) is None
    assert cache.lookup(str(tmp_path / "other"), key) is None


def test_racy_entries_are_not_trusted(tmp_path: Path) -> None:
    c = HashCache(cache_path(tmp_path / "jobs"))  # the real 2 s window
    try:
        f = tmp_path / "new.txt"
        f.write_bytes(b"x")
        key = stat_key(os.stat(f))
        # hashed right after the last write: a same-tick rewrite could hide behind equal times
        c.store(str(f), key, b"\x01" * 16, hashed_at())
        c.flush()
        assert c.lookup(str(f), key) is None
        # the same file hashed > 2 s after its mtime and ctime: trusted
        c.store(str(f), key, b"\x02" * 16, hashed_at(2.5))
        c.flush()
        assert c.lookup(str(f), key) == b"\x02" * 16
    finally:
        c.close()


def test_cache_file_is_private_and_holds_no_secrets(tmp_path: Path) -> None:
    job_dir = tmp_path / "jobs"
    c = HashCache.open(job_dir)
    assert c is not None
    f = aged_file(tmp_path / "f", b"data")
    c.store(str(f), stat_key(os.stat(f)), hashlib.md5(b"data").digest(), hashed_at())
    c.flush()
    try:
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{job_dir / CACHE_NAME}{suffix}")
            if p.exists():
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        columns = [r[1] for r in c.db.execute("PRAGMA table_info(md5)")]  # type: ignore[union-attr]
        assert columns == [
            *("path", "size", "mtime_ns", "ctime_ns", "ino", "md5", "hashed_ns", "seen")
        ]
        assert list(c.entries()) == [(os.fsencode(str(f)), hashlib.md5(b"data").digest())]
    finally:
        c.close()


def test_undecodable_names_round_trip(tmp_path: Path, cache: HashCache) -> None:
    name = os.fsdecode(b"caf\xe9.txt")  # not UTF-8: a surrogate-escaped str
    f = aged_file(tmp_path / name, b"x")
    key = stat_key(os.stat(f))
    cache.store(str(f), key, b"\x03" * 16, hashed_at(1))
    cache.flush()
    assert cache.lookup(str(f), key) == b"\x03" * 16


def test_writes_are_batched_and_survive_reopen(tmp_path: Path) -> None:
    job_dir = tmp_path / "jobs"
    c = HashCache(cache_path(job_dir), racy_seconds=0)
    keys = {}
    for i in range(700):  # more than one batch
        keys[i] = (i, i, i, i)
        c.store(f"/x/{i}", keys[i], i.to_bytes(16, "big"), hashed_at(1))
    c.close()
    again = HashCache(cache_path(job_dir), racy_seconds=0)
    try:
        assert again.lookup("/x/699", keys[699]) == (699).to_bytes(16, "big")
        assert again.lookup("/x/0", keys[0]) == (0).to_bytes(16, "big")
    finally:
        again.close()


def test_prune_drops_entries_not_seen_and_lookups_refresh_seen(tmp_path: Path) -> None:
    job_dir = tmp_path / "jobs"
    c = HashCache(cache_path(job_dir), racy_seconds=0)
    c.now = time.time() - 10 * DAY  # stored ten days ago
    c.store("/old", (1, 1, 1, 1), b"\x01" * 16, hashed_at(1))
    c.store("/used", (2, 2, 2, 2), b"\x02" * 16, hashed_at(1))
    c.close()
    c = HashCache(cache_path(job_dir), racy_seconds=0)
    assert c.lookup("/used", (2, 2, 2, 2)) == b"\x02" * 16  # seen today: refreshed
    c.close()
    assert prune_cache(job_dir, 7 * DAY) == 1
    c = HashCache(cache_path(job_dir), racy_seconds=0)
    try:
        assert [p for p, _ in c.entries()] == [b"/used"]
    finally:
        c.close()
    assert prune_cache(tmp_path / "nothing-here", 0) == 0
    assert not (tmp_path / "nothing-here").exists()


def test_jobs_clean_and_retention_prune_the_cache(tmp_path: Path) -> None:
    job_dir = tmp_path / "jobs"
    c = HashCache(cache_path(job_dir), racy_seconds=0)
    c.now = time.time() - 4 * DAY
    c.store("/a", (1, 1, 1, 1), b"\x01" * 16, hashed_at(1))
    c.close()

    def count() -> int:
        db = sqlite3.connect(cache_path(job_dir))
        try:
            return db.execute("SELECT COUNT(*) FROM md5").fetchone()[0]
        finally:
            db.close()

    prune_finished(job_dir, {"AZXFER_JOB_RETENTION_DAYS": "5"})
    assert count() == 1
    clean_jobs(job_dir, 0, ("Failed",))  # only some statuses: the cache is left alone
    assert count() == 1
    # The next start more than an hour later (pruning looks at most once an hour).
    prune_finished(job_dir, {"AZXFER_JOB_RETENTION_DAYS": "3"}, time.time() + 3601)
    assert count() == 0


def test_a_corrupt_cache_is_recreated(tmp_path: Path) -> None:
    job_dir = tmp_path / "jobs"
    job_dir.mkdir()
    cache_path(job_dir).write_bytes(b"this is not a database" * 100)
    c = HashCache.open(job_dir)
    assert c is not None
    try:
        c.store("/a", (1, 1, 1, 1), b"\x01" * 16, hashed_at(5))
        c.flush()
        assert list(c.entries()) == [(b"/a", b"\x01" * 16)]
    finally:
        c.close()


def test_a_newer_cache_is_left_alone(tmp_path: Path) -> None:
    job_dir = tmp_path / "jobs"
    HashCache.open(job_dir).close()  # type: ignore[union-attr]
    db = sqlite3.connect(cache_path(job_dir))
    db.execute("PRAGMA user_version = 99")
    db.close()
    assert HashCache.open(job_dir) is None
    db = sqlite3.connect(cache_path(job_dir))
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 99
    finally:
        db.close()


def test_errors_disable_the_cache_instead_of_failing(tmp_path: Path, cache: HashCache) -> None:
    assert cache.db is not None
    cache.db.execute("DROP TABLE md5")
    assert cache.lookup("/a", (1, 1, 1, 1)) is None  # logged, then disabled
    assert cache.db is None
    cache.store("/a", (1, 1, 1, 1), b"\x01" * 16, hashed_at())
    cache.flush()
    assert cache.prune(0) == 0


# -- the journal methods a resumed sync uses -----------------------------------------------------


def _row(tid: int, state: str, size: int = 10, mtime: float = 1.5) -> TransferRow:
    return TransferRow(
        id=tid,
        source_ref=f"/src/f{tid}",
        dest_ref=f"f{tid}",
        dest_display=f"https://a/c/f{tid}",
        size=size,
        mtime=mtime,
        entry={"ref": f"/src/f{tid}", "rel_path": f"f{tid}", "size": size, "mtime": mtime},
        props={"blob_type": "BlockBlob", "content": {}, "tier": None},
        chunk_size=0,
        state=state,
        reason=None,
    )


def test_transfer_for_source_and_replan(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, "job-1", "sync", "/src", "https://a/c", {})
    try:
        journal.add_transfer(_row(1, TransferState.PENDING))
        journal.add_transfer(_row(2, TransferState.COMPLETED))
        journal.flush()
        journal.start_transfer(1, 1024)
        journal.chunk_done(1, Chunk(0, 0, 1024))
        found = journal.transfer_for_source("/src/f1")
        assert found is not None
        assert (found.id, found.state, found.chunk_size) == (1, "active", 1024)
        assert journal.transfer_for_source("/src/nope") is None

        journal.replan(_row(1, TransferState.PENDING, size=20, mtime=2.5))
        again = journal.transfer_for_source("/src/f1")
        assert again is not None
        assert (again.size, again.mtime, again.state, again.chunk_size) == (20, 2.5, "pending", 0)
        assert again.entry["size"] == 20
        assert journal.chunks(1) == []
        assert journal.job().counts["completed"] == 1
    finally:
        journal.close()
