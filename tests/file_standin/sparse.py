"""Sparse file content: only written ranges cost memory (Create File announces the full size)."""

from __future__ import annotations

from bisect import bisect_right

Bytes = bytes | memoryview


class SparseData:
    """Non-overlapping written extents, sorted by offset; everything else reads as zeros.

    Writes keep the request body as it came (no copy); overlapping older extents are trimmed
    by slicing memoryviews, which copies nothing either.
    """

    __slots__ = ("_chunks", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._chunks: list[memoryview] = []

    def write(self, offset: int, data: Bytes) -> None:
        view = data if isinstance(data, memoryview) else memoryview(data)
        if not len(view):
            return
        self.clear(offset, offset + len(view))
        index = bisect_right(self._starts, offset)
        self._starts.insert(index, offset)
        self._chunks.insert(index, view)

    def clear(self, start: int, end: int) -> None:
        """Forget [start, end): it reads as zeros again."""
        if start >= end or not self._starts:
            return
        first = max(bisect_right(self._starts, start) - 1, 0)
        keep_starts, keep_chunks = self._starts[:first], self._chunks[:first]
        for index in range(first, len(self._starts)):
            s, chunk = self._starts[index], self._chunks[index]
            e = s + len(chunk)
            if e <= start or s >= end:
                keep_starts.append(s)
                keep_chunks.append(chunk)
                continue
            if s < start:
                keep_starts.append(s)
                keep_chunks.append(chunk[: start - s])
            if e > end:
                keep_starts.append(end)
                keep_chunks.append(chunk[end - s :])
        self._starts, self._chunks = keep_starts, keep_chunks

    def truncate(self, size: int) -> None:
        if self._starts:
            last = self._starts[-1] + len(self._chunks[-1])
            self.clear(size, max(size, last))

    def read(self, start: int, end: int) -> Bytes:
        """Bytes [start, end); one stored extent covering it comes back as a view, uncopied."""
        pieces = self.pieces(start, end)
        if len(pieces) == 1:
            return pieces[0]
        return b"".join(pieces)

    def pieces(self, start: int, end: int) -> list[Bytes]:
        """Bytes [start, end) as views of the stored extents (zeros between them), uncopied."""
        pieces: list[Bytes] = []
        pos = start
        first = max(bisect_right(self._starts, start) - 1, 0)
        for index in range(first, len(self._starts)):
            s, chunk = self._starts[index], self._chunks[index]
            e = s + len(chunk)
            if e <= pos:
                continue
            if s >= end:
                break
            if s > pos:
                pieces.append(bytes(s - pos))
                pos = s
            take = min(e, end)
            pieces.append(chunk[pos - s : take - s])
            pos = take
        if pos < end:
            pieces.append(bytes(end - pos))
        return pieces

    def ranges(self, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
        """Written ranges as inclusive (first, last) byte pairs, adjacent extents merged."""
        out: list[tuple[int, int]] = []
        for s, chunk in zip(self._starts, self._chunks, strict=True):
            lo, hi = max(s, start), s + len(chunk)
            if end is not None:
                hi = min(hi, end)
            if lo >= hi:
                continue
            if out and out[-1][1] + 1 == lo:
                out[-1] = (out[-1][0], hi - 1)
            else:
                out.append((lo, hi - 1))
        return out

    def stored_bytes(self) -> int:
        return sum(len(c) for c in self._chunks)
