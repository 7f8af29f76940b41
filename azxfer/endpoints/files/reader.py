"""Ranged reads of one file of a share, each answer checked against the ETag it was listed
with (the File service takes no If-Match on reads), so a file changed mid-read fails with
IntegrityError. Every answer also carries the MD5 the service stores for the whole file
(`x-ms-content-md5`), which the listing lacks: the reader keeps it (`stored_md5`, the
`StoredDigest` capability), so a download is checked without a Get Properties per file."""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Callable

from azxfer.endpoints.base import WriteAt
from azxfer.endpoints.files.rest import FileRestClient
from azxfer.models import Entry
from azxfer.transport.headers import Headers

Explain = Callable[[BaseException, str], BaseException]


class FileReader:
    """GETs of one file (a `StreamingReader`: ranges are streamed piece by piece)."""

    def __init__(self, rest: FileRestClient, entry: Entry, explain: Explain) -> None:
        self.rest = rest
        self.entry = entry
        self.explain = explain
        self.what = f"file '{entry.ref}'"
        self.stored_md5: bytes | None = None

    async def read(self, offset: int, length: int) -> bytes:
        """`length` bytes at `offset`."""
        try:
            data, headers = await self.rest.get_range(
                self.entry.ref, offset, length, self.entry.etag
            )
        except Exception as exc:
            raise self.explain(exc, self.what) from None
        self._learn(headers)
        return data

    def _learn(self, headers: Headers) -> None:
        """Keep the whole file's MD5 an answer reports (ranged answers: x-ms-content-md5;
        whole ones: Content-MD5)."""
        value = headers.get("x-ms-content-md5") or headers.get("Content-MD5")
        if value:
            # Not base64: nothing to check against, as when none is stored.
            with contextlib.suppress(binascii.Error, ValueError):
                self.stored_md5 = base64.b64decode(value, validate=True)

    async def read_to(self, offset: int, length: int, consume: WriteAt) -> None:
        """Bytes [offset, offset+length) handed to `consume(position, piece)` as they arrive;
        a connection lost mid-body resumes from the first byte not yet consumed."""
        try:
            await self.rest.get_range_to(
                self.entry.ref, offset, length, self.entry.etag, consume, self._learn
            )
        except Exception as exc:
            raise self.explain(exc, self.what) from None

    async def finish(self) -> None:
        """Every answer was checked against the ETag: nothing more to check."""

    async def close(self) -> None:
        """Nothing to release."""
