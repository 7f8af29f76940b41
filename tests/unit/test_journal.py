"""Unit tests for the journal: store, job management, codec and the crash hook."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import msgspec
import pytest

from azxfer.errors import UsageError
from azxfer.journal import store
from azxfer.journal.codec import entry_from_json, entry_to_json, props_from_json, props_to_json
from azxfer.journal.crash import ENV, KINDS, CrashHook
from azxfer.journal.jobs import (
    DEFAULT_RETENTION_DAYS,
    FINISHED,
    PRUNE_STAMP,
    clean_jobs,
    default_job_dir,
    find_job,
    job_ids,
    list_jobs,
    parse_age,
    prune_finished,
    remove_job,
)
from azxfer.journal.rows import TransferRow, TransferState
from azxfer.journal.store import SUFFIX, Journal, journal_path
from azxfer.models import (
    BlobProps,
    BlobType,
    Chunk,
    ContentProps,
    Entry,
    WriteProps,
    blob_type_to_write,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DAY = 86400.0


def row(tid: int, state: str = TransferState.PENDING, size: int = 10, **kw) -> TransferRow:
    name = kw.pop("name", f"f{tid}")
    return TransferRow(
        id=tid,
        source_ref=f"/src/{name}",
        dest_ref=f"dst/{name}",
        dest_display=f"https://a/c/dst/{name}",
        size=size,
        mtime=kw.pop("mtime", 1700000000.5),
        entry={"ref": f"/src/{name}", "rel_path": name, "size": size, "etag": None},
        props={"blob_type": "BlockBlob", "tier": None},
        chunk_size=kw.pop("chunk_size", 0),
        state=state,
        reason=kw.pop("reason", None),
    )


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal.create(tmp_path / "jobs", "job-1", "copy", "/src", "https://a/c", {"n": 1})
    yield j
    j.close()


class FakeClock:
    """Replaces the `time` module inside azxfer.journal.store."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return time.monotonic()


def make_job(job_dir: Path, job_id: str, status: str, when: float) -> None:
    """Create a closed job whose created and updated times are `when`."""
    real = store.time
    store.time = FakeClock(when)  # type: ignore[assignment]
    try:
        j = Journal.create(job_dir, job_id, "copy", "/s", "/d", {})
        j.set_status(status)
        j.close()
    finally:
        store.time = real
    # As a journal last written at `when` would be on disk.
    for suffix in ("", "-wal"):
        path = Path(f"{journal_path(job_dir, job_id)}{suffix}")
        if path.exists():
            os.utime(path, (when, when))


# --- Journal ------------------------------------------------------------------------------


def test_create_makes_private_files(tmp_path: Path) -> None:
    job_dir = tmp_path / "state" / "jobs"
    j = Journal.create(job_dir, "abc", "copy", "/s", "/d", {})
    try:
        path = journal_path(job_dir, "abc")
        assert path == job_dir / f"abc{SUFFIX}"
        assert path.name == "abc.azxfer-job"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for suffix in ("-wal", "-shm"):
            extra = Path(f"{path}{suffix}")
            if extra.exists():
                assert stat.S_IMODE(extra.stat().st_mode) == 0o600
        assert stat.S_IMODE(job_dir.stat().st_mode) & 0o077 == 0
    finally:
        j.close()


def test_create_refuses_an_existing_job(journal: Journal, tmp_path: Path) -> None:
    with pytest.raises(FileExistsError):
        Journal.create(tmp_path / "jobs", "job-1", "copy", "/s", "/d", {})


def test_new_job_record(journal: Journal) -> None:
    before = time.time()
    record = journal.job()
    assert record.id == "job-1"
    assert (record.command, record.source, record.destination) == ("copy", "/src", "https://a/c")
    assert record.options == {"n": 1}
    assert record.status == "Running"
    assert record.enumerated is False
    assert record.created == record.updated
    assert before - 60 < record.created <= before
    assert record.counts == {s: 0 for s in TransferState.ALL}


def test_add_transfer_and_read_back(journal: Journal) -> None:
    rows = [row(1), row(2, size=99, mtime=None), row(3, TransferState.SKIPPED, reason="exists")]
    for r in rows:
        journal.add_transfer(r)
    journal.flush()
    assert list(journal.transfers()) == rows


def test_transfers_by_state_in_id_order(journal: Journal) -> None:
    for tid in (5, 2, 9, 1):
        journal.add_transfer(row(tid))
    journal.set_state(9, TransferState.COMPLETED)
    journal.set_state(1, TransferState.FAILED, "boom")
    journal.set_state(2, TransferState.SKIPPED, "exists")
    assert [r.id for r in journal.transfers()] == [1, 2, 5, 9]
    unfinished = list(journal.transfers(TransferState.UNFINISHED))
    assert [(r.id, r.state, r.reason) for r in unfinished] == [
        (1, TransferState.FAILED, "boom"),
        (5, TransferState.PENDING, None),
    ]
    assert [r.id for r in journal.transfers((TransferState.COMPLETED,))] == [9]


def test_duplicate_transfers_are_ignored(journal: Journal) -> None:
    journal.add_transfer(row(1))
    journal.add_transfer(row(1, size=555))
    journal.add_transfer(row(2, name="f1"))  # same source as transfer 1
    assert [(r.id, r.size) for r in journal.transfers()] == [(1, 10)]


def test_counts_per_state(journal: Journal) -> None:
    for tid in range(1, 7):
        journal.add_transfer(row(tid))
    journal.set_state(1, TransferState.COMPLETED)
    journal.set_state(2, TransferState.COMPLETED)
    journal.set_state(3, TransferState.FAILED, "x")
    journal.set_state(4, TransferState.SKIPPED)
    journal.start_transfer(5, 4096)
    assert journal.job().counts == {
        "pending": 1,
        "active": 1,
        "completed": 2,
        "failed": 1,
        "skipped": 1,
    }
    active = next(iter(journal.transfers((TransferState.ACTIVE,))))
    assert (active.id, active.chunk_size) == (5, 4096)


def test_chunks_and_forget_chunks(journal: Journal) -> None:
    journal.add_transfer(row(1))
    journal.add_transfer(row(2))
    journal.chunk_done(1, Chunk(2, 200, 100))
    journal.chunk_done(1, Chunk(0, 0, 100))
    journal.chunk_done(1, Chunk(0, 0, 100))  # recorded twice: kept once
    journal.chunk_done(2, Chunk(0, 0, 50))
    assert journal.chunks(1) == [Chunk(0, 0, 100), Chunk(2, 200, 100)]
    assert journal.chunks(2) == [Chunk(0, 0, 50)]
    journal.forget_chunks(1)
    assert journal.chunks(1) == []
    assert journal.chunks(2) == [Chunk(0, 0, 50)]
    assert journal.chunks(3) == []


def test_mark_enumerated_and_status(journal: Journal) -> None:
    journal.mark_enumerated()
    journal.set_status("CompletedWithSkipped")
    record = journal.job()
    assert record.enumerated is True
    assert record.status == "CompletedWithSkipped"
    assert record.updated >= record.created


def test_max_transfer_id_and_has_source(journal: Journal) -> None:
    assert journal.max_transfer_id() == 0
    assert journal.has_source("/src/f3") is False
    journal.add_transfer(row(3))
    journal.add_transfer(row(11))
    assert journal.max_transfer_id() == 11
    assert journal.has_source("/src/f3") is True
    assert journal.has_source("/src/f4") is False


def test_writes_persist_across_reopen(tmp_path: Path) -> None:
    job_dir = tmp_path / "jobs"
    j = Journal.create(job_dir, "persist", "copy", "/s", "/d", {"opt": [1, 2]})
    j.add_transfer(row(1))
    j.set_state(1, TransferState.COMPLETED)
    j.chunk_done(1, Chunk(0, 0, 10))
    j.close()
    again = Journal.open(job_dir, "persist")
    try:
        assert [(r.id, r.state) for r in again.transfers()] == [(1, "completed")]
        assert again.chunks(1) == [Chunk(0, 0, 10)]
        assert again.job().options == {"opt": [1, 2]}
    finally:
        again.close()


def test_open_missing_job(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no job nope in"):
        Journal.open(tmp_path, "nope")


def test_run_lock_refuses_a_second_runner(tmp_path: Path) -> None:
    job_dir = tmp_path / "jobs"
    first = Journal.create(job_dir, "locked", "copy", "/s", "/d", {})
    try:
        with pytest.raises(UsageError) as info:
            Journal.open(job_dir, "locked", lock=True)
        assert str(info.value) == "job locked is running in another process"
        reader = Journal.open(job_dir, "locked")  # reading without the lock is fine
        assert reader.job().id == "locked"
        reader.close()
    finally:
        first.close()
    second = Journal.open(job_dir, "locked", lock=True)
    try:
        with pytest.raises(UsageError, match="running in another process"):
            Journal.open(job_dir, "locked", lock=True)
    finally:
        second.close()
    Journal.open(job_dir, "locked", lock=True).close()


def test_close_is_safe_after_flush(journal: Journal) -> None:
    journal.add_transfer(row(1))
    journal.flush()
    journal.flush()
    assert journal.max_transfer_id() == 1


# --- jobs: where they live ----------------------------------------------------------------


def test_default_job_dir_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_job_dir({"AZXFER_JOB_DIR": "/x/jobs", "XDG_STATE_HOME": "/s"}) == Path("/x/jobs")
    assert default_job_dir({"AZXFER_JOB_DIR": "~/j"}) == tmp_path / "home" / "j"


def test_default_job_dir_from_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", "/state")
    assert default_job_dir({"AZXFER_JOB_DIR": ""}) == Path("/state/azxfer/jobs")


def test_default_job_dir_from_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "state" / "azxfer" / "jobs"
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert default_job_dir({}) == expected
    monkeypatch.setenv("XDG_STATE_HOME", "")
    assert default_job_dir({}) == expected


# --- jobs: finding ------------------------------------------------------------------------


def test_job_ids_and_missing_dir(tmp_path: Path) -> None:
    assert job_ids(tmp_path / "absent") == []
    make_job(tmp_path, "20240101-aaaa", "Completed", 1000.0)
    (tmp_path / "unrelated.txt").write_text("x")
    assert sorted(job_ids(tmp_path)) == ["20240101-aaaa"]


def test_find_job_exact_and_prefix(tmp_path: Path) -> None:
    make_job(tmp_path, "abcd1234", "Completed", 1000.0)
    make_job(tmp_path, "abce5678", "Completed", 2000.0)
    make_job(tmp_path, "abc", "Failed", 3000.0)
    assert find_job(tmp_path, "abcd1234") == "abcd1234"
    assert find_job(tmp_path, "abcd") == "abcd1234"
    assert find_job(tmp_path, "abce5") == "abce5678"
    assert find_job(tmp_path, "abc") == "abc"  # exact match, though a prefix of others


def test_find_job_errors_list_recent_jobs(tmp_path: Path) -> None:
    for i in range(6):
        make_job(tmp_path, f"job{i}-xyz", "Completed", 1000.0 + i)
    with pytest.raises(UsageError) as info:
        find_job(tmp_path, "job")  # shorter than 4 characters
    assert str(info.value) == (
        f"no job 'job' in {tmp_path} "
        "(recent jobs: job5-xyz, job4-xyz, job3-xyz, job2-xyz, job1-xyz)"
    )
    assert find_job(tmp_path, "job1-") == "job1-xyz"
    assert find_job(tmp_path, "job1") == "job1-xyz"


def test_find_job_ambiguous_and_unknown(tmp_path: Path) -> None:
    make_job(tmp_path, "2024-aaaa", "Completed", 1.0)
    make_job(tmp_path, "2024-bbbb", "Failed", 2.0)
    with pytest.raises(UsageError) as info:
        find_job(tmp_path, "2024-")
    assert str(info.value) == (f"no job '2024-' in {tmp_path} (recent jobs: 2024-bbbb, 2024-aaaa)")
    with pytest.raises(UsageError, match="no job 'zzzz'"):
        find_job(tmp_path, "zzzz")


def test_find_job_with_no_jobs(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        find_job(tmp_path / "empty", "abcd")
    assert str(info.value) == f"no job 'abcd' in {tmp_path / 'empty'} (recent jobs: none)"


def test_list_jobs_newest_first_and_skips_unreadable(tmp_path: Path) -> None:
    make_job(tmp_path, "old", "Completed", 100.0)
    make_job(tmp_path, "new", "Failed", 300.0)
    make_job(tmp_path, "mid", "Running", 200.0)
    (tmp_path / f"broken{SUFFIX}").write_bytes(b"this is not sqlite" * 100)
    records = list_jobs(tmp_path)
    # "mid" says Running but no process holds its lock: it was interrupted.
    assert [(r.id, r.status, r.updated) for r in records] == [
        ("new", "Failed", 300.0),
        ("mid", "Interrupted", 200.0),
        ("old", "Completed", 100.0),
    ]
    runner = Journal.open(tmp_path, "mid", lock=True)  # a live run holds the lock
    try:
        assert [r.status for r in list_jobs(tmp_path) if r.id == "mid"] == ["Running"]
    finally:
        runner.close()


def test_remove_job(tmp_path: Path) -> None:
    make_job(tmp_path, "gone", "Completed", 1.0)
    Path(f"{journal_path(tmp_path, 'gone')}-wal").write_bytes(b"")
    remove_job(tmp_path, "gone")
    assert list(tmp_path.iterdir()) == []
    remove_job(tmp_path, "gone")  # removing twice is harmless


# --- jobs: ages, clean and prune ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("7d", 7 * DAY),
        ("12h", 12 * 3600.0),
        ("30m", 1800.0),
        ("45s", 45.0),
        ("2", 2 * DAY),
        ("1.5h", 5400.0),
        (" 3d ", 3 * DAY),
        ("0", 0.0),
    ],
)
def test_parse_age(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["", "d", "7w", "-1d", "7 days", "1e3", "7dd"])
def test_parse_age_rejects(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_age(text)
    assert str(info.value) == f"'{text}' is not an age such as 7d, 12h or 30m"


AGED_NOW = 1_700_000_000.0


@pytest.fixture(scope="module")
def aged_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    job_dir = tmp_path_factory.mktemp("aged")
    for job_id, status, age_days in [
        ("done-old", "Completed", 10),
        ("skip-old", "CompletedWithSkipped", 9),
        ("dry-old", "DryRun", 8),
        ("fail-old", "Failed", 10),
        ("run-old", "Running", 10),
        ("done-new", "Completed", 1),
        ("fail-new", "Failed", 1),
    ]:
        make_job(job_dir, job_id, status, AGED_NOW - age_days * DAY)
    return job_dir


@pytest.fixture
def aged_jobs(aged_template: Path, tmp_path: Path) -> tuple[Path, float]:
    job_dir = tmp_path / "aged"
    shutil.copytree(aged_template, job_dir)
    return job_dir, AGED_NOW


def test_clean_jobs_by_age(aged_jobs: tuple[Path, float]) -> None:
    job_dir, now = aged_jobs
    removed = clean_jobs(job_dir, 5 * DAY, None, now=now)
    assert sorted(removed) == ["done-old", "dry-old", "fail-old", "run-old", "skip-old"]
    assert sorted(job_ids(job_dir)) == ["done-new", "fail-new"]


def test_clean_jobs_by_status_and_age(aged_jobs: tuple[Path, float]) -> None:
    job_dir, now = aged_jobs
    assert clean_jobs(job_dir, 5 * DAY, ("Failed",), now=now) == ["fail-old"]
    assert sorted(clean_jobs(job_dir, 0, ("Failed", "Completed"), now=now)) == [
        "done-new",
        "done-old",
        "fail-new",
    ]
    assert sorted(job_ids(job_dir)) == ["dry-old", "run-old", "skip-old"]


def test_clean_jobs_age_boundary(aged_jobs: tuple[Path, float]) -> None:
    job_dir, now = aged_jobs
    assert sorted(clean_jobs(job_dir, DAY + 1, None, now=now)) == [
        "done-old",
        "dry-old",
        "fail-old",
        "run-old",
        "skip-old",
    ]
    # only the jobs updated exactly one day ago remain: exactly at the limit is old enough
    assert sorted(clean_jobs(job_dir, DAY, None, now=now)) == ["done-new", "fail-new"]
    assert job_ids(job_dir) == []


def test_clean_jobs_nothing_old_enough(aged_jobs: tuple[Path, float]) -> None:
    job_dir, now = aged_jobs
    assert clean_jobs(job_dir, 30 * DAY, None, now=now) == []
    assert len(job_ids(job_dir)) == 7


def test_prune_finished_uses_retention_days(tmp_path: Path) -> None:
    now = time.time()
    make_job(tmp_path, "done-4d", "Completed", now - 4 * DAY)
    make_job(tmp_path, "dry-4d", "DryRun", now - 4 * DAY)
    make_job(tmp_path, "done-2d", "Completed", now - 2 * DAY)
    make_job(tmp_path, "fail-9d", "Failed", now - 9 * DAY)
    make_job(tmp_path, "run-9d", "Running", now - 9 * DAY)
    make_job(tmp_path, "skip-8d", "CompletedWithSkipped", now - 8 * DAY)
    assert FINISHED == ("Completed", "CompletedWithSkipped", "DryRun")
    removed = prune_finished(tmp_path, {"AZXFER_JOB_RETENTION_DAYS": "3"})
    assert sorted(removed) == ["done-4d", "dry-4d", "skip-8d"]
    assert sorted(job_ids(tmp_path)) == ["done-2d", "fail-9d", "run-9d"]


@pytest.mark.parametrize("env", [{}, {"AZXFER_JOB_RETENTION_DAYS": "soon"}])
def test_prune_finished_default_retention(tmp_path: Path, env: dict[str, str]) -> None:
    assert DEFAULT_RETENTION_DAYS == 7.0
    now = time.time()
    make_job(tmp_path, "done-8d", "Completed", now - 8 * DAY)
    make_job(tmp_path, "done-6d", "Completed", now - 6 * DAY)
    assert prune_finished(tmp_path, env) == ["done-8d"]
    assert job_ids(tmp_path) == ["done-6d"]


# --- codec --------------------------------------------------------------------------------


FULL_ENTRY = Entry(
    ref="dir/ü name.bin",
    rel_path="dir/ü name.bin",
    size=123456789,
    mtime=1700000000.25,
    md5=bytes(range(16)),
    etag='"0x8DC"',
    content=ContentProps("text/plain", "gzip", "en", "attachment", "no-cache"),
    metadata={"k": "v", "Other": ""},
    service=BlobProps(blob_type=BlobType.APPEND, tier="Cool"),
)
SNAPSHOT_ENTRY = Entry(
    "b", "b", 7, service=BlobProps(blob_type=BlobType.BLOCK, snapshot="2026-01-01T00:00:00Z")
)
VERSION_ENTRY = Entry("v", "v", 7, service=BlobProps(version_id="2026-02-02T00:00:00Z"))
CONTENT = {
    "content_type": "text/plain",
    "content_encoding": "gzip",
    "content_language": "en",
    "content_disposition": "attachment",
    "cache_control": "no-cache",
}
NO_CONTENT = dict.fromkeys(CONTENT)


@pytest.mark.parametrize(
    "entry",
    [
        FULL_ENTRY,
        SNAPSHOT_ENTRY,
        VERSION_ENTRY,
        Entry("r", "r", 0),
        Entry("p", "p", 5, content=ContentProps()),
    ],
)
def test_entry_round_trip_through_json(entry: Entry) -> None:
    data = json.loads(json.dumps(entry_to_json(entry)))
    decoded = entry_from_json(data)
    assert decoded == entry
    assert decoded.key == entry.key


def test_entry_to_json_exact() -> None:
    assert entry_to_json(FULL_ENTRY) == {
        "ref": "dir/ü name.bin",
        "rel_path": "dir/ü name.bin",
        "size": 123456789,
        "mtime": 1700000000.25,
        "md5": "000102030405060708090a0b0c0d0e0f",
        "etag": '"0x8DC"',
        "content": CONTENT,
        "metadata": {"k": "v", "Other": ""},
        "service": {"type": "blob", "blob_type": "AppendBlob", "tier": "Cool"},
    }
    assert entry_to_json(Entry("r", "r", 1))["md5"] is None
    assert "service" not in entry_to_json(Entry("r", "r", 1))


def test_entry_key_names_the_snapshot_or_version() -> None:
    assert SNAPSHOT_ENTRY.key == "b?snapshot=2026-01-01T00:00:00Z"
    assert VERSION_ENTRY.key == "v?versionid=2026-02-02T00:00:00Z"
    assert FULL_ENTRY.key == FULL_ENTRY.ref
    assert SNAPSHOT_ENTRY.is_point_in_time and VERSION_ENTRY.is_point_in_time
    assert not FULL_ENTRY.is_point_in_time and not Entry("r", "r", 1).is_point_in_time


def test_entry_from_json_reads_the_old_layout() -> None:
    """Journals written before the service properties moved kept the Blob fields at the top
    level of the entry: their jobs still resume, snapshots and versions still keyed."""
    old_snapshot = {
        "ref": "dir/a.bin",
        "rel_path": "a.bin",
        "size": 3,
        "mtime": 1700000000.5,
        "md5": "000102030405060708090a0b0c0d0e0f",
        "etag": '"0x1"',
        "blob_type": "PageBlob",
        "content": CONTENT,
        "metadata": {"k": "v"},
        "tier": "Hot",
        "snapshot": "2026-01-01T00:00:00.1234567Z",
    }
    entry = entry_from_json(old_snapshot)
    assert entry == Entry(
        ref="dir/a.bin",
        rel_path="a.bin",
        size=3,
        mtime=1700000000.5,
        md5=bytes(range(16)),
        etag='"0x1"',
        content=ContentProps(**CONTENT),
        metadata={"k": "v"},
        service=BlobProps(
            blob_type=BlobType.PAGE, tier="Hot", snapshot="2026-01-01T00:00:00.1234567Z"
        ),
    )
    assert entry.key == "dir/a.bin?snapshot=2026-01-01T00:00:00.1234567Z"
    old_version = {**old_snapshot, "version_id": "2026-03-03T00:00:00Z"}
    del old_version["snapshot"]
    assert entry_from_json(old_version).key == "dir/a.bin?versionid=2026-03-03T00:00:00Z"
    old_local = {"ref": "/src/f", "rel_path": "f", "size": 1, "mtime": 1.0, "md5": None}
    old_local |= {"etag": None, "blob_type": None, "content": None, "metadata": None}
    assert entry_from_json(old_local) == Entry("/src/f", "f", 1, mtime=1.0)


@pytest.mark.parametrize(
    "props",
    [
        WriteProps(),
        WriteProps(mtime=3.0),
        WriteProps(
            content=ContentProps(content_type="image/png", cache_control="max-age=1"),
            metadata={"a": "1"},
            mtime=12.5,
            service=BlobProps(blob_type=BlobType.PAGE, tags={"t": "x y"}, tier="Cool"),
        ),
    ],
)
def test_props_round_trip_through_json(props: WriteProps) -> None:
    data = json.loads(json.dumps(props_to_json(props)))
    assert props_from_json(data) == props


def test_props_to_json_exact() -> None:
    blob = BlobProps(blob_type=BlobType.BLOCK, tier="Hot")
    assert props_to_json(WriteProps(service=blob)) == {
        "content": NO_CONTENT,
        "metadata": None,
        "mtime": None,
        "service": {"type": "blob", "blob_type": "BlockBlob", "tier": "Hot"},
    }
    assert props_to_json(WriteProps(mtime=2.0))["service"] is None


def test_props_from_json_reads_the_old_layout() -> None:
    """Write properties journaled before the move had the Blob fields at the top level."""
    old = {
        "blob_type": "AppendBlob",
        "content": CONTENT,
        "metadata": {"a": "1"},
        "tags": {"team": "blue"},
        "tier": None,
        "mtime": None,
    }
    props = props_from_json(old)
    assert props == WriteProps(
        content=ContentProps(**CONTENT),
        metadata={"a": "1"},
        service=BlobProps(blob_type=BlobType.APPEND, tags={"team": "blue"}),
    )
    assert blob_type_to_write(props) is BlobType.APPEND


def test_service_props_of_an_unknown_service_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError):
        props_from_json({"content": NO_CONTENT, "service": {"type": "nfs"}})


# --- crash hook ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kind", "at"),
    [
        ("chunks:3", "chunks", 3),
        ("enumerated:1", "enumerated", 1),
        ("committed:12", "committed", 12),
        ("completed:2", "completed", 2),
        ("", None, 0),
        ("chunks", None, 0),
        ("chunks:", None, 0),
        ("chunks:x", None, 0),
        ("chunks:-1", None, 0),
        ("bogus:3", None, 0),
        ("CHUNKS:3", None, 0),
    ],
)
def test_crash_hook_from_env(spec: str, kind: str | None, at: int) -> None:
    hook = CrashHook.from_env({ENV: spec})
    assert (hook.kind, hook.at, hook.seen) == (kind, at, 0)


def test_crash_hook_env_name_and_kinds() -> None:
    assert ENV == "AZXFER_TEST_CRASH"
    assert KINDS == ("enumerated", "chunks", "committed", "completed", "exported", "imported")
    assert CrashHook.from_env({}).kind is None


def test_crash_hook_ignores_other_kinds() -> None:
    hook = CrashHook("chunks", 1)
    for kind in ("enumerated", "completed", "committed", "Chunks"):
        hook.tick(kind)
    assert hook.seen == 0
    inert = CrashHook()
    inert.tick("chunks")
    assert inert.seen == 0


def run_python(code: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
    )
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_crash_hook_kills_at_the_configured_count() -> None:
    proc = run_python(
        """
        from azxfer.journal.crash import CrashHook
        hook = CrashHook.from_env({"AZXFER_TEST_CRASH": "chunks:2"})
        hook.tick("completed")
        hook.tick("chunks")
        print("after 1", flush=True)
        hook.tick("chunks")
        print("after 2", flush=True)
        """
    )
    assert proc.returncode == -9
    assert proc.stdout == "after 1\n"


@pytest.mark.parametrize(
    ("spec", "script"),
    [
        pytest.param(
            "enumerated:2",
            """
            j.add_transfer(row(1))
            j.add_transfer(row(2))
            """,
            id="enumerated",
        ),
        pytest.param(
            "completed:1",
            """
            j.add_transfer(row(1))
            j.add_transfer(row(2))
            j.flush()
            j.set_state(1, "completed")
            """,
            id="completed",
        ),
        pytest.param(
            "chunks:2",
            """
            j.add_transfer(row(1))
            j.add_transfer(row(2))
            j.flush()
            j.chunk_done(1, Chunk(0, 0, 5))
            j.chunk_done(1, Chunk(1, 5, 5))
            """,
            id="chunks",
        ),
    ],
)
def test_crash_hook_in_journal_dies_after_the_event_is_committed(
    tmp_path: Path, spec: str, script: str
) -> None:
    """The hook is documented to kill *after* the Nth event has been committed."""
    header = f"""
        from pathlib import Path
        from azxfer.journal.crash import CrashHook
        from azxfer.journal.store import Journal
        from azxfer.journal.rows import TransferRow
        from azxfer.models import Chunk

        def row(tid):
            return TransferRow(tid, f"/s/{{tid}}", f"d/{{tid}}", f"d/{{tid}}", 10, None,
                               {{"rel_path": str(tid)}}, {{}}, 0, "pending", None)

        hook = CrashHook.from_env({{"AZXFER_TEST_CRASH": {spec!r}}})
        j = Journal.create(Path({str(tmp_path)!r}), "crashy", "copy", "/s", "/d", {{}}, hook)
        """
    code = textwrap.dedent(header) + textwrap.dedent(script) + 'print("survived", flush=True)\n'
    proc = run_python(code)
    assert proc.returncode == -9, proc.stderr
    assert proc.stdout == ""
    j = Journal.open(tmp_path, "crashy")
    try:
        transfers = {r.id: r.state for r in j.transfers()}
        if spec.startswith("enumerated"):
            assert transfers == {1: "pending", 2: "pending"}
        elif spec.startswith("completed"):
            assert transfers == {1: "completed", 2: "pending"}
        else:
            assert j.chunks(1) == [Chunk(0, 0, 5), Chunk(1, 5, 5)]
    finally:
        j.close()


def test_prune_finished_looks_at_most_once_an_hour(tmp_path: Path) -> None:
    now = time.time()
    make_job(tmp_path, "done-8d", "Completed", now - 8 * DAY)
    assert prune_finished(tmp_path, {}, now) == ["done-8d"]
    stamp = (tmp_path / PRUNE_STAMP).stat()
    assert stamp.st_mtime == pytest.approx(now)
    assert stat.S_IMODE(stamp.st_mode) == 0o600, "private, as the journals beside it"
    make_job(tmp_path, "done-9d", "Completed", now - 9 * DAY)
    assert prune_finished(tmp_path, {}, now + 3599) == [], "pruned less than an hour ago"
    assert prune_finished(tmp_path, {}, now + 3601) == ["done-9d"]
    assert job_ids(tmp_path) == []


def test_prune_finished_with_a_short_retention_prunes_sooner(tmp_path: Path) -> None:
    now = time.time()
    env = {"AZXFER_JOB_RETENTION_DAYS": "0"}
    make_job(tmp_path, "a", "Completed", now - 10)
    assert prune_finished(tmp_path, env, now) == ["a"]
    make_job(tmp_path, "b", "Completed", now - 5)
    assert prune_finished(tmp_path, env, now) == ["b"], "a retention of 0 prunes at every start"
    # A stamp from the future (a clock set back) does not stop pruning.
    os.utime(tmp_path / PRUNE_STAMP, (now + DAY, now + DAY))
    make_job(tmp_path, "c", "Completed", now - 8 * DAY)
    assert prune_finished(tmp_path, {}, now) == ["c"]


def test_prune_finished_without_a_job_folder(tmp_path: Path) -> None:
    assert prune_finished(tmp_path / "none", {}) == []
    assert not (tmp_path / "none").exists(), "nothing is created only to stamp it"


def test_prune_finished_opens_only_journals_written_before_the_cutoff(tmp_path: Path) -> None:
    now = time.time()
    make_job(tmp_path, "done-8d", "Completed", now - 8 * DAY)
    make_job(tmp_path, "touched", "Completed", now - 8 * DAY)
    os.utime(journal_path(tmp_path, "touched"), (now, now))  # written since: not yet a candidate
    assert prune_finished(tmp_path, {}) == ["done-8d"]
    # An explicit clean looks at every journal's own record.
    assert clean_jobs(tmp_path, 7 * DAY, FINISHED) == ["touched"]
