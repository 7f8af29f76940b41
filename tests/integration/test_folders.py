"""Folders as things a job moves, between local folders and Blob storage (Azurite).

Toward Blob storage (no folders) an empty source folder is counted and reported once per job,
and written as a marker blob (`hdi_isfolder=true`) only with --include-directory-stub; from
Blob storage, marker blobs (that metadata, or a zero-byte name ending in '/') become local
folders, empty ones included. Folders are never counted as files.
"""

from __future__ import annotations

import os

from helpers import blob_contents, blob_names, make_tree, tree_contents

MARKER = {"hdi_isfolder": "true"}


def _source(tmp_path):
    """data/ with a file, a folder of files, an empty folder, and an empty folder nested in a
    folder that holds nothing else."""
    src = make_tree(tmp_path / "data", {"top.txt": 10, "full/one.txt": 20})
    (src / "empty").mkdir()
    (src / "outer" / "inner").mkdir(parents=True)
    return src


def test_upload_reports_empty_folders_once_and_writes_no_blob_for_them(
    tmp_path, run_azxfer, container_url, container_client
):
    src = _source(tmp_path)
    result = run_azxfer("copy", src, container_url(), "-r", "--output-type", "json").assert_ok()

    assert blob_names(container_client) == {"data/top.txt", "data/full/one.txt"}
    finished = result.finished()
    assert (finished["files_total"], finished["files_completed"]) == (2, 2)
    # 'empty' and 'outer/inner' are empty; 'outer' holds a folder, 'full' holds a file.
    assert (finished["folders_skipped"], finished["folders_completed"]) == (2, 0)
    skipped = {e["source"] for e in result.events_of("folder_done")}
    assert skipped == {str(src / "empty"), str(src / "outer" / "inner")}
    notices = [e["message"] for e in result.events_of("notice")]
    assert (
        notices.count(
            "2 empty folders not copied: Blob storage has no folders; "
            "--include-directory-stub writes marker blobs"
        )
        == 1
    ), notices
    assert len(result.events_of("transfer_done")) == 2


def test_upload_summary_counts_folders_apart(tmp_path, run_azxfer, container_url):
    src = _source(tmp_path)
    result = run_azxfer("copy", src, container_url(), "-r").assert_ok()
    assert "Files:   2 total, 2 transferred, 0 skipped, 0 failed" in result.stdout
    assert "Folders: 0 made, 2 not copied" in result.stdout
    assert "warning: 2 empty folders not copied: Blob storage has no folders" in result.stdout


def test_upload_with_directory_stub_writes_marker_blobs(
    tmp_path, run_azxfer, container_url, container_client
):
    src = _source(tmp_path)
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--include-directory-stub", "--output-type", "json"
    ).assert_ok()

    folders = {"data/full", "data/empty", "data/outer", "data/outer/inner"}
    contents = blob_contents(container_client)
    assert set(contents) == {"data/top.txt", "data/full/one.txt"} | folders
    for name in folders:
        assert contents[name] == b""
        props = container_client.get_blob_client(name).get_blob_properties()
        assert props.metadata == MARKER, name
    finished = result.finished()
    assert (finished["files_total"], finished["folders_completed"]) == (2, 4)
    assert finished["folders_skipped"] == 0
    assert not [e for e in result.events_of("notice") if "empty folder" in e["message"]]


def test_dry_run_lists_folders_and_makes_none(tmp_path, run_azxfer, container_url):
    src = _source(tmp_path)
    result = run_azxfer("copy", src, container_url(), "-r", "--dry-run", "--include-directory-stub")
    result.assert_ok()
    assert f"DRYRUN: make folder {src / 'empty'} -> " in result.stdout
    assert f"DRYRUN: make folder {src / 'outer' / 'inner'} -> " in result.stdout
    assert "Files:   2 total, 2 would be transferred" in result.stdout


def test_include_pattern_selects_files_not_folders(
    tmp_path, run_azxfer, container_url, container_client
):
    """As AzCopy v10: a name pattern selects files; a folder it empties is an empty folder."""
    src = make_tree(tmp_path / "data", {"keep/a.txt": 1, "drop/b.bin": 2})
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--include-pattern", "*.txt", "--output-type", "json"
    ).assert_ok()
    assert blob_names(container_client) == {"data/keep/a.txt"}
    assert [e["source"] for e in result.events_of("folder_done")] == [str(src / "drop")]


def test_download_makes_folders_from_markers(tmp_path, run_azxfer, container_url, container_client):
    container_client.upload_blob("d/file.txt", b"x")
    container_client.upload_blob("d/empty", b"", metadata=MARKER)
    container_client.upload_blob("d/full", b"", metadata=MARKER)
    container_client.upload_blob("d/full/y.txt", b"y")
    container_client.upload_blob("d/slash/", b"")  # a zero-byte name ending in '/'
    container_client.upload_blob("d/data-slash/", b"kept")  # with data: a file, as before
    dest = tmp_path / "out"
    result = run_azxfer(
        "copy", container_url("d/"), dest, "-r", "--output-type", "json"
    ).assert_ok()

    root = dest / "d"
    assert tree_contents(root) == {
        "file.txt": b"x",
        "full/y.txt": b"y",
        "data-slash%2F": b"kept",
    }
    for folder in ("empty", "full", "slash"):
        assert (root / folder).is_dir(), folder
    assert os.listdir(root / "empty") == [] and os.listdir(root / "slash") == []
    finished = result.finished()
    assert (finished["files_total"], finished["folders_completed"]) == (3, 3)


def test_download_without_recursive_makes_no_folders(
    tmp_path, run_azxfer, container_url, container_client
):
    container_client.upload_blob("d/file.txt", b"x")
    container_client.upload_blob("d/empty", b"", metadata=MARKER)
    dest = tmp_path / "out"
    dest.mkdir()
    run_azxfer("copy", container_url("d/*"), dest).assert_ok()
    assert sorted(os.listdir(dest)) == ["file.txt"]


def test_sync_upload_with_stubs_is_idempotent(
    tmp_path, run_azxfer, container_url, container_client
):
    src = _source(tmp_path)
    first = run_azxfer(
        "sync", src, container_url(), "--include-directory-stub", "--output-type", "json"
    ).assert_ok()
    assert first.finished()["folders_completed"] == 4
    assert {"full", "empty", "outer", "outer/inner"} <= blob_names(container_client)

    again = run_azxfer(
        "sync", src, container_url(), "--include-directory-stub", "--output-type", "json"
    ).assert_ok()
    finished = again.finished()
    assert (finished["files_completed"], finished["folders_completed"]) == (0, 0)
    assert again.events_of("folder_done") == []


def test_sync_download_makes_empty_folders_once(
    tmp_path, run_azxfer, container_url, container_client
):
    container_client.upload_blob("a", b"", metadata=MARKER)  # listed before 'a-b', 'a/x'
    container_client.upload_blob("a-b", b"1")
    container_client.upload_blob("a/x", b"2")
    container_client.upload_blob("e", b"", metadata=MARKER)
    dest = tmp_path / "out"
    first = run_azxfer("sync", container_url(), dest, "--output-type", "json").assert_ok()
    assert (dest / "e").is_dir() and os.listdir(dest / "e") == []
    assert tree_contents(dest) == {"a-b": b"1", "a/x": b"2"}
    assert first.finished()["folders_completed"] == 2

    again = run_azxfer("sync", container_url(), dest, "--output-type", "json").assert_ok()
    assert again.finished()["folders_completed"] == 0
    assert again.finished()["files_completed"] == 0


def test_resume_makes_the_folders_a_killed_job_had_not_reached(
    tmp_path, run_azxfer, container_url, container_client
):
    """Folders are not journaled: a job killed before its listing ended enumerates again on
    resume, and makes (here: writes the markers of) the folders it had not made."""
    src = make_tree(tmp_path / "data", {"a.txt": 1, "b.txt": 2})
    (src / "z-empty").mkdir()  # walked after both files
    args = ("copy", src, container_url(), "-r", "--include-directory-stub")
    killed = run_azxfer(*args, "--output-type", "json", env={"AZXFER_TEST_CRASH": "enumerated:1"})
    assert killed.returncode == -9, killed.describe()
    assert "data/z-empty" not in blob_names(container_client)
    job_id = next(e["job_id"] for e in killed.events_of("job_started"))

    resumed = run_azxfer("resume", job_id, "--output-type", "json").assert_ok()
    assert resumed.finished()["status"] == "Completed", resumed.describe()
    assert resumed.finished()["folders_completed"] == 1
    marker = container_client.get_blob_client("data/z-empty").get_blob_properties()
    assert marker.metadata == MARKER and marker.size == 0
    assert blob_names(container_client) == {"data/a.txt", "data/b.txt", "data/z-empty"}
