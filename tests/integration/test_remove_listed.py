"""`remove` and `set-properties` with --list-of-files on Azure Files (the File REST stand-in)
and local folders, through the real CLI: each named path is looked up, never the whole
location listed — proved by the stand-in's request log (no listing of a directory not named)
and, locally, by a FIFO in the folder that a walk would report and a lookup never meets.
The selection is the full listing's (its --max-delete share needs that listing), a named
directory brings its tree, a missing name selects nothing, and kill -9 then resume acts on
each name once."""

from __future__ import annotations

import os
from urllib.parse import unquote

from helpers import blob_names, make_tree, tree_files
from seed import seed_blobs
from seed import seed_share as seed
from test_remove import journal_states
from test_remove_files import share_files
from test_resume import KILLED, crash, job_id_of

FILE = ("--type", "File")
JSON = ("--output-type", "json")
ODD = "späce ü 名.txt"  # a name with spaces and non-ASCII letters
NAMED = {"keep/a.txt": 1, "dir/x.txt": 2, "dir/sub/y.txt": 3, ODD: 4}
# What a list naming NAMED's paths (and two that are nothing there) selects.
SELECTED = {"keep/a.txt", "dir/x.txt", "dir/sub/y.txt", ODD}


def list_file(tmp_path, *lines: str):
    path = tmp_path / "list.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def listed_directories(file_standin, share: str) -> list[str]:
    """The share directories (relative to the share) that List Directories and Files read."""
    found = []
    for request in file_standin.requests_of("ListDirectoriesAndFiles"):
        path = unquote(request.path).split(f"/{share}", 1)[1]
        found.append(path.strip("/"))
    return found


def seed_share(share_client) -> dict[str, int]:
    """NAMED among many unrelated files, at the root and in directories never named."""
    others = {f"other{d}/f{i:02d}.txt": 1 for d in range(3) for i in range(30)}
    others |= {f"root{i:02d}.txt": 1 for i in range(40)}
    others |= {"dir-not/z.txt": 1, "keep/b.txt": 1, "dir.txt": 1}
    seed(share_client, {**others, **NAMED})
    return others


def test_files_each_name_is_looked_up(
    run_azxfer, share_url, share_client, share, file_standin, tmp_path
):
    others = seed_share(share_client)
    listing = list_file(tmp_path, "keep/a.txt", "dir", "dir/x.txt", "missing", "gone/x", ODD)
    base = ("remove", share_url(), "-r", "--list-of-files", listing, *FILE, *JSON)
    # Without --force the --max-delete share needs every file of the share: a whole listing.
    whole = run_azxfer(*base, "--dry-run").assert_ok()
    assert "" in listed_directories(file_standin, share)
    file_standin.clear()
    by_name = run_azxfer(*base, "--dry-run", "--force").assert_ok()
    # Only the named directory's tree was listed; the root and the others never were.
    assert sorted(listed_directories(file_standin, share)) == ["dir", "dir/sub"]
    assert {e["destination"] for e in whole.events_of("deleted")} == SELECTED
    assert {e["destination"] for e in by_name.events_of("deleted")} == SELECTED
    assert len(by_name.events_of("deleted")) == 4  # 'dir/x.txt' is named twice, removed once

    file_standin.clear()
    done = run_azxfer(*base, "--force").assert_ok()
    assert sorted(listed_directories(file_standin, share)) == ["dir", "dir/sub"]
    assert share_files(share_client) == set(others)
    assert done.finished()["status"] == "Completed"
    assert done.events_of("bulk_summary")[0]["done"] == 4
    assert share_client.get_directory_client("dir/sub").exists()  # named paths leave folders


def test_files_a_named_directory_under_a_path(
    run_azxfer, share_url, share_client, share, file_standin, tmp_path
):
    seed(share_client, {"d/a.txt": 1, "d/b.txt": 1, "d/sub/c.txt": 1, "d/sub/d.txt": 1, "e.txt": 1})
    listing = list_file(tmp_path, "a.txt", "# a comment", "", "sub")
    run_azxfer(
        "remove", share_url("d"), "-r", "--list-of-files", listing, "--force", *FILE
    ).assert_ok()
    assert listed_directories(file_standin, share) == ["d/sub"]
    assert share_files(share_client) == {"d/b.txt", "e.txt"}


def test_files_set_properties_metadata_by_name(
    run_azxfer, share_url, share_client, share, file_standin, tmp_path
):
    others = seed_share(share_client)
    listing = list_file(tmp_path, "dir", ODD, "missing")
    run_azxfer(
        "set-properties", share_url(), "-r", "--list-of-files", listing, "--metadata", "k=v",
        *FILE,
    ).assert_ok()  # fmt: skip
    assert sorted(listed_directories(file_standin, share)) == ["dir", "dir/sub"]

    def metadata(name: str) -> dict[str, str]:
        return dict(share_client.get_file_client(name).get_file_properties().metadata)

    for name in ("dir/x.txt", "dir/sub/y.txt", ODD):
        assert metadata(name) == {"k": "v"}, name
    assert metadata("keep/a.txt") == {} and metadata("dir.txt") == {}
    assert all(metadata(name) == {} for name in list(others)[:5])


def test_files_kill_9_then_resume_does_each_name_once(
    run_azxfer, share_url, share_client, share, file_standin, tmp_path
):
    named = {f"n/{i:02d} ü.txt": 1 for i in range(40)}
    seed(share_client, {**named, "keep.txt": 1, "other/k.txt": 1})
    listing = list_file(tmp_path, *named, "missing")
    first = run_azxfer(
        "remove", share_url(), "-r", "--list-of-files", listing, "--force", "--concurrency", "4",
        *FILE, *JSON, env=crash("completed:15"),
    )  # fmt: skip
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    states = journal_states(tmp_path, job_id)
    assert set(states) == set(named)  # every name journaled once, nothing else
    before = {ref for ref, state in states.items() if state == "completed"}
    assert 0 < len(before) < 40
    assert not before & share_files(share_client)

    file_standin.clear()
    resumed = run_azxfer("resume", job_id, *JSON).assert_ok()
    assert resumed.finished()["status"] == "Completed"
    assert file_standin.requests_of("ListDirectoriesAndFiles") == []  # the journal holds them
    again = [e["destination"] for e in resumed.events_of("deleted")]
    assert len(again) == len(set(again)) and not set(again) & before
    assert share_files(share_client) == {"keep.txt", "other/k.txt"}
    assert set(journal_states(tmp_path, job_id).values()) == {"completed"}


def test_local_each_name_is_looked_up(run_azxfer, tmp_path):
    root = make_tree(
        tmp_path / "tree",
        {**NAMED, "keep/b.txt": 1, "dir.txt": 1, "dir-not/z.txt": 1, "other/f.txt": 1},
    )
    # A walk of the folder meets it and says so; a lookup of the named paths never does.
    os.mkfifo(root / "a-fifo")
    listing = list_file(tmp_path, "keep/a.txt", "dir", "dir/x.txt", "missing", ODD)
    base = ("remove", root, "-r", "--list-of-files", listing, *JSON)
    whole = run_azxfer(*base, "--dry-run").assert_ok()
    walked = [e["message"] for e in whole.events_of("notice") if "FIFO" in e["message"]]
    assert len(walked) == 1, whole.describe()
    by_name = run_azxfer(*base, "--dry-run", "--force").assert_ok()
    assert not [e for e in by_name.events_of("notice") if "FIFO" in e["message"]]
    expected = {str(root / name) for name in SELECTED}
    assert {e["destination"] for e in whole.events_of("deleted")} == expected
    assert {e["destination"] for e in by_name.events_of("deleted")} == expected
    assert len(by_name.events_of("deleted")) == 4

    run_azxfer(*base, "--force").assert_ok()
    assert tree_files(root) == {"keep/b.txt", "dir.txt", "dir-not/z.txt", "other/f.txt"}
    assert (root / "dir" / "sub").is_dir()  # named paths leave folders


def test_local_a_named_fifo_is_skipped_as_a_walk_skips_it(run_azxfer, tmp_path):
    root = make_tree(tmp_path / "tree", {"a.txt": 1})
    os.mkfifo(root / "pipe")
    listing = list_file(tmp_path, "pipe", "a.txt")
    result = run_azxfer(
        "remove", root, "-r", "--list-of-files", listing, "--force", *JSON
    ).assert_ok()
    assert tree_files(root) == set() and (root / "pipe").exists()
    (notice,) = [e for e in result.events_of("notice") if "FIFO" in e["message"]]
    assert "pipe" in notice["message"]


def test_a_name_stepping_out_of_the_location_selects_nothing(run_azxfer, tmp_path):
    root = make_tree(tmp_path / "tree", {"a.txt": 1, "d/b.txt": 1})
    outside = make_tree(tmp_path / "beside", {"c.txt": 1})
    listing = list_file(tmp_path, "../beside/c.txt", "d/../a.txt", "./d/./b.txt", "../beside")
    result = run_azxfer(
        "remove", root, "-r", "--list-of-files", listing, "--force", *JSON
    ).assert_ok()
    assert tree_files(outside) == {"c.txt"}
    assert tree_files(root) == {"a.txt", "d/b.txt"}
    assert result.events_of("deleted") == []


def test_blob_names_stepping_aside_select_nothing_too(
    run_azxfer, container_client, container_url, tmp_path
):
    seed_blobs(container_client, {"a": 1, "d/b": 1, "d/c": 1})
    listing = list_file(tmp_path, "../a", "x/../b", "c")
    run_azxfer(
        "remove", container_url("d"), "-r", "--list-of-files", listing, "--force", *JSON
    ).assert_ok()
    assert blob_names(container_client) == {"a", "d/b"}


def test_a_name_under_a_linked_folder_is_skipped_as_a_walk_skips_it(run_azxfer, tmp_path):
    root = make_tree(tmp_path / "tree", {"a.txt": 1})
    outside = make_tree(tmp_path / "elsewhere", {"x.txt": 1, "sub/y.txt": 1})
    (root / "link").symlink_to(outside, target_is_directory=True)
    listing = list_file(tmp_path, "link/x.txt", "link/sub", "a.txt")
    result = run_azxfer(
        "remove", root, "-r", "--list-of-files", listing, "--force", *JSON
    ).assert_ok()
    assert tree_files(outside) == {"x.txt", "sub/y.txt"}
    assert tree_files(root) == set()
    said = [e["message"] for e in result.events_of("notice") if "symbolic link" in e["message"]]
    assert len(said) == 2, said
