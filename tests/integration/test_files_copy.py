"""`azxfer copy` between local folders and Azure Files shares, through the real CLI against
the File REST stand-in (`file_standin`): naming, round trips with mtimes, overwrite modes,
dry runs and the errors a share adds."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import data_for, md5, tree_contents

MiB = 1024 * 1024
LOCAL_FILE = ("--from-to", "LocalFile")
FILE_LOCAL = ("--from-to", "FileLocal")


def share_contents(share_client, directory: str = "") -> dict[str, bytes]:
    """Every file under `directory` of the share, by its path below it."""
    prefix = f"{directory}/" if directory else ""
    return {path[len(prefix) :]: data for path, data in _walk(share_client, directory).items()}


def _walk(share_client, directory: str) -> dict[str, bytes]:
    found = {}
    for item in share_client.get_directory_client(directory).list_directories_and_files():
        path = f"{directory}/{item['name']}" if directory else item["name"]
        if item["is_directory"]:
            found.update(_walk(share_client, path))
        else:
            found[path] = share_client.get_file_client(path).download_file().readall()
    return found


def local_mtimes(root: Path) -> dict[str, int]:
    """Every file's mtime under `root`, in microseconds: the share keeps 100 ns ticks, and a
    download sets them through a float of seconds (about 0.2 µs apart at today's times)."""
    return {
        p.relative_to(root).as_posix(): round(p.stat().st_mtime_ns / 1000)
        for p in root.rglob("*")
        if p.is_file()
    }


EDGE_TREE: dict[str, bytes | int] = {
    "plain.txt": 100,
    "with space/a file.txt": 10,
    "unicodé/日本語 ☃.bin": 300,
    "percent/50%.txt": 5,
    "hash/#1.txt": 7,
    "empty.bin": 0,
    "deep/a/b/c/d/e/f/leaf.txt": 20,
    "deep/a/zero": 0,
    "big/several-chunks.bin": 9 * MiB + 123,
}


def set_old_mtimes(root: Path) -> None:
    """Distinct, sub-second mtimes in the past, so a copy that keeps them is told apart."""
    for n, path in enumerate(sorted(p for p in root.rglob("*") if p.is_file())):
        ns = 1_600_000_000_000_000_000 + n * 1_000_000_123_456
        os.utime(path, ns=(ns, ns))


def test_edge_tree_round_trip_is_byte_identical_with_mtimes_kept(
    tmp_path, make_tree, run_azxfer, share_url, share_client
):
    src = make_tree(tmp_path / "data", EDGE_TREE)
    set_old_mtimes(src)
    up = run_azxfer("copy", src, share_url(), "-r", *LOCAL_FILE, "--output-type", "json")
    up.assert_ok()
    assert up.finished()["status"] == "Completed"
    assert up.finished()["files_completed"] == len(EDGE_TREE)
    assert share_contents(share_client, "data") == tree_contents(src)
    # The share keeps each file's last-write time (100 ns ticks) and its whole-file MD5.
    props = share_client.get_file_client("data/big/several-chunks.bin").get_file_properties()
    assert props.content_settings.content_md5 == md5((src / "big/several-chunks.bin").read_bytes())
    written = props.last_write_time.timestamp()
    assert abs(written - (src / "big/several-chunks.bin").stat().st_mtime) < 1e-5

    dst = tmp_path / "back"
    down = run_azxfer(
        "copy", share_url("data"), dst, "-r", *FILE_LOCAL,
        "--check-md5", "FailIfDifferentOrMissing", "--output-type", "json",
    )  # fmt: skip
    down.assert_ok()
    assert down.finished()["files_completed"] == len(EDGE_TREE)
    assert tree_contents(dst / "data") == tree_contents(src)
    assert local_mtimes(dst / "data") == local_mtimes(src)


def test_single_file_up_and_down(tmp_path, make_tree, run_azxfer, share_url, share_client):
    src = make_tree(tmp_path / "src", {"report.txt": 5 * MiB + 1})
    run_azxfer("copy", src / "report.txt", share_url("dir/"), *LOCAL_FILE).assert_ok()
    assert share_contents(share_client, "dir") == {
        "report.txt": data_for("report.txt", 5 * MiB + 1)
    }
    content = share_client.get_file_client("dir/report.txt").get_file_properties().content_settings
    assert content.content_type == "text/plain"

    run_azxfer("copy", src / "report.txt", share_url("renamed.bin"), *LOCAL_FILE).assert_ok()
    assert share_contents(share_client)["renamed.bin"] == data_for("report.txt", 5 * MiB + 1)

    down = tmp_path / "down.txt"
    run_azxfer(
        "copy", share_url("dir/report.txt"), down, *FILE_LOCAL,
        "--check-md5", "FailIfDifferentOrMissing",
    ).assert_ok()  # fmt: skip
    assert down.read_bytes() == data_for("report.txt", 5 * MiB + 1)


def test_into_an_existing_directory_a_single_file_keeps_its_name(
    tmp_path, make_tree, run_azxfer, share_url, share_client
):
    share_client.create_directory("existing")
    src = make_tree(tmp_path / "src", {"a.txt": 3})
    run_azxfer("copy", src / "a.txt", share_url("existing"), *LOCAL_FILE).assert_ok()
    assert share_contents(share_client, "existing") == {"a.txt": data_for("a.txt", 3)}


def test_wildcards_select_by_name_both_ways(
    tmp_path, make_tree, run_azxfer, share_url, share_client
):
    src = make_tree(tmp_path / "src", {"a.csv": 1, "b.csv": 2, "c.txt": 3, "sub/d.csv": 4})
    run_azxfer("copy", f"{src}/*.csv", share_url("in"), *LOCAL_FILE).assert_ok()
    assert set(share_contents(share_client, "in")) == {"a.csv", "b.csv"}

    run_azxfer("copy", src, share_url(), "-r", "--as-subdir=false", *LOCAL_FILE).assert_ok()
    dst = tmp_path / "dst"
    run_azxfer("copy", share_url("*.csv"), dst, *FILE_LOCAL).assert_ok()
    assert tree_contents(dst) == {"a.csv": data_for("a.csv", 1), "b.csv": data_for("b.csv", 2)}


def test_as_subdir_false_puts_the_folder_contents_at_the_destination(
    tmp_path, make_tree, run_azxfer, share_url, share_client
):
    src = make_tree(tmp_path / "data", {"x/one.txt": 1, "two.txt": 2})
    run_azxfer("copy", src, share_url("to"), "-r", "--as-subdir=false", *LOCAL_FILE).assert_ok()
    assert share_contents(share_client, "to") == tree_contents(src)
    dst = tmp_path / "dst"
    run_azxfer("copy", share_url("to"), dst, "-r", "--as-subdir=false", *FILE_LOCAL).assert_ok()
    assert tree_contents(dst) == tree_contents(src)


def test_overwrite_false_and_if_source_newer(
    tmp_path, make_tree, run_azxfer, share_url, share_client
):
    src = make_tree(tmp_path / "src", {"f.txt": 10})
    run_azxfer("copy", src / "f.txt", share_url("f.txt"), *LOCAL_FILE).assert_ok()
    (src / "f.txt").write_bytes(b"changed")
    old = 1_500_000_000
    os.utime(src / "f.txt", (old, old))

    kept = run_azxfer(
        "copy", src / "f.txt", share_url("f.txt"), *LOCAL_FILE, "--overwrite", "false",
        "--output-type", "json",
    )  # fmt: skip
    kept.assert_ok()
    assert kept.finished()["files_skipped"] == 1
    newer = run_azxfer(
        "copy", src / "f.txt", share_url("f.txt"), *LOCAL_FILE, "--overwrite", "ifSourceNewer",
        "--output-type", "json",
    )  # fmt: skip
    newer.assert_ok()
    assert newer.finished()["files_skipped"] == 1  # the share's copy is newer than 2017
    assert share_contents(share_client)["f.txt"] == data_for("f.txt", 10)

    os.utime(src / "f.txt")  # now: newer than the share's copy
    run_azxfer(
        "copy", src / "f.txt", share_url("f.txt"), *LOCAL_FILE, "--overwrite", "ifSourceNewer"
    ).assert_ok()
    assert share_contents(share_client)["f.txt"] == b"changed"


def test_dry_run_writes_nothing_and_reports_every_file(
    tmp_path, make_tree, run_azxfer, share_url, share_client
):
    src = make_tree(tmp_path / "data", {"a.txt": 1, "b/c.txt": 2})
    r = run_azxfer(
        "copy", src, share_url(), "-r", *LOCAL_FILE, "--dry-run", "--output-type", "json"
    )
    r.assert_ok()
    queued = {e["destination"].rpartition("/data/")[2] for e in r.events_of("transfer_queued")}
    assert queued == {"a.txt", "b/c.txt"}
    assert share_contents(share_client) == {}


def test_json_events_name_share_urls_and_never_the_key(
    tmp_path, make_tree, run_azxfer, share_url, azurite
):
    src = make_tree(tmp_path / "data", {"a.txt": 1})
    r = run_azxfer("copy", src / "a.txt", share_url(), *LOCAL_FILE, "--output-type", "json")
    r.assert_ok()
    (done,) = r.events_of("transfer_done")
    assert done["outcome"] == "completed", r.describe()
    assert done["destination"] == share_url("a.txt")
    assert azurite.key not in r.stdout + r.stderr


def test_a_missing_share_is_one_job_error_naming_it(
    tmp_path, make_tree, run_azxfer, file_standin, azurite
):
    src = make_tree(tmp_path / "data", {"a.txt": 1, "b.txt": 2})
    missing = f"{file_standin.account_url(azurite.account)}/nosuchshare"
    up = run_azxfer("copy", src, missing, "-r", *LOCAL_FILE)
    up.assert_exit(1)
    lines = [ln for ln in up.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("azxfer: error: "), up.describe()
    assert "'nosuchshare'" in lines[0] and "does not exist" in lines[0]

    down = run_azxfer("copy", missing, tmp_path / "dst", "-r", *FILE_LOCAL)
    down.assert_exit(1)
    lines = [ln for ln in down.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "'nosuchshare'" in lines[0], down.describe()
    assert not (tmp_path / "dst").exists() or not any((tmp_path / "dst").iterdir())


def test_download_checks_the_stored_md5_without_asking_each_files_properties(
    tmp_path, make_tree, run_azxfer, share_url, share_client, file_standin
):
    from azure.storage.fileshare import ContentSettings

    src = make_tree(tmp_path / "src", {"good.txt": 100, "bad.txt": 200, "big.bin": 9 * MiB})
    run_azxfer("copy", src, share_url(), "-r", *LOCAL_FILE).assert_ok()
    # The stored MD5 of one file no longer matches its data (as after a corrupting writer).
    bad = share_client.get_file_client("src/bad.txt")
    wrong = ContentSettings(content_type="text/plain", content_md5=bytearray(md5(b"other")))
    bad.set_http_headers(content_settings=wrong)
    file_standin.clear()

    down = run_azxfer(
        "copy", share_url("src"), tmp_path / "out", "-r", *FILE_LOCAL, "--output-type", "json"
    )
    assert down.returncode == 1, down.describe()
    done = {e["source"]: e for e in down.events_of("transfer_done")}
    assert done["src/bad.txt"]["outcome"] == "failed"
    assert "MD5 mismatch" in done["src/bad.txt"]["reason"]
    assert done["src/good.txt"]["outcome"] == done["src/big.bin"]["outcome"] == "completed"
    # The MD5 came with the data: no Get File Properties per listed file (one tells that
    # the source is a directory).
    asked = [r.path.rsplit("/", 1)[-1] for r in file_standin.requests_of("GetFileProperties")]
    assert asked == ["src"]
