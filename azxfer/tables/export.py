"""Streaming a table's partition-key ranges into data files: page after page of Query Entities,
each written as it arrives while the next is already asked for, so one page per range is in
memory (the service's 1,000 entities at most) whatever the table's size."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from typing import Any

from msgspec import Struct

from azxfer.endpoints.tables.csvform import CsvColumns
from azxfer.endpoints.tables.entities import export_line, page_entities
from azxfer.endpoints.tables.rest import Continuation, TableRestClient
from azxfer.tables.manifest import (
    PAYLOAD_CSV,
    DataFile,
    SchemaFile,
    data_file_name,
    schema_file_name,
)
from azxfer.tables.store import DataSink, ExportFolder

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

    def in_range(self, low: str | None, high: str | None) -> TableQuery:
        """This query narrowed to partition keys in [low, high) (None: unbounded)."""
        terms = [f"({self.filter})"] if self.filter else []
        if low is not None:
            terms.append(f"PartitionKey ge {_literal(low)}")
        if high is not None:
            terms.append(f"PartitionKey lt {_literal(high)}")
        narrowed = TableQuery(None, None)
        narrowed.filter = " and ".join(terms) or None
        narrowed.select = self.select
        return narrowed


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# A partition-key range: [low, high), None for no bound.
KeyRange = tuple[str | None, str | None]


def key_ranges(bounds: list[str]) -> list[KeyRange]:
    """The ranges `--pkrs` bounds make: [first, b0), [b0, b1), ..., [bn, last]."""
    edges: list[str | None] = [None, *bounds, None]
    return [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


class PageStream:
    """The pages of a query from `start` (None: its first page), the next one asked for while
    the caller handles the last; `at` is where the page last returned started."""

    def __init__(
        self, client: TableRestClient, query: TableQuery, start: Continuation | None = None
    ) -> None:
        self.client = client
        self.query = query
        self.at: Continuation | None = start
        self._asked: Continuation | None = start

    def __aiter__(self) -> PageStream:
        self.next: asyncio.Task[tuple[bytes, Continuation | None]] | None = self._ask(self.at)
        return self

    def _ask(self, at: Continuation | None) -> asyncio.Task[tuple[bytes, Continuation | None]]:
        return asyncio.ensure_future(
            self.client.query_page(self.query.filter, self.query.select, at)
        )

    async def __anext__(self) -> bytes:
        if self.next is None:
            raise StopAsyncIteration
        body, after = await self.next
        self.at, self._asked = self._asked, after
        self.next = self._ask(after) if after is not None else None
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


class _DataFileWriter:
    """One data file of a range being written: its sink, CRC, size and entities, and (CSV)
    its columns."""

    def __init__(self, sink: DataSink, columns: CsvColumns | None) -> None:
        self.sink = sink
        self.columns = columns
        self.crc = self.size = self.entities = 0

    def encode(self, entity: dict[str, Any]) -> bytes:
        return self.columns.row(entity) if self.columns is not None else export_line(entity)

    async def write(self, lines: list[bytes]) -> None:
        data = b"".join(lines)
        await self.sink.write(data)
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self.entities += len(lines)


class RangePoint(Struct, frozen=True):
    """A point of a range between two entities: the page it falls in (where that page
    starts, None: the range's first page) and the keys of the last entity before it. A split
    falls anywhere in a page; a resume reads that page again and drops the entities up to
    `last`, the query's order being the keys' order."""

    page: Continuation | None
    last: tuple[str, str]


class RangeStart(Struct, frozen=True):
    """Where a range's export starts: the data files a killed run completed and the point
    after them (none and None: from the range's start)."""

    files: list[DataFile] = []
    point: RangePoint | None = None


# Told after each data file of a range is complete: (range, its files so far, the point
# after them, None once the range is done).
OnFile = Callable[[int, list[DataFile], RangePoint | None], None]


class RangeExport:
    """Writes the entities of one partition-key range to its data files in `folder`: a new
    file (the next split) once one exceeds `split_bytes` (None: one file); each named for
    its CRC once complete, a CSV file's schema written beside it then, and `on_file` told
    the point after it (where a resume starts)."""

    def __init__(
        self, folder: ExportFolder, stem: str, range_index: int, payload: str,
        split_bytes: int | None, on_page: OnPage, on_file: OnFile,
        start: RangeStart | None = None,
    ) -> None:  # fmt: skip
        self.folder = folder
        self.stem = stem
        self.range_index = range_index
        self.payload = payload
        self.split_bytes = split_bytes
        self.on_page = on_page
        self.on_file = on_file
        self.start = start or RangeStart()
        self.files: list[DataFile] = list(self.start.files)
        self.current: _DataFileWriter | None = None
        self.page_at: Continuation | None = None

    def _partial(self) -> str:
        return f"{self.stem}_{self.range_index}_{len(self.files)}.partial"

    async def _open(self) -> _DataFileWriter:
        sink = await self.folder.open_data(self._partial())
        return _DataFileWriter(sink, CsvColumns() if self.payload == PAYLOAD_CSV else None)

    async def run(self, client: TableRestClient, query: TableQuery) -> list[DataFile]:
        """Export every entity `query` reads from the start; the data files, in split
        order."""
        point = self.start.point
        if point is not None:
            # A killed run's unfinished file: its entities are read again from the journaled
            # point, into a new file of the same name.
            await (await self.folder.open_data(self._partial())).abort()
        source = PageStream(client, query, point.page if point else None)
        try:
            async for body in source:
                self.page_at = source.at
                page = page_entities(body)
                if point is not None:
                    page = [e for e in page if (e["PartitionKey"], e["RowKey"]) > point.last]
                    point = None
                await self._page(page)
            if self.current is not None or not self.files:
                # A range with no entities still has its (empty) file: the manifest then shows
                # every range was read.
                await self._finish(self.current or await self._open(), None)
            else:
                self.on_file(self.range_index, self.files, None)
        except BaseException:
            source.cancel()
            if self.current is not None:
                await self.current.sink.abort()
            raise
        return self.files

    async def _page(self, page: list[dict[str, Any]]) -> None:
        lines: list[bytes] = []
        size = 0
        for entity in page:
            if self.current is None:
                self.current = await self._open()
            line = self.current.encode(entity)
            lines.append(line)
            size += len(line)
            if self.split_bytes is not None and self.current.size + size > self.split_bytes:
                await self._flush(lines, size)
                lines, size = [], 0
                last = (entity["PartitionKey"], entity["RowKey"])
                await self._finish(self.current, RangePoint(self.page_at, last))
        if lines:
            await self._flush(lines, size)

    async def _flush(self, lines: list[bytes], size: int) -> None:
        assert self.current is not None
        await self.current.write(lines)
        self.on_page(len(lines), size)

    async def _finish(self, writer: _DataFileWriter, after: RangePoint | None) -> None:
        self.current = None
        split = len(self.files)
        name = data_file_name(self.stem, self.range_index, split, writer.crc, self.payload)
        await writer.sink.finish(name)
        schema = None
        if writer.columns is not None:
            data = writer.columns.schema()
            schema = SchemaFile(schema_file_name(name), len(data), f"{zlib.crc32(data):08X}")
            await self.folder.write_small(schema.name, data)
        self.files.append(
            DataFile(
                name, self.range_index, split, writer.size, writer.entities,
                f"{writer.crc:08X}", schema,
            )
        )  # fmt: skip
        self.on_file(self.range_index, self.files, after)
