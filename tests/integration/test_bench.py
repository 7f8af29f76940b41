"""`azxfer bench` against Azurite: both phases run, figures are consistent, nothing is left."""

from __future__ import annotations

import json


def test_bench_reports_both_phases_and_cleans_up(run_azxfer, container_url, container_client):
    result = run_azxfer(
        "bench",
        container_url(),
        "--file-count",
        "30",
        "--size-per-file",
        "3K",
        "--output-type",
        "json",
    )
    result.assert_ok()
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0]["event"] == "bench_result"
    phases = {p["phase"]: p for p in lines[0]["phases"]}
    assert set(phases) == {"upload", "download"}
    for phase in phases.values():
        assert phase["status"] == "Completed"
        assert phase["files"] == 30
        assert phase["bytes"] == 30 * 3 * 1024
        assert phase["seconds"] > 0
        assert phase["effective_concurrency"] > 0
    assert list(container_client.list_blobs()) == []


def test_bench_keep_leaves_the_data(run_azxfer, container_url, container_client):
    run_azxfer(
        "bench",
        container_url("sub"),
        "--file-count",
        "3",
        "--size-per-file",
        "1M",
        "--block-size-mb",
        "0.25",
        "--keep",
        "--output-type",
        "json",
    ).assert_ok()
    blobs = list(container_client.list_blobs())
    assert len(blobs) == 3
    assert all(b.name.startswith("sub/azxfer-bench-") and b.size == 1024 * 1024 for b in blobs)


def test_bench_refuses_a_local_target(run_azxfer, tmp_path):
    run_azxfer("bench", tmp_path).assert_usage_error(2)


def test_bench_refuses_sizes_that_cannot_work(run_azxfer, container_url, container_client):
    for args in (["--block-size-mb", "nan"], ["--max-memory", "1K"]):
        result = run_azxfer("bench", container_url(), "--file-count", "1", *args)
        result.assert_usage_error(2)
        assert args[0] in result.stderr
    assert list(container_client.list_blobs()) == []
