"""Empty folders travel local ↔ Azure Files through the real CLI (the File stand-in).

The Files driver implements the `Directories`
capability (`async make_directory(ref, entry)`) and `FolderSource` (`lists_folders`, its
directory listings yielding folder entries) from `azxfer.endpoints.base`.
"""

from __future__ import annotations

import os

from helpers import make_tree, tree_contents

LOCAL_FILE = ("--from-to", "LocalFile")
FILE_LOCAL = ("--from-to", "FileLocal")


def share_dirs(share_client, directory: str = "") -> set[str]:
    """Every directory under `directory` of the share, by its path."""
    found = set()
    for item in share_client.get_directory_client(directory).list_directories_and_files():
        if item["is_directory"]:
            path = f"{directory}/{item['name']}" if directory else item["name"]
            found |= {path} | share_dirs(share_client, path)
    return found


def test_empty_folders_travel_local_to_share_and_back(
    tmp_path, run_azxfer, share_url, share_client
):
    src = make_tree(tmp_path / "data", {"top.txt": 3, "full/a.txt": 4})
    for folder in ("empty", "outer/inner", "full/nested-empty"):
        (src / folder).mkdir(parents=True)

    up = run_azxfer(
        "copy", src, share_url(), "-r", *LOCAL_FILE, "--output-type", "json"
    ).assert_ok()
    assert share_dirs(share_client) >= {
        "data/empty",
        "data/outer",
        "data/outer/inner",
        "data/full/nested-empty",
    }
    finished = up.finished()
    assert finished["files_total"] == 2  # folders are never counted as files
    assert finished["folders_failed"] == 0 and finished["folders_skipped"] == 0
    assert finished["folders_completed"] >= 4

    out = tmp_path / "out"
    down = run_azxfer(
        "copy", share_url("data"), out, "-r", *FILE_LOCAL, "--output-type", "json"
    ).assert_ok()
    assert down.finished()["files_total"] == 2
    assert tree_contents(out / "data") == tree_contents(src)
    for folder in ("empty", "outer/inner", "full/nested-empty"):
        assert os.listdir(out / "data" / folder) == [], folder


def test_sync_to_a_share_makes_empty_folders_once(tmp_path, run_azxfer, share_url, share_client):
    src = make_tree(tmp_path / "data", {"f.txt": 1})
    (src / "e" / "deeper").mkdir(parents=True)
    first = run_azxfer("sync", src, share_url(), *LOCAL_FILE, "--output-type", "json")
    first.assert_ok()
    assert {"e", "e/deeper"} <= share_dirs(share_client)
    again = run_azxfer("sync", src, share_url(), *LOCAL_FILE, "--output-type", "json")
    again.assert_ok()
    assert again.finished()["folders_completed"] == 0
    assert again.finished()["files_completed"] == 0
