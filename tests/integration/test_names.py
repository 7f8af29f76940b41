"""Local names the Blob service stores differently: '\\' in uploaded names (copy and sync)."""

from __future__ import annotations

from helpers import blob_contents, tree_contents

J = ("--output-type", "json")


def done(result, outcome: str) -> list[dict]:
    return [e for e in result.events_of("transfer_done") if e["outcome"] == outcome]


def test_a_backslash_name_is_uploaded_under_the_name_the_service_stores(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "coll", {"a\\b.txt": b"AAA", "plain.txt": b"P"})
    result = run_azxfer("copy", src, container_url(), "-r", *J).assert_ok()
    assert blob_contents(container_client) == {"coll/a/b.txt": b"AAA", "coll/plain.txt": b"P"}
    [moved] = [e for e in done(result, "completed") if e["source"].endswith("a\\b.txt")]
    assert moved["destination"].endswith("/coll/a/b.txt"), result.describe()
    messages = [n["message"] for n in result.events_of("notice")]
    assert any("'a\\b.txt' stored as 'a/b.txt'" in m for m in messages), result.describe()


def test_a_backslash_name_that_lands_on_a_plain_name_fails_and_overwrites_nothing(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "coll", {"back\\slash.txt": b"AAA", "back/slash.txt": b"BBB"})
    result = run_azxfer("copy", src, container_url(), "-r", *J).assert_exit(1)
    assert blob_contents(container_client) == {"coll/back/slash.txt": b"BBB"}
    finished = result.finished()
    assert (finished["files_completed"], finished["files_failed"]) == (1, 1), result.describe()
    [failed] = done(result, "failed")
    assert failed["source"].endswith("back\\slash.txt")
    assert str(src / "back" / "slash.txt") in failed["reason"], failed
    assert "\\" not in "".join(e["destination"] for e in done(result, "completed"))


def test_two_backslash_names_landing_on_one_blob_upload_only_the_first(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "s", {"x\\y/z": b"one", "x\\y\\z": b"two"})
    result = run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false", *J)
    result.assert_exit(1)
    assert blob_contents(container_client) == {"x/y/z": b"one"}
    [failed] = done(result, "failed")
    assert failed["source"].endswith("x\\y\\z")
    assert str(src / "x\\y" / "z") in failed["reason"], failed


def test_a_plain_name_the_filters_leave_out_is_no_conflict(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "s", {"d\\f.txt": b"AAA", "d/f.txt": b"BBB"})
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--exclude-path", "d", *J
    )
    result.assert_ok()
    assert blob_contents(container_client) == {"d/f.txt": b"AAA"}


def test_a_resumed_job_does_not_upload_a_conflicting_file(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "coll", {"back\\slash.txt": b"AAA", "back/slash.txt": b"BBB"})
    first = run_azxfer("copy", src, container_url(), "-r", *J).assert_exit(1)
    job_id = first.events_of("job_started")[0]["job_id"]
    again = run_azxfer("resume", job_id, *J).assert_exit(1)
    assert blob_contents(container_client) == {"coll/back/slash.txt": b"BBB"}
    [failed] = done(again, "failed")
    assert failed["source"].endswith("back\\slash.txt"), again.describe()


def sync_summary(result) -> dict:
    (event,) = result.events_of("sync_summary")
    return event


def test_sync_compares_a_backslash_name_with_its_stored_blob_and_never_deletes_it(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"a\\b.txt": b"AAA", "c.txt": b"C"})
    args = ("sync", src, container_url(), "--delete-destination", "true", "--max-delete", "100%")
    first = run_azxfer(*args, *J).assert_ok()
    assert sync_summary(first)["copied"] == 2
    assert blob_contents(container_client) == {"a/b.txt": b"AAA", "c.txt": b"C"}
    second = run_azxfer(*args, *J).assert_ok()
    summary = sync_summary(second)
    assert (summary["copied"], summary["skipped_identical"]) == (0, 2), second.describe()
    assert (summary["extra_at_destination"], summary["deleted"]) == (0, 0), second.describe()
    assert not second.events_of("deleted"), second.describe()
    assert blob_contents(container_client) == {"a/b.txt": b"AAA", "c.txt": b"C"}


def test_sync_does_not_let_a_backslash_name_overwrite_a_plain_one(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"back\\slash.txt": b"AAA", "back/slash.txt": b"BBB"})
    for _ in range(2):  # the second run must not see anything new to upload either
        result = run_azxfer(
            "sync", src, container_url(), "--delete-destination", "true", *J
        ).assert_exit(1)
        assert blob_contents(container_client) == {"back/slash.txt": b"BBB"}
        [failed] = done(result, "failed")
        assert failed["source"].endswith("back\\slash.txt")
        assert str(src / "back" / "slash.txt") in failed["reason"], failed


def test_sync_downloads_a_blob_ending_in_slash_once_and_keeps_it(
    tmp_path, run_azxfer, container_url, container_client
):
    container_client.upload_blob("d/", b"data in a slash name")
    container_client.upload_blob("d/f.txt", b"f")
    container_client.upload_blob("m/", b"", metadata={"hdi_isfolder": "true"})
    out = tmp_path / "out"
    args = ("sync", container_url(), out, "--delete-destination", "true", "--max-delete", "100%")
    first = run_azxfer(*args, *J).assert_ok()
    assert sync_summary(first)["copied"] == 2
    assert tree_contents(out) == {"d%2F": b"data in a slash name", "d/f.txt": b"f"}
    second = run_azxfer(*args, *J).assert_ok()
    summary = sync_summary(second)
    assert (summary["copied"], summary["skipped_identical"]) == (0, 2), second.describe()
    assert not second.events_of("deleted"), second.describe()
    assert tree_contents(out) == {"d%2F": b"data in a slash name", "d/f.txt": b"f"}


def test_a_single_file_with_a_backslash_is_reported_under_its_stored_name(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"a\\b.txt": b"AAA"})
    result = run_azxfer("copy", src / "a\\b.txt", container_url(), *J).assert_ok()
    assert blob_contents(container_client) == {"a/b.txt": b"AAA"}
    [moved] = done(result, "completed")
    assert moved["destination"].endswith("/a/b.txt"), result.describe()


def test_a_dry_run_reports_a_planning_conflict_as_failed_not_queued(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "coll", {"back\\slash.txt": b"AAA", "back/slash.txt": b"BBB"})
    result = run_azxfer("copy", src, container_url(), "-r", "--dry-run", *J).assert_ok()
    assert blob_contents(container_client) == {}
    queued = [e["source"] for e in result.events_of("transfer_queued")]
    assert len(queued) == 1 and queued[0].endswith("back/slash.txt"), result.describe()
    [failed] = done(result, "failed")
    assert failed["source"].endswith("back\\slash.txt")
    assert str(src / "back" / "slash.txt") in failed["reason"], failed
    finished = result.finished()
    assert (finished["files_total"], finished["files_failed"]) == (2, 1), result.describe()
    assert [f["name"] for f in finished["failed"]] == [failed["source"]], result.describe()


def test_a_dry_run_summary_does_not_count_a_conflict_as_would_be_transferred(
    tmp_path, make_tree, run_azxfer, container_url
):
    src = make_tree(tmp_path / "src", {"back\\slash.txt": b"AAA", "back/slash.txt": b"BBB"})
    for command in (("copy", src, container_url(), "-r"), ("sync", src, container_url())):
        result = run_azxfer(*command, "--dry-run").assert_ok()
        assert result.stdout.count("DRYRUN: copy") == 1, result.describe()
        assert "FAILED: " in result.stdout and "back\\slash.txt" in result.stdout
        assert (
            "Files:   2 total, 1 would be transferred, 0 skipped (up to date or excluded), "
            "1 failed" in result.stdout
        ), result.describe()
