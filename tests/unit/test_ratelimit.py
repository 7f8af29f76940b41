"""The bandwidth cap's pacer on a fake clock: deterministic, no real sleeping."""

from __future__ import annotations

import asyncio

import pytest

from azxfer.engine.ratelimit import (
    LATENESS_MADE_UP,
    MBPS,
    BandwidthCap,
    pace_for,
    requests_under_cap,
)


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _cap(mbps: float, time: FakeTime) -> BandwidthCap:
    return BandwidthCap(mbps, clock=time.clock, sleep=time.sleep)


def test_one_caller_moves_at_the_cap() -> None:
    time = FakeTime()
    cap = _cap(8, time)  # 1,000,000 bytes per second
    piece = 64 * 1024

    async def move(total: int) -> None:
        for _ in range(total // piece):
            await cap.take(piece)

    asyncio.run(move(160 * piece))
    # Each piece waits for its own slot, right after the one before: the cap's time, less
    # the first slot's allowance for lateness.
    assert time.now - 100.0 == pytest.approx(160 * piece / 1_000_000 - LATENESS_MADE_UP)
    # Once the allowance is spent (the first two pieces), every piece waits its whole slot.
    assert time.slept[-150:] == pytest.approx([piece / 1_000_000] * 150)


def test_a_caller_woken_late_makes_the_lateness_up() -> None:
    """A busy event loop wakes each sleeper 30 ms late: the pacer gives the time back, so the
    job still moves at the cap, not at the cap less the sum of the late wake-ups."""
    time = FakeTime()
    piece = 256 * 1024

    async def oversleep(seconds: float) -> None:
        time.now += seconds + 0.03

    cap = BandwidthCap(8, clock=time.clock, sleep=oversleep)  # 1,000,000 bytes per second

    async def move() -> None:
        for _ in range(40):
            await cap.take(piece)

    asyncio.run(move())
    # The cap's time for 40 pieces (less the first slot's allowance), plus only the last
    # wake-up's lateness: 39 late wake-ups were made up.
    expected = 40 * piece / 1_000_000 - LATENESS_MADE_UP + 0.03
    assert time.now - 100.0 == pytest.approx(expected)


def test_callers_together_share_one_cap() -> None:
    time = FakeTime()
    cap = _cap(40, time)
    starts: list[float] = []

    async def caller() -> None:
        for _ in range(10):
            wait = cap.reserve(256 * 1024)
            starts.append(time.now + wait)

    async def everyone() -> None:
        await asyncio.gather(*(caller() for _ in range(8)))

    asyncio.run(everyone())
    # 80 pieces reserved back to back: the last starts 79 pieces' time after the first.
    assert max(starts) - min(starts) == pytest.approx(79 * 256 * 1024 / (40 * MBPS))
    assert len(set(starts)) == 80  # no two pieces share a slot


def test_idle_time_is_not_saved_up_as_a_burst() -> None:
    time = FakeTime()
    cap = _cap(8, time)
    assert cap.reserve(1_000_000) == pytest.approx(1.0 - LATENESS_MADE_UP)
    time.now += 60  # a minute idle (listing, say)
    assert cap.reserve(1_000_000) == pytest.approx(1.0 - LATENESS_MADE_UP)
    # The next megabyte waits for the one before it too: only the allowance was saved up.
    assert cap.reserve(1_000_000) == pytest.approx(2.0 - LATENESS_MADE_UP)


def test_a_piece_larger_than_a_second_waits_its_whole_time() -> None:
    time = FakeTime()
    cap = _cap(0.5, time)  # 62,500 bytes per second
    whole = 8 * 1024 * 1024 / 62_500
    assert cap.reserve(8 * 1024 * 1024) == pytest.approx(whole - LATENESS_MADE_UP)
    assert cap.reserve(1) == pytest.approx(whole + 1 / 62_500 - LATENESS_MADE_UP)


def test_no_cap_is_no_pacing() -> None:
    assert pace_for(None) is None
    assert pace_for(10) is not None


def test_bodies_sent_whole_go_one_slot_after_another() -> None:
    """`sent_at_pace`: each body is paid for in a slot of its own before it goes, so bodies
    sent side by side go one after another (the burst is one body)."""
    from azxfer.transport.wire import sent_at_pace

    time = FakeTime()
    cap = _cap(8, time)  # 1,000,000 bytes per second
    sent_at: list[float] = []

    async def send() -> str:
        sent_at.append(time.now)
        return "answer"

    async def side_by_side() -> list[str]:
        return await asyncio.gather(*(sent_at_pace(1_000_000, cap.take, send) for _ in range(3)))

    assert asyncio.run(side_by_side()) == ["answer"] * 3
    first = 101.0 - LATENESS_MADE_UP
    assert sorted(sent_at) == pytest.approx([first, first + 1, first + 2])


def test_under_a_cap_each_request_gets_a_useful_share() -> None:
    assert requests_under_cap(32, None) == 32
    assert requests_under_cap(32, 1000) == 32  # the cap leaves every request plenty
    assert requests_under_cap(32, 40) == 32  # the cap allows 38: 32 asked
    assert requests_under_cap(64, 40) == 38  # 5 MB/s: 38 requests of 128 KiB/s
    assert requests_under_cap(32, 8) == 7
    assert requests_under_cap(32, 0.5) == 4  # never fewer than four
    assert requests_under_cap(2, 0.5) == 2  # nor more than asked
