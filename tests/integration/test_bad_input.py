"""More bad inputs through the real CLI (beyond test_copy_errors.py).

Every case: exactly one stderr line starting `azxfer: error:`, exit 2 for a command-line
problem or 1 for a job/transfer failure, no traceback, and nothing already at the
destination damaged. Edge cases that must *work* (odd names, empty files, FIFOs in a tree)
are here too, with their round trips.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas
from faultproxy import FaultProxy, Rule
from helpers import CliResult, blob_contents, blob_names, data_for, tree_contents
from seed import seed_blobs

MiB = 1024 * 1024
REPO_ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def src_tree(tmp_path, make_tree):
    return make_tree(tmp_path / "src", {"a.txt": 10, "b/c.txt": 20})


@pytest.fixture
def out_dir(tmp_path) -> Path:
    """A download destination holding one file that must survive every failure."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_bytes(b"precious")
    return out


@pytest.fixture
def seeded(container_client) -> dict[str, bytes]:
    """Blobs already in the container, which no failing job may change."""
    return seed_blobs(container_client, {"existing/one.txt": b"one", "existing/two.bin": 300})


@pytest.fixture
def fault_proxy(azurite) -> Iterator[FaultProxy]:
    proxy = FaultProxy(azurite.blob_port, seed=7)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def fails(result: CliResult, code: int) -> CliResult:
    """One `azxfer: error:` line on stderr, the exit code, no traceback anywhere."""
    result.assert_exit(code)
    error_line(result)
    return result


def error_line(result: CliResult) -> None:
    """Exactly one non-empty stderr line, and it starts `azxfer: error: `.

    Tests of failed transfers check this last, so that a missing error line is reported
    only after everything about the destination has been checked."""
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected exactly one stderr line\n{result.describe()}"
    assert lines[0].startswith("azxfer: error: "), result.describe()


def unchanged_out(out: Path) -> None:
    assert tree_contents(out) == {"keep.txt": b"precious"}
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]


def unchanged_blobs(container_client, seeded: dict[str, bytes]) -> None:
    assert blob_contents(container_client) == seeded


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cli_env(azurite, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment run_azxfer gives the CLI, for tests that need a Popen."""
    env = dict(os.environ)
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    env["AZXFER_SOURCE_KEY"] = azurite.key
    env["AZXFER_DEST_KEY"] = azurite.key
    env["AZXFER_JOB_DIR"] = str(tmp_path.parent / f"{tmp_path.name}-jobs")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
    )
    env.update(extra)
    return env


def popen_azxfer(azurite, tmp_path: Path, *args: object, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "azxfer", *(str(a) for a in args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(azurite, tmp_path),
        cwd=str(tmp_path),
        **kwargs,
    )


def finish(proc: subprocess.Popen, argv: list[str], timeout: float = 60) -> CliResult:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"azxfer did not stop in time\n{out[-2000:]}\n{err[-2000:]}")
    return CliResult(argv, proc.returncode, out, err)


def sas_for(azurite, container: str, expiry_hours: float = 1.0, **perms: bool) -> str:
    return generate_container_sas(
        azurite.account,
        container,
        account_key=azurite.key,
        permission=ContainerSasPermissions(**perms),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=expiry_hours),
        start=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2),
    )


# --------------------------------------------------------------------------- exit 2: flags


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(
            ["--from-to", "LocalBlob", "--source-type", "Local"], id="from-to+source-type"
        ),
        pytest.param(["--from-to", "LocalBlob", "--dest-type", "Blob"], id="from-to+dest-type"),
        pytest.param(["--from-to", "BlobLocal"], id="from-to-contradicts-locations"),
        pytest.param(["--source-type", "Blob"], id="source-type-blob-for-local-path"),
        pytest.param(["--dest-type", "Local"], id="dest-type-local-for-url"),
        pytest.param(["--from-to", "LocalQueue"], id="unknown-from-to"),
        pytest.param(["--block-size-mb", "0"], id="block-size-zero"),
        pytest.param(["--block-size-mb", "4001"], id="block-size-too-big"),
        pytest.param(["--block-size-mb", "lots"], id="block-size-not-a-number"),
        pytest.param(["--concurrency", "1001"], id="concurrency-too-high"),
        pytest.param(["--concurrency", "-3"], id="concurrency-negative"),
        pytest.param(["--max-memory", "-5M"], id="max-memory-negative"),
        pytest.param(["--log-level", "trace"], id="bad-log-level"),
        pytest.param(["--blob-tags", "novalue"], id="tags-without-equals"),
        pytest.param(["--include-before", "yesterday"], id="bad-include-before-word"),
        pytest.param(["--recursive=yes"], id="flag-with-value"),
    ],
)
def test_conflicting_or_invalid_flags(
    args, src_tree, run_azxfer, container_url, container_client, seeded
):
    fails(run_azxfer("copy", src_tree, container_url(), "-r", *args), 2)
    unchanged_blobs(container_client, seeded)


def test_log_file_is_a_directory(src_tree, tmp_path, run_azxfer, container_url, container_client):
    result = run_azxfer("copy", src_tree, container_url(), "-r", "--log-file", tmp_path)
    fails(result, 2)
    assert blob_names(container_client) == set()


def test_log_file_in_missing_folder(
    src_tree, tmp_path, run_azxfer, container_url, container_client
):
    log = tmp_path / "no" / "such" / "dir" / "x.log"
    fails(run_azxfer("copy", src_tree, container_url(), "-r", "--log-file", log), 2)
    assert blob_names(container_client) == set()


def test_missing_key_file(src_tree, tmp_path, run_azxfer, container_url, container_client):
    result = run_azxfer(
        "copy", src_tree, container_url(), "-r", "--dest-key-file", tmp_path / "nokey"
    )
    fails(result, 2)
    assert blob_names(container_client) == set()


def test_concurrency_env_not_a_number(src_tree, run_azxfer, container_url, container_client):
    result = run_azxfer("copy", src_tree, container_url(), "-r", env={"AZXFER_CONCURRENCY": "many"})
    fails(result, 2)
    assert blob_names(container_client) == set()


def test_local_to_local_is_not_supported(src_tree, tmp_path, run_azxfer):
    dest = tmp_path / "copy"
    fails(run_azxfer("copy", src_tree, dest, "-r"), 2)
    assert not dest.exists()


# --------------------------------------------------------------------------- exit 2: URLs


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("", id="account-only"),
        pytest.param("/", id="account-slash"),
        pytest.param("?sv=2020&foo=bar", id="query-without-sig"),
        pytest.param("/cont?foo=bar", id="container-query-without-sig"),
    ],
)
def test_malformed_emulator_url(path, src_tree, azurite, run_azxfer):
    url = f"http://127.0.0.1:{azurite.blob_port}/{azurite.account}{path}"
    fails(run_azxfer("copy", src_tree, url, "-r"), 2)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1:{port}/", id="no-account"),
        pytest.param("https://acct.queue.core.windows.net/q", id="queue-service"),
        pytest.param("https://acct.table.core.windows.net/tbl", id="table-service-not-for-copy"),
        pytest.param("https://acct.dfs.core.windows.net/fs", id="dfs-service"),
        pytest.param("s3://bucket/key", id="s3-scheme"),
        pytest.param("http://127.0.0.1:99999/devstoreaccount1/cont", id="port-out-of-range"),
    ],
)
def test_unsupported_urls(url, src_tree, azurite, run_azxfer):
    fails(run_azxfer("copy", src_tree, url.format(port=azurite.blob_port), "-r"), 2)


def test_wildcard_in_blob_folder(out_dir, run_azxfer, container_url, seeded):
    fails(run_azxfer("copy", container_url("exist*/one.txt"), out_dir), 2)
    unchanged_out(out_dir)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("abc-", id="trailing-hyphen"),
        pytest.param("a_bc", id="underscore"),
        pytest.param("ab.cd", id="dot"),
        pytest.param("ab%20cd", id="space"),
        pytest.param("%C3%BCber", id="unicode"),
        pytest.param("abc%2Fdef", id="encoded-slash"),
    ],
)
def test_more_invalid_container_names(name, src_tree, out_dir, azurite, run_azxfer, blob_service):
    before = {c.name for c in blob_service.list_containers()}
    fails(run_azxfer("copy", src_tree, f"{azurite.blob_endpoint}/{name}", "-r"), 2)
    fails(run_azxfer("copy", f"{azurite.blob_endpoint}/{name}", out_dir, "-r"), 2)
    assert {c.name for c in blob_service.list_containers()} == before
    unchanged_out(out_dir)


def test_blob_name_over_1024_characters_in_url(
    src_tree, out_dir, run_azxfer, container_url, container_client, seeded
):
    long = "/".join(["d" * 100] * 10) + "/" + "f" * 20  # 1030 characters
    assert len(long) > 1024
    fails(run_azxfer("copy", src_tree / "a.txt", container_url(long)), 2)
    fails(run_azxfer("copy", container_url(long), out_dir), 2)
    unchanged_out(out_dir)
    unchanged_blobs(container_client, seeded)


# --------------------------------------------------------------------------- local sources


@pytest.mark.parametrize(
    "rel",
    [
        pytest.param("nodir/", id="missing-folder-trailing-slash"),
        pytest.param("nodir/*.txt", id="wildcard-in-missing-folder"),
        pytest.param("src/a.txt/inner", id="file-used-as-folder"),
        pytest.param("sr*/a.txt", id="wildcard-not-last"),
        pytest.param("", id="empty-string"),
    ],
)
def test_nonexistent_local_source_variants(
    rel, src_tree, tmp_path, run_azxfer, container_url, container_client, seeded
):
    source = str(tmp_path / rel) if rel else ""
    fails(run_azxfer("copy", source, container_url(), "-r", cwd=tmp_path), 2)
    unchanged_blobs(container_client, seeded)


def test_dangling_symlink_source(tmp_path, run_azxfer, container_url, container_client, seeded):
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    fails(run_azxfer("copy", link, container_url()), 2)
    unchanged_blobs(container_client, seeded)


def test_self_loop_symlink_source(tmp_path, run_azxfer, container_url, container_client, seeded):
    link = tmp_path / "loop"
    link.symlink_to(link)
    fails(run_azxfer("copy", link, container_url()), 2)
    unchanged_blobs(container_client, seeded)


def test_fifo_as_single_source(tmp_path, run_azxfer, container_url, container_client, seeded):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    fails(run_azxfer("copy", fifo, container_url(), timeout=30), 2)
    unchanged_blobs(container_client, seeded)


def test_wildcard_matching_nothing(src_tree, run_azxfer, container_url, container_client, seeded):
    result = run_azxfer("copy", src_tree / "*.nomatch", container_url(), "--output-type", "json")
    result.assert_exit(1)
    unchanged_blobs(container_client, seeded)
    error_line(result)


def test_fifos_and_sockets_in_tree_are_skipped_and_reported(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"ok.txt": 5, "sub/ok2.txt": 6})
    os.mkfifo(src / "pipe")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock_path = src / "sub" / "sock"
    sock.bind(str(sock_path))
    try:
        result = run_azxfer("copy", src, container_url(), "-r", "--output-type", "json")
    finally:
        sock.close()
    result.assert_ok()
    assert blob_names(container_client) == {"src/ok.txt", "src/sub/ok2.txt"}
    text = json.dumps(result.events())
    assert "pipe" in text and "sock" in text, "special files must be reported"
    reported = [
        e
        for e in result.events()
        if ("pipe" in json.dumps(e) or "sock" in json.dumps(e))
        and (e.get("event") == "notice" or e.get("outcome") == "skipped")
    ]
    assert len(reported) >= 2, result.describe()


def test_symlink_loop_in_tree_is_detected(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"a/f.txt": 3})
    (src / "a" / "up").symlink_to(src)  # a/up -> src: a loop when followed
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--follow-symlinks", "--output-type", "json",
        timeout=60,
    )  # fmt: skip
    result.assert_ok()
    assert blob_names(container_client) == {"src/a/f.txt"}
    assert "loop" in result.stdout


# --------------------------------------------------------------------------- destinations


def test_download_folder_destination_is_a_file(
    tmp_path, run_azxfer, container_url, container_client, seeded
):
    target = tmp_path / "file.txt"
    target.write_bytes(b"not a folder")
    fails(run_azxfer("copy", container_url("existing"), target, "-r"), 2)
    assert target.read_bytes() == b"not a folder"


def test_download_under_a_file_path(tmp_path, run_azxfer, container_url, seeded):
    parent = tmp_path / "file.txt"
    parent.write_bytes(b"not a folder")
    result = run_azxfer(
        "copy", container_url("existing/one.txt"), parent / "child.txt", "--output-type", "json"
    )
    result.assert_exit(1)
    assert parent.read_bytes() == b"not a folder"
    error_line(result)


def test_download_onto_an_existing_folder_name(out_dir, run_azxfer, container_url, seeded):
    """A folder where a downloaded file would go is never replaced: the file is saved under
    another name with a notice (or its transfer fails cleanly)."""
    (out_dir / "existing" / "one.txt").mkdir(parents=True)
    (out_dir / "existing" / "one.txt" / "inside.txt").write_bytes(b"in")
    result = run_azxfer("copy", container_url("existing"), out_dir, "-r", "--output-type", "json")
    assert result.returncode in (0, 1), result.describe()
    assert "Traceback" not in result.stderr
    assert (out_dir / "existing" / "one.txt" / "inside.txt").read_bytes() == b"in"
    assert (out_dir / "keep.txt").read_bytes() == b"precious"
    if result.returncode == 0:
        notices = [e["message"] for e in result.events_of("notice")]
        assert any("one.txt" in m for m in notices), result.describe()
        assert (out_dir / "existing" / "two.bin").read_bytes() == seeded["existing/two.bin"]
    else:
        failed = [e for e in result.events_of("transfer_done") if e["outcome"] == "failed"]
        assert len(failed) == 1 and failed[0]["reason"]
        error_line(result)


@pytest.mark.skipif(IS_ROOT, reason="root ignores directory permissions")
def test_download_into_unwritable_folder(out_dir, run_azxfer, container_url, seeded):
    out_dir.chmod(0o500)
    try:
        result = run_azxfer(
            "copy", container_url("existing"), out_dir, "-r", "--output-type", "json"
        )
    finally:
        out_dir.chmod(0o700)
    fails(result, 1)
    unchanged_out(out_dir)


@pytest.mark.parametrize(
    "block_args",
    [
        pytest.param(["--block-size-mb", "1"], id="chunked-write-hits-EFBIG"),
        pytest.param([], id="one-write-is-cut-short"),
    ],
)
def test_disk_full_during_download(block_args, tmp_path, azurite, container_url, container_client):
    """Writes past RLIMIT_FSIZE fail (EFBIG), or are cut short (a short pwrite): either way
    the transfer fails, exit 1, no final file and no .part left behind."""
    seed_blobs(container_client, {"big.bin": 3 * MiB})
    out = tmp_path / "out"
    out.mkdir()
    limit = 1 * MiB

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    argv = ["copy", container_url("big.bin"), out, "--output-type", "json", *block_args]
    proc = popen_azxfer(azurite, tmp_path, *argv, preexec_fn=limit_file_size)
    result = finish(proc, argv)
    final = out / "big.bin"
    if final.exists():
        assert final.stat().st_size == 3 * MiB, (
            f"a {final.stat().st_size}-byte file was left under the final name\n{result.describe()}"
        )
    result.assert_exit(1)
    done = result.events_of("transfer_done")
    assert [e["outcome"] for e in done] == ["failed"], result.describe()
    assert done[0]["reason"]
    assert list(out.iterdir()) == [], "no final file and no .part may be left"
    error_line(result)


# --------------------------------------------------------------------------- sources that change


@pytest.mark.parametrize("change", ["shrink", "grow"])
def test_source_changes_during_upload(
    change, tmp_path, azurite, fault_proxy, container, container_client
):
    size = 6 * MiB
    src = tmp_path / "big.bin"
    original = data_for("big.bin", size)
    src.write_bytes(original)
    # Every Put Block is slowed, so the file changes while the upload is in flight.
    fault_proxy.add(Rule("delay", method="PUT", query="comp=block&", delay=0.4, times=100))
    url = fault_proxy.url(azurite.account, container, "big.bin")
    argv = ["copy", src, url, "--block-size-mb", "1", "--concurrency", "1", "--output-type", "json"]
    proc = popen_azxfer(azurite, tmp_path, *argv)
    deadline = time.monotonic() + 20
    while fault_proxy.count(method="PUT", query="comp=block&") < 1:
        assert time.monotonic() < deadline and proc.poll() is None, "upload never started"
        time.sleep(0.05)
    if change == "shrink":
        os.truncate(src, 2 * MiB)
    else:
        with open(src, "ab") as f:
            f.write(b"more" * 1000)
    result = finish(proc, argv)
    result.assert_exit(1)
    done = result.events_of("transfer_done")
    assert [e["outcome"] for e in done] == ["failed"], result.describe()
    reason = done[0]["reason"].lower()
    assert "changed" in reason or "shrank" in reason or "grew" in reason, reason
    assert blob_names(container_client) == set(), "no blob may be committed"
    assert fault_proxy.count(method="PUT", query="comp=blocklist") == 0
    error_line(result)


# --------------------------------------------------------------------------- names


ODD_NAMES = {
    "with space.txt": 11,
    "ünïcødé/日本語.txt": 12,
    "per%cent%20.txt": 13,
    "hash#tag.txt": 14,
    "question?.txt": 15,
    "semi;colon&amp=.txt": 16,
    "plus+sign.txt": 17,
    "empty.bin": 0,
    "dir with space/empty too.txt": 0,
}


def test_odd_names_and_empty_files_round_trip(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", ODD_NAMES)
    run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false").assert_ok()
    assert blob_contents(container_client) == tree_contents(src)
    back = tmp_path / "back"
    run_azxfer("copy", container_url(), back, "-r", "--as-subdir=false").assert_ok()
    assert tree_contents(back) == tree_contents(src)


@pytest.mark.parametrize(
    "name", ["hash#tag.txt", "per%cent.txt", "question?x.txt", "with space.txt"]
)
def test_odd_blob_name_single_download_by_encoded_url(
    name, tmp_path, run_azxfer, container_url, container_client
):
    from urllib.parse import quote

    seed_blobs(container_client, {name: b"odd"})
    out = tmp_path / "o"
    out.mkdir()
    run_azxfer("copy", container_url(quote(name)), out).assert_ok()
    assert tree_contents(out) == {name: b"odd"}


def _nested_name(total: int) -> str:
    """A relative path of exactly `total` characters, in components short enough for Linux."""
    parts, left = [], total
    while left > 200:
        parts.append("p" * 199)
        left -= 200
    parts.append("f" * left)
    name = "/".join(parts)
    assert len(name) == total
    return name


def test_1024_character_blob_name_round_trips(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    name = _nested_name(1024)
    src = make_tree(tmp_path / "src", {name: 7})
    run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false").assert_ok()
    assert blob_names(container_client) == {name}
    back = tmp_path / "back"
    run_azxfer("copy", container_url(), back, "-r", "--as-subdir=false").assert_ok()
    assert tree_contents(back) == tree_contents(src)


def test_1025_character_blob_name_round_trips_or_is_a_clear_error(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    """Over Blob storage's 1024-character limit: a clear per-transfer error, or (if the
    service accepts it, as Azurite does) an exact round trip — never a silent mangling."""
    long = _nested_name(1025)
    src = make_tree(tmp_path / "src", {long: 7, "ok.txt": 3})
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--output-type", "json"
    )
    assert result.returncode in (0, 1), result.describe()
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        assert blob_contents(container_client) == tree_contents(src)
        return
    failed = [e for e in result.events_of("transfer_done") if e["outcome"] == "failed"]
    assert len(failed) == 1, result.describe()
    assert "1024" in failed[0]["reason"] or "long" in failed[0]["reason"].lower()
    assert blob_names(container_client) == {"ok.txt"}
    error_line(result)


# --------------------------------------------------------------------------- interrupts


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_download_leaves_no_final_partial_file(
    sig, tmp_path, azurite, fault_proxy, container, container_client
):
    seeded = seed_blobs(container_client, {"big.bin": 6 * MiB, "b2.bin": 5 * MiB})
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_bytes(b"precious")
    # Every ranged GET is slowed (not only retries of the first), so the job is still running
    # when the signal arrives.
    fault_proxy.add(
        Rule("delay", method="GET", path=".bin", delay=0.5, times=100, same_request=False)
    )
    url = fault_proxy.url(azurite.account, container)
    argv = [
        "copy", url, out, "-r", "--as-subdir=false", "--block-size-mb", "1",
        "--concurrency", "1", "--output-type", "json",
    ]  # fmt: skip
    proc = popen_azxfer(azurite, tmp_path, *argv)
    deadline = time.monotonic() + 20
    while fault_proxy.count(method="GET", path=".bin") < 1:
        assert time.monotonic() < deadline and proc.poll() is None, "download never started"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(sig)
    result = finish(proc, argv)
    result.assert_exit(130)
    for name, data in seeded.items():
        final = out / name
        if final.exists():  # only a complete, verified file may carry the final name
            assert final.read_bytes() == data, f"{name} is a partial file under its final name"
    assert (out / "keep.txt").read_bytes() == b"precious"
    finished = result.finished()
    assert finished["status"] == "Cancelled", result.describe()
    assert finished["files_completed"] < 2, (
        "the interrupt did not stop the job: every transfer ran to completion\n" + result.describe()
    )
    error_line(result)


# --------------------------------------------------------------------------- credentials


def test_read_only_sas_used_for_writing(
    src_tree, azurite, run_azxfer, container, container_client, seeded
):
    sas = sas_for(azurite, container, read=True, list=True)
    url = f"{azurite.blob_endpoint}/{container}?{sas}"
    result = run_azxfer(
        "copy", src_tree, url, "-r", "--overwrite", "true", "--output-type", "json",
        env={"AZXFER_DEST_KEY": None},
    )  # fmt: skip
    fails(result, 1)
    assert "permission" in result.stderr.lower() or "denied" in result.stderr.lower()
    unchanged_blobs(container_client, seeded)


def test_expired_sas(out_dir, azurite, run_azxfer, container, seeded):
    sas = sas_for(azurite, container, expiry_hours=-1, read=True, list=True)
    result = run_azxfer(
        "copy", f"{azurite.blob_endpoint}/{container}?{sas}", out_dir, "-r",
        env={"AZXFER_SOURCE_KEY": None},
    )  # fmt: skip
    fails(result, 1)
    assert "expired" in result.stderr.lower()
    unchanged_out(out_dir)


def test_forged_sas_signature(out_dir, azurite, run_azxfer, container, seeded):
    sas = sas_for(azurite, container, read=True, list=True)
    forged = "&".join(
        "sig=" + "A" * 43 + "%3D" if part.startswith("sig=") else part for part in sas.split("&")
    )
    result = run_azxfer(
        "copy", f"{azurite.blob_endpoint}/{container}?{forged}", out_dir, "-r",
        env={"AZXFER_SOURCE_KEY": None},
    )  # fmt: skip
    fails(result, 1)
    assert "A" * 43 not in result.stderr
    unchanged_out(out_dir)


def test_wrong_account_key_blob_to_blob(
    azurite, run_azxfer, container_url, container_client, blob_service, seeded
):
    dest = "dk" + os.urandom(6).hex()
    blob_service.create_container(dest)
    try:
        dest_client = blob_service.get_container_client(dest)
        dest_client.upload_blob("existing/one.txt", b"dest copy")
        wrong = base64.b64encode(b"definitely the wrong key for this account!").decode()
        result = run_azxfer(
            "copy", container_url("existing"), f"{azurite.blob_endpoint}/{dest}", "-r",
            env={"AZXFER_DEST_KEY": wrong},
        )  # fmt: skip
        fails(result, 1)
        assert wrong not in result.stderr
        assert blob_contents(dest_client) == {"existing/one.txt": b"dest copy"}
        unchanged_blobs(container_client, seeded)
    finally:
        blob_service.delete_container(dest)


def test_malformed_account_key(src_tree, run_azxfer, container_url, container_client):
    result = run_azxfer(
        "copy", src_tree, container_url(), "-r", env={"AZXFER_DEST_KEY": "not base64 !!"}
    )
    assert result.returncode in (1, 2), result.describe()
    fails(result, result.returncode)
    assert "not base64 !!" not in result.stderr
    assert blob_names(container_client) == set()


def test_unreachable_destination_blob_to_blob(azurite, run_azxfer, container_url, seeded):
    url = f"http://127.0.0.1:{_closed_port()}/{azurite.account}/cont"
    result = run_azxfer("copy", container_url("existing"), url, "-r", timeout=120)
    fails(result, 1)


# --------------------------------------------------------------------------- remote sources


def test_download_missing_blob(out_dir, run_azxfer, container_url, seeded):
    result = run_azxfer("copy", container_url("existing/nothere.txt"), out_dir)
    fails(result, 1)
    unchanged_out(out_dir)


def test_download_missing_container_text_output(out_dir, azurite, run_azxfer):
    result = run_azxfer("copy", f"{azurite.blob_endpoint}/nosuchcontainer42", out_dir, "-r")
    fails(result, 1)
    unchanged_out(out_dir)


# --------------------------------------------------------------------------- resume


def test_resume_needs_a_job(run_azxfer):
    fails(run_azxfer("resume"), 2)


def test_resume_job_id_and_last(run_azxfer):
    fails(run_azxfer("resume", "abc", "--last"), 2)


def test_resume_unknown_job(run_azxfer):
    fails(run_azxfer("resume", "00000000-0000-0000-0000-000000000000"), 2)


def test_resume_last_without_jobs(tmp_path, run_azxfer):
    empty = tmp_path / "nojobs"
    empty.mkdir()
    fails(run_azxfer("resume", "--last", "--journal-dir", empty), 2)


def test_journal_dir_is_a_file(src_tree, tmp_path, run_azxfer, container_url, container_client):
    bogus = tmp_path / "journal-file"
    bogus.write_text("x")
    result = run_azxfer("copy", src_tree, container_url(), "-r", "--journal-dir", bogus)
    assert result.returncode in (1, 2), result.describe()
    fails(result, result.returncode)
    assert bogus.read_text() == "x"
    assert blob_names(container_client) == set()


@pytest.mark.parametrize("args", [(), ("jobs",)], ids=["azxfer", "azxfer-jobs"])
def test_a_command_group_alone_shows_its_help(args, run_azxfer):
    """`azxfer` (or `azxfer jobs`) with nothing more asks for help: the formatted help on
    stdout, not a flattened error line."""
    result = run_azxfer(*args)
    assert result.returncode == 0, result.describe()
    assert result.stdout.startswith("Usage: azxfer"), result.describe()
    assert "Commands:" in result.stdout and result.stderr == ""
