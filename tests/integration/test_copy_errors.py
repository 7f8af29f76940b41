"""Bad inputs and failing jobs: one stderr line, the right exit code, no traceback,
destination untouched."""

from __future__ import annotations

import base64
import socket

import pytest
from helpers import blob_names, tree_files
from seed import seed_blobs


@pytest.fixture
def src_tree(tmp_path, make_tree):
    return make_tree(tmp_path / "src", {"a.txt": 10, "b/c.txt": 20})


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------- exit 2: upload


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--no-such-flag"], id="unknown-flag"),
        pytest.param(["--include-after", "not-a-date"], id="bad-include-after"),
        pytest.param(["--include-before", "2024-13-45T99:00:00Z"], id="bad-include-before"),
        pytest.param(["--metadata", "novalue"], id="metadata-without-equals"),
        pytest.param(["--metadata", "=v"], id="metadata-empty-key"),
        pytest.param(["--overwrite", "sometimes"], id="bad-overwrite"),
        pytest.param(["--check-md5", "Maybe"], id="bad-check-md5"),
        pytest.param(["--blob-type", "floppy"], id="bad-blob-type"),
        pytest.param(["--block-blob-tier", "Lukewarm"], id="bad-tier"),
        pytest.param(["--output-type", "xml"], id="bad-output-type"),
        pytest.param(["--as-subdir=maybe"], id="bad-as-subdir"),
        pytest.param(["--concurrency", "0"], id="bad-concurrency"),
        pytest.param(["--max-memory", "lots"], id="bad-max-memory"),
    ],
)
def test_upload_bad_option(args, src_tree, run_azxfer, container_url, container_client):
    result = run_azxfer("copy", src_tree, container_url(), "-r", *args)
    result.assert_usage_error(2)
    assert blob_names(container_client) == set()


def test_missing_destination_argument(src_tree, run_azxfer):
    run_azxfer("copy", src_tree).assert_usage_error(2)


def test_unknown_subcommand(run_azxfer):
    run_azxfer("frobnicate", "a", "b").assert_usage_error(2)


def test_nonexistent_local_source(tmp_path, run_azxfer, container_url, container_client):
    result = run_azxfer("copy", tmp_path / "does-not-exist.txt", container_url())
    result.assert_usage_error(2)
    assert "does-not-exist.txt" in result.stderr
    assert blob_names(container_client) == set()


def test_nonexistent_local_source_folder(tmp_path, run_azxfer, container_url, container_client):
    result = run_azxfer("copy", tmp_path / "nodir", container_url(), "-r")
    result.assert_usage_error(2)
    assert blob_names(container_client) == set()


@pytest.mark.parametrize("name", ["AB", "a--b", "ab", "-abc", "x" * 64])
def test_invalid_container_name(name, src_tree, azurite, run_azxfer, blob_service):
    before = {c.name for c in blob_service.list_containers()}
    result = run_azxfer("copy", src_tree, f"{azurite.blob_endpoint}/{name}", "-r")
    result.assert_usage_error(2)
    assert {c.name for c in blob_service.list_containers()} == before


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://[::1/devstoreaccount1/cont", id="bad-ipv6"),
        pytest.param("http://127.0.0.1:notaport/devstoreaccount1/cont", id="bad-port"),
        pytest.param("http:///devstoreaccount1/cont", id="no-host"),
        pytest.param("ftp://127.0.0.1/devstoreaccount1/cont", id="bad-scheme"),
    ],
)
def test_malformed_url(url, src_tree, run_azxfer):
    run_azxfer("copy", src_tree, url, "-r").assert_usage_error(2)


def test_unknown_host(src_tree, run_azxfer):
    result = run_azxfer("copy", src_tree, "https://example.com/x", "-r")
    result.assert_usage_error(2)


def test_unknown_host_as_source(tmp_path, run_azxfer):
    """A URL that is not a storage account is a web object; one that cannot be reached is a
    one-line error, and nothing is written."""
    out = tmp_path / "out"
    out.mkdir()
    result = run_azxfer("copy", "https://no-such-host.invalid/x", out, "-r", timeout=120)
    assert result.returncode == 1, result.describe()
    assert "no-such-host.invalid" in result.stderr and "Traceback" not in result.stderr
    assert list(out.iterdir()) == []


# --------------------------------------------------------------------------- exit 2: download


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--no-such-flag"], id="unknown-flag"),
        pytest.param(["--include-after", "31/12/2024"], id="bad-include-after"),
        pytest.param(["--overwrite", "perhaps"], id="bad-overwrite"),
    ],
)
def test_download_bad_option(args, tmp_path, run_azxfer, container_url, container_client):
    seed_blobs(container_client, {"a.txt": 1})
    out = tmp_path / "out"
    out.mkdir()
    run_azxfer("copy", container_url(), out, "-r", *args).assert_usage_error(2)
    assert list(out.iterdir()) == []


def test_download_invalid_container_name(tmp_path, azurite, run_azxfer):
    out = tmp_path / "out"
    out.mkdir()
    run_azxfer("copy", f"{azurite.blob_endpoint}/a--b", out, "-r").assert_usage_error(2)
    assert list(out.iterdir()) == []


# --------------------------------------------------------------------------- exit 1: job cannot run


def test_wrong_account_key_upload(src_tree, run_azxfer, container_url, container_client):
    wrong = base64.b64encode(b"this is not the right key at all, no sir").decode()
    result = run_azxfer("copy", src_tree, container_url(), "-r", env={"AZXFER_DEST_KEY": wrong})
    result.assert_usage_error(1)
    assert wrong not in result.stderr
    assert blob_names(container_client) == set()


def test_wrong_account_key_download(tmp_path, run_azxfer, container_url, container_client):
    seed_blobs(container_client, {"a.txt": 1})
    wrong = base64.b64encode(b"this is not the right key at all, no sir").decode()
    out = tmp_path / "out"
    out.mkdir()
    result = run_azxfer("copy", container_url(), out, "-r", env={"AZXFER_SOURCE_KEY": wrong})
    result.assert_usage_error(1)
    assert list(out.iterdir()) == []


def test_anonymous_access_to_private_container(
    tmp_path, run_azxfer, container_url, container_client
):
    seed_blobs(container_client, {"a.txt": 1})
    out = tmp_path / "out"
    out.mkdir()
    result = run_azxfer(
        "copy", container_url(), out, "-r",
        env={"AZXFER_SOURCE_KEY": None, "AZXFER_DEST_KEY": None},
    )  # fmt: skip
    result.assert_usage_error(1)
    assert list(out.iterdir()) == []


def test_unreachable_host_upload(src_tree, run_azxfer, azurite):
    url = f"http://127.0.0.1:{_closed_port()}/{azurite.account}/cont"
    run_azxfer("copy", src_tree, url, "-r", timeout=120).assert_usage_error(1)


def test_unreachable_host_download(tmp_path, run_azxfer, azurite):
    out = tmp_path / "out"
    out.mkdir()
    url = f"http://127.0.0.1:{_closed_port()}/{azurite.account}/cont"
    run_azxfer("copy", url, out, "-r", timeout=120).assert_usage_error(1)
    assert list(out.iterdir()) == []


def test_missing_container_json_output(tmp_path, run_azxfer, azurite):
    out = tmp_path / "out"
    out.mkdir()
    result = run_azxfer(
        "copy", f"{azurite.blob_endpoint}/nosuchcontainer77", out, "-r", "--output-type", "json"
    )
    result.assert_exit(1)
    result.events()  # stdout stays NDJSON even when the job cannot run
    assert "nosuchcontainer77" in result.stderr
    assert list(out.iterdir()) == []


def test_download_missing_blob_prefix_into_existing_tree_untouched(
    tmp_path, run_azxfer, container_url, container_client
):
    """Selecting nothing transfers nothing and leaves the destination alone."""
    seed_blobs(container_client, {"a.txt": 1})
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_bytes(b"keep")
    result = run_azxfer("copy", container_url("zzz"), out, "-r")
    assert result.returncode in (0, 1), result.describe()
    assert "Traceback" not in result.stderr
    assert tree_files(out) == {"keep.txt"}


def test_usage_error_in_json_mode_keeps_stdout_ndjson(src_tree, run_azxfer, container_url):
    result = run_azxfer(
        "copy", src_tree, container_url(), "-r", "--output-type", "json", "--metadata", "bad"
    )
    result.assert_usage_error(2)
    result.events()
