"""`azxfer remove` / `azxfer set-properties` as a user sees them (issue 26): a refusal past
--max-delete names no job, --output-level as copy's, Ctrl-C as copy's (then a resume that
does nothing twice), the live line on a terminal, and `jobs list` columns."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from faultproxy import FaultProxy, Rule
from helpers import CliResult, blob_names
from seed import seed_blobs
from test_lifecycle import _read_until

JSON = ("--output-type", "json")


@pytest.fixture
def proxy(azurite):
    with FaultProxy(azurite.blob_port) as p:
        yield p


def _env(azurite, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    env.update(AZXFER_SOURCE_KEY=azurite.key, AZXFER_DEST_KEY=azurite.key, COLUMNS="120")
    env["AZXFER_JOB_DIR"] = str(tmp_path.parent / f"{tmp_path.name}-jobs")
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


# ------------------------------------------------------------------ no phantom job lines


@pytest.mark.parametrize("output", [(), JSON])
def test_a_refused_remove_prints_one_line_and_names_no_job(
    output, run_azxfer, container_client, container_url
):
    seed_blobs(container_client, {"d/a": 1, "d/b": 1, "d/c": 1, "keep": 1})
    result = run_azxfer("remove", container_url(), "-r", "--include-path", "d", *output)
    result.assert_exit(1)
    assert result.stdout == "", result.describe()
    assert result.stderr.splitlines() == [
        "azxfer: error: remove would delete 3 of 4 objects (75%), more than --max-delete 50% "
        "allows; nothing was removed (give --force to remove them)"
    ], result.describe()
    assert "No jobs." in run_azxfer("jobs", "list").assert_ok().stdout
    assert len(blob_names(container_client)) == 4


def test_remove_on_a_missing_container_is_one_line_and_no_job(run_azxfer, azurite):
    result = run_azxfer("remove", f"{azurite.blob_endpoint}/no-such-container-b2", "-r")
    result.assert_exit(1)
    assert result.stdout == "", result.describe()
    assert len(result.stderr.splitlines()) == 1 and "does not exist" in result.stderr
    assert "No jobs." in run_azxfer("jobs", "list").assert_ok().stdout


# ------------------------------------------------------------------ --output-level


def _seed_with_a_failure(container_client) -> None:
    """Two blobs a remove takes, and one it fails on (it has a snapshot)."""
    seed_blobs(container_client, {"a": 1, "b": 1, "snap": 1})
    container_client.get_blob_client("snap").create_snapshot()


def test_output_levels_of_the_text_report(run_azxfer, container_client, container_url):
    _seed_with_a_failure(container_client)
    default = run_azxfer("remove", container_url("a"))
    default.assert_ok()
    assert default.stdout.startswith("Job ") and "Removed: 1" in default.stdout
    essential = run_azxfer(
        "remove", container_url(), "-r", "--force", "--output-level", "essential"
    )
    essential.assert_exit(1)
    lines = essential.stdout.splitlines()
    assert lines[0].startswith("FAILED: remove snap"), essential.describe()
    assert not any(line.startswith("Job ") and ": remove" in line for line in lines)
    assert any("summary: CompletedWithErrors" in line for line in lines)
    assert "Removed: 1" in essential.stdout and "info:" not in essential.stdout
    quiet = run_azxfer("remove", container_url("snap"), "--output-level", "quiet")
    quiet.assert_exit(1)
    assert quiet.stdout.startswith("FAILED: remove snap"), quiet.describe()
    assert "summary" not in quiet.stdout and "info:" not in quiet.stdout
    assert quiet.stderr.startswith("azxfer: error: 1 of 1 objects failed")
    assert blob_names(container_client) == {"snap"}


@pytest.mark.parametrize(
    ("level", "kinds"),
    [
        ("essential", ["deleted", "bulk_summary", "job_finished"]),
        ("quiet", ["deleted", "job_finished"]),
    ],
)
def test_output_levels_of_the_json_stream(
    level, kinds, run_azxfer, container_client, container_url
):
    _seed_with_a_failure(container_client)
    args = ("remove", container_url(), "-r", "--force", "--output-level", level, *JSON)
    result = run_azxfer(*args).assert_exit(1)
    events = result.events()
    assert [e["event"] for e in events] == kinds, result.describe()
    assert events[0]["outcome"] == "failed" and events[0]["destination"] == "snap"


def test_set_properties_at_quiet_prints_nothing_when_all_went_well(
    run_azxfer, container_client, container_url
):
    seed_blobs(container_client, {"a": 1, "b": 1})
    args = ("set-properties", container_url(), "-r", "--metadata", "k=v")
    result = run_azxfer(*args, "--output-level", "quiet").assert_ok()
    assert result.stdout == "" and result.stderr == "", result.describe()
    assert container_client.get_blob_client("a").get_blob_properties().metadata == {"k": "v"}


# ------------------------------------------------------------------ Ctrl-C


def _start(azurite, tmp_path: Path, *args: object, **streams) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "azxfer", *map(str, args)],
        stdin=subprocess.DEVNULL,
        env=_env(azurite, tmp_path),
        cwd=str(tmp_path),
        **streams,
    )


def test_one_interrupt_stops_then_resume_finishes_without_doing_twice(
    tmp_path, azurite, proxy, container, container_client, run_azxfer
):
    names = {f"f{i:03d}" for i in range(30)}
    seed_blobs(container_client, dict.fromkeys(names, 1))
    # Each metadata change waits at the proxy, so the job is mid-way when interrupted.
    proxy.add(Rule("delay", method="PUT", query="comp=metadata", delay=0.4, times=1000,
                   same_request=False))  # fmt: skip
    url = proxy.url(azurite.account, container)
    args = ("set-properties", url, "-r", "--metadata", "k=v", "--concurrency", "2")
    proc = _start(azurite, tmp_path, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while proxy.count(method="PUT", query="comp=metadata") < 4:
        assert time.monotonic() < deadline and proc.poll() is None, "no change started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    first = CliResult(list(args), proc.returncode, out.decode(), err.decode())
    first.assert_exit(130)
    job_id = first.stdout.split()[1].rstrip(":")
    assert "warning: stopping: in-flight requests are finishing" in first.stdout, first.describe()
    assert "resume with" not in first.stdout, first.describe()  # said once, on stderr
    assert f"Job {job_id} summary: Cancelled" in first.stdout
    # stderr: plain progress lines (no terminal), then the one error line.
    *progress, last = first.stderr.splitlines()
    assert last == f"azxfer: error: interrupted; resume with: azxfer resume {job_id}"
    assert all(line.startswith("progress: objects ") for line in progress), first.describe()
    changed = {
        n for n in names if container_client.get_blob_client(n).get_blob_properties().metadata
    }
    assert 0 < len(changed) < len(names), first.describe()
    assert "Cancelled" in run_azxfer("jobs", "list").assert_ok().stdout

    puts_before = proxy.count(method="PUT", query="comp=metadata")
    resumed = run_azxfer("resume", job_id, *JSON, timeout=120).assert_ok()
    assert resumed.finished()["status"] == "Completed"
    done = [e["target"] for e in resumed.events_of("properties_set")]
    # Nothing done twice: the resume acts on exactly the objects the first run left.
    assert sorted(done) == sorted(names - changed), resumed.describe()
    assert proxy.count(method="PUT", query="comp=metadata") - puts_before == len(done)
    for name in names:
        assert container_client.get_blob_client(name).get_blob_properties().metadata == {"k": "v"}


def test_interrupt_in_json_ends_with_job_finished_cancelled(
    tmp_path, azurite, proxy, container, container_client, run_azxfer
):
    seed_blobs(container_client, {f"d/{i:04d}": 1 for i in range(300)})
    # The first batch (256 deletes) waits at the proxy; the interrupt comes while it does.
    stall = Rule("delay", method="POST", query="comp=batch", delay=3, times=1)
    proxy.add(stall)
    url = proxy.url(azurite.account, container, "d")
    args = ("remove", url, "-r", "--force", "--concurrency", "8", *JSON)
    proc = _start(azurite, tmp_path, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while stall.seen < 1:
        assert time.monotonic() < deadline and proc.poll() is None, "no batch sent"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    first = CliResult(list(args), proc.returncode, out.decode(), err.decode())
    first.assert_exit(130)
    assert first.finished()["status"] == "Cancelled"
    deleted = {e["destination"] for e in first.events_of("deleted")}
    assert len(deleted) == 256, first.describe()  # the batch in flight finished
    assert len(blob_names(container_client)) == 44
    job_id = first.events_of("job_started")[0]["job_id"]
    resumed = run_azxfer("resume", job_id, *JSON, timeout=120).assert_ok()
    again = {e["destination"] for e in resumed.events_of("deleted")}
    assert len(again) == 44 and not again & deleted
    assert blob_names(container_client) == set()


def test_on_a_terminal_the_live_line_counts_objects_and_ctrl_c_twice_quits(
    tmp_path, azurite, proxy, container, container_client, run_azxfer
):
    seed_blobs(container_client, {f"f{i:02d}": 1 for i in range(20)})
    proxy.add(Rule("delay", method="PUT", query="comp=metadata", delay=30, times=1000,
                   same_request=False))  # fmt: skip
    url = proxy.url(azurite.account, container)
    primary, secondary = pty.openpty()
    args = ("set-properties", url, "-r", "--metadata", "k=v", "--concurrency", "2")
    proc = _start(azurite, tmp_path, *args, stdout=secondary, stderr=secondary)
    os.close(secondary)
    seen = bytearray()
    try:
        deadline = time.monotonic() + 30
        assert _read_until(primary, seen, b"objects 0/20", deadline), bytes(seen)
        assert _read_until(primary, seen, b"objects/s", deadline), bytes(seen)
        proc.send_signal(signal.SIGINT)
        assert _read_until(primary, seen, b"stopping", deadline), bytes(seen)
        proc.send_signal(signal.SIGINT)
        _read_until(primary, seen, b"\x00never", time.monotonic() + 10)
        assert proc.wait(timeout=10) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(primary)
    text = seen.decode(errors="replace")
    assert "summary: Interrupted" in text and "Traceback" not in text, text[-800:]
    assert "progress:" not in text  # the live line, not plain lines
    assert "Interrupted" in run_azxfer("jobs", "list").assert_ok().stdout


# ------------------------------------------------------------------ jobs list


def test_jobs_list_columns_fit_set_properties(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"a": 1})
    run_azxfer("set-properties", container_url("a"), "--metadata", "k=v").assert_ok()
    run_azxfer("remove", container_url("a")).assert_ok()
    lines = run_azxfer("jobs", "list").assert_ok().stdout.splitlines()
    assert len(lines) == 3, lines
    for word, pattern in (("STARTED", r"\d{4}-\d\d-\d\d"), ("STATUS", r"Completed")):
        starts = {lines[0].index(word)}
        starts |= {re.search(pattern, line).start() for line in lines[1:]}  # type: ignore[union-attr]
        assert len(starts) == 1, lines  # the column starts at one place on every line


# ------------------------------------------------------------------ --list-of-files scaling


def test_a_list_of_names_asks_for_each_name_not_the_whole_container(
    run_azxfer, container_client, proxy, azurite, container, tmp_path
):
    others = {f"other/{i:03d}": 1 for i in range(120)}
    named = {"keep/a": 1, "dir/x": 1, "dir/sub/y": 1, "dir-not/z": 1, "dirz": 1}
    seed_blobs(container_client, {**others, **named})
    listing = tmp_path / "list.txt"
    listing.write_text("keep/a\ndir\ndir/x\nmissing\n# a comment\n")
    url = proxy.url(azurite.account, container)
    base = ("remove", url, "-r", "--list-of-files", listing, *JSON)
    # Without --force the --max-delete share needs the whole listing; with it, names only.
    whole = run_azxfer(*base, "--dry-run").assert_ok()
    proxy.reset_log()
    by_name = run_azxfer(*base, "--dry-run", "--force").assert_ok()
    lists = [r.query for r in proxy.requests if "comp=list" in r.query]
    assert len(lists) <= 3 and all("prefix=" in q for q in lists), lists
    expected = {"keep/a", "dir/x", "dir/sub/y"}
    assert {e["destination"] for e in whole.events_of("deleted")} == expected
    assert {e["destination"] for e in by_name.events_of("deleted")} == expected
    assert len(by_name.events_of("deleted")) == 3  # 'dir/x' is listed twice, removed once

    run_azxfer(*base, "--force").assert_ok()
    assert blob_names(container_client) == set(others) | {"dir-not/z", "dirz"}


def test_named_paths_keep_the_other_filters(run_azxfer, container_client, container_url, tmp_path):
    seed_blobs(container_client, {"d/a.tmp": 1, "d/b.log": 1, "e.tmp": 1, "f.tmp": 1})
    listing = tmp_path / "list.txt"
    listing.write_text("d\ne.tmp\n")
    args = ("set-properties", container_url(), "-r", "--list-of-files", listing)
    run_azxfer(*args, "--include-pattern", "*.tmp", "--metadata", "k=v").assert_ok()
    changed = {
        n for n in blob_names(container_client)
        if container_client.get_blob_client(n).get_blob_properties().metadata
    }  # fmt: skip
    assert changed == {"d/a.tmp", "e.tmp"}
