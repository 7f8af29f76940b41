"""What the user reads: event timestamps, skipped items in text mode, help examples."""

from __future__ import annotations

import datetime as dt
import os
import re
import time

import pytest

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ROW = re.compile(r"\s*\d+\s+skipped\s+\S")


def _stamp_seconds(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def test_every_json_event_has_a_utc_time(tmp_path, make_tree, run_azxfer, container_url):
    src = make_tree(tmp_path / "src", {"a.bin": 3 * 1024 * 1024, "b.txt": b"b"})
    before = time.time()
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--block-size-mb", "1", "--output-type", "json"
    ).assert_ok()
    after = time.time()
    events = result.events()
    assert {e["event"] for e in events} >= {"job_started", "progress", "job_finished"}
    stamps = []
    for event in events:
        assert STAMP.fullmatch(event["time"]), event
        stamps.append(_stamp_seconds(event["time"]))
    # Wall-clock times of this run, in the order the events were written.
    assert before - 0.001 <= stamps[0] and stamps[-1] <= after + 0.001
    assert stamps == sorted(stamps)


def test_bench_json_result_has_a_utc_time(run_azxfer, container_url):
    result = run_azxfer(
        "bench", container_url(), "--file-count", "2", "--size-per-file", "1K",
        "--output-type", "json",
    ).assert_ok()  # fmt: skip
    (bench,) = result.events_of("bench_result")
    assert STAMP.fullmatch(bench["time"]), bench


def test_text_summary_lists_skipped_items(tmp_path, make_tree, run_azxfer, container_url):
    src = make_tree(tmp_path / "src", {"real.txt": b"real"})
    os.symlink(src / "real.txt", src / "link.txt")
    os.mkfifo(src / "pipe")
    result = run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false").assert_ok()
    skipped = [ln.strip() for ln in result.stdout.splitlines() if ln.strip().startswith("Skipped")]
    assert sorted(skipped) == [
        f"Skipped: {src / 'link.txt'}: symbolic link (use --follow-symlinks)",
        f"Skipped: {src / 'pipe'}: not a regular file (FIFO, socket or device)",
    ], result.describe()
    assert "more skipped" not in result.stdout


def test_text_summary_caps_skipped_and_says_where_the_rest_are(
    tmp_path, make_tree, run_azxfer, container_url
):
    src = make_tree(tmp_path / "src", {"real.txt": b"real"})
    for n in range(25):
        os.symlink(src / "real.txt", src / f"link{n:02d}")
    result = run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false").assert_ok()
    listed = [ln for ln in result.stdout.splitlines() if ln.strip().startswith("Skipped:")]
    assert len(listed) == 20, result.describe()
    job_id = result.stdout.split()[1].rstrip(":")
    pointer = f"azxfer jobs show {job_id} --with-status skipped"
    assert f"  … and 5 more skipped ({pointer} lists every one)" in result.stdout.splitlines()
    assert "--log-file" not in result.stdout + result.stderr
    # The pointer tells the truth: that command lists all 25.
    shown = run_azxfer(*pointer.split()[1:]).assert_ok()
    assert len([ln for ln in shown.stdout.splitlines() if ROW.match(ln)]) == 25, shown.describe()


def test_sync_does_not_list_identical_files_as_skipped(
    tmp_path, make_tree, run_azxfer, container_url
):
    src = make_tree(tmp_path / "src", {"a.txt": b"a", "b.txt": b"b"})
    run_azxfer("sync", src, container_url()).assert_ok()
    again = run_azxfer("sync", src, container_url()).assert_ok()
    assert "2 identical" in again.stdout, again.describe()
    assert "Skipped:" not in again.stdout


@pytest.mark.parametrize(
    "command, example",
    [
        (("resume",), "azxfer resume --last"),
        (("jobs",), "azxfer jobs show "),
        (("jobs", "list"), "azxfer jobs list"),
        (("jobs", "show"), "azxfer jobs show 3f2a9c1e --with-status failed"),
        (("jobs", "clean"), "azxfer jobs clean --older-than 12h"),
        (("jobs", "remove"), "azxfer jobs remove 3f2a9c1e"),
    ],
)
def test_job_commands_help_has_examples(run_azxfer, command, example):
    result = run_azxfer(*command, "--help").assert_ok()
    lines = result.stdout.splitlines()
    examples = lines.index("  Examples:")
    assert any(ln.strip().startswith(example) for ln in lines[examples + 1 :]), result.stdout


def test_listing_runs_ahead_of_the_transfers_so_totals_are_known_early(
    tmp_path, make_tree, run_azxfer, container_url
):
    # 300 files through 2 request slots: the listing must not wait for the transfers.
    src = make_tree(tmp_path / "src", {f"f{i:03}.txt": 10 for i in range(300)})
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--output-type", "json",
        env={"AZXFER_CONCURRENCY": "2"},
    ).assert_ok()  # fmt: skip
    kinds = [e["event"] for e in result.events()]
    listed_at = kinds.index("enumeration_done")
    done_before = kinds[:listed_at].count("transfer_done")
    assert done_before < 150, f"{done_before} of 300 transfers finished before the listing"
    assert result.events_of("enumeration_done")[0]["files"] == 300
