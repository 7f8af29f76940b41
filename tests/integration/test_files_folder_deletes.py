"""Folder deletes on Azure Files (the File stand-in), through the real CLI: `remove -r`, sync's
--delete-destination and move's --delete-empty-src-dirs delete the folders of one depth
concurrently, deepest depth first; a folder the filters left a file in stays with every
folder on its path, and no other; kill -9 in the folder phase then `resume` deletes each
folder once."""

from __future__ import annotations

from collections import Counter

from helpers import make_tree, tree_files
from seed import seed_share
from test_files_dirs import share_dirs
from test_remove_files import share_files
from test_resume import KILLED, crash, job_id_of

FILE = ("--type", "File")
JSON = ("--output-type", "json")
# Each Delete Directory is held this long, so deletes sent together are answered together.
DELETE_DELAY = 0.03


def deep_tree(root: str, fan: int, depth: int) -> tuple[dict[str, int], list[str]]:
    """A tree `depth` folders deep under `root`, `fan` folders in each, one file in each
    leaf: (files, every folder under the root)."""
    level = [root]
    folders: list[str] = []
    for d in range(depth):
        level = [f"{parent}/{chr(97 + d)}{i}" for parent in level for i in range(fan)]
        folders += level
    return {f"{leaf}/f.txt": 1 for leaf in level}, folders


def folder_deletes(file_standin) -> list[tuple[str, int]]:
    """(path in the share, status) of every Delete Directory, in the order they came."""
    return [
        (r.path.split("/", 3)[-1], r.status) for r in file_standin.requests_of("DeleteDirectory")
    ]


def assert_deepest_depth_first(deletes: list[tuple[str, int]]) -> None:
    """No folder was asked to go before every deeper one had been asked."""
    depths = [path.count("/") for path, _ in deletes]
    assert depths == sorted(depths, reverse=True), deletes


def test_remove_deletes_a_deep_tree_a_depth_at_a_time_concurrently(
    run_azxfer, share_url, share_client, file_standin
):
    files, folders = deep_tree("d", 3, 3)
    seed_share(share_client, {**files, "keep/k.txt": 1}, dirs=("d/a0/empty",))
    file_standin.clear()
    file_standin.delays["DeleteDirectory"] = DELETE_DELAY
    result = run_azxfer(
        "remove", share_url("d"), "-r", "--force", "--concurrency", "8", *FILE, *JSON
    ).assert_ok()

    assert share_files(share_client) == {"keep/k.txt"}
    assert share_dirs(share_client) == {"keep"}
    deletes = folder_deletes(file_standin)
    every = {*folders, "d/a0/empty", "d"}
    assert Counter(path for path, _ in deletes) == Counter(every)  # each asked once
    assert all(status < 300 for _, status in deletes), deletes
    assert_deepest_depth_first(deletes)
    assert file_standin.max_in_flight("DeleteDirectory") > 1
    summary = result.events_of("bulk_summary")[0]
    assert (summary["done"], summary["folders_removed"]) == (27, len(every))


def test_sync_keeps_every_folder_on_the_path_of_an_excluded_file_and_no_other(
    run_azxfer, tmp_path, share_url, share_client, file_standin
):
    files, folders = deep_tree("d", 3, 3)
    held = "d/a1/b2/c0/note.log"
    seed_share(share_client, {**files, held: 1, "top.txt": b"top"})
    src = make_tree(tmp_path / "src", {"top.txt": b"top"})
    file_standin.clear()
    file_standin.delays["DeleteDirectory"] = DELETE_DELAY
    args = ("sync", src, share_url(), "--delete-destination", "true", "--max-delete", "100%")
    result = run_azxfer(
        *args, "--exclude-pattern", "*.log", "--from-to", "LocalFile", *JSON
    ).assert_ok()

    assert share_files(share_client) == {"top.txt", held}
    assert share_dirs(share_client) == {"d", "d/a1", "d/a1/b2", "d/a1/b2/c0"}
    deletes = folder_deletes(file_standin)
    assert_deepest_depth_first(deletes)
    kept = {path for path, status in deletes if status == 409}
    assert kept == {"d", "d/a1", "d/a1/b2", "d/a1/b2/c0"}, deletes
    assert file_standin.max_in_flight("DeleteDirectory") > 1
    assert sum(1 for e in result.events_of("deleted") if e["folder"]) == len(folders) - 3


def test_move_keeps_every_folder_on_the_path_of_an_excluded_file_and_no_other(
    run_azxfer, tmp_path, share_url, share_client, file_standin
):
    files, folders = deep_tree("d", 3, 3)
    held = "d/a2/b1/c1/note.log"
    seed_share(share_client, {**files, held: 1})
    file_standin.clear()
    file_standin.delays["DeleteDirectory"] = DELETE_DELAY
    result = run_azxfer(
        "copy", share_url("d"), tmp_path / "out", "-r", "--move", "--delete-empty-src-dirs",
        "--exclude-pattern", "*.log", "--from-to", "FileLocal", *JSON,
    ).assert_ok()  # fmt: skip

    assert share_files(share_client) == {held}
    assert share_dirs(share_client) == {"d", "d/a2", "d/a2/b1", "d/a2/b1/c1"}
    assert len(tree_files(tmp_path / "out")) == len(files)
    deletes = folder_deletes(file_standin)
    assert_deepest_depth_first(deletes)
    kept = {path for path, status in deletes if status == 409}
    assert kept == {"d", "d/a2", "d/a2/b1", "d/a2/b1/c1"}, deletes
    assert file_standin.max_in_flight("DeleteDirectory") > 1
    removed = {e["source"] for e in result.events_of("source_folder_removed")}
    assert len(removed) == len(folders) - 3, result.describe()


def test_kill_9_in_the_folder_phase_then_resume_deletes_each_folder_once(
    run_azxfer, share_url, share_client, file_standin
):
    files, folders = deep_tree("d", 4, 3)  # 64 files; folders 4 + 16 + 64, and d
    seed_share(share_client, files)
    file_standin.clear()
    file_standin.delays["DeleteDirectory"] = DELETE_DELAY
    first = run_azxfer(
        "remove", share_url("d"), "-r", "--force", "--concurrency", "8", *FILE, *JSON,
        env=crash(f"completed:{len(files) + 30}"),
    )  # fmt: skip
    assert first.returncode == KILLED, first.describe()
    assert share_files(share_client) == set()
    assert 0 < len(share_dirs(share_client)) < len(folders) + 1

    resumed = run_azxfer("resume", job_id_of(first), *JSON).assert_ok()
    assert resumed.finished()["status"] == "Completed"
    assert share_files(share_client) == set() and share_dirs(share_client) == set()
    deletes = folder_deletes(file_standin)
    done = Counter(path for path, status in deletes if status < 300)
    assert done == Counter([*folders, "d"])  # every folder deleted, none twice
    # The resume asks only for the folders the killed run had not journaled as done (the
    # 30 journaled are not asked again); those of them the killed run had in flight (at
    # most --concurrency) were deleted then, and are found gone now.
    gone_already = len(deletes) - (len(folders) + 1)
    assert 0 <= gone_already <= 8, deletes
    again = sum(1 for e in resumed.events_of("deleted") if e["folder"])
    assert again == len(folders) + 1 - 30, resumed.describe()
    assert resumed.events_of("bulk_summary")[0]["folders_removed"] == again


def file_deletes(file_standin) -> list[tuple[str, int]]:
    return [(r.path.split("/", 3)[-1], r.status) for r in file_standin.requests_of("DeleteFile")]


def test_with_force_files_are_deleted_while_the_listing_still_runs(
    run_azxfer, share_url, share_client, file_standin
):
    files, _ = deep_tree("d", 4, 3)  # 64 files in 64 folders: 85 listings
    more = {f"d/a0/b0/c0/g{i:03d}": 1 for i in range(140)}  # full pages early in the walk
    seed_share(share_client, {**files, **more})
    file_standin.clear()
    file_standin.delays["ListDirectoriesAndFiles"] = 0.01
    run_azxfer("remove", share_url("d"), "-r", "--force", *FILE, *JSON).assert_ok()

    ops = [r.op for r in file_standin.requests]
    last_listing = len(ops) - 1 - ops[::-1].index("ListDirectoriesAndFiles")
    assert ops.index("DeleteFile") < last_listing  # deleting began before the listing ended
    assert ops.index("DeleteDirectory") > last_listing  # folders only after it
    assert share_files(share_client) == set() and share_dirs(share_client) == set()


def test_without_force_nothing_is_deleted_before_the_listing_ends(
    run_azxfer, share_url, share_client, file_standin
):
    files, _ = deep_tree("d", 4, 3)
    seed_share(share_client, {**files, **{f"d/a0/b0/c0/g{i:03d}": 1 for i in range(140)}})
    file_standin.clear()
    run_azxfer(
        "remove", share_url("d"), "-r", "--max-delete", "100%", *FILE, *JSON
    ).assert_ok()  # a --max-delete share needs the whole listing first
    ops = [r.op for r in file_standin.requests]
    last_listing = len(ops) - 1 - ops[::-1].index("ListDirectoriesAndFiles")
    assert ops.index("DeleteFile") > last_listing
    assert share_files(share_client) == set()


def test_kill_9_while_listing_and_deleting_then_resume_deletes_each_file_once(
    run_azxfer, share_url, share_client, file_standin
):
    files, folders = deep_tree("d", 4, 3)
    more = {f"d/a0/b0/c0/g{i:03d}": 1 for i in range(200)}
    seed_share(share_client, {**files, **more})
    file_standin.clear()
    file_standin.delays["ListDirectoriesAndFiles"] = 0.01
    first = run_azxfer(
        "remove", share_url("d"), "-r", "--force", "--concurrency", "8", *FILE, *JSON,
        env=crash("completed:100"),
    )  # fmt: skip
    assert first.returncode == KILLED, first.describe()
    assert not first.events_of("enumeration_done")  # killed while the listing ran
    assert 0 < len(share_files(share_client)) < len(files) + len(more)

    resumed = run_azxfer("resume", job_id_of(first), *JSON).assert_ok()
    assert resumed.finished()["status"] == "Completed"
    assert share_files(share_client) == set() and share_dirs(share_client) == set()
    done = Counter(path for path, status in file_deletes(file_standin) if status < 300)
    assert done == Counter([*files, *more])  # every file deleted, none twice
    summary = resumed.events_of("bulk_summary")[0]
    assert summary["folders_removed"] == len(folders) + 1
