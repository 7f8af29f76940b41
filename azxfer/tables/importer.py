"""Importing data files (JSON or CSV) into a table: every file verified against the manifest
before any write (one read), then read again, entity by entity, into Entity Group Transactions
(≤ 100 entities, ≤ 4 MiB, one partition), several in flight. Memory: the batches in flight and
one piece of a file, whatever the files' size. Another table's entities go the same way."""

from __future__ import annotations

import asyncio
import codecs
import zlib
from collections.abc import AsyncIterator, Callable

from msgspec import Struct, field

from azxfer.endpoints.tables.batch import (
    MAX_BATCH_BYTES,
    MAX_OPERATIONS,
    OPERATION_OVERHEAD,
    BatchEntity,
    BatchFailure,
    EntityOperation,
    escape_separators,
)
from azxfer.endpoints.tables.csvform import Column, RowParser, parse_schema, row_entity
from azxfer.endpoints.tables.entities import keys_of
from azxfer.endpoints.tables.rest import TableRestClient
from azxfer.errors import IntegrityError, RetryableError, TransferError
from azxfer.tables.manifest import DataFile, Manifest
from azxfer.tables.store import ExportFolder

# Told as entities are settled: (entities, bytes of their lines).
OnSettled = Callable[[int, int], None]
# The code of an insert of an entity the table has already.
_EXISTS = "EntityAlreadyExists"
_NAMED_FAILURES = 1000


class ImportCounts(Struct):
    """What an import did with the entities it read; `failures`: (entity, reason)."""

    entities: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


async def verify(folder: ExportFolder, manifest: Manifest) -> None:
    """Raise unless every data file (and CSV schema) is there, of the manifest's size and
    CRC, and holds the manifest's count of entities whose keys the service accepts: before
    anything is written. One read of each file."""
    for item in manifest.files:
        size = await folder.size(item.name)
        if size is None:
            raise IntegrityError(f"data file {folder.display(item.name)} is missing")
        _check_size(folder, item.name, size, item.size)
    for item in manifest.files:
        crc = 0
        count = 0
        async for piece, entities in _read(folder, item, keys_only=True):
            crc = zlib.crc32(piece, crc)
            count += len(entities)
        _check_crc(folder, item.name, crc, item.crc32)
        if count != item.entities:
            raise IntegrityError(
                f"data file {folder.display(item.name)} holds {count} entities, the manifest "
                f"says {item.entities}"
            )


def _check_size(folder: ExportFolder, name: str, size: int, expected: int) -> None:
    if size != expected:
        raise IntegrityError(
            f"data file {folder.display(name)} has {size} bytes, the manifest says {expected}: "
            "it is truncated or was changed"
        )


def _check_crc(folder: ExportFolder, name: str, crc: int, expected: str) -> None:
    if f"{crc:08X}" != expected.upper():
        raise IntegrityError(
            f"data file {folder.display(name)} has CRC-32 {crc:08X}, the manifest says "
            f"{expected}: it was changed"
        )


async def _schema(folder: ExportFolder, item: DataFile) -> list[Column]:
    assert item.schema is not None
    data = await folder.read_small(item.schema.name)
    _check_size(folder, item.schema.name, len(data), item.schema.size)
    _check_crc(folder, item.schema.name, zlib.crc32(data), item.schema.crc32)
    return parse_schema(data, folder.display(item.schema.name))


async def _read(
    folder: ExportFolder, item: DataFile, keys_only: bool = False
) -> AsyncIterator[tuple[bytes, list[BatchEntity]]]:
    """Each piece of a data file and the entities it completes (`keys_only`: their bodies
    left empty, for counting and checking keys)."""
    where = folder.display(item.name)
    if item.schema is None:
        lines = _JsonLines(where, keys_only)
        async for piece in folder.pieces(item.name):
            yield piece, lines.feed(piece)
        lines.finish()
        return
    columns = await _schema(folder, item)
    decoder = codecs.getincrementaldecoder("utf-8")()
    rows = RowParser(where)
    async for piece in folder.pieces(item.name):
        try:
            text = decoder.decode(piece)
        except UnicodeDecodeError:
            raise IntegrityError(f"{where} is not UTF-8") from None
        first = rows.rows + 1
        entities = [
            BatchEntity(*row_entity(row, columns, f"{where}:{number}"))
            for number, row in enumerate(rows.feed(text), first)
        ]
        yield piece, entities
    rows.finish()


class _JsonLines:
    """Splits a JSON data file, fed in pieces, into entities."""

    def __init__(self, where: str, keys_only: bool) -> None:
        self.where = where
        self.keys_only = keys_only
        self.rest = b""
        self.number = 0

    def feed(self, piece: bytes) -> list[BatchEntity]:
        data = self.rest + piece if self.rest else piece
        lines = data.split(b"\n")
        self.rest = lines.pop()
        return [self._entity(line) for line in lines]

    def _entity(self, line: bytes) -> BatchEntity:
        self.number += 1
        body = line.rstrip(b"\r")
        keys = keys_of(body, f"{self.where}:{self.number}")
        return BatchEntity(
            keys.PartitionKey, keys.RowKey, b"" if self.keys_only else escape_separators(body)
        )

    def finish(self) -> None:
        if self.rest:
            self._entity(self.rest)
            raise IntegrityError(f"{self.where}: its last line does not end")


class ImportSource(Struct, frozen=True):
    """Entities an import reads, named for the journal (a data file's name, or "table")."""

    name: str
    entities: AsyncIterator[BatchEntity]


def file_sources(folder: ExportFolder, manifest: Manifest) -> list[ImportSource]:
    """The data files of `manifest` (verified already), each the source of its entities."""
    return [ImportSource(item.name, _file_entities(folder, item)) for item in manifest.files]


async def _file_entities(folder: ExportFolder, item: DataFile) -> AsyncIterator[BatchEntity]:
    async for _, entities in _read(folder, item):
        for entity in entities:
            yield entity


async def batches(entities: AsyncIterator[BatchEntity]) -> AsyncIterator[list[BatchEntity]]:
    """Entities in batches: consecutive entities of one partition (an export and a query
    give each partition's entities together), up to the service's limits. A function of the
    entities' order only, so a resumed import forms the same batches (and numbers them the
    same) as the run it continues."""
    batch: list[BatchEntity] = []
    size = 0
    async for entity in entities:
        cost = len(entity.body) + OPERATION_OVERHEAD
        if batch and (
            entity.partition_key != batch[0].partition_key
            or len(batch) == MAX_OPERATIONS
            or size + cost > MAX_BATCH_BYTES
        ):
            yield batch
            batch, size = [], 0
        batch.append(entity)
        size += cost
    if batch:
        yield batch


# Told when every entity of a batch was written or skipped: (source, batch index, entities).
OnBatch = Callable[[str, int, int], None]
# The batches of a source confirmed by an earlier run (skipped).
DoneBatches = Callable[[str], set[int]]


class Importer:
    """Imports data files into one table with one entity operation, `concurrency` batches
    in flight."""

    def __init__(
        self,
        client: TableRestClient,
        operation: EntityOperation,
        concurrency: int,
        on_settled: OnSettled,
        on_batch: OnBatch,
        done: DoneBatches,
    ) -> None:
        self.client = client
        self.operation = operation
        self.slots = asyncio.Semaphore(concurrency)
        self.on_settled = on_settled
        self.on_batch = on_batch
        self.done = done
        self.counts = ImportCounts()

    async def run(self, sources: list[ImportSource]) -> ImportCounts:
        """Import the entities of `sources` (verified data files, or another table), source
        by source, but the batches an earlier run of the job had confirmed."""
        async with asyncio.TaskGroup() as group:
            for source in sources:
                done = self.done(source.name)
                index = -1
                async for batch in batches(source.entities):
                    index += 1
                    if index in done:
                        continue
                    self.counts.entities += len(batch)
                    await self.slots.acquire()
                    group.create_task(self._one(source.name, index, batch))
        return self.counts

    async def _one(self, source: str, index: int, batch: list[BatchEntity]) -> None:
        try:
            failed = await self._apply(batch)
        finally:
            self.slots.release()
        if not failed:
            # A batch with a failed entity stays unjournaled: a resume tries it again.
            self.on_batch(source, index, len(batch))

    async def _apply(self, batch: list[BatchEntity]) -> int:
        """Apply the operation to `batch`; the entity an answer names as failed is set apart
        (skipped, or failed with its reason) and the rest sent again, so none of them is lost
        or written twice. How many failed."""
        pending = list(batch)
        failed = 0
        while pending:
            try:
                failure = await self.client.submit_batch(self.operation, pending)
            except TransferError as exc:
                if len(pending) == 1 or isinstance(exc, RetryableError):
                    self._failed(pending, str(exc))
                    return failed + len(pending)
                failure = BatchFailure(0, "", None, str(exc))
            if failure is None:
                self.counts.written += len(pending)
                self._settled(pending)
                return failed
            if failure.index is None or not 0 <= failure.index < len(pending):
                if len(pending) == 1:
                    return failed + self._settle_failure(pending, failure)
                # The service did not say which one: each goes alone, to learn it.
                for entity in pending:
                    failed += await self._apply([entity])
                return failed
            failed += self._settle_failure([pending.pop(failure.index)], failure)
        return failed

    def _settle_failure(self, entities: list[BatchEntity], failure: BatchFailure) -> int:
        """Settle entities the service refused: skipped (0) or failed (their number)."""
        if self.operation is EntityOperation.INSERT_OR_SKIP and failure.code == _EXISTS:
            self.counts.skipped += len(entities)
            self._settled(entities)
            return 0
        reason = f"{failure.status} {failure.code}: {failure.message}".strip(": ")
        self._failed(entities, reason)
        return len(entities)

    def _failed(self, entities: list[BatchEntity], reason: str) -> None:
        self.counts.failed += len(entities)
        # Named up to a bound (every one is counted): a table refusing millions of entities
        # must not fill memory with their names.
        for entity in entities[: max(0, _NAMED_FAILURES - len(self.counts.failures))]:
            name = f"({entity.partition_key[:60]!r}, {entity.row_key[:60]!r})"
            self.counts.failures.append((name, reason))
        self._settled(entities)

    def _settled(self, entities: list[BatchEntity]) -> None:
        self.on_settled(len(entities), sum(len(e.body) for e in entities))
