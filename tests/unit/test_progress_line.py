"""The text reporter's progress: rich line on a terminal, plain lines when piped; rate, ETA,
units; and the JSON reporter's timestamps."""

from __future__ import annotations

import io
import json
import re
import time

import pytest
from rich.console import Console

from azxfer import events as ev
from azxfer.cli.render import JsonReporter, TextReporter

MiB = 1024 * 1024


class FakeClock:
    """Stands in for time.monotonic, so rates and ETAs are exact."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(time, "monotonic", fake)
    return fake


def started() -> ev.JobStarted:
    return ev.JobStarted("job-1", "copy", "/src", "https://acct/box", False)


def queue(reporter: TextReporter, count: int, size: int) -> None:
    for n in range(1, count + 1):
        reporter.emit(ev.TransferQueued(n, f"/src/f{n}", f"https://acct/box/f{n}", size))


def send(reporter: TextReporter, clock: FakeClock, seconds: float, per_second: int) -> None:
    """Progress on transfer 1 every 0.1 s at `per_second` bytes a second."""
    for _ in range(round(seconds * 10)):
        clock.now += 0.1
        reporter.emit(ev.Progress(1, per_second // 10))


def screen(reporter: TextReporter) -> str:
    """The live line as a terminal 160 columns wide shows it now."""
    assert reporter.live is not None
    out = io.StringIO()
    Console(file=out, force_terminal=True, width=160, color_system=None).print(
        reporter.live.get_renderable()
    )
    return out.getvalue()


def test_live_line_shows_listing_then_a_recent_rate_and_an_eta(clock):
    reporter = TextReporter(io.StringIO(), io.StringIO(), live=True)
    try:
        reporter.emit(started())
        queue(reporter, 3, 10 * MiB)
        assert "listing… 3 found, 0 done" in screen(reporter)

        send(reporter, clock, 2.0, 4 * MiB)
        line = screen(reporter)
        assert "listing… 3 found, 0 done" in line
        assert "4.0 MiB/s" in line and "ETA after listing" in line
        assert "?" not in line and "MB/s" not in line

        queue(reporter, 1, 2 * MiB)  # still listing: the count grows
        reporter.emit(ev.EnumerationDone(4, 32 * MiB))
        line = screen(reporter)
        assert "files 0/4" in line and "listing" not in line
        # 8 MiB of 32 MiB moved; 24 MiB left at 4 MiB/s.
        assert "8.0/32.0 MiB" in line and "4.0 MiB/s" in line and "ETA 0:00:06" in line

        # A stall: no event for 10 s. The rate falls to zero and the ETA says so.
        clock.now += 10
        line = screen(reporter)
        assert "0 B/s" in line and "ETA stalled" in line
    finally:
        reporter.close()


def test_live_rate_follows_the_last_seconds_not_the_whole_run(clock):
    reporter = TextReporter(io.StringIO(), io.StringIO(), live=True)
    try:
        reporter.emit(started())
        queue(reporter, 1, 100 * MiB)
        reporter.emit(ev.EnumerationDone(1, 100 * MiB))
        send(reporter, clock, 10.0, 1 * MiB)
        send(reporter, clock, 6.0, 8 * MiB)  # faster now: the average since start is ~3.6
        line = screen(reporter)
        assert "8.0 MiB/s" in line, line
    finally:
        reporter.close()


def test_plain_lines_say_listing_and_use_binary_rates(clock):
    err = io.StringIO()
    reporter = TextReporter(io.StringIO(), err, live=False)
    reporter.emit(started())
    queue(reporter, 2, 10 * MiB)
    send(reporter, clock, 2.0, 2 * MiB)
    reporter.emit(ev.EnumerationDone(2, 20 * MiB))
    send(reporter, clock, 2.0, 2 * MiB)
    lines = err.getvalue().splitlines()
    assert lines == [
        "progress: listing… 2 found, 0 done, 4.0 MiB of 20.0 MiB, 2.0 MiB/s, ETA after listing",
        "progress: files 0/2, 8.0 MiB of 20.0 MiB, 2.0 MiB/s, ETA 0:00:06",
    ]


def test_json_time_is_iso_utc_with_milliseconds(monkeypatch):
    out = io.StringIO()
    reporter = JsonReporter(out)
    # 2026-12-06T14:55:29.123Z, then a tick within the same second, then the next second.
    for wall in (1796568929.1234, 1796568929.9996, 1796568930.0):
        monkeypatch.setattr(time, "time", lambda wall=wall: wall)
        reporter.emit(ev.Notice("info", "x"))
    times = [json.loads(line)["time"] for line in out.getvalue().splitlines()]
    assert times == [
        "2026-12-06T14:55:29.123Z",
        "2026-12-06T14:55:29.999Z",
        "2026-12-06T14:55:30.000Z",
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t) for t in times)


def test_no_stall_is_claimed_before_anything_could_move(clock):
    reporter = TextReporter(io.StringIO(), io.StringIO(), live=True)
    try:
        reporter.emit(started())
        queue(reporter, 1, 10 * MiB)
        reporter.emit(ev.EnumerationDone(1, 10 * MiB))
        clock.now += 1.0  # a second in, the first chunk not yet through: no rate is known
        reporter.emit(ev.Progress(1, 0))
        line = screen(reporter)
        assert "stalled" not in line and "-- MiB/s" in line and "ETA --:--:--" in line, line
        clock.now += 10  # nothing for longer than the rate's window: now that is a stall
        assert "ETA stalled" in screen(reporter)
    finally:
        reporter.close()


def test_a_bulk_job_claims_no_stall_in_its_first_second(clock):
    from azxfer.cli.bulkreport import BulkTextReporter

    reporter = BulkTextReporter(io.StringIO(), io.StringIO(), live=True)
    try:
        reporter.emit(ev.JobStarted("job1", "remove", "https://a/c", "", False))
        reporter.emit(ev.EnumerationDone(100, 0))
        clock.now += 1.0
        reporter.emit(ev.Notice("info", "working"))
        line = screen(reporter)  # type: ignore[arg-type]
        assert "stalled" not in line and "-- objects/s" in line and "ETA --:--:--" in line, line
        clock.now += 10
        assert "0.0 objects/s  ETA stalled" in screen(reporter)  # type: ignore[arg-type]
    finally:
        reporter.close()
