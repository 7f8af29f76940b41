"""Ranged reads of one blob, on the REST fast path or (snapshots, versions) the SDK."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from azxfer.endpoints.blob.handles import FastPath, LazyBlob
from azxfer.errors import IntegrityError
from azxfer.models import Entry, blob_props


class BlobReader:
    """GETs of one blob, each conditional on (or checked against) the ETag seen at
    enumeration."""

    def __init__(
        self,
        blob: LazyBlob,
        entry: Entry,
        classify_error: Callable[[BaseException, str], Exception],
        fast: FastPath | None = None,
    ) -> None:
        self.blob = blob
        self.entry = entry
        self.classify = classify_error
        self.fast = fast

    async def read(self, offset: int, length: int) -> bytes:
        """`length` bytes at `offset`."""
        if self.fast is not None:
            try:
                return await self.fast.rest.get_range(
                    self.fast.container,
                    self.entry.ref,
                    offset,
                    length,
                    self.entry.etag,
                    self._whole(offset, length),
                )
            except Exception as exc:
                raise self.classify(exc, f"blob '{self.entry.ref}'") from None
        from azure.core import MatchConditions
        from azure.core.exceptions import HttpResponseError

        condition: dict[str, Any] = {}
        if self.entry.etag:
            condition = {"etag": self.entry.etag, "match_condition": MatchConditions.IfNotModified}
        version_id = blob_props(self.entry).version_id
        if version_id:
            condition["version_id"] = version_id
        try:
            stream = await self.blob.client.download_blob(offset=offset, length=length, **condition)
            data = await stream.readall()
        except HttpResponseError as exc:
            if exc.status_code == 412:
                raise IntegrityError(
                    f"blob '{self.entry.ref}' changed during the download"
                ) from None
            raise self.classify(exc, f"blob '{self.entry.ref}'") from None
        except Exception as exc:
            raise self.classify(exc, f"blob '{self.entry.ref}'") from None
        if len(data) != length:
            raise IntegrityError(f"blob '{self.entry.ref}' returned {len(data)} of {length} bytes")
        return data

    async def read_to(
        self, offset: int, length: int, consume: Callable[[int, bytes], Awaitable[None]]
    ) -> None:
        """Bytes [offset, offset+length) handed to `consume(position, piece)` as they arrive
        (the REST path streams them; otherwise the range is read whole first)."""
        if self.fast is None:
            await consume(offset, await self.read(offset, length))
            return
        try:
            await self.fast.rest.get_range_to(
                self.fast.container,
                self.entry.ref,
                offset,
                length,
                self.entry.etag,
                consume,
                self._whole(offset, length),
            )
        except Exception as exc:
            raise self.classify(exc, f"blob '{self.entry.ref}'") from None

    def _whole(self, offset: int, length: int) -> bool:
        """Whether a read covers the entire blob as listed (then its ETag is checked on the
        answer instead of sent as a condition; see `wire.read_headers`)."""
        return offset == 0 and length == self.entry.size and length > 0

    async def finish(self) -> None:
        """Every read was conditional on, or checked against, the ETag: nothing more to check."""

    async def close(self) -> None:
        """Nothing to release."""
