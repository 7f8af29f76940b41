"""The renderers at each --output-level, against StringIO: what each level lets through."""

from __future__ import annotations

import io
import json

import pytest

from azxfer import events as ev
from azxfer.cli.render import JsonReporter, OutputLevel, TextReporter, least_level

STARTED = ev.JobStarted("job1", "copy", "/src", "https://a/c", False)
QUEUED = ev.TransferQueued(1, "a.bin", "https://a/c/a.bin", 10 * 1024 * 1024)
PROGRESS = ev.Progress(1, 8 * 1024 * 1024)
FAILED = ev.TransferDone(2, "b.bin", "https://a/c/b.bin", "failed", 5, "boom")
DONE = ev.TransferDone(1, "a.bin", "https://a/c/a.bin", "completed", 10 * 1024 * 1024)
WARNING = ev.Notice("warning", "'x' stored as 'y': reason")
INFO = ev.Notice("info", "resume with: azxfer resume job1")
FINISHED = ev.JobFinished("job1", "CompletedWithErrors", 2, 1, 0, 1, 0, 10, 1.0, [], cap_mbps=8)
JOB = [STARTED, QUEUED, PROGRESS, FAILED, DONE, WARNING, INFO, FINISHED]


def test_every_event_has_the_least_level_that_shows_it() -> None:
    assert [least_level(e) for e in JOB] == [
        OutputLevel.DEFAULT,
        OutputLevel.DEFAULT,
        OutputLevel.DEFAULT,
        OutputLevel.QUIET,
        OutputLevel.DEFAULT,
        OutputLevel.ESSENTIAL,
        OutputLevel.DEFAULT,
        OutputLevel.ESSENTIAL,
    ]


def _text(level: OutputLevel) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    reporter = TextReporter(out, err, live=False, level=level)
    for event in JOB:
        if isinstance(event, ev.Progress):
            reporter.last_line = float("-inf")  # a plain progress line is due now
        reporter.emit(event)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("level", [OutputLevel.ESSENTIAL, OutputLevel.QUIET])
def test_no_live_progress_below_default_even_on_a_terminal(level: OutputLevel) -> None:
    assert not TextReporter(io.StringIO(), io.StringIO(), live=True, level=level).live_wanted
    assert TextReporter(io.StringIO(), io.StringIO(), live=True).live_wanted


def test_text_default_shows_everything() -> None:
    out, err = _text(OutputLevel.DEFAULT)
    assert out.startswith("Job job1: copy /src -> https://a/c\n")
    assert "FAILED: b.bin: boom" in out and "info: resume with" in out
    assert "capped at 8 Mbps" in out
    assert err.startswith("progress: ")


def test_text_essential_shows_errors_warnings_and_the_summary() -> None:
    out, err = _text(OutputLevel.ESSENTIAL)
    lines = out.splitlines()
    assert lines[:3] == [
        "FAILED: b.bin: boom",
        "warning: 'x' stored as 'y': reason",
        "Job job1 summary: CompletedWithErrors",
    ]
    assert "info:" not in out and err == ""


def test_text_quiet_shows_errors_only() -> None:
    out, err = _text(OutputLevel.QUIET)
    assert out == "FAILED: b.bin: boom\n" and err == ""


@pytest.mark.parametrize(
    ("level", "kinds"),
    [
        (OutputLevel.DEFAULT, [e.kind for e in JOB]),
        (OutputLevel.ESSENTIAL, ["transfer_done", "notice", "job_finished"]),
        (OutputLevel.QUIET, ["transfer_done", "job_finished"]),
    ],
)
def test_json_levels(level: OutputLevel, kinds: list[str]) -> None:
    out = io.StringIO()
    reporter = JsonReporter(out, level)
    for event in JOB:
        reporter.emit(event)
    assert [json.loads(line)["event"] for line in out.getvalue().splitlines()] == kinds
