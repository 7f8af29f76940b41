"""Local names the Blob service stores differently: '\\' in uploaded names (copy and sync)."""

from __future__ import annotations

from helpers import blob_contents

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
