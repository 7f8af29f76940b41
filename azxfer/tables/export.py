"""Streaming a table's partition-key ranges into data files: page after page of Query Entities,
each written as it arrives while the next is already asked for, so one page per range is in
memory (the service's 1,000 entities at most) whatever the table's size."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from typing import Any

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


class RangeExport:
    """Writes the entities of one partition-key range to its data files in `folder`: a new
    file (the next split) once one exceeds `split_bytes` (None: one file); each named for its
    CRC once complete, a CSV file's schema written beside it then."""

    def __init__(
        self, folder: ExportFolder, stem: str, range_index: int, payload: str,
        split_bytes: int | None, on_page: OnPage,
    ) -> None:  # fmt: skip
        self.folder = folder
        self.stem = stem
        self.range_index = range_index
        self.payload = payload
        self.split_bytes = split_bytes
        self.on_page = on_page
        self.files: list[DataFile] = []
        self.current: _DataFileWriter | None = None

    async def _open(self) -> _DataFileWriter:
        partial = f"{self.stem}_{self.range_index}_{len(self.files)}.partial"
        sink = await self.folder.open_data(partial)
        return _DataFileWriter(sink, CsvColumns() if self.payload == PAYLOAD_CSV else None)

    async def run(self, client: TableRestClient, query: TableQuery) -> list[DataFile]:
        """Export every entity `query` reads; the data files written, in split order."""
        source = PageStream(client, query)
        try:
            async for body in source:
                await self._page(page_entities(body))
            if self.current is not None or not self.files:
                # A range with no entities still has its (empty) file: the manifest then shows
                # every range was read.
                await self._finish(self.current or await self._open())
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
                await self._finish(self.current)
        if lines:
            await self._flush(lines, size)

    async def _flush(self, lines: list[bytes], size: int) -> None:
        assert self.current is not None
        await self.current.write(lines)
        self.on_page(len(lines), size)

    async def _finish(self, writer: _DataFileWriter) -> None:
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
