"""Importing data files into a table: every file verified against the manifest before any
write, then read line by line into Entity Group Transactions (≤ 100 entities, ≤ 4 MiB, one
partition), several in flight. Memory: the batches in flight, whatever the files' size."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

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
from azxfer.endpoints.tables.entities import keys_of
from azxfer.endpoints.tables.rest import TableRestClient
from azxfer.errors import IntegrityError, RetryableError, TransferError
from azxfer.tables.manifest import DataFile, Manifest, check_data_file

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


def verify(folder: Path, manifest: Manifest) -> None:
    """Raise unless every data file is there, of the manifest's size, CRC and entity count,
    and every line is an entity whose keys the service accepts: before anything is written."""
    for item in manifest.files:
        check_data_file(folder, item)
    for item in manifest.files:
        count = sum(1 for _ in _entities(folder, item))
        if count != item.entities:
            raise IntegrityError(
                f"data file {folder / item.name} holds {count} entities, the manifest says "
                f"{item.entities}"
            )


def _entities(folder: Path, item: DataFile) -> Iterator[BatchEntity]:
    path = folder / item.name
    with path.open("rb") as stream:
        for number, line in enumerate(stream, 1):
            body = line.rstrip(b"\r\n")
            keys = keys_of(body, f"{path}:{number}")
            yield BatchEntity(keys.PartitionKey, keys.RowKey, escape_separators(body))


def _batches(folder: Path, item: DataFile) -> Iterator[list[BatchEntity]]:
    """The file's entities in batches: consecutive entities of one partition (an export
    writes each partition's entities together), up to the service's limits."""
    batch: list[BatchEntity] = []
    size = 0
    for entity in _entities(folder, item):
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


class Importer:
    """Imports data files into one table with one entity operation, `concurrency` batches
    in flight."""

    def __init__(
        self,
        client: TableRestClient,
        operation: EntityOperation,
        concurrency: int,
        on_settled: OnSettled,
    ) -> None:
        self.client = client
        self.operation = operation
        self.slots = asyncio.Semaphore(concurrency)
        self.on_settled = on_settled
        self.counts = ImportCounts()

    async def run(self, folder: Path, manifest: Manifest) -> ImportCounts:
        """Import every data file of `manifest` (verified already)."""
        async with asyncio.TaskGroup() as group:
            for item in manifest.files:
                for batch in _batches(folder, item):
                    self.counts.entities += len(batch)
                    await self.slots.acquire()
                    group.create_task(self._one(batch))
        return self.counts

    async def _one(self, batch: list[BatchEntity]) -> None:
        try:
            await self._apply(batch)
        finally:
            self.slots.release()

    async def _apply(self, batch: list[BatchEntity]) -> None:
        """Apply the operation to `batch`; the entity an answer names as failed is set apart
        (skipped, or failed with its reason) and the rest sent again, so none of them is lost
        or written twice."""
        pending = list(batch)
        while pending:
            try:
                failure = await self.client.submit_batch(self.operation, pending)
            except TransferError as exc:
                if len(pending) == 1 or isinstance(exc, RetryableError):
                    self._failed(pending, str(exc))
                    return
                failure = BatchFailure(0, "", None, str(exc))
            if failure is None:
                self.counts.written += len(pending)
                self._settled(pending)
                return
            if failure.index is None or not 0 <= failure.index < len(pending):
                if len(pending) == 1:
                    self._settle_failure(pending, failure)
                    return
                # The service did not say which one: each goes alone, to learn it.
                for entity in pending:
                    await self._apply([entity])
                return
            self._settle_failure([pending.pop(failure.index)], failure)

    def _settle_failure(self, entities: list[BatchEntity], failure: BatchFailure) -> None:
        if self.operation is EntityOperation.INSERT_OR_SKIP and failure.code == _EXISTS:
            self.counts.skipped += len(entities)
            self._settled(entities)
            return
        reason = f"{failure.status} {failure.code}: {failure.message}".strip(": ")
        self._failed(entities, reason)

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
