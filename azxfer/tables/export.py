"""Streaming a table into one data file: page after page of Query Entities, each written as
it arrives while the next is already asked for, so one page at a time is in memory (the
service's 1,000 entities at most) whatever the table's size."""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import Callable
from pathlib import Path

from azxfer.endpoints.tables.entities import export_line, page_entities
from azxfer.endpoints.tables.rest import Continuation, TableRestClient
from azxfer.tables.manifest import DataFile, data_file_name

# Told after each page: (entities, bytes) it added.
OnPage = Callable[[int, int], None]


class TableQuery:
    """Which entities and properties an export reads (None: all)."""

    def __init__(self, filter_: str | None, select: list[str] | None) -> None:
        self.filter = filter_
        # The keys are always read: an entity cannot be imported without them.
        self.select = (
            ",".join(dict.fromkeys(["PartitionKey", "RowKey", *select])) if select else None
        )


class PageStream:
    """The pages of a query, the next one asked for while the caller handles the last."""

    def __init__(self, client: TableRestClient, query: TableQuery) -> None:
        self.client = client
        self.query = query

    def __aiter__(self) -> PageStream:
        self.next: asyncio.Task[tuple[bytes, Continuation | None]] | None = self._ask(None)
        return self

    def _ask(self, at: Continuation | None) -> asyncio.Task[tuple[bytes, Continuation | None]]:
        return asyncio.ensure_future(
            self.client.query_page(self.query.filter, self.query.select, at)
        )

    async def __anext__(self) -> bytes:
        if self.next is None:
            raise StopAsyncIteration
        body, at = await self.next
        self.next = self._ask(at) if at is not None else None
        return body

    def cancel(self) -> None:
        """Stop asking for the next page."""
        if self.next is not None:
            self.next.cancel()


async def count_entities(client: TableRestClient, query: TableQuery, on_page: OnPage) -> int:
    """How many entities `query` reads (a dry run): only their keys are asked for."""
    keys_only = TableQuery(query.filter, ["RowKey"])
    total = 0
    async for body in PageStream(client, keys_only):
        count = len(page_entities(body))
        total += count
        on_page(count, 0)
    return total


async def export_to_file(
    client: TableRestClient, query: TableQuery, folder: Path, stem: str, on_page: OnPage
) -> DataFile:
    """Write every entity `query` reads to a data file of range 0, split 0, in `folder`;
    named for its CRC once it is complete (a partial file never has a data file's name)."""
    partial = folder / f"{stem}_0_0.partial"
    crc = size = entities = 0
    source = PageStream(client, query)
    try:
        with partial.open("wb") as out:
            async for body in source:
                page = page_entities(body)
                lines = b"".join([export_line(entity) for entity in page])
                count = len(page)
                out.write(lines)
                crc = zlib.crc32(lines, crc)
                size += len(lines)
                entities += count
                on_page(count, len(lines))
    except BaseException:
        source.cancel()
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    name = data_file_name(stem, 0, 0, crc)
    partial.rename(folder / name)
    return DataFile(name, 0, 0, size, entities, f"{crc:08X}")
