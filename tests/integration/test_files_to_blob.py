"""Share → blob server side beyond the From-URL requests, through the real CLI: Copy Blob
reading a file into a block blob (`--s2s-mode async`), polled while pending, aborted on Ctrl-C
and completed by `resume`; on plain Azurite, which cannot read a file URL, the ladder streams
and says so once; and page blobs from a share, which no server-side method writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from blob_standin import BlobStandIn, blob_standin_fixture  # noqa: F401  (the fixture)
from helpers import CliResult, data_for, md5
from seed import fresh_share, seed_share

MiB = 1024 * 1024
JSON = ("--output-type", "json")
REPO_ROOT = Path(__file__).resolve().parents[2]
FILES = {"a.txt": data_for("a", 3000), "dir/b.bin": data_for("b", 5 * MiB + 3)}
METADATA = {"origin": "share"}


@pytest.fixture
def src_share(file_standin, azurite, share_service):
    share = fresh_share(share_service)
    seed_share(share, FILES, content_md5=True, content_type="application/x-test", metadata=METADATA)
    return f"{file_standin.account_url(azurite.account)}/{share.share_name}"


def to_blob(src: str, dest: str, *extra: str) -> tuple[str, ...]:
    return ("copy", src, dest, "-r", "--as-subdir=false", "--from-to", "FileBlob", *JSON, *extra)


def assert_blobs_match(container_client, files: dict[str, bytes], carried: bool = True) -> None:
    for name, data in files.items():
        blob = container_client.get_blob_client(name)
        assert blob.download_blob().readall() == data, name
        props = blob.get_blob_properties()
        assert bytes(props.content_settings.content_md5 or b"") == md5(data), name
        if carried:  # Copy Blob carries the file's content headers and metadata over
            assert props.content_settings.content_type == "application/x-test", name
            assert props.metadata == METADATA, name


def notices(result: CliResult, text: str) -> list[str]:
    return [n["message"] for n in result.events_of("notice") if text in n["message"]]


def test_async_mode_copies_files_by_copy_blob_polled_while_pending(
    file_standin, azurite, blob_standin, src_share, container, container_client, run_azxfer
):
    blob_standin.pending_polls = 2
    file_standin.clear()
    dest = f"{blob_standin.account_url(azurite.account)}/{container}"
    result = run_azxfer(*to_blob(src_share, dest, "--s2s-mode", "async")).assert_ok()
    assert result.finished()["files_completed"] == len(FILES), result.describe()
    copies = blob_standin.requests_of("CopyBlob")
    assert sorted(r.path.split("/", 3)[3] for r in copies) == sorted(FILES)
    assert all(r.status == 202 for r in copies)
    assert [c.status for c in blob_standin.copies()] == ["success"] * len(FILES)
    # The service read the files (with the share SAS the job minted); azxfer read none.
    reads = file_standin.requests_of("GetFile")
    assert reads and all(r.query.get("sig") and r.query.get("sr") == "s" for r in reads)
    assert_blobs_match(container_client, FILES)


def _popen(argv: list[str], azurite, tmp_path: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    env.update(
        AZXFER_SOURCE_KEY=azurite.key,
        AZXFER_DEST_KEY=azurite.key,
        AZXFER_JOB_DIR=str(tmp_path.parent / f"{tmp_path.name}-jobs"),
        PYTHONPATH=str(REPO_ROOT),
    )
    return subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, cwd=tmp_path,
    )  # fmt: skip


def test_ctrl_c_aborts_the_pending_copy_blobs_and_resume_completes(
    file_standin, azurite, blob_standin, src_share, container, container_client, run_azxfer,
    tmp_path,
):  # fmt: skip
    blob_standin.pending_polls = 1
    blob_standin.hold_pending = True
    dest = f"{blob_standin.account_url(azurite.account)}/{container}"
    argv = [sys.executable, "-m", "azxfer", *to_blob(src_share, dest, "--s2s-mode", "async")]
    proc = _popen(argv, azurite, tmp_path)
    try:
        deadline = time.monotonic() + 30
        while len(blob_standin.pending_copies()) < len(FILES):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the copies never started"
            time.sleep(0.02)
        time.sleep(0.5)  # let it poll
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    result = CliResult(argv, proc.returncode, out, err)
    result.assert_exit(130)
    assert result.finished()["files_interrupted"] == len(FILES), result.describe()
    assert len(blob_standin.aborted_copies()) == len(FILES)
    assert blob_standin.pending_copies() == []
    assert len(notices(result, "aborted the server-side copy")) == len(FILES)

    blob_standin.hold_pending = False
    job_id = result.events_of("job_started")[0]["job_id"]
    resumed = run_azxfer("resume", job_id, *JSON).assert_ok()
    assert resumed.finished()["files_completed"] == len(FILES), resumed.describe()
    assert_blobs_match(container_client, FILES)


def test_on_azurite_which_cannot_read_a_file_url_the_ladder_streams_and_says_so_once(
    file_standin, azurite, src_share, container, container_client, run_azxfer
):
    file_standin.clear()
    dest = f"{azurite.blob_endpoint}/{container}"
    result = run_azxfer(*to_blob(src_share, dest)).assert_ok()
    assert result.finished()["files_completed"] == len(FILES), result.describe()
    assert_blobs_match(container_client, FILES, carried=False)
    said = notices(result, "through this machine")
    assert len(said) == 1, result.describe()
    # Every file was streamed: azxfer read each itself.
    own_reads = {r.path.split("/", 3)[3] for r in file_standin.requests_of("GetFile")}
    assert own_reads == set(FILES)


def test_async_mode_on_azurite_fails_each_file_with_one_clear_reason(
    file_standin, azurite, src_share, container, container_client, run_azxfer
):
    dest = f"{azurite.blob_endpoint}/{container}"
    result = run_azxfer(*to_blob(src_share, dest, "--s2s-mode", "async"))
    result.assert_exit(1)
    assert len([ln for ln in result.stderr.splitlines() if ln.startswith("azxfer: error:")]) == 1
    assert "Traceback" not in result.stderr
    reasons = [e["reason"] for e in result.events_of("transfer_done")]
    assert len(reasons) == len(FILES)
    assert all("could not read the copy source" in r for r in reasons), reasons
    assert "sig=" not in result.stdout + result.stderr  # the minted share SAS stays secret


def test_a_page_blob_from_a_share_is_streamed_and_said_once(
    file_standin, azurite, blob_standin, src_share, container, container_client, run_azxfer
):
    """No service API writes a page blob from a file (Put Page From URL reads blobs, Copy
    Blob writes files into block blobs): the files go through this machine, said once."""
    dest = f"{blob_standin.account_url(azurite.account)}/{container}"
    result = run_azxfer(*to_blob(src_share, dest, "--blob-type", "page")).assert_ok()
    assert result.finished()["files_completed"] == len(FILES), result.describe()
    said = notices(result, "Put Page From URL from a file share")
    assert len(said) == 1 and "next copy method" in said[0], result.describe()
    assert blob_standin.requests_of("PutPageFromURL", "CopyBlob") == []
    for name, data in FILES.items():
        blob = container_client.get_blob_client(name)
        props = blob.get_blob_properties()
        assert props.blob_type == "PageBlob", name
        padded = data + b"\0" * (-len(data) % 512)
        assert blob.download_blob().readall()[: len(padded)] == padded, name

    url_only = run_azxfer(*to_blob(src_share, dest, "--blob-type", "page", "--s2s-mode", "url"))
    url_only.assert_exit(1)
    reasons = [e["reason"] for e in url_only.events_of("transfer_done")]
    assert reasons and all("no copy method" in r for r in reasons), url_only.describe()
