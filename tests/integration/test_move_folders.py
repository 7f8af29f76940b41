"""`copy --move --delete-empty-src-dirs`: the source folders a move emptied are removed, deepest
first; a folder still holding anything stays (through the real CLI, Azurite and the File
stand-in)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from conftest import REPO_ROOT
from faultproxy import FaultProxy, Rule
from helpers import CliResult, blob_names, make_tree, tree_files
from seed import seed_blobs, seed_share

MARKER = {"hdi_isfolder": "true"}


def local_dirs(root) -> set[str]:
    """Every folder under `root`, relative, '/'-separated."""
    found = set()
    for dirpath, dirnames, _files in os.walk(root):
        for name in dirnames:
            found.add(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    return found


# ============================================================== local -> Blob


def test_move_removes_emptied_folders_keeps_one_with_an_excluded_file(
    tmp_path, run_azxfer, container_url, container_client
):
    src = make_tree(
        tmp_path / "src",
        {
            "top.txt": 3,
            "all/b.txt": 5,
            "all/deep/c.txt": 7,
            "mixed/a.txt": 2,
            "mixed/keep.log": 4,
        },
    )
    (src / "lonely").mkdir()  # empty: Blob storage gets no folder for it without a stub
    result = run_azxfer(
        "copy",
        src,
        container_url(),
        "-r",
        "--move",
        "--delete-empty-src-dirs",
        "--exclude-pattern",
        "*.log",
        "--output-type",
        "json",
    ).assert_ok()
    assert blob_names(container_client) == {
        "src/top.txt",
        "src/all/b.txt",
        "src/all/deep/c.txt",
        "src/mixed/a.txt",
    }
    # 'all' and 'all/deep' were emptied and are gone; 'mixed' holds the excluded file; the
    # empty 'lonely' was never copied, so removing it would lose it; the root holds both.
    assert tree_files(src) == {"mixed/keep.log"}
    assert local_dirs(src) == {"mixed", "lonely"}
    removed = {e["source"] for e in result.events_of("source_folder_removed")}
    assert removed == {str(src / "all"), str(src / "all" / "deep")}
    assert all(not e["dry_run"] for e in result.events_of("source_folder_removed"))


@pytest.mark.parametrize("as_subdir", [True, False])
def test_move_removes_the_root_only_when_copied_as_a_folder(
    tmp_path, run_azxfer, container_url, container_client, as_subdir
):
    src = make_tree(tmp_path / "src", {"a.txt": 1, "d/e/f.txt": 2})
    (src / "d" / "empty").mkdir()
    run_azxfer(
        "copy",
        src,
        container_url(),
        "-r",
        f"--as-subdir={str(as_subdir).lower()}",
        "--include-directory-stub",
        "--move",
        "--delete-empty-src-dirs",
    ).assert_ok()
    prefix = "src/" if as_subdir else ""
    assert {prefix + "a.txt", prefix + "d/e/f.txt"} <= blob_names(container_client)
    if as_subdir:
        assert not src.exists()
    else:
        assert src.is_dir() and os.listdir(src) == []


def test_a_folder_with_a_file_not_moved_stays(
    tmp_path, run_azxfer, container_url, container_client
):
    seed_blobs(container_client, {"src/held/old.txt": b"already there"})
    src = make_tree(tmp_path / "src", {"held/old.txt": 5, "gone/new.txt": 6})
    run_azxfer(
        "copy",
        src,
        container_url(),
        "-r",
        "--overwrite=false",
        "--move",
        "--delete-empty-src-dirs",
    ).assert_ok()
    # The skipped file was not moved: its folder (and the root) stay, with it.
    assert tree_files(src) == {"held/old.txt"}
    assert local_dirs(src) == {"held"}


def test_delete_empty_src_dirs_needs_move(tmp_path, run_azxfer, container_url, container_client):
    src = make_tree(tmp_path / "src", {"d/a.txt": 1})
    result = run_azxfer("copy", src, container_url(), "-r", "--delete-empty-src-dirs")
    result.assert_usage_error()
    assert "--delete-empty-src-dirs needs --move" in result.stderr
    assert tree_files(src) == {"d/a.txt"}
    assert blob_names(container_client) == set()


def test_delete_empty_src_dirs_needs_recursive(
    tmp_path, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"a.txt": 1})
    result = run_azxfer("copy", src, container_url(), "--move", "--delete-empty-src-dirs")
    result.assert_usage_error()
    assert "--delete-empty-src-dirs needs --recursive" in result.stderr
    assert tree_files(src) == {"a.txt"}
    assert blob_names(container_client) == set()


def test_dry_run_lists_the_folders_it_would_remove(
    tmp_path, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"x/a.txt": 1, "x/y/b.txt": 2, "z/c.log": 3})
    result = run_azxfer(
        "copy",
        src,
        container_url(),
        "-r",
        "--move",
        "--delete-empty-src-dirs",
        "--exclude-pattern",
        "*.log",
        "--dry-run",
    ).assert_ok()
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("DRYRUN: remove folder")]
    # Deepest first; 'z' holds an excluded file, yet a dry run cannot know: the walk did not
    # list 'z' (nothing in it was selected), so it is not a candidate either.
    assert lines == [
        f"DRYRUN: remove folder {src / 'x' / 'y'}",
        f"DRYRUN: remove folder {src / 'x'}",
    ]
    assert tree_files(src) == {"x/a.txt", "x/y/b.txt", "z/c.log"}
    assert blob_names(container_client) == set()


# ============================================================== Blob -> local


def test_blob_source_loses_the_markers_of_emptied_folders(
    tmp_path, run_azxfer, container_url, container_client
):
    seed_blobs(container_client, {"d/a.txt": 1, "d/e/b.txt": 2})
    seed_blobs(container_client, {"d": b"", "d/e": b""}, metadata=MARKER)
    out = tmp_path / "out"
    out.mkdir()
    run_azxfer(
        "copy",
        container_url(),
        out,
        "-r",
        "--as-subdir=false",
        "--move",
        "--delete-empty-src-dirs",
    ).assert_ok()
    assert tree_files(out) == {"d/a.txt", "d/e/b.txt"}
    assert blob_names(container_client) == set()


# ============================================================== share -> local


def share_entries(share_client, directory: str = "") -> set[str]:
    """Every file and directory under `directory` (directories with a trailing '/')."""
    found = set()
    for item in share_client.get_directory_client(directory).list_directories_and_files():
        path = f"{directory}/{item['name']}" if directory else item["name"]
        if item["is_directory"]:
            found |= {path + "/"} | share_entries(share_client, path)
        else:
            found.add(path)
    return found


def test_share_to_local_move_removes_emptied_directories(
    tmp_path, run_azxfer, file_standin, azurite, share_client
):
    files = {
        "data/top.txt": b"t",
        "data/x/a.txt": b"a",
        "data/x/deep/b.txt": b"b",
        "data/kept/c.txt": b"c",
        "data/kept/skip.log": b"l",
    }
    seed_share(share_client, files, dirs=("data/empty",))
    url = f"{file_standin.account_url(azurite.account)}/{share_client.share_name}/data"
    out = tmp_path / "out"
    run_azxfer(
        "copy",
        url,
        out,
        "-r",
        "--from-to",
        "FileLocal",
        "--move",
        "--delete-empty-src-dirs",
        "--exclude-pattern",
        "*.log",
    ).assert_ok()
    assert tree_files(out / "data") == {"top.txt", "x/a.txt", "x/deep/b.txt", "kept/c.txt"}
    assert (out / "data" / "empty").is_dir()
    assert share_entries(share_client) == {"data/", "data/kept/", "data/kept/skip.log"}


def test_share_to_local_move_removes_the_emptied_root(
    tmp_path, run_azxfer, file_standin, azurite, share_client
):
    seed_share(share_client, {"data/x/a.txt": b"a"})
    url = f"{file_standin.account_url(azurite.account)}/{share_client.share_name}/data"
    out = tmp_path / "out"
    run_azxfer(
        "copy", url, out, "-r", "--from-to", "FileLocal", "--move", "--delete-empty-src-dirs"
    ).assert_ok()
    assert tree_files(out / "data") == {"x/a.txt"}
    assert share_entries(share_client) == set()


# ============================================================== interrupted


@pytest.fixture
def fault_proxy(azurite) -> Iterator[FaultProxy]:
    proxy = FaultProxy(azurite.blob_port, seed=23)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def test_an_interrupted_move_removes_no_folder(tmp_path, azurite, fault_proxy, container):
    src = make_tree(tmp_path / "src", {"fast/a.txt": 1, "slow/b.txt": 2})
    fault_proxy.add(Rule("delay", method="PUT", path="slow/", delay=4, times=10))
    env = dict(os.environ)
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    env.update(AZXFER_SOURCE_KEY=azurite.key, AZXFER_DEST_KEY=azurite.key)
    env["AZXFER_JOB_DIR"] = str(tmp_path / "jobs")
    env["PYTHONPATH"] = str(REPO_ROOT)
    argv = [
        sys.executable, "-m", "azxfer", "copy", str(src),
        fault_proxy.url(azurite.account, container), "-r", "--move",
        "--delete-empty-src-dirs", "--output-type", "json",
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, cwd=str(tmp_path),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while (src / "fast" / "a.txt").exists():  # moved while 'slow' is held at the proxy
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the fast file never moved"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    result = CliResult(argv, proc.returncode, out, err)
    assert result.finished()["status"] == "Cancelled", result.describe()
    assert result.events_of("source_folder_removed") == []
    # 'fast' was emptied, yet the job did not finish: every folder stays.
    assert {"fast", "slow"} <= local_dirs(src)
    assert os.listdir(src / "fast") == []
