"""What a text reporter shows while a job runs: counts, a recent rate, an ETA, in binary units.

Both the rich line on a terminal and the plain lines of a piped run are built from these, so
they say the same thing in the same units (B, KiB, MiB, … and MiB/s: one system everywhere).
"""

from __future__ import annotations

from azxfer import events as ev
from azxfer.events import IDENTICAL

# The rate is measured over this many recent seconds: long enough to smooth out chunk-sized
# steps, short enough that a stall shows as a falling rate within seconds.
RATE_SPAN = 5.0
# A sample is kept at most this often, so the window holds ~25 of them however many events come.
RATE_STEP = 0.2
# No rate is shown before this much time has been measured (one chunk would read as a spike).
RATE_MIN_AGE = 0.5
# Skipped items listed by name in the summary; the rest are counted.
SKIPPED_LISTED = 20


class Counts:
    """Running totals a text reporter shows."""

    def __init__(self) -> None:
        self.files_total = 0
        self.files_done = 0
        self.bytes_total = 0
        self.bytes_done = 0
        self.enumerated = False
        self.retries = 0
        # Items skipped for what they are (links, special files, unreadable, an existing
        # destination), the first SKIPPED_LISTED by name. Sync's identical files are not among
        # them: leaving those alone is what a sync is for.
        self.skipped: list[tuple[str, str]] = []
        self.skipped_count = 0
        self._partial: dict[int, int] = {}

    def update(self, event: ev.Event) -> None:
        if isinstance(event, ev.TransferQueued):
            self.files_total += 1
            self.bytes_total += event.size
        elif isinstance(event, ev.Progress):
            self._partial[event.transfer_id] = self._partial.get(event.transfer_id, 0) + event.bytes
            self.bytes_done += event.bytes
        elif isinstance(event, ev.TransferDone):
            self._done(event)
        elif isinstance(event, ev.EnumerationDone):
            self.enumerated = True
        elif isinstance(event, ev.Retrying):
            self.retries += 1

    def _done(self, event: ev.TransferDone) -> None:
        moved = self._partial.pop(event.transfer_id, 0)
        self.files_done += 1
        if event.outcome == "completed":
            self.bytes_done += event.size - moved
            return
        self.bytes_done -= moved
        if event.outcome != "skipped":
            return
        if event.source:
            self.bytes_total -= event.size
        if event.reason != IDENTICAL:
            self.skipped_count += 1
            if len(self.skipped) < SKIPPED_LISTED:
                self.skipped.append((event.source, event.reason or "skipped"))


class RateWindow:
    """Bytes per second over the last RATE_SPAN seconds.

    A rate averaged since the start hides a stall and is slow to settle; this one is shown
    half a second in and falls to zero within RATE_SPAN seconds of the last byte. `add` is
    called per event (one comparison, mostly); `rate` may be called from rich's refresh
    thread, so both only ever swap whole immutable tuples (no lock on the hot path).
    """

    def __init__(self) -> None:
        self.latest: tuple[float, int] | None = None
        self.samples: tuple[tuple[float, int], ...] = ()

    def add(self, now: float, done: int) -> None:
        """Record that `done` bytes had moved at time `now`."""
        self.latest = (now, done)
        samples = self.samples
        if samples and now - samples[-1][0] < RATE_STEP:
            return
        cutoff = now - RATE_SPAN
        # Keep the newest sample older than the window as its starting point.
        first = 0
        while first + 1 < len(samples) and samples[first + 1][0] <= cutoff:
            first += 1
        self.samples = (*samples[first:], (now, done))

    def rate(self, now: float) -> float | None:
        """Bytes per second over the recent window; None until enough time was measured, or
        while nothing has moved in a window younger than RATE_SPAN (0 means a real stall)."""
        latest, samples = self.latest, self.samples
        if latest is None or not samples or now - samples[0][0] < RATE_MIN_AGE:
            return None
        start = max(now - RATE_SPAN, samples[0][0])
        done_at_start = samples[0][1]
        for when, done in (*samples, latest):
            if when > start:
                break
            done_at_start = done
        moved = max(latest[1] - done_at_start, 0)
        if not moved and now - samples[0][0] < RATE_SPAN:
            # Nothing through yet in a window younger than RATE_SPAN (a job's first seconds,
            # its first chunk still on the wire): unknown, not a stall.
            return None
        return moved / max(now - start, 1e-6)


def size_text(value: float) -> str:
    """A byte count in binary units: 512 B, 1.5 KiB, 3.2 MiB, …"""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def rate_text(bytes_per_second: float | None) -> str:
    """A rate in the same binary units as sizes, e.g. 12.5 MiB/s; `-- MiB/s` while unknown."""
    return "-- MiB/s" if bytes_per_second is None else f"{size_text(bytes_per_second)}/s"


def duration_text(seconds: float) -> str:
    """H:MM:SS."""
    whole = int(seconds + 0.5)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def activity_text(counts: Counts) -> str:
    """What is going on: still listing (and how much was found), or files done of the total."""
    text = (
        f"files {counts.files_done}/{counts.files_total}"
        if counts.enumerated
        else f"listing… {counts.files_total} found, {counts.files_done} done"
    )
    return text + (f", {counts.retries} retries" if counts.retries else "")


def eta_text(counts: Counts, bytes_per_second: float | None) -> str:
    """Time left at the recent rate; only once the totals are final (after listing)."""
    left = max(counts.bytes_total - counts.bytes_done, 0)
    return eta_after(left, counts.enumerated, bytes_per_second)


def eta_after(left: float, known: bool, per_second: float | None) -> str:
    """Time left for `left` units (bytes, objects) at `per_second`; only once `known` (the
    listing is over, so the total is final)."""
    if not known:
        return "ETA after listing"
    if not left:
        return "ETA 0:00:00"
    if not per_second:
        return "ETA --:--:--" if per_second is None else "ETA stalled"
    return f"ETA {duration_text(left / per_second)}"


def count_rate_text(per_second: float | None, noun: str = "objects") -> str:
    """A rate of things, e.g. 230.5 objects/s; `-- objects/s` while unknown."""
    return f"-- {noun}/s" if per_second is None else f"{per_second:.1f} {noun}/s"
