"""`azxfer sync`: what is copied, skipped and deleted, the safety rails, every direction."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from faultproxy import FaultProxy, Rule
from helpers import blob_contents, blob_names, tree_contents
from seed import seed_blobs

TREE = {"a.txt": 10, "a-b.txt": 11, "a/x.bin": 12, "a/y/z.txt": 13, "b.csv": 14}
J = ("--output-type", "json")


def outcomes(result) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in result.events_of("transfer_done"):
        out.setdefault(e["outcome"], []).append(e["source"])
    return out


def summary(result) -> dict:
    (event,) = result.events_of("sync_summary")
    return event


def sync(run_azxfer, *args, **kw):
    return run_azxfer("sync", *(str(a) for a in args), *J, **kw)


@pytest.fixture
def fault_proxy(azurite) -> Iterator[FaultProxy]:
    proxy = FaultProxy(azurite.blob_port, seed=7)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def test_upload_first_copies_all_second_copies_nothing(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", TREE)
    first = sync(run_azxfer, src, container_url("pre")).assert_ok()
    assert summary(first)["copied"] == len(TREE)
    assert blob_contents(container_client) == {f"pre/{k}": v for k, v in tree_contents(src).items()}
    second = sync(run_azxfer, src, container_url("pre")).assert_ok()
    assert summary(second)["copied"] == 0
    assert summary(second)["skipped_identical"] == len(TREE)
    assert {e["outcome"] for e in second.events_of("transfer_done")} == {"skipped"}
    assert {e["reason"] for e in second.events_of("transfer_done")} == {"identical"}
    assert second.finished()["files_completed"] == 0


def test_upload_touched_resized_and_same_size_changes(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", TREE)
    sync(run_azxfer, src, container_url()).assert_ok()
    now = time.time()
    os.utime(src / "a.txt", (now + 60, now + 60))  # touched: newer than the blob
    (src / "b.csv").write_bytes(b"longer content than before")  # resized
    same = src / "a" / "x.bin"  # same size, other bytes, an old mtime
    old = same.stat().st_mtime
    same.write_bytes(bytes(12))
    os.utime(same, (old - 3600, old - 3600))
    plain = sync(run_azxfer, src, container_url()).assert_ok()
    assert sorted(outcomes(plain)["completed"]) == [str(src / "a.txt"), str(src / "b.csv")]
    assert container_client.download_blob("a/x.bin").readall() != bytes(12)
    hashed = sync(run_azxfer, src, container_url(), "--compare-hash", "md5").assert_ok()
    assert outcomes(hashed)["completed"] == [str(same)]
    assert blob_contents(container_client) == tree_contents(src)
    again = sync(run_azxfer, src, container_url(), "--compare-hash", "md5").assert_ok()
    assert summary(again)["copied"] == 0
    mirror = sync(run_azxfer, src, container_url(), "--mirror-mode").assert_ok()
    assert summary(mirror)["copied"] == len(TREE)


def test_compare_hash_blob_without_md5_is_different(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"f.txt": b"hello"})
    from azure.storage.blob import ContentSettings

    container_client.upload_blob("f.txt", b"hello")
    blob = container_client.get_blob_client("f.txt")
    blob.set_http_headers(ContentSettings(content_type="text/plain"))  # clears Content-MD5
    assert not blob.get_blob_properties().content_settings.content_md5
    plain = sync(run_azxfer, src, container_url()).assert_ok()
    assert summary(plain)["copied"] == 0  # same size, blob newer: identical by size and time
    result = sync(run_azxfer, src, container_url(), "--compare-hash", "md5").assert_ok()
    (done,) = result.events_of("transfer_done")
    assert done["outcome"] == "completed"
    assert blob.get_blob_properties().content_settings.content_md5  # the upload set one


@pytest.mark.parametrize("mode", ["false", "true", "prompt-yes", "prompt-no", "prompt-eof"])
def test_delete_destination_modes(
    mode, tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", TREE)
    seed_blobs(container_client, {"gone.txt": 3, "a/old.bin": 4})
    setting, _, answer = mode.partition("-")
    stdin = {"yes": "y\n", "no": "n\n", "eof": ""}.get(answer)
    result = run_azxfer(
        "sync", src, container_url(), "--delete-destination", setting, "--max-delete", "100%",
        *J, input=stdin,
    ).assert_ok()  # fmt: skip
    names = blob_names(container_client)
    deleted = mode in ("true", "prompt-yes")
    assert ("gone.txt" in names) is not deleted
    assert ("a/old.bin" in names) is not deleted
    assert set(TREE) <= names
    assert summary(result)["deleted"] == (2 if deleted else 0)
    assert summary(result)["extra_at_destination"] == 2
    assert len(result.events_of("deleted")) == (2 if deleted else 0)
    # deletes come after the copies
    kinds = [e["event"] for e in result.events()]
    if deleted:
        assert max(i for i, k in enumerate(kinds) if k == "transfer_done") < kinds.index("deleted")


def test_delete_to_local_and_text_dry_run(tmp_path, run_azxfer, container_url, container_client):
    seed_blobs(container_client, {"k/1.txt": 5, "k/2.txt": 6, "k/3.txt": 7})
    dst = tmp_path / "dst"
    (dst / "sub").mkdir(parents=True)
    (dst / "sub" / "stray.txt").write_bytes(b"x")
    dry = run_azxfer(
        "sync", container_url("k"), dst, "--delete-destination", "true", "--dry-run",
        "--max-delete", "1",
    ).assert_ok()  # fmt: skip
    assert f"DRYRUN: delete {dst / 'sub' / 'stray.txt'}" in dry.stdout
    assert dry.stdout.count("DRYRUN: copy") == 3
    assert tree_contents(dst) == {"sub/stray.txt": b"x"}  # a dry run changes nothing
    run_azxfer(
        "sync", container_url("k"), dst, "--delete-destination", "true", "--max-delete", "1"
    ).assert_ok()
    assert set(tree_contents(dst)) == {"1.txt", "2.txt", "3.txt"}


def test_dry_run_json_changes_nothing(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", TREE)
    seed_blobs(container_client, {"gone.txt": 3})
    result = sync(
        run_azxfer, src, container_url(), "--delete-destination", "true", "--dry-run",
        "--max-delete", "100%",
    ).assert_ok()  # fmt: skip
    assert result.finished()["status"] == "DryRun"
    assert len(result.events_of("transfer_queued")) == len(TREE)
    assert [e["dry_run"] for e in result.events_of("deleted")] == [True]
    assert blob_names(container_client) == {"gone.txt"}


@pytest.mark.parametrize("limit", ["1", "40%"])
def test_max_delete_aborts_before_deleting(
    limit, tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"keep.txt": 1, "keep2.txt": 2})
    seed_blobs(container_client, {"keep.txt": 1, "keep2.txt": 2, "x1": 1, "x2": 1})
    result = run_azxfer(
        "sync", src, container_url(), "--delete-destination", "true", "--max-delete", limit
    ).assert_usage_error(1)
    assert "refusing to delete 2 of 4 destination entries (50%)" in result.stderr
    assert blob_names(container_client) == {"keep.txt", "keep2.txt", "x1", "x2"}
    # the default is 50%: 2 of 4 is allowed
    run_azxfer("sync", src, container_url(), "--delete-destination", "true").assert_ok()
    assert blob_names(container_client) == {"keep.txt", "keep2.txt"}


def test_listing_failure_deletes_nothing(
    tmp_path, make_tree, run_azxfer, fault_proxy, azurite, container, container_client
):
    src = make_tree(tmp_path / "src", {"a.txt": 1})
    seed_blobs(container_client, {"a.txt": 1, "x": 1, "y": 1, "z": 1})
    fault_proxy.add(
        Rule("status", query="comp=list", times=50, status=400, error_code="Injected",
             retry_after=None, same_request=False)
    )  # fmt: skip
    url = fault_proxy.url(azurite.account, container)
    result = run_azxfer(
        "sync", src, url, "--delete-destination", "true", "--max-delete", "100%", *J
    ).assert_usage_error(1)
    assert result.finished()["status"] == "Failed"
    assert not result.events_of("deleted")
    assert blob_names(container_client) == {"a.txt", "x", "y", "z"}


def test_filters_limit_copies_and_deletes(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"k.txt": 1, "skip.log": 2, "ex/in.txt": 3})
    seed_blobs(container_client, {"old.log": 1, "ex/keep.txt": 1, "gone.txt": 1})
    run_azxfer(
        "sync", src, container_url(), "--exclude-pattern", "*.log", "--exclude-path", "ex",
        "--delete-destination", "true", "--max-delete", "100%",
    ).assert_ok()  # fmt: skip
    # excluded names are neither copied nor deleted; only gone.txt is extra within the filters
    assert blob_names(container_client) == {"k.txt", "old.log", "ex/keep.txt"}


def test_include_after_never_deletes_older_sources(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"old.txt": 1, "new.txt": 2})
    os.utime(src / "old.txt", (1e9, 1e9))
    seed_blobs(container_client, {"old.txt": 5})
    run_azxfer(
        "sync", src, container_url(), "--include-after", "2010-01-01",
        "--delete-destination", "true", "--max-delete", "100%",
    ).assert_ok()  # fmt: skip
    assert blob_names(container_client) == {"old.txt", "new.txt"}
    assert len(container_client.download_blob("old.txt").readall()) == 5


def test_download_second_sync_is_noop_and_detects_changes(
    tmp_path, run_azxfer, container_url, container_client
):
    data = seed_blobs(container_client, {"d/a.txt": 10, "d/a-b": 3, "d/a/x": 4, "e.txt": 1})
    dst = tmp_path / "dst"
    first = sync(run_azxfer, container_url("d/"), dst).assert_ok()
    assert summary(first)["copied"] == 3
    assert tree_contents(dst) == {k[2:]: v for k, v in data.items() if k.startswith("d/")}
    props = container_client.get_blob_client("d/a.txt").get_blob_properties()
    assert abs((dst / "a.txt").stat().st_mtime - props.last_modified.timestamp()) < 1
    second = sync(run_azxfer, container_url("d"), dst).assert_ok()
    assert summary(second)["copied"] == 0 and summary(second)["skipped_identical"] == 3
    (dst / "a.txt").write_bytes(b"a longer local edit")  # newer, but another size
    container_client.upload_blob("d/a/x", b"wxyz", overwrite=True)  # same size, newer blob
    stamp = (dst / "a" / "x").stat().st_mtime - 60  # newer by more than the skew, however fast
    os.utime(dst / "a" / "x", (stamp, stamp))
    third = sync(run_azxfer, container_url("d"), dst).assert_ok()
    assert sorted(outcomes(third)["completed"]) == ["d/a.txt", "d/a/x"]
    assert (dst / "a" / "x").read_bytes() == b"wxyz"


def test_blob_to_blob(tmp_path, run_azxfer, container_url, container_client, blob_service):
    seed_blobs(container_client, {"s/1": 4, "s/2/3": 5})
    seed_blobs(container_client, {"t/2/3": 5, "t/stale": 1, "t/2/stale": 1})
    plain = sync(run_azxfer, container_url("s"), container_url("t")).assert_ok()
    # t/2/3 has the size of s/2/3 and is newer: identical by size and time
    assert summary(plain)["copied"] == 1 and summary(plain)["skipped_identical"] == 1
    first = sync(
        run_azxfer, container_url("s"), container_url("t"), "--delete-destination", "true",
        "--max-delete", "100%", "--compare-hash", "md5",
    ).assert_ok()  # fmt: skip
    assert summary(first)["copied"] == 1  # t/2/3: other bytes
    assert summary(first)["deleted"] == 2
    assert blob_names(container_client, "t/") == {"t/1", "t/2/3"}
    second = sync(run_azxfer, container_url("s"), container_url("t"), "--compare-hash", "md5")
    assert summary(second.assert_ok())["copied"] == 0


def test_source_must_be_a_folder(tmp_path, make_tree, run_azxfer, container_url):
    src = make_tree(tmp_path / "src", {"f.txt": 1})
    run_azxfer("sync", src / "f.txt", container_url()).assert_usage_error(2)
    run_azxfer("sync", f"{src}/*.txt", container_url()).assert_usage_error(2)
    run_azxfer("sync", src, container_url(), "--max-delete", "lots").assert_usage_error(2)


def test_sync_job_is_journaled_and_resumable(tmp_path, make_tree, run_azxfer, container_url):
    src = make_tree(tmp_path / "src", {"f.txt": 1})
    # a relative source is journaled as an absolute path: resume works from any folder
    result = sync(run_azxfer, "src", container_url(), cwd=tmp_path).assert_ok()
    job_id = result.finished()["job_id"]
    listed = run_azxfer("jobs", "list").assert_ok()
    assert job_id in listed.stdout and "sync" in listed.stdout
    shown = run_azxfer("jobs", "show", job_id).assert_ok()
    assert f"sync {src} -> " in shown.stdout
    resumed = run_azxfer("resume", job_id, cwd=tmp_path.parent).assert_ok()
    assert "already finished" in resumed.stdout


@pytest.mark.parametrize("dry_run", [False, True], ids=["creates", "dry-run"])
def test_sync_into_a_missing_container(
    dry_run, tmp_path, make_tree, run_azxfer, azurite, blob_service
):
    """The destination listing is the first request; a missing container found by it is
    created (and is empty), except in a dry run, which creates nothing."""
    import uuid

    name = "new" + uuid.uuid4().hex[:16]
    src = make_tree(tmp_path / "src", {"a.txt": b"a", "d/b.txt": b"bb"})
    url = f"{azurite.blob_endpoint}/{name}"
    try:
        result = sync(run_azxfer, src, url, *(["--dry-run"] if dry_run else [])).assert_ok()
        exists = blob_service.get_container_client(name).exists()
        if dry_run:
            assert not exists
            assert result.finished()["status"] == "DryRun"
            queued = {e["source"] for e in result.events_of("transfer_queued")}
            assert len(queued) == 2
        else:
            assert blob_contents(blob_service.get_container_client(name)) == {
                "a.txt": b"a",
                "d/b.txt": b"bb",
            }
    finally:
        if blob_service.get_container_client(name).exists():
            blob_service.delete_container(name)
