"""`azxfer sync` with Azure Files through the real CLI: local ↔ share, share ↔ share and share
↔ blob against the File stand-in (and Azurite for Blob sides)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from helpers import make_tree, tree_contents
from seed import fresh_share

J = ("--output-type", "json")
LOCAL_FILE = ("--from-to", "LocalFile")
FILE_LOCAL = ("--from-to", "FileLocal")
WRITES = (
    "CreateFile",
    "PutRange",
    "PutRangeFromURL",
    "CopyFile",
    "SetFileProperties",
    "DeleteFile",
    "CreateDirectory",
    "DeleteDirectory",
)


@pytest.fixture
def new_share(share_service) -> Callable[[], str]:
    """A new share's URL each call (on the stand-in, the Azurite account's name and key)."""

    def make() -> str:
        name = fresh_share(share_service).share_name
        return f"{share_service.url.rstrip('/')}/{name}"

    return make


@pytest.fixture
def share_url(new_share) -> Iterator[str]:
    return new_share()


def share_tree(share_service, url: str) -> tuple[dict[str, bytes], set[str]]:
    """({file path: bytes}, {directory paths}) of the share at `url`."""
    share = share_service.get_share_client(url.rsplit("/", 1)[1])
    files: dict[str, bytes] = {}
    dirs: set[str] = set()

    def visit(path: str) -> None:
        for item in share.get_directory_client(path).list_directories_and_files():
            rel = f"{path}/{item['name']}" if path else item["name"]
            if item["is_directory"]:
                dirs.add(rel)
                visit(rel)
            else:
                files[rel] = share.get_file_client(rel).download_file().readall()

    visit("")
    return files, dirs


def deleted(result, share_url: str) -> list[tuple[str, bool, bool]]:
    """(path in the share, is a folder, dry run) of every deleted event, in order."""
    return [
        (e["destination"][len(share_url) + 1 :], e["folder"], e["dry_run"])
        for e in result.events_of("deleted")
    ]


def summary(result) -> dict:
    (event,) = result.events_of("sync_summary")
    return event


def writes(file_standin) -> list:
    return file_standin.requests_of(*WRITES)


def assert_wrote_nothing(result, file_standin) -> None:
    got = summary(result)
    assert got["copied"] == 0 and got["deleted"] == 0, result.describe()
    assert writes(file_standin) == [], [(r.op, r.path) for r in writes(file_standin)]
    assert result.finished()["folders_completed"] == 0, result.describe()


TREE = {
    "top.txt": b"top",
    "a/one.txt": b"one",
    "a/b/two.txt": 2000,
    "a-b.txt": b"dash",  # '-' sorts before '/': the listing must not put it after a/
    "A.md": b"upper",
    "zero.bin": b"",
    "deep/x/y/z.txt": b"deep",
}


def test_local_to_share_twice_then_back_twice_writes_nothing_the_second_time(
    tmp_path, run_azxfer, share_url, share_service, file_standin
):
    src = make_tree(tmp_path / "src", TREE)
    (src / "empty" / "inner").mkdir(parents=True)

    first = run_azxfer("sync", src, share_url, *LOCAL_FILE, *J).assert_ok()
    assert summary(first)["copied"] == len(TREE)
    files, dirs = share_tree(share_service, share_url)
    assert files == tree_contents(src)
    assert {"empty", "empty/inner", "a/b", "deep/x/y"} <= dirs

    file_standin.clear()
    again = run_azxfer("sync", src, share_url, *LOCAL_FILE, *J).assert_ok()
    assert_wrote_nothing(again, file_standin)
    assert summary(again)["skipped_identical"] == len(TREE)

    out = tmp_path / "out"
    down = run_azxfer("sync", share_url, out, *FILE_LOCAL, *J).assert_ok()
    assert summary(down)["copied"] == len(TREE)
    assert tree_contents(out) == tree_contents(src)
    assert os.listdir(out / "empty" / "inner") == []
    # The share keeps the local mtime as the file's last-write time, and the download sets it.
    assert abs(os.stat(out / "a/b/two.txt").st_mtime - os.stat(src / "a/b/two.txt").st_mtime) < 1

    file_standin.clear()
    down_again = run_azxfer("sync", share_url, out, *FILE_LOCAL, *J).assert_ok()
    got = summary(down_again)
    assert (got["copied"], got["skipped_identical"]) == (0, len(TREE)), down_again.describe()
    assert file_standin.requests_of("GetFile") == []


def test_an_edit_a_new_file_and_a_deleted_file_propagate(
    tmp_path, run_azxfer, share_url, share_service, file_standin
):
    src = make_tree(tmp_path / "src", TREE)
    args = ("sync", src, share_url, "--delete-destination", "true", "--max-delete", "100%")
    run_azxfer(*args, *LOCAL_FILE, *J).assert_ok()

    (src / "a" / "one.txt").write_bytes(b"one, edited")
    (src / "a" / "new.txt").write_bytes(b"new")
    (src / "top.txt").unlink()
    file_standin.clear()
    result = run_azxfer(*args, *LOCAL_FILE, *J).assert_ok()
    got = summary(result)
    assert (got["copied"], got["deleted"]) == (2, 1), result.describe()
    assert deleted(result, share_url) == [("top.txt", False, False)]
    created = {r.path.rsplit("/", 2)[-2:][-1] for r in file_standin.requests_of("CreateFile")}
    assert created == {"one.txt", "new.txt"}, created
    assert share_tree(share_service, share_url)[0] == tree_contents(src)


def test_deletes_remove_emptied_folders_deepest_first_and_keep_one_with_an_excluded_file(
    tmp_path, run_azxfer, share_url, share_service, file_standin
):
    src = make_tree(
        tmp_path / "src",
        {"keep.txt": b"k", "gone/a.txt": b"a", "gone/b/c.txt": b"c", "gone/b/d/e.txt": b"e"},
    )
    src_excl = make_tree(tmp_path / "src", {"held/note.log": b"log", "held/x.txt": b"x"})
    assert src_excl == src
    run_azxfer("sync", src, share_url, *LOCAL_FILE, *J).assert_ok()

    for path in ("gone/a.txt", "gone/b/c.txt", "gone/b/d/e.txt", "held/x.txt", "held/note.log"):
        (src / path).unlink()
    for folder in ("gone/b/d", "gone/b", "gone", "held"):
        (src / folder).rmdir()
    file_standin.clear()
    args = ("sync", src, share_url, "--delete-destination", "true", "--max-delete", "100%")
    result = run_azxfer(*args, "--exclude-pattern", "*.log", *LOCAL_FILE, *J).assert_ok()

    files, dirs = share_tree(share_service, share_url)
    assert files == {"keep.txt": b"k", "held/note.log": b"log"}
    assert dirs == {"held"}
    folders = [path for path, folder, _ in deleted(result, share_url) if folder]
    assert folders == ["gone/b/d", "gone/b", "gone"], result.describe()
    # Each folder was deleted only after what was in it.
    order = [
        (r.op, r.path.split("/", 3)[-1])
        for r in file_standin.requests
        if r.method == "DELETE" and r.status < 300
    ]
    position = {path: i for i, (_, path) in enumerate(order)}
    assert position["gone/b/d/e.txt"] < position["gone/b/d"] < position["gone/b"]
    assert position["gone/a.txt"] < position["gone"] and position["gone/b"] < position["gone"]
    got = summary(result)
    assert (got["deleted"], got["folders_deleted"], got["folders_kept"]) == (4, 3, 1)
    assert any("/held':" in n["message"] for n in result.events_of("notice")), result.describe()


def test_a_dry_run_lists_exactly_what_would_change(
    tmp_path, run_azxfer, share_url, share_service, file_standin
):
    src = make_tree(tmp_path / "src", {"same.txt": b"same", "old/x.txt": b"x"})
    run_azxfer("sync", src, share_url, *LOCAL_FILE, *J).assert_ok()
    (src / "old" / "x.txt").unlink()
    (src / "old").rmdir()
    (src / "new.txt").write_bytes(b"new")
    before = share_tree(share_service, share_url)
    file_standin.clear()
    args = ("sync", src, share_url, "--delete-destination", "true", "--max-delete", "100%")
    result = run_azxfer(*args, "--dry-run", *LOCAL_FILE, *J).assert_ok()
    assert share_tree(share_service, share_url) == before
    assert writes(file_standin) == []
    queued = [e["source"] for e in result.events_of("transfer_queued")]
    assert [q.rsplit("/", 1)[1] for q in queued] == ["new.txt"], result.describe()
    assert deleted(result, share_url) == [("old/x.txt", False, True), ("old", True, True)]


def test_case_differing_names_pair_with_the_share_s_file(
    tmp_path, run_azxfer, share_url, share_service, file_standin
):
    src = make_tree(tmp_path / "src", {"Docs/Readme.TXT": b"readme", "b.txt": b"b"})
    run_azxfer("sync", src, share_url, *LOCAL_FILE, *J).assert_ok()
    os.rename(src / "Docs", src / "docs")
    os.rename(src / "docs" / "Readme.TXT", src / "docs" / "readme.txt")
    file_standin.clear()
    args = ("sync", src, share_url, "--delete-destination", "true", "--max-delete", "100%")
    result = run_azxfer(*args, *LOCAL_FILE, *J).assert_ok()
    assert_wrote_nothing(result, file_standin)
    assert result.events_of("deleted") == []
    assert share_tree(share_service, share_url)[0] == {"Docs/Readme.TXT": b"readme", "b.txt": b"b"}


def test_share_to_share_is_idempotent_and_deletes(
    tmp_path, run_azxfer, share_url, new_share, share_service, file_standin
):
    src = make_tree(tmp_path / "src", TREE)
    (src / "hollow").mkdir()
    run_azxfer("sync", src, share_url, *LOCAL_FILE, *J).assert_ok()
    other = new_share()
    args = ("sync", share_url, other, "--from-to", "FileFile", *J)
    first = run_azxfer(*args).assert_ok()
    assert summary(first)["copied"] == len(TREE)
    assert share_tree(share_service, other)[0] == tree_contents(src)
    assert "hollow" in share_tree(share_service, other)[1]

    file_standin.clear()
    again = run_azxfer(*args).assert_ok()
    assert_wrote_nothing(again, file_standin)


def test_a_share_synced_with_itself_is_refused(run_azxfer, share_url):
    result = run_azxfer("sync", f"{share_url}/Dir", f"{share_url}/dir/sub", "--from-to", "FileFile")
    result.assert_usage_error()
    assert "overlap" in result.stderr


def test_share_to_blob_and_blob_to_share_are_idempotent(
    tmp_path, run_azxfer, share_url, new_share, share_service, container_url, file_standin
):
    src = make_tree(tmp_path / "src", TREE)
    run_azxfer("sync", src, share_url, *LOCAL_FILE, *J).assert_ok()

    to_blob = ("sync", share_url, container_url(), "--from-to", "FileBlob", *J)
    first = run_azxfer(*to_blob).assert_ok()
    assert summary(first)["copied"] == len(TREE)
    again = run_azxfer(*to_blob).assert_ok()
    got = summary(again)
    assert (got["copied"], got["skipped_identical"]) == (0, len(TREE)), again.describe()

    back = new_share()
    to_share = ("sync", container_url(), back, "--from-to", "BlobFile", *J)
    run_azxfer(*to_share).assert_ok()
    assert share_tree(share_service, back)[0] == tree_contents(src)
    file_standin.clear()
    again = run_azxfer(*to_share).assert_ok()
    assert_wrote_nothing(again, file_standin)


def test_two_thousand_files_in_two_hundred_folders_sync_then_write_nothing(
    tmp_path, run_azxfer, share_url, share_service, file_standin
):
    # (Peak RSS is measured with /usr/bin/time -v outside the tests: see the branch report.)
    files = {f"d{d:03}/sub/f{f:02}.txt": b"x" * 64 for d in range(200) for f in range(10)}
    src = make_tree(tmp_path / "src", files)
    first = run_azxfer("sync", src, share_url, *LOCAL_FILE, *J).assert_ok()
    assert summary(first)["copied"] == 2000
    file_standin.clear()
    again = run_azxfer("sync", src, share_url, *LOCAL_FILE, *J).assert_ok()
    assert summary(again)["skipped_identical"] == 2000
    assert writes(file_standin) == []
    listed = {r.path for r in file_standin.requests_of("ListDirectoriesAndFiles")}
    assert len(listed) == 401  # the root, 200 folders and their 'sub': each listed once


def test_share_to_local_deletes_remove_folders_the_share_lacks_deepest_first(
    tmp_path, run_azxfer, share_url, share_service
):
    src = make_tree(tmp_path / "src", {"keep.txt": b"k", "kept/in.txt": b"in"})
    run_azxfer("sync", src, share_url, *LOCAL_FILE, *J).assert_ok()
    out = make_tree(
        tmp_path / "out",
        {
            "gone/a.txt": b"a",
            "gone/b/c.txt": b"c",
            "gone/b/d/e.txt": b"e",
            "held/note.log": b"log",
            "held/x.txt": b"x",
        },
    )
    (out / "hollow" / "inner").mkdir(parents=True)
    args = ("sync", share_url, out, "--delete-destination", "true", "--max-delete", "100%")
    result = run_azxfer(*args, "--exclude-pattern", "*.log", *FILE_LOCAL, *J).assert_ok()

    assert tree_contents(out) == {"keep.txt": b"k", "kept/in.txt": b"in", "held/note.log": b"log"}
    assert sorted(p.name for p in out.iterdir()) == ["held", "keep.txt", "kept"]
    folders = [
        os.path.relpath(e["destination"], out).replace(os.sep, "/")
        for e in result.events_of("deleted")
        if e["folder"]
    ]
    assert sorted(folders) == ["gone", "gone/b", "gone/b/d", "hollow", "hollow/inner"]
    position = {path: i for i, path in enumerate(folders)}  # each after what was in it
    assert position["gone/b/d"] < position["gone/b"] < position["gone"]
    assert position["hollow/inner"] < position["hollow"]
    got = summary(result)
    assert (got["deleted"], got["folders_deleted"], got["folders_kept"]) == (4, 5, 1)
    assert any("held'" in n["message"] for n in result.events_of("notice")), result.describe()
