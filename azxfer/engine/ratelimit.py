"""The bandwidth cap (--cap-mbps): one pacer per job, shared by every request in both
directions, so the bytes this machine sends and receives stay within the cap.

It is a virtual-time token bucket (GCRA): each piece of body reserves the next `size / rate`
seconds of the link, right after the reservation before it, and waits until its slot starts.
Nothing accumulates while the link is idle (a slot never starts in the past), so the only burst
is the one piece just let through: over a few seconds the rate stays within a piece of the cap,
however many requests share it. A piece larger than a second of the cap is simply let through
and paid for by the pieces after it (debt), so the average still holds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# One megabit per second, in bytes per second (AzCopy's unit: decimal megabits).
MBPS = 1_000_000 / 8

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
        """Reserve the link for `size` bytes; how long to wait before moving them."""
        now = self._clock()
        start = max(self._free_at, now)
        self._free_at = start + size / self.rate
        return start - now

    async def take(self, size: int) -> None:
        """Wait until `size` bytes may move (called before sending or after receiving them)."""
        wait = self.reserve(size)
        if wait > 0:
            await self._sleep(wait)


def pace_for(mbps: float | None) -> Callable[[int], Awaitable[None]] | None:
    """A job's pace under a cap of `mbps` (None: no cap, so no pacing at all)."""
    return BandwidthCap(mbps).take if mbps else None
