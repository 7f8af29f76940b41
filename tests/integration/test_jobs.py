"""`azxfer jobs list/show/clean/remove` and `azxfer resume` by ID, prefix and --last."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from helpers import blob_contents, tree_contents

from azxfer.journal.jobs import PRUNE_STAMP

MiB = 1024 * 1024
REPO_ROOT = Path(__file__).resolve().parents[2]
KILLED = -signal.SIGKILL
FAST = ("--block-size-mb", "1", "--concurrency", "2")
# One transfer line of `jobs show`: id, state, source -> destination.
ROW = re.compile(r"\s*\d+\s+(pending|active|completed|failed|skipped)\s+\S.* -> \S")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def job_dir(tmp_path: Path) -> Path:
    """The AZXFER_JOB_DIR that run_azxfer gives this test."""
    return tmp_path.parent / f"{tmp_path.name}-jobs"


def journal(folder: Path, job_id: str) -> Path:
    return folder / f"{job_id}.azxfer-job"


def job_id_of(result) -> str:
    """The job ID from a json run's job_started event, or a text run's first line."""
    first = result.stdout.splitlines()[0] if result.stdout else ""
    if first.startswith("{"):
        event = json.loads(first)
        assert event["event"] == "job_started", result.describe()
        return event["job_id"]
    m = re.match(rf"Job ({UUID}): copy ", first)
    assert m, f"first stdout line is not 'Job <id>: copy ...'\n{result.describe()}"
    return m[1]


def set_times(path: Path, age_days: float) -> None:
    """Backdate a journal's job row (created/updated) by `age_days`."""
    stamp = time.time() - age_days * 86400
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE job SET created = ?, updated = ?", (stamp, stamp))
    # As a journal last written then would be on disk.
    for suffix in ("", "-wal"):
        if Path(f"{path}{suffix}").exists():
            os.utime(f"{path}{suffix}", (stamp, stamp))


def status_of(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT status FROM job").fetchone()[0]


def lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


SMALL = {"a.txt": 10, "sub/b.txt": 20, "sub/c.txt": 30}


def completed_job(tmp_path, make_tree, run_azxfer, url, name="done", *extra) -> str:
    src = make_tree(tmp_path / name, SMALL)
    r = run_azxfer("copy", src, url, "-r", *extra).assert_ok()
    return job_id_of(r)


def crashed_job(tmp_path, make_tree, run_azxfer, url, name="crashed", *extra) -> str:
    """A job killed mid-file: a 4-chunk file with 2 chunks journaled, plus small files."""
    src = make_tree(tmp_path / name, {"big.bin": 4 * MiB, **SMALL})
    r = run_azxfer(
        "copy", src, url, "-r", *FAST, "--output-type", "json", *extra,
        env={"AZXFER_TEST_CRASH": "chunks:2", "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert r.returncode == KILLED, r.describe()
    return job_id_of(r)


# --------------------------------------------------------------------------- text output


def test_text_output_names_the_job_first_and_journals_it(
    tmp_path, make_tree, run_azxfer, container_url
):
    src = make_tree(tmp_path / "src", SMALL)
    r = run_azxfer("copy", src, container_url(), "-r").assert_ok()
    job_id = job_id_of(r)
    assert r.stdout.splitlines()[0] == f"Job {job_id}: copy {src} -> {container_url()}"
    assert journal(job_dir(tmp_path), job_id).is_file()
    assert status_of(journal(job_dir(tmp_path), job_id)) == "Completed"


# --------------------------------------------------------------------------- jobs commands


def test_jobs_list_when_empty(run_azxfer):
    r = run_azxfer("jobs", "list").assert_ok()
    assert r.stdout.strip() == "No jobs."


def test_jobs_list_show_clean_remove(tmp_path, make_tree, run_azxfer, container_url):
    done = completed_job(tmp_path, make_tree, run_azxfer, container_url())
    time.sleep(0.05)
    crashed = crashed_job(tmp_path, make_tree, run_azxfer, container_url())
    folder = job_dir(tmp_path)

    listing = lines(run_azxfer("jobs", "list").assert_ok().stdout)
    assert re.match(r"ID\s+COMMAND\s+STARTED\s+STATUS\s+COUNTS$", listing[0]), listing
    assert len(listing) == 3, listing
    assert listing[1].startswith(crashed) and listing[2].startswith(done), "newest first"
    # No process runs the crashed job any more (its lock is free): it is not "Running".
    assert re.search(r"\bcopy\b.*\bInterrupted\b", listing[1]), listing[1]
    assert re.search(r"\bcopy\b.*\bCompleted\b.*3 completed", listing[2]), listing[2]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", listing[2]), listing[2]

    shown = lines(run_azxfer("jobs", "show", done).assert_ok().stdout)
    assert done in shown[0] and "copy" in shown[0], shown
    transfers = [ln for ln in shown if ROW.match(ln)]
    assert len(transfers) == 3, shown
    for rel in SMALL:
        [line] = [ln for ln in transfers if ln.rstrip().endswith(f"done/{rel}")]
        assert re.match(r"\s*\d+\s+completed\s+", line), line
        assert f"{tmp_path / 'done' / rel} -> " in line, line

    # A unique prefix works; --with-status filters.
    crashed_rows = lines(run_azxfer("jobs", "show", crashed[:8]).assert_ok().stdout)
    assert crashed in crashed_rows[0]
    big = [ln for ln in crashed_rows if "big.bin ->" in ln]
    assert len(big) == 1 and re.match(r"\s*\d+\s+active\s", big[0]), crashed_rows
    only_active = lines(
        run_azxfer("jobs", "show", crashed, "--with-status", "active").assert_ok().stdout
    )
    rows = [ln for ln in only_active if ROW.match(ln)]
    assert rows and all(re.match(r"\s*\d+\s+active\s", ln) for ln in rows), only_active
    none_failed = lines(
        run_azxfer("jobs", "show", crashed, "--with-status", "failed").assert_ok().stdout
    )
    assert not [ln for ln in none_failed if ROW.match(ln)], none_failed

    # clean: recent jobs stay by default; --older-than 0s with a status removes only those.
    r = run_azxfer("jobs", "clean").assert_ok()
    assert r.stdout.strip() == "Removed 0 job(s)."
    r = run_azxfer("jobs", "clean", "--older-than", "0s", "--with-status", "Completed")
    assert r.assert_ok().stdout.strip() == "Removed 1 job(s)."
    assert not journal(folder, done).exists()
    assert journal(folder, crashed).exists()

    r = run_azxfer("jobs", "remove", crashed).assert_ok()
    assert r.stdout.strip() == f"Removed job {crashed}."
    assert not [p for p in folder.iterdir() if p.name.startswith(crashed)], "-wal/-shm too"
    assert run_azxfer("jobs", "list").assert_ok().stdout.strip() == "No jobs."
    run_azxfer("jobs", "remove", crashed).assert_usage_error()
    run_azxfer("jobs", "show", crashed).assert_usage_error()


def test_jobs_clean_older_than_everything(tmp_path, make_tree, run_azxfer, container_url):
    completed_job(tmp_path, make_tree, run_azxfer, container_url("one"), "one")
    crashed_job(tmp_path, make_tree, run_azxfer, container_url("two"), "two")
    r = run_azxfer("jobs", "clean", "--older-than", "0s").assert_ok()
    assert r.stdout.strip() == "Removed 2 job(s)."
    assert not list(job_dir(tmp_path).glob("*.azxfer-job*"))


def test_journal_dir_option_everywhere(tmp_path, make_tree, run_azxfer, container_url):
    other = tmp_path / "journals"
    job = crashed_job(
        tmp_path, make_tree, run_azxfer, container_url(), "crashed", "--journal-dir", other
    )
    assert journal(other, job).exists()
    assert not job_dir(tmp_path).exists() or not list(job_dir(tmp_path).iterdir())
    assert run_azxfer("jobs", "list").assert_ok().stdout.strip() == "No jobs."
    assert job in run_azxfer("jobs", "list", "--journal-dir", other).assert_ok().stdout
    assert job in run_azxfer("jobs", "show", job, "--journal-dir", other).assert_ok().stdout
    run_azxfer("resume", job).assert_usage_error()
    r = run_azxfer("resume", job, "--journal-dir", other, "--output-type", "json").assert_ok()
    assert r.finished()["status"] == "Completed"
    r = run_azxfer("jobs", "remove", job, "--journal-dir", other).assert_ok()
    assert not journal(other, job).exists()


# --------------------------------------------------------------------------- resume by ID


def test_resume_of_a_finished_job_says_so(tmp_path, make_tree, run_azxfer, container_url):
    job = completed_job(tmp_path, make_tree, run_azxfer, container_url())
    r = run_azxfer("resume", job).assert_ok()
    assert "already finished" in r.stdout, r.describe()
    r = run_azxfer("resume", job, "--output-type", "json").assert_ok()
    assert "already finished" in r.stdout + r.stderr


def test_resume_of_an_unknown_job_lists_recent_ones(tmp_path, make_tree, run_azxfer, container_url):
    one = completed_job(tmp_path, make_tree, run_azxfer, container_url("one"), "one")
    two = completed_job(tmp_path, make_tree, run_azxfer, container_url("two"), "two")
    r = run_azxfer("resume", "0123abcd-0000-0000-0000-000000000000").assert_usage_error()
    assert one in r.stderr and two in r.stderr, r.describe()
    run_azxfer("resume", "0123").assert_usage_error()


def test_resume_last_and_by_prefix(
    tmp_path, make_tree, run_azxfer, container, container_url, container_client
):
    completed_job(tmp_path, make_tree, run_azxfer, container_url("first"), "first")
    time.sleep(0.05)
    a = crashed_job(tmp_path, make_tree, run_azxfer, container_url("a"), "a")
    time.sleep(0.05)
    b = crashed_job(tmp_path, make_tree, run_azxfer, container_url("b"), "b")

    r = run_azxfer("resume", "--last", "--output-type", "json").assert_ok()
    assert job_id_of(r) == b
    assert r.finished()["status"] == "Completed"
    assert status_of(journal(job_dir(tmp_path), b)) == "Completed"
    assert status_of(journal(job_dir(tmp_path), a)) == "Running"

    r = run_azxfer("resume", a[:6]).assert_ok()
    assert r.stdout.splitlines()[0].startswith(f"Job {a}: copy ")

    blobs = blob_contents(container_client)
    for name in ("a", "b"):
        for rel, data in tree_contents(tmp_path / name).items():
            assert blobs[f"{name}/{name}/{rel}"] == data
    run_azxfer("resume", "--last").assert_ok()  # the newest is finished now: nothing to do


def test_a_running_job_cannot_be_resumed(tmp_path, make_tree, run_azxfer, azurite, container_url):
    src = make_tree(tmp_path / "src", {f"f{i}.bin": 3 * MiB for i in range(3)})
    env = dict(os.environ)
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    env.update(
        AZXFER_SOURCE_KEY=azurite.key,
        AZXFER_DEST_KEY=azurite.key,
        AZXFER_JOB_DIR=str(job_dir(tmp_path)),
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    argv = [sys.executable, "-m", "azxfer", "copy", str(src), container_url(), "-r", *FAST]
    proc = subprocess.Popen(
        [*argv, "--output-type", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    watchdog = threading.Timer(90, proc.kill)
    watchdog.start()
    try:
        first = proc.stdout.readline()
        proc.send_signal(signal.SIGSTOP)  # holds its journal, makes no progress
        job = json.loads(first)["job_id"]
        try:
            r = run_azxfer("resume", job).assert_usage_error()
            assert "running in another process" in r.stderr, r.describe()
        finally:
            proc.send_signal(signal.SIGCONT)
        out, err = proc.communicate(timeout=90)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out[-2000:] + err
    assert status_of(journal(job_dir(tmp_path), job)) == "Completed"


# --------------------------------------------------------------------------- pruning


def test_finished_jobs_are_pruned_when_a_copy_starts(
    tmp_path, make_tree, run_azxfer, container_url
):
    folder = job_dir(tmp_path)
    old_done = completed_job(tmp_path, make_tree, run_azxfer, container_url("o"), "o")
    old_crashed = crashed_job(tmp_path, make_tree, run_azxfer, container_url("c"), "c")
    recent = completed_job(tmp_path, make_tree, run_azxfer, container_url("r"), "r")
    set_times(journal(folder, old_done), 8)
    set_times(journal(folder, old_crashed), 8)
    # The starts above pruned already, and a start prunes at most once an hour.
    stamp = folder / PRUNE_STAMP
    assert stamp.exists()
    hour_ago = time.time() - 3601
    os.utime(stamp, (hour_ago, hour_ago))

    new = completed_job(tmp_path, make_tree, run_azxfer, container_url("n"), "n")
    assert not journal(folder, old_done).exists(), "a finished job older than 7 days goes"
    assert journal(folder, old_crashed).exists(), "an unfinished job is kept however old"
    assert journal(folder, recent).exists() and journal(folder, new).exists()

    # AZXFER_JOB_RETENTION_DAYS=0: every finished job goes at the next start.
    make_tree(tmp_path / "z", SMALL)
    r = run_azxfer(
        "copy", tmp_path / "z", container_url("z"), "-r", env={"AZXFER_JOB_RETENTION_DAYS": "0"}
    ).assert_ok()
    latest = job_id_of(r)
    remaining = {p.name.removesuffix(".azxfer-job") for p in folder.glob("*.azxfer-job")}
    assert remaining == {old_crashed, latest}
