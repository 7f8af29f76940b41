"""Ranged reads of one file of a share, each answer checked against the ETag it was listed
with (the File service takes no If-Match on reads), so a file changed mid-read fails with
IntegrityError."""

from __future__ import annotations

from collections.abc import Callable

from azxfer.endpoints.base import WriteAt
from azxfer.endpoints.files.rest import FileRestClient
from azxfer.models import Entry

Explain = Callable[[BaseException, str], BaseException]


class FileReader:
    """GETs of one file (a `StreamingReader`: ranges are streamed piece by piece)."""

    def __init__(self, rest: FileRestClient, entry: Entry, explain: Explain) -> None:
        self.rest = rest
        self.entry = entry
        self.explain = explain
        self.what = f"file '{entry.ref}'"

    async def read(self, offset: int, length: int) -> bytes:
        """`length` bytes at `offset`."""
        try:
            return await self.rest.get_range(self.entry.ref, offset, length, self.entry.etag)
        except Exception as exc:
            raise self.explain(exc, self.what) from None

    async def read_to(self, offset: int, length: int, consume: WriteAt) -> None:
        """Bytes [offset, offset+length) handed to `consume(position, piece)` as they arrive;
        a connection lost mid-body resumes from the first byte not yet consumed."""
        try:
            await self.rest.get_range_to(self.entry.ref, offset, length, self.entry.etag, consume)
        except Exception as exc:
            raise self.explain(exc, self.what) from None

    async def finish(self) -> None:
        """Every answer was checked against the ETag: nothing more to check."""

    async def close(self) -> None:
        """Nothing to release."""
