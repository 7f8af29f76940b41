"""`azxfer remove` on Azure Files (the File REST stand-in), through the real CLI: a file, a
directory tree with --recursive (files first, then the directories deepest first, the named
directory last), filters (which leave directories alone), and one-line errors."""

from __future__ import annotations

from seed import seed_share
from test_files_dirs import share_dirs

FILE = ("--type", "File")
JSON = ("--output-type", "json")


def share_files(share_client, directory: str = "") -> set[str]:
    found = set()
    for item in share_client.get_directory_client(directory).list_directories_and_files():
        path = f"{directory}/{item['name']}" if directory else item["name"]
        found |= share_files(share_client, path) if item["is_directory"] else {path}
    return found


def test_one_file(run_azxfer, share_url, share_client):
    seed_share(share_client, {"d/a.txt": 3, "d/b.txt": 4})
    result = run_azxfer("remove", share_url("d/a.txt"), *FILE, *JSON).assert_ok()
    assert share_files(share_client) == {"d/b.txt"}
    assert [e["destination"] for e in result.events_of("deleted")] == ["d/a.txt"]


def test_azcopys_from_to_names_the_service_too(run_azxfer, share_url, share_client):
    seed_share(share_client, {"d/a.txt": 3})
    run_azxfer("remove", share_url("d/a.txt"), "--from-to", "FileTrash").assert_ok()
    assert share_files(share_client) == set()
    both = run_azxfer("remove", share_url("d"), "-r", *FILE, "--from-to", "FileTrash")
    both.assert_usage_error()
    assert "--from-to cannot be combined with --type" in both.stderr


def test_a_tree_goes_files_first_then_folders_deepest_first(run_azxfer, share_url, share_client):
    seed_share(
        share_client,
        {"d/a.txt": 1, "d/sub/b.txt": 2, "d/sub/deeper/c.txt": 3, "keep/k.txt": 1},
        dirs=("d/empty", "d/sub/empty2"),
    )
    result = run_azxfer("remove", share_url("d"), "-r", "--force", *FILE, *JSON).assert_ok()
    assert share_files(share_client) == {"keep/k.txt"}
    assert share_dirs(share_client) == {"keep"}
    deleted = [e for e in result.events_of("deleted") if e["outcome"] == "completed"]
    files = [e["destination"] for e in deleted if not e["folder"]]
    folders = [e["destination"] for e in deleted if e["folder"]]
    assert sorted(files) == ["d/a.txt", "d/sub/b.txt", "d/sub/deeper/c.txt"]
    assert deleted.index(next(e for e in deleted if e["folder"])) == 3  # folders after files
    assert folders[-1] == "d"
    depths = [f.count("/") for f in folders]
    assert depths == sorted(depths, reverse=True), folders
    summary = result.events_of("bulk_summary")[0]
    assert (summary["done"], summary["bytes"], summary["folders_removed"]) == (3, 6, 5)


def test_the_share_root_stays(run_azxfer, share_url, share_client):
    seed_share(share_client, {"a.txt": 1, "x/b.txt": 1})
    run_azxfer("remove", share_url(), "-r", "--force", *FILE).assert_ok()
    assert share_files(share_client) == set() and share_dirs(share_client) == set()


def test_filters_remove_files_only(run_azxfer, share_url, share_client):
    seed_share(share_client, {"d/a.tmp": 1, "d/b.txt": 1, "d/sub/c.tmp": 1}, dirs=("d/empty",))
    run_azxfer(
        "remove", share_url("d"), "-r", "--include-pattern", "*.tmp", "--force", *FILE
    ).assert_ok()
    assert share_files(share_client) == {"d/b.txt"}
    assert share_dirs(share_client) == {"d", "d/sub", "d/empty"}


def test_dry_run_removes_nothing(run_azxfer, share_url, share_client):
    seed_share(share_client, {"d/a.txt": 1, "d/sub/b.txt": 1})
    result = run_azxfer("remove", share_url("d"), "-r", "--dry-run", *FILE, *JSON).assert_ok()
    assert share_files(share_client) == {"d/a.txt", "d/sub/b.txt"}
    assert all(e["dry_run"] for e in result.events_of("deleted"))
    assert {e["destination"] for e in result.events_of("deleted")} >= {"d/a.txt", "d/sub"}
    text = run_azxfer("remove", share_url("d"), "-r", "--dry-run", *FILE).assert_ok()
    assert "Would remove: 2 " in text.stderr + text.stdout, text.describe()
    assert "Folders: 2 would be removed, 0 kept" in text.stderr + text.stdout, text.describe()
    assert share_dirs(share_client) == {"d", "d/sub"}


def test_errors_are_one_line(run_azxfer, share_url, share_client):
    seed_share(share_client, {"d/a.txt": 1})
    run_azxfer("remove", share_url("d"), *FILE).assert_usage_error()
    missing = run_azxfer("remove", share_url("d/nope.txt"), *FILE).assert_usage_error(code=1)
    assert "nope.txt" in missing.stderr
    snapshots = run_azxfer("remove", share_url("d/a.txt"), "--delete-snapshots", "only", *FILE)
    assert "--delete-snapshots" in snapshots.assert_usage_error().stderr
    tier = run_azxfer(
        "set-properties", share_url("d/a.txt"), "--block-blob-tier", "Cool", "--from-to", "FileNone"
    )
    tier.assert_usage_error()
    assert share_files(share_client) == {"d/a.txt"}


def test_kill_9_then_resume_removes_the_rest_of_the_tree(run_azxfer, share_url, share_client):
    from test_resume import KILLED, crash, job_id_of

    seed_share(share_client, {f"d/s{i % 4}/f{i:03d}": 1 for i in range(80)}, dirs=("d/empty",))
    first = run_azxfer(
        "remove", share_url("d"), "-r", "--force", "--concurrency", "4", *FILE, *JSON,
        env=crash("completed:40"),
    )  # fmt: skip
    assert first.returncode == KILLED, first.describe()
    assert 0 < len(share_files(share_client)) < 80
    resumed = run_azxfer("resume", job_id_of(first), *JSON).assert_ok()
    assert share_files(share_client) == set() and share_dirs(share_client) == set()
    assert resumed.events_of("bulk_summary")[0]["folders_removed"] == 6  # s0-s3, empty, d
