"""Server-side copies with Azure Files through the real CLI: share → share, share → blob and
blob → share, by the File service's Put Range From URL and Copy File and Blob storage's
From-URL methods, falling back to streaming through this machine (`--s2s-mode client`, or a
service that cannot read the source). Shares live on the File stand-in (`file_standin`), blobs
on Azurite, or behind the Blob stand-in where Azurite lacks an API."""

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
# A tree with a 0-byte file, a name to quote, a multi-range file (ranges are 4 MiB).
TREE = {
    "a.txt": data_for("a", 1000),
    "dir/b c%.bin": data_for("b", 3000),
    "empty.bin": b"",
    "big/nine.bin": data_for("nine", 9 * MiB + 123),
}
SDDL = "O:BAG:SYD:(A;;FA;;;BA)(A;;0x1200a9;;;WD)"


@pytest.fixture
def src_share(share_service):
    return fresh_share(share_service)


@pytest.fixture
def dst_share(share_service):
    return fresh_share(share_service)


def share_url(file_standin, azurite, share, path: str = "") -> str:
    base = f"{file_standin.account_url(azurite.account)}/{share.share_name}"
    return f"{base}/{path}" if path else base


# As azxfer's uploads store them: with their Content-MD5 (and a type to see carried).
AS_UPLOADED = {"content_md5": True, "content_type": "application/x-test"}


def share_contents(share, directory: str = "") -> dict[str, bytes]:
    found = {}
    for item in share.get_directory_client(directory).list_directories_and_files():
        path = f"{directory}/{item['name']}" if directory else item["name"]
        if item["is_directory"]:
            found.update(share_contents(share, path))
        else:
            found[path] = share.get_file_client(path).download_file().readall()
    return found


def assert_md5s(share, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        props = share.get_file_client(path).get_file_properties()
        assert bytes(props.content_settings.content_md5 or b"") == md5(data), path


def assert_completed(result: CliResult, count: int) -> None:
    result.assert_ok()
    finished = result.finished()
    assert finished["status"] == "Completed", result.describe()
    assert finished["files_completed"] == count, result.describe()


class Sent:
    """The requests the stand-in had recorded when made (before the test reads anything)."""

    def __init__(self, file_standin) -> None:
        self.requests = list(file_standin.requests)

    def of(self, *names: str) -> list:
        return [r for r in self.requests if r.op in names]

    def client_gets(self) -> list:
        """Get File requests azxfer sent itself (SharedKey-signed: no SAS in the query); the
        service's reads of a copy source carry the source's SAS."""
        return [r for r in self.of("GetFile") if "sig" not in r.query]


def share_to_share(file_standin, azurite, src, dst, *extra: str) -> tuple[str, ...]:
    return (
        "copy", share_url(file_standin, azurite, src), share_url(file_standin, azurite, dst),
        "-r", "--as-subdir=false", "--from-to", "FileFile", *JSON, *extra,
    )  # fmt: skip


# ------------------------------------------------------------------------- share -> share


def test_share_to_share_is_server_side_by_put_range_from_url(
    file_standin, azurite, src_share, dst_share, run_azxfer
):
    seed_share(src_share, TREE, **AS_UPLOADED)
    file_standin.clear()
    result = run_azxfer(*share_to_share(file_standin, azurite, src_share, dst_share))
    assert_completed(result, len(TREE))
    sent = Sent(file_standin)
    assert share_contents(dst_share) == TREE
    assert_md5s(dst_share, TREE)
    # No data passed this machine: azxfer (account key: SharedKey) sent no Get File; the only
    # ones are the service's own reads of the source through the share SAS the job minted.
    # Every range came by Put Range From URL (the 9 MiB file in three 4 MiB ranges).
    assert sent.client_gets() == []
    service_gets = sent.of("GetFile")
    assert service_gets and all(r.query.get("sr") == "s" for r in service_gets)
    assert sent.of("PutRange") == []
    from_url = [r.path for r in sent.of("PutRangeFromURL") if r.status == 201]
    assert len(from_url) == 1 + 1 + 3
    assert not [n for n in result.events_of("notice") if "through this machine" in n["message"]]


def test_share_to_share_client_mode_streams_through_this_machine(
    file_standin, azurite, src_share, dst_share, run_azxfer
):
    seed_share(src_share, TREE, **AS_UPLOADED)
    file_standin.clear()
    args = share_to_share(file_standin, azurite, src_share, dst_share, "--s2s-mode", "client")
    assert_completed(run_azxfer(*args), len(TREE))
    sent = Sent(file_standin)
    assert share_contents(dst_share) == TREE
    assert_md5s(dst_share, TREE)
    assert sent.of("PutRangeFromURL", "CopyFile") == []
    assert len(sent.client_gets()) >= 4
    assert len(sent.of("PutRange")) >= 5


def test_async_mode_polls_a_pending_copy_file_to_success(
    file_standin, azurite, src_share, dst_share, run_azxfer
):
    files = {"x.bin": data_for("x", 5000), "y/z.bin": data_for("z", 6 * MiB)}
    seed_share(src_share, files, **AS_UPLOADED)
    file_standin.pending_polls = 2
    file_standin.clear()
    args = share_to_share(file_standin, azurite, src_share, dst_share, "--s2s-mode", "async")
    assert_completed(run_azxfer(*args), len(files))
    sent = Sent(file_standin)
    assert share_contents(dst_share) == files
    assert_md5s(dst_share, files)
    assert len(sent.of("CopyFile")) == len(files)
    assert sent.of("PutRangeFromURL", "PutRange") == []
    # Each copy answered pending and was polled (Get File Properties) until it succeeded.
    polls = [
        r for r in sent.of("GetFileProperties") if r.path.split("/")[2] == dst_share.share_name
    ]
    assert len(polls) >= 2 * len(files)


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


def test_ctrl_c_aborts_a_held_copy_file_and_resume_completes(
    file_standin, azurite, src_share, dst_share, run_azxfer, tmp_path
):
    files = {"held.bin": data_for("held", 70_000)}
    seed_share(src_share, files, **AS_UPLOADED)
    file_standin.hold_pending = True
    argv = [
        sys.executable, "-m", "azxfer",
        *share_to_share(file_standin, azurite, src_share, dst_share, "--s2s-mode", "async"),
    ]  # fmt: skip
    proc = _popen(argv, azurite, tmp_path)
    try:
        deadline = time.monotonic() + 30
        while not file_standin.requests_of("CopyFile"):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the copy never started"
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
    assert result.finished()["files_interrupted"] == 1, result.describe()
    assert [r.status for r in file_standin.requests_of("AbortCopyFile")] == [204]
    aborted = [n["message"] for n in result.events_of("notice") if "aborted" in n["message"]]
    assert len(aborted) == 1 and "partial file was removed" in aborted[0]
    assert share_contents(dst_share) == {}  # removed, as the writer's abort removes

    file_standin.hold_pending = False
    job_id = result.events_of("job_started")[0]["job_id"]
    resumed = run_azxfer("resume", job_id, *JSON)
    assert_completed(resumed, 1)
    assert share_contents(dst_share) == files
    assert_md5s(dst_share, files)


def test_a_share_copied_into_itself_is_refused_before_any_request(
    file_standin, azurite, src_share, run_azxfer
):
    seed_share(src_share, {"a.txt": b"a"}, **AS_UPLOADED)
    file_standin.clear()
    result = run_azxfer(
        "copy", share_url(file_standin, azurite, src_share),
        share_url(file_standin, azurite, src_share, "inner/"), "-r", "--from-to", "FileFile",
    )  # fmt: skip
    result.assert_usage_error()
    assert "inside the source" in result.stderr
    assert not [r for r in file_standin.requests if r.method in ("PUT", "DELETE")]


# ---------------------------------------------------------------- share <-> blob storage


def test_share_to_blob_on_azurite_falls_back_to_streaming(
    file_standin, azurite, src_share, container, container_client, run_azxfer
):
    files = {"one.bin": data_for("one", 2 * MiB + 5)}
    seed_share(src_share, files, **AS_UPLOADED)
    result = run_azxfer(
        "copy", share_url(file_standin, azurite, src_share), f"{azurite.blob_endpoint}/{container}",
        "-r", "--as-subdir=false", "--from-to", "FileBlob", *JSON,
    )  # fmt: skip
    assert_completed(result, 1)
    blob = container_client.get_blob_client("one.bin")
    assert blob.download_blob().readall() == files["one.bin"]
    assert bytes(blob.get_blob_properties().content_settings.content_md5) == md5(files["one.bin"])
    said = [
        n["message"] for n in result.events_of("notice") if "through this machine" in n["message"]
    ]
    assert len(said) == 1, result.describe()


def test_share_to_blob_through_the_blob_standin_uses_put_blob_from_url(
    file_standin, azurite, blob_standin, src_share, container, container_client, run_azxfer
):
    """The Blob stand-in implements Put Blob From URL reading any loopback URL; Put Block
    From URL it forwards to Azurite, which reads only its own blobs: a file larger than a
    block is streamed after that method fails, and still arrives whole."""
    files = {"small.txt": data_for("s", 3000), "large.bin": data_for("l", 12 * MiB + 7)}
    seed_share(src_share, files, **AS_UPLOADED)
    file_standin.clear()
    dest = f"{blob_standin.account_url(azurite.account)}/{container}"
    result = run_azxfer(
        "copy", share_url(file_standin, azurite, src_share), dest,
        "-r", "--as-subdir=false", "--from-to", "FileBlob", *JSON,
    )  # fmt: skip
    assert_completed(result, len(files))
    sent = Sent(file_standin)
    put_blob = blob_standin.requests_of("PutBlobFromURL")
    assert [(r.path.rsplit("/", 1)[1], r.status) for r in put_blob] == [("small.txt", 201)]
    # small.txt was read by the service only (through the share SAS the job minted).
    client_read = {r.path.rsplit("/", 1)[1] for r in sent.client_gets()}
    assert client_read == {"large.bin"}
    assert [r.query.get("sr") for r in sent.of("GetFile") if r.path.endswith("small.txt")] == ["s"]
    for name, data in files.items():
        blob = container_client.get_blob_client(name)
        assert blob.download_blob().readall() == data
        assert bytes(blob.get_blob_properties().content_settings.content_md5) == md5(data)


def test_blob_to_share_is_put_range_from_url_reading_azurite(
    file_standin, azurite, container_client, container, dst_share, run_azxfer
):
    blobs = {"b1.bin": data_for("b1", 5 * MiB + 1), "d/b2.txt": data_for("b2", 100)}
    for name, data in blobs.items():
        from azure.storage.blob import ContentSettings

        container_client.upload_blob(
            name, data, content_settings=ContentSettings(content_md5=md5(data))
        )
    file_standin.clear()
    result = run_azxfer(
        "copy", f"{azurite.blob_endpoint}/{container}", share_url(file_standin, azurite, dst_share),
        "-r", "--as-subdir=false", "--from-to", "BlobFile", *JSON,
    )  # fmt: skip
    assert_completed(result, len(blobs))
    sent = Sent(file_standin)
    assert sent.of("PutRange") == []
    from_url = sent.of("PutRangeFromURL")
    assert len(from_url) == 2 + 1 and all(r.status == 201 for r in from_url)
    assert share_contents(dst_share) == blobs
    assert_md5s(dst_share, blobs)


# ---------------------------------------------------------------------- SMB properties


SMB_TIMES = {
    "creation": "2021-03-04T05:06:07.1234567Z",
    "last_write": "2022-08-09T10:11:12.7654321Z",
}


def _seed_with_smb(src_share) -> None:
    from azure.storage.fileshare import ContentSettings

    seed_share(src_share, {"smb.txt": b"smb"}, **AS_UPLOADED)
    fc = src_share.get_file_client("smb.txt")
    fc.set_http_headers(
        ContentSettings(content_type="application/x-test", content_md5=md5(b"smb")),
        file_attributes="ReadOnly|Archive",
        file_creation_time=SMB_TIMES["creation"],
        file_last_write_time=SMB_TIMES["last_write"],
    )


def _raw_smb(file_standin, azurite, share, path: str) -> dict[str, str]:
    from azure.storage.fileshare import ShareFileClient

    fc = ShareFileClient(
        file_standin.account_url(azurite.account), share.share_name, path,
        credential={"account_name": azurite.account, "account_key": azurite.key},
    )  # fmt: skip
    props = fc.get_file_properties()
    return {
        "attributes": str(props.file_attributes),
        "creation": props.creation_time.isoformat(),
        "last_write": props.last_write_time.isoformat(),
    }


@pytest.mark.parametrize("mode", ["auto", "async", "client"])
def test_smb_info_is_kept_share_to_share(
    mode, file_standin, azurite, src_share, dst_share, run_azxfer
):
    _seed_with_smb(src_share)
    source = _raw_smb(file_standin, azurite, src_share, "smb.txt")
    args = share_to_share(file_standin, azurite, src_share, dst_share, "--s2s-mode", mode)
    assert_completed(run_azxfer(*args), 1)
    assert _raw_smb(file_standin, azurite, dst_share, "smb.txt") == source
    assert "ReadOnly" in source["attributes"]


def test_smb_info_is_dropped_with_preserve_smb_info_false(
    file_standin, azurite, src_share, dst_share, run_azxfer
):
    _seed_with_smb(src_share)
    source = _raw_smb(file_standin, azurite, src_share, "smb.txt")
    args = share_to_share(file_standin, azurite, src_share, dst_share, "--preserve-smb-info=false")
    assert_completed(run_azxfer(*args), 1)
    copied = _raw_smb(file_standin, azurite, dst_share, "smb.txt")
    assert "ReadOnly" not in copied["attributes"]
    assert copied["creation"] != source["creation"]
    assert copied["last_write"] != source["last_write"]


def test_a_permission_is_carried_with_preserve_permissions(
    file_standin, azurite, src_share, dst_share, run_azxfer
):
    seed_share(src_share, {"p1.txt": b"1", "p2.txt": b"2"}, **AS_UPLOADED)
    key = src_share.create_permission_for_share(SDDL)
    from azure.storage.fileshare import ContentSettings

    for name in ("p1.txt", "p2.txt"):
        settings = ContentSettings(content_md5=md5(name[1].encode()))
        src_share.get_file_client(name).set_http_headers(settings, permission_key=key)
    file_standin.clear()
    args = share_to_share(file_standin, azurite, src_share, dst_share, "--preserve-permissions")
    assert_completed(run_azxfer(*args), 2)
    sent = Sent(file_standin)
    # One Get Permission and one Create Permission for the one key both files share.
    assert len(sent.of("GetPermission")) == 1 and len(sent.of("CreatePermission")) == 1
    for name in ("p1.txt", "p2.txt"):
        dest_key = dst_share.get_file_client(name).get_file_properties().permission_key
        assert dst_share.get_permission_for_share(dest_key) == SDDL

    plain = share_to_share(file_standin, azurite, src_share, dst_share)
    assert_completed(run_azxfer(*plain, "--overwrite", "true"), 2)
    dest_key = dst_share.get_file_client("p1.txt").get_file_properties().permission_key
    assert dst_share.get_permission_for_share(dest_key) != SDDL
