"""The bandwidth cap (--cap-mbps): one pacer per job, shared by every request in both
directions, so the bytes this machine sends and receives stay within the cap.

It is a virtual-time token bucket (GCRA): each piece of body reserves the next `size / rate`
seconds of the link, right after the reservation before it, and its caller waits until that
slot has passed (before sending the piece, or before handing on one received). So the job's
last byte is paid for like its first, and the rate holds even over the few seconds of a small
job. A slot starts at most LATENESS_MADE_UP seconds in the past: a caller woken late by a busy
event loop (or slow to send its piece) makes that lateness up, where without it every late
wake-up would be link time lost and a loaded machine would fall below the cap; yet idle time
is not saved up as a burst beyond those few milliseconds' worth. A piece larger than a second
of the cap simply waits longer: the average is what counts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# One megabit per second, in bytes per second (AzCopy's unit: decimal megabits).
MBPS = 1_000_000 / 8

# Under a cap, each request in flight gets at least this share of it (bytes per second): a
# read paced much slower would risk the service's time limit on a request (Azure allows about
# two minutes per MiB), and more requests in flight would move no more bytes anyway.
MIN_SHARE_PER_REQUEST = 128 * 1024
MIN_REQUESTS = 4

# How late a slot may start, in seconds: the most any window of time moves beyond the cap
# (0.1 s of it) and the most lateness of one wake-up that is made up.
LATENESS_MADE_UP = 0.1

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class BandwidthCap:
    """Paces pieces of body to `mbps` megabits per second, for every caller together."""

    def __init__(
        self, mbps: float, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        """`clock` and `sleep` are injected so tests control time."""
        self.mbps = mbps
        self.rate = mbps * MBPS  # bytes per second
        self._clock = clock
        self._sleep = sleep
        # When the last reserved slot ends (the "theoretical arrival time").
        self._free_at = 0.0

    def reserve(self, size: int) -> float:
        """Reserve the link for `size` bytes; how long to wait: until the reserved slot ends."""
        now = self._clock()
        self._free_at = max(self._free_at, now - LATENESS_MADE_UP) + size / self.rate
        return self._free_at - now

    async def take(self, size: int) -> None:
        """Wait until `size` bytes may move (called before sending or after receiving them)."""
        wait = self.reserve(size)
        if wait > 0:
            await self._sleep(wait)


def pace_for(mbps: float | None) -> Callable[[int], Awaitable[None]] | None:
    """A job's pace under a cap of `mbps` (None: no cap, so no pacing at all)."""
    return BandwidthCap(mbps).take if mbps else None


def requests_under_cap(concurrency: int, mbps: float | None) -> int:
    """The requests a job keeps in flight under a cap of `mbps` (None: `concurrency`): at
    most one per MIN_SHARE_PER_REQUEST of the cap, and at least MIN_REQUESTS."""
    if not mbps:
        return concurrency
    return min(concurrency, max(MIN_REQUESTS, int(mbps * MBPS / MIN_SHARE_PER_REQUEST)))
