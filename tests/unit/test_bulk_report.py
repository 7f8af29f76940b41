"""The text report of a bulk job against StringIO: plain progress lines (objects done of the
total, failed, objects/s, ETA) and what each --output-level lets through."""

from __future__ import annotations

import io

import pytest

from azxfer import events as ev
from azxfer.cli.bulkreport import BulkCounts, BulkTextReporter
from azxfer.cli.render import OutputLevel
from azxfer.sync.deletes import Deleted

STARTED = ev.JobStarted("job1", "remove", "https://a/c", "", False)
LISTED = ev.EnumerationDone(4, 40)
REMOVED = [Deleted(f"d/{i}", False, "completed", None) for i in range(3)]
FAILED = Deleted("d/x", False, "failed", "snapshots")
INFO = ev.Notice("info", "resume with: azxfer resume job1")
SUMMARY = ev.BulkSummary("remove", False, 3, 30, 1)
FINISHED = ev.JobFinished("job1", "CompletedWithErrors", 4, 3, 0, 1, 0, 30, 2.0, [])
JOB = [STARTED, LISTED, *REMOVED, FAILED, INFO, SUMMARY, FINISHED]


def _text(level: OutputLevel) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    reporter = BulkTextReporter(out, err, live=False, level=level)
    for event in JOB:
        reporter.last_line = float("-inf")  # a plain progress line is due at every event
        reporter.emit(event)
    reporter.close()
    return out.getvalue(), err.getvalue()


def test_plain_progress_counts_objects_of_the_listed_total() -> None:
    out, err = _text(OutputLevel.DEFAULT)
    lines = err.splitlines()
    assert lines[0] == "progress: objects 1/4, -- objects/s, ETA --:--:--"
    assert lines[-1] == "progress: objects 4/4, 1 failed, -- objects/s, ETA 0:00:00"
    assert out.startswith("Job job1: remove https://a/c\n")
    assert "FAILED: remove d/x: snapshots" in out and "info: resume with" in out
    assert "  Removed: 3 (30 B), Failed: 1" in out


def test_essential_shows_failures_warnings_and_the_summary_only() -> None:
    out, err = _text(OutputLevel.ESSENTIAL)
    assert err == ""
    assert out.splitlines()[:3] == [
        "FAILED: remove d/x: snapshots",
        "Job job1 summary: CompletedWithErrors",
        "  Removed: 3 (30 B), Failed: 1",
    ]
    assert "info:" not in out


def test_quiet_shows_failures_only() -> None:
    out, err = _text(OutputLevel.QUIET)
    assert (out, err) == ("FAILED: remove d/x: snapshots\n", "")


@pytest.mark.parametrize("level", [OutputLevel.ESSENTIAL, OutputLevel.QUIET])
def test_no_live_line_below_default(level: OutputLevel) -> None:
    assert not BulkTextReporter(io.StringIO(), io.StringIO(), True, level).live_wanted
    assert BulkTextReporter(io.StringIO(), io.StringIO(), True).live_wanted


def test_counts_before_and_after_the_listing() -> None:
    counts = BulkCounts()
    assert counts.activity("removed") == "listing…"
    assert counts.eta(10.0) == ""  # no ETA until the listing ends
    counts.listed, counts.done = 1024, 512
    assert counts.activity("removed") == "listing… 512 removed of 1024 listed"
    counts.done = 0
    counts.total, counts.enumerated, counts.done = 100, True, 40
    assert counts.activity("removed") == "objects 40/100"
    assert counts.eta(20.0) == "ETA 0:00:03"
    assert counts.eta(0.0) == "ETA stalled"


def test_plain_lines_while_listing_say_removed_of_listed_and_no_eta() -> None:
    err = io.StringIO()
    reporter = BulkTextReporter(io.StringIO(), err, live=False)
    for event in [STARTED, ev.ListingProgress(64, 640), *REMOVED, LISTED]:
        reporter.last_line = float("-inf")  # a plain progress line is due at every event
        reporter.emit(event)
    lines = err.getvalue().splitlines()
    assert lines[0] == "progress: listing… 1 removed of 64 listed, -- objects/s", lines
    assert lines[-1].startswith("progress: objects 3/4, "), lines
