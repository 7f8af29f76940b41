"""Names Azure Files cannot store as they are: translated look-alikes, case-insensitive twins
and over-long paths, through the CLI against the File stand-in (copy, dry run, resume, sync)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from helpers import make_tree

J = ("--output-type", "json")
LOCAL_FILE = ("--from-to", "LocalFile")


@pytest.fixture
def share_client(file_standin) -> Iterator:
    from azure.storage.fileshare import ShareServiceClient

    service = ShareServiceClient.from_connection_string(file_standin.connection_string())
    share = service.create_share(f"names{uuid.uuid4().hex[:12]}")
    yield share
    share.delete_share()


@pytest.fixture
def share_url(file_standin, share_client) -> Callable[[str], str]:
    def url(path: str = "") -> str:
        base = f"{file_standin.account_url()}/{share_client.share_name}"
        return f"{base}/{path}" if path else base

    return url


def share_contents(share_client, path: str = "") -> dict[str, bytes]:
    """{path: bytes} of every file in the share, as the service names them."""
    found: dict[str, bytes] = {}
    directory = share_client.get_directory_client(path)
    for item in directory.list_directories_and_files():
        rel = f"{path}/{item['name']}" if path else item["name"]
        if item["is_directory"]:
            found.update(share_contents(share_client, rel))
        else:
            found[rel] = share_client.get_file_client(rel).download_file().readall()
    return found


def done(result, outcome: str) -> list[dict]:
    return [e for e in result.events_of("transfer_done") if e["outcome"] == outcome]


def notices(result) -> list[str]:
    return [n["message"] for n in result.events_of("notice")]


def test_forbidden_characters_and_trailing_dots_are_stored_as_lookalikes_and_said(
    tmp_path, run_azxfer, share_url, share_client
):
    src = make_tree(tmp_path / "s", {"q?.txt": b"Q", "dir./a:b ": b"AB", "plain.txt": b"P"})
    result = run_azxfer("copy", src, share_url(), "-r", "--as-subdir=false", *LOCAL_FILE, *J)
    result.assert_ok()
    assert share_contents(share_client) == {
        "q\uff1f.txt": b"Q",
        "dir\uff0e/a\uff1ab\u2420": b"AB",
        "plain.txt": b"P",
    }
    said = notices(result)
    assert any("'q?.txt' stored as 'q\uff1f.txt'" in m for m in said), result.describe()
    assert any("'dir./a:b ' stored as 'dir\uff0e/a\uff1ab\u2420'" in m for m in said), said


def test_case_twins_upload_the_first_and_fail_the_other_naming_it(
    tmp_path, run_azxfer, share_url, share_client
):
    src = make_tree(tmp_path / "s", {"A.txt": b"upper", "a.txt": b"lower", "b.txt": b"B"})
    result = run_azxfer("copy", src, share_url(), "-r", "--as-subdir=false", *LOCAL_FILE, *J)
    result.assert_exit(1)
    assert share_contents(share_client) == {"A.txt": b"upper", "b.txt": b"B"}
    [failed] = done(result, "failed")
    assert failed["source"].endswith("a.txt")
    assert str(src / "A.txt") in failed["reason"], failed
    finished = result.finished()
    assert (finished["files_completed"], finished["files_failed"]) == (2, 1), result.describe()


def test_twin_folders_send_only_the_first_folder(tmp_path, run_azxfer, share_url, share_client):
    src = make_tree(tmp_path / "s", {"Dir/x": b"one", "dir/x": b"two", "dir/y": b"three"})
    result = run_azxfer("copy", src, share_url(), "-r", "--as-subdir=false", *LOCAL_FILE, *J)
    result.assert_exit(1)
    assert share_contents(share_client) == {"Dir/x": b"one"}
    assert sorted(e["source"][-5:] for e in done(result, "failed")) == ["dir/x", "dir/y"]


def test_a_path_too_long_for_the_share_fails_alone_and_sends_nothing(
    tmp_path, run_azxfer, share_url, share_client, file_standin
):
    # (A local component never exceeds 255 UTF-16 code units: Linux allows 255 bytes.)
    deep = "/".join(["y" * 200] * 10)
    long_path = f"{deep}/{'z' * 50}"  # 2,060 characters: over 2,048
    fits = f"{deep}/{'w' * 38}"  # 2,048
    src = make_tree(tmp_path / "s", {long_path: b"too long", fits: b"fits", "p:": b"P"})
    file_standin.clear()
    result = run_azxfer("copy", src, share_url(), "-r", "--as-subdir=false", *LOCAL_FILE, *J)
    result.assert_exit(1)
    assert share_contents(share_client) == {fits: b"fits", "p\uff1a": b"P"}
    [failed] = done(result, "failed")
    assert failed["source"].endswith("z" * 50) and "over 2048" in failed["reason"], failed
    assert not any("z" * 50 in r.path for r in file_standin.requests), "nothing sent for it"


def test_a_dry_run_reports_a_case_conflict_as_failed(tmp_path, run_azxfer, share_url, share_client):
    src = make_tree(tmp_path / "s", {"A.txt": b"upper", "a.txt": b"lower"})
    result = run_azxfer("copy", src, share_url(), "-r", "--dry-run", *LOCAL_FILE, *J)
    result.assert_ok()
    assert share_contents(share_client) == {}
    queued = [e["source"] for e in result.events_of("transfer_queued")]
    assert len(queued) == 1 and queued[0].endswith("A.txt"), result.describe()
    [failed] = done(result, "failed")
    assert failed["source"].endswith("a.txt")


def test_a_resumed_job_does_not_upload_a_case_twin(tmp_path, run_azxfer, share_url, share_client):
    src = make_tree(tmp_path / "s", {"A.txt": b"upper", "a.txt": b"lower"})
    first = run_azxfer("copy", src, share_url(), "-r", *LOCAL_FILE, *J).assert_exit(1)
    job_id = first.events_of("job_started")[0]["job_id"]
    again = run_azxfer("resume", job_id, *J).assert_exit(1)
    assert share_contents(share_client) == {"s/A.txt": b"upper"}
    [failed] = done(again, "failed")
    assert failed["source"].endswith("a.txt"), again.describe()


def sync_summary(result) -> dict:
    (event,) = result.events_of("sync_summary")
    return event


def test_sync_never_deletes_a_destination_file_that_differs_only_in_case(
    tmp_path, run_azxfer, share_url, share_client
):
    share_client.get_directory_client("Docs").create_directory()
    share_client.get_file_client("Docs/Report.TXT").upload_file(b"old")
    share_client.get_file_client("gone.txt").upload_file(b"extra")
    # Another size: the two names are one file to the share, compared (and so overwritten)
    src = make_tree(tmp_path / "s", {"docs/report.txt": b"newer"})
    args = ("sync", src, share_url(), "--delete-destination", "true", "--max-delete", "100%")
    result = run_azxfer(*args, *LOCAL_FILE, *J).assert_ok()
    assert [e["destination"][-8:] for e in result.events_of("deleted")] == ["gone.txt"]
    contents = share_contents(share_client)
    assert list(contents.values()) == [b"newer"], contents
    assert next(iter(contents)).casefold() == "docs/report.txt"


def test_sync_of_translated_names_is_idempotent_and_deletes_nothing(
    tmp_path, run_azxfer, share_url, share_client
):
    src = make_tree(tmp_path / "s", {"a:b.txt": b"AB", "c.": b"C"})
    args = ("sync", src, share_url(), "--delete-destination", "true", "--max-delete", "100%")
    first = run_azxfer(*args, *LOCAL_FILE, *J).assert_ok()
    assert sync_summary(first)["copied"] == 2
    second = run_azxfer(*args, *LOCAL_FILE, *J).assert_ok()
    summary = sync_summary(second)
    assert (summary["copied"], summary["skipped_identical"]) == (0, 2), second.describe()
    assert (summary["extra_at_destination"], summary["deleted"]) == (0, 0), second.describe()
    assert share_contents(share_client) == {"a\uff1ab.txt": b"AB", "c\uff0e": b"C"}


def test_sync_fails_a_case_twin_and_then_deletes_nothing(
    tmp_path, run_azxfer, share_url, share_client
):
    share_client.get_file_client("extra.txt").upload_file(b"kept")
    src = make_tree(tmp_path / "s", {"A.txt": b"upper", "a.txt": b"lower"})
    args = ("sync", src, share_url(), "--delete-destination", "true", "--max-delete", "100%")
    result = run_azxfer(*args, *LOCAL_FILE, *J).assert_exit(1)
    [failed] = done(result, "failed")
    assert failed["source"].endswith("a.txt") and str(src / "A.txt") in failed["reason"]
    assert share_contents(share_client) == {"A.txt": b"upper", "extra.txt": b"kept"}
