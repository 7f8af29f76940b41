"""`azxfer set-properties` on Blob storage (Azurite), through the real CLI; every change is
read back with the storage SDK: tiers (in Blob Batches, counted on the wire), metadata and
tags (set and cleared), over a filtered selection, --dry-run, the journal and resume after
kill -9, and one-line errors."""

from __future__ import annotations

import pytest
from faultproxy import FaultProxy
from seed import seed_blobs, seed_share
from test_remove import journal_states
from test_resume import KILLED, crash, job_id_of

JSON = ("--output-type", "json")


@pytest.fixture
def proxy(azurite):
    with FaultProxy(azurite.blob_port) as p:
        yield p


def props(container_client, name: str):
    return container_client.get_blob_client(name).get_blob_properties()


def tags(container_client, name: str) -> dict[str, str]:
    return container_client.get_blob_client(name).get_blob_tags()


def test_tier_of_a_tree_in_one_batch(run_azxfer, container_client, proxy, azurite, container):
    seed_blobs(container_client, {"d/a": 1, "d/b": 2, "d/sub/c": 3, "other": 4})
    url = proxy.url(azurite.account, container, "d")
    result = run_azxfer("set-properties", url, "-r", "--block-blob-tier", "cool", *JSON)
    result.assert_ok()
    for name in ("d/a", "d/b", "d/sub/c"):
        assert props(container_client, name).blob_tier == "Cool", name
    assert props(container_client, "other").blob_tier != "Cool"
    assert proxy.count(method="POST", query="comp=batch") == 1
    assert proxy.count(query="comp=tier") == 0  # none sent alone
    events = result.events_of("properties_set")
    assert sorted(e["target"] for e in events) == ["d/a", "d/b", "d/sub/c"]
    assert all(e["changes"] == ["tier=Cool"] and e["outcome"] == "completed" for e in events)
    assert result.events_of("bulk_summary")[0]["done"] == 3


def test_metadata_is_set_and_cleared(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"a": 1, "b": 1})
    run_azxfer("set-properties", container_url("a"), "--metadata", "team=data;Kind=raw").assert_ok()
    assert props(container_client, "a").metadata == {"team": "data", "Kind": "raw"}
    assert props(container_client, "b").metadata == {}
    run_azxfer("set-properties", container_url("a"), "--metadata", "").assert_ok()
    assert props(container_client, "a").metadata == {}


def test_tags_are_set_and_cleared(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"x/a.csv": 1, "x/b.txt": 1})
    result = run_azxfer(
        "set-properties", container_url("x"), "-r", "--include-pattern", "*.csv",
        "--blob-tags", "owner=ops&stage=2 b",
    ).assert_ok()  # fmt: skip
    assert "Updated: 1 (1 B), Failed: 0" in result.stdout, result.describe()
    assert tags(container_client, "x/a.csv") == {"owner": "ops", "stage": "2 b"}
    assert tags(container_client, "x/b.txt") == {}
    run_azxfer("set-properties", container_url("x/a.csv"), "--blob-tags", "").assert_ok()
    assert tags(container_client, "x/a.csv") == {}


def test_all_three_at_once(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"p/a": 1, "p/b": 1})
    run_azxfer(
        "set-properties", container_url("p"), "-r", "--block-blob-tier", "Cold",
        "--metadata", "m=1", "--blob-tags", "t=2", *JSON,
    ).assert_ok()  # fmt: skip
    for name in ("p/a", "p/b"):
        got = props(container_client, name)
        assert (got.blob_tier, got.metadata, tags(container_client, name)) == (
            "Cold",
            {"m": "1"},
            {"t": "2"},
        )


def test_out_of_archive_with_a_rehydrate_priority(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"cold/a": 5})
    run_azxfer(
        "set-properties", container_url("cold/a"), "--block-blob-tier", "Archive"
    ).assert_ok()
    assert props(container_client, "cold/a").blob_tier == "Archive"
    run_azxfer(
        "set-properties", container_url("cold/a"), "--block-blob-tier", "Hot",
        "--rehydrate-priority", "high", *JSON,
    ).assert_ok()  # fmt: skip
    got = props(container_client, "cold/a")
    assert got.blob_tier == "Hot" or got.archive_status == "rehydrate-pending-to-hot", got


def test_dry_run_changes_nothing(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"a": 1})
    result = run_azxfer(
        "set-properties", container_url("a"), "--metadata", "k=v", "--dry-run", *JSON
    ).assert_ok()
    assert props(container_client, "a").metadata == {}
    (event,) = result.events_of("properties_set")
    assert event["dry_run"] and event["changes"] == ["metadata"]


def test_kill_9_then_resume_finishes(run_azxfer, container_client, container_url, tmp_path):
    names = [f"m/{i:04d}" for i in range(120)]
    seed_blobs(container_client, dict.fromkeys(names, 1))
    first = run_azxfer(
        "set-properties", container_url("m"), "-r", "--metadata", "done=yes",
        "--concurrency", "4", *JSON, env=crash("completed:50"),
    )  # fmt: skip
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    states = journal_states(tmp_path, job_id)
    assert len(states) == 120 and 0 < list(states.values()).count("completed") < 120
    run_azxfer("resume", "--last", *JSON).assert_ok()
    assert all(props(container_client, n).metadata == {"done": "yes"} for n in names)
    assert set(journal_states(tmp_path, job_id).values()) == {"completed"}


def test_errors_are_one_line(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"a": 1, "d/b": 1})
    url = container_url("a")
    assert "at least one" in run_azxfer("set-properties", url).assert_usage_error().stderr
    for bad in (
        ("--rehydrate-priority", "High"),
        ("--block-blob-tier", "Archive", "--rehydrate-priority", "High"),
        ("--metadata", "not a pair"),
        ("--blob-tags", "k=v&bad key!=1"),
        ("--block-blob-tier", "Lukewarm"),
    ):
        run_azxfer("set-properties", url, *bad).assert_usage_error()
    run_azxfer("set-properties", container_url("d"), "--metadata", "k=v").assert_usage_error()
    missing = run_azxfer("set-properties", container_url("nope"), "--metadata", "k=v")
    assert "nope" in missing.assert_usage_error(code=1).stderr
    assert props(container_client, "a").metadata == {}


def test_metadata_of_files_in_a_share(run_azxfer, share_url, share_client):
    seed_share(share_client, {"d/a.txt": 1, "d/sub/b.txt": 2, "other.txt": 3})
    share = ("--from-to", "FileNone")
    run_azxfer(
        "set-properties", share_url("d"), "-r", "--metadata", "k=v;n=1", *share, *JSON
    ).assert_ok()
    for name in ("d/a.txt", "d/sub/b.txt"):
        assert share_client.get_file_client(name).get_file_properties().metadata == {
            "k": "v",
            "n": "1",
        }
    assert share_client.get_file_client("other.txt").get_file_properties().metadata == {}
    run_azxfer("set-properties", share_url("d/a.txt"), "--metadata", "", *share).assert_ok()
    assert share_client.get_file_client("d/a.txt").get_file_properties().metadata == {}
    tags = run_azxfer("set-properties", share_url("d/a.txt"), "--blob-tags", "a=b", *share)
    assert "--blob-tags applies only to Blob storage" in tags.assert_usage_error().stderr
