"""Job lifecycle: job-level failures stop a job once, interrupts leave a clean terminal and
a journal that says Interrupted, and counts that add up (issue 21, points 4, 5 and 10)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pty
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas
from conftest import REPO_ROOT
from faultproxy import FaultProxy, Rule
from helpers import CliResult, make_tree

FILES = 300


def _sas(azurite, container: str) -> str:
    """A container SAS that may write blobs but (like any container SAS) not create the
    container itself."""
    return generate_container_sas(
        azurite.account,
        container,
        account_key=azurite.key,
        permission=ContainerSasPermissions(read=True, write=True, create=True, list=True),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        start=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )


@pytest.fixture
def many_files(tmp_path):
    return make_tree(tmp_path / "src", {f"f{i:04}.bin": 16 for i in range(FILES)})


@pytest.fixture
def missing_container(blob_service):
    name = "missing" + uuid.uuid4().hex[:16]
    yield name
    with contextlib.suppress(Exception):
        blob_service.delete_container(name)


@pytest.mark.parametrize("command", ["copy", "sync"])
def test_missing_destination_container_stops_the_job_once(
    command, many_files, missing_container, azurite, run_azxfer, blob_service
):
    sas = _sas(azurite, missing_container)
    url = f"{azurite.blob_endpoint}/{missing_container}"
    args = [command, many_files, f"{url}?{sas}"] + (["-r"] if command == "copy" else [])
    result = run_azxfer(*args, env={"AZXFER_DEST_KEY": None})
    assert result.returncode == 1, result.describe()
    errors = [line for line in result.stderr.splitlines() if line.startswith("azxfer: error:")]
    assert len(errors) == 1, result.describe()
    assert missing_container in errors[0]
    assert sas.split("sig=")[1] not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    failed_lines = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed_lines) < 5, result.describe()
    job_id = result.stdout.split()[1].rstrip(":")
    blob_service.create_container(missing_container)
    resumed = run_azxfer("resume", job_id, "--dest-sas", sas, env={"AZXFER_DEST_KEY": None})
    resumed.assert_ok()
    names = {b.name for b in blob_service.get_container_client(missing_container).list_blobs()}
    assert len(names) == FILES, resumed.describe()


# --------------------------------------------------------------------------- interrupts

HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


@pytest.fixture
def fault_proxy(azurite) -> Iterator[FaultProxy]:
    proxy = FaultProxy(azurite.blob_port, seed=21)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def _env(azurite, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    env.update(AZXFER_SOURCE_KEY=azurite.key, AZXFER_DEST_KEY=azurite.key)
    env["AZXFER_JOB_DIR"] = str(tmp_path.parent / f"{tmp_path.name}-jobs")
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(extra)
    return env


def _read_until(fd: int, seen: bytearray, wanted: bytes, deadline: float) -> bool:
    """Read the PTY into `seen` until `wanted` appears (True) or it closes or time is up."""
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # the other end closed
            return wanted in seen
        if not data:
            return wanted in seen
        seen += data
    return wanted in seen


def test_second_interrupt_restores_the_terminal_and_the_job_shows_interrupted(
    tmp_path, azurite, fault_proxy, container, run_azxfer
):
    src = make_tree(tmp_path / "src", {f"f{i:03}.bin": 64 for i in range(40)})
    # Every upload stalls, so the first interrupt leaves transfers in flight to wait for.
    fault_proxy.add(Rule("delay", method="PUT", delay=30, times=1000, same_request=False))
    url = fault_proxy.url(azurite.account, container)
    primary, secondary = pty.openpty()  # a terminal: rich shows its live display
    proc = subprocess.Popen(
        [sys.executable, "-m", "azxfer", "copy", src, url, "-r"],
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
        env=_env(azurite, tmp_path, COLUMNS="100"),
        cwd=str(tmp_path),
    )
    os.close(secondary)
    seen = bytearray()
    try:
        deadline = time.monotonic() + 30
        assert _read_until(primary, seen, HIDE_CURSOR.encode(), deadline), bytes(seen)
        # Uploads reach the proxy (and stall there) within this time; the PTY is drained.
        _read_until(primary, seen, b"\x00never", time.monotonic() + 1.5)
        proc.send_signal(signal.SIGINT)
        assert _read_until(primary, seen, b"stopping", deadline), bytes(seen)
        proc.send_signal(signal.SIGINT)
        _read_until(primary, seen, b"\x00never", time.monotonic() + 10)  # to the end
        assert proc.wait(timeout=10) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(primary)
    text = seen.decode(errors="replace")
    assert SHOW_CURSOR in text[text.rindex(HIDE_CURSOR) :], repr(text[-500:])
    assert text.endswith("\n"), repr(text[-200:])
    assert "Traceback" not in text
    listed = run_azxfer("jobs", "list").assert_ok()
    assert "Interrupted" in listed.stdout and "Running" not in listed.stdout, listed.describe()


def test_a_killed_job_shows_interrupted(tmp_path, azurite, container_url, run_azxfer):
    src = make_tree(tmp_path / "src", {f"f{i:03}.bin": 64 for i in range(40)})
    killed = run_azxfer(
        "copy", src, container_url(), "-r", env={"AZXFER_TEST_CRASH": "completed:5"}
    )
    assert killed.returncode == -signal.SIGKILL, killed.describe()
    job_id = killed.stdout.split()[1].rstrip(":")
    listed = run_azxfer("jobs", "list").assert_ok()
    assert "Interrupted" in listed.stdout and "Running" not in listed.stdout, listed.describe()
    shown = run_azxfer("jobs", "show", job_id).assert_ok()
    assert "Status: Interrupted" in shown.stdout, shown.describe()


def test_one_interrupt_counts_unfinished_files_as_interrupted_not_failed(
    tmp_path, azurite, fault_proxy, container
):
    src = make_tree(tmp_path / "src", {f"f{i:03}.bin": 64 for i in range(40)})
    stall = Rule("delay", method="PUT", path=".bin", delay=2, times=1000, same_request=False)
    fault_proxy.add(stall)
    url = fault_proxy.url(azurite.account, container)
    argv = ["copy", src, url, "-r", "--concurrency", "2", "--output-type", "json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "azxfer", *map(str, argv)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(azurite, tmp_path),
        cwd=str(tmp_path),
    )
    deadline = time.monotonic() + 30
    while stall.seen < 2:  # uploads stalled at the proxy, more queued behind them
        assert time.monotonic() < deadline and proc.poll() is None, "no upload started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    result = CliResult(argv, proc.returncode, out, err)
    result.assert_exit(130)
    done = result.finished()
    outcomes = [e["outcome"] for e in result.events_of("transfer_done")]
    assert "failed" not in outcomes and "interrupted" in outcomes, result.describe()
    assert done["files_failed"] == 0 and done["files_interrupted"] == outcomes.count("interrupted")
    counted = sum(done[f"files_{k}"] for k in ("completed", "skipped", "failed", "interrupted"))
    assert counted == done["files_total"], done


def test_a_job_whose_only_file_failed_is_failed(
    tmp_path, azurite, fault_proxy, container, run_azxfer
):
    src = make_tree(tmp_path / "src", {"only.bin": 64})
    fault_proxy.add(
        Rule(
            "status",
            method="PUT",
            path=".bin",
            status=400,
            error_code="InvalidHeaderValue",
            times=10,
            same_request=False,
        )
    )
    url = fault_proxy.url(azurite.account, container)
    result = run_azxfer("copy", src / "only.bin", url, "--output-type", "json", timeout=60)
    result.assert_exit(1)
    done = result.finished()
    assert (done["files_completed"], done["files_failed"]) == (0, 1), result.describe()
    assert done["status"] == "Failed", result.describe()


def test_the_resume_hint_of_a_sas_job_asks_for_the_sas(
    tmp_path, azurite, fault_proxy, container, run_azxfer
):
    src = make_tree(tmp_path / "src", {"good.bin": 64, "bad.bin": 64})
    fault_proxy.add(
        Rule("status", method="PUT", path="bad.bin", status=400, error_code="InvalidHeaderValue",
             times=10, same_request=False)
    )  # fmt: skip
    sas = _sas(azurite, container)
    url = f"{fault_proxy.url(azurite.account, container)}?{sas}"
    result = run_azxfer("copy", src, url, "-r", env={"AZXFER_DEST_KEY": None}, timeout=60)
    result.assert_exit(1)
    [line] = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert line.endswith("--dest-sas '<SAS>')"), line
    assert "--source-sas" not in line and sas.split("sig=")[1].split("&")[0] not in line


def test_more_failures_than_listed_point_at_jobs_show(
    tmp_path, azurite, fault_proxy, container, run_azxfer
):
    src = make_tree(tmp_path / "src", {f"f{i:03}.bin": 16 for i in range(60)})
    fault_proxy.add(
        Rule(
            "status",
            method="PUT",
            path=".bin",
            status=400,
            error_code="InvalidHeaderValue",
            times=1000,
            same_request=False,
        )
    )
    url = fault_proxy.url(azurite.account, container)
    result = run_azxfer("copy", src, url, "-r", timeout=120).assert_exit(1)
    assert "… and 10 more failed" in result.stdout, result.describe()
    assert "--log-file" not in result.stdout
    assert "azxfer jobs show" in result.stdout


def test_dry_run_summary_counts_what_it_lists(tmp_path, container_url, run_azxfer):
    src = make_tree(tmp_path / "src", {"a.txt": 10, "b.txt": 20, "c.txt": 30})
    run_azxfer("sync", src, container_url()).assert_ok()
    make_tree(src, {"d.txt": 40})
    result = run_azxfer("sync", src, container_url(), "--dry-run").assert_ok()
    assert result.stdout.count("DRYRUN: skip") == 3 and result.stdout.count("DRYRUN: copy") == 1
    assert (
        "Files:   4 total, 1 would be transferred, 3 skipped (up to date or excluded)"
        in result.stdout
    ), result.describe()
    copied = run_azxfer("copy", src, container_url(), "-r", "--dry-run").assert_ok()
    assert "Files:   4 total, 4 would be transferred, 0 skipped" in copied.stdout, copied.describe()


def test_debug_log_has_a_line_per_request_without_secrets(
    tmp_path, azurite, container, run_azxfer, blob_service
):
    src = make_tree(tmp_path / "src", {f"f{i:03}.bin": 16 for i in range(300)})
    sas = _sas(azurite, container)
    log_file = tmp_path / "debug.log"
    url = f"{azurite.blob_endpoint}/{container}?{sas}"
    args = ["copy", src, url, "-r", "--log-file", log_file, "--log-level", "DEBUG"]
    run_azxfer(*args, env={"AZXFER_DEST_KEY": None}).assert_ok()
    text = log_file.read_text()
    puts = [line for line in text.splitlines() if " PUT http://" in line and "-> 201 in" in line]
    assert len(puts) >= 300, text[-3000:]
    assert f"/{container}/src/f000.bin" in text
    assert sas.split("sig=")[1].split("&")[0] not in text


def test_debug_log_shows_the_sdk_paths_requests_redacted(tmp_path, azurite, container, run_azxfer):
    # Append blobs go through the storage SDK, whose own logging policy writes each request.
    src = make_tree(tmp_path / "src", {f"a{i}.log": 100 for i in range(5)})
    sas = _sas(azurite, container)
    log_file = tmp_path / "debug.log"
    url = f"{azurite.blob_endpoint}/{container}?{sas}"
    args = ["copy", src, url, "-r", "--blob-type", "append", "--log-file", log_file]
    run_azxfer(*args, "--log-level", "DEBUG", env={"AZXFER_DEST_KEY": None}).assert_ok()
    text = log_file.read_text()
    for i in range(5):
        urls = [ln for ln in text.splitlines() if "Request URL" in ln and f"/src/a{i}.log?" in ln]
        assert urls, text[-3000:]
        assert all("sig=REDACTED" in ln for ln in urls), urls
    assert sas.split("sig=")[1].split("&")[0] not in text
    quiet = tmp_path / "info.log"
    run_azxfer("copy", src, url, "-r", "--blob-type", "append", "--log-file", quiet,
               "--overwrite", "true", env={"AZXFER_DEST_KEY": None}).assert_ok()  # fmt: skip
    assert "Request URL" not in quiet.read_text(), "requests are logged at DEBUG only"


def test_retry_event_names_method_and_url_without_query(
    tmp_path, azurite, fault_proxy, container, run_azxfer
):
    src = make_tree(tmp_path / "src", {"one.bin": 100})
    fault_proxy.add(Rule("status", method="PUT", path="one.bin", status=503, retry_after=0.1))
    sas = _sas(azurite, container)
    url = f"{fault_proxy.url(azurite.account, container)}?{sas}"
    result = run_azxfer(
        "copy", src / "one.bin", url, "--output-type", "json",
        env={"AZXFER_DEST_KEY": None}, timeout=60,
    ).assert_ok()  # fmt: skip
    [retry] = result.events_of("retry")
    assert retry["what"] == f"PUT {fault_proxy.url(azurite.account, container, 'one.bin')}", retry
