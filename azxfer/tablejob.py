"""The library facade of Table storage: `export_table(options, sink, job_id)` writes a table to
a local folder as JSON or CSV data files with a manifest, files per
partition-key range and split; `import_table(options, sink, job_id)` verifies such a folder
and writes its entities to a table, or copies another table's entities directly. Both report
through events (`EntitiesProgress`, `EntitiesDone`, and the JobStarted/JobFinished every job
has, whose files are the data files) and return a `JobResult`, exit codes as for copy.

Both are journaled jobs when their `JobSpec` names a journal folder (see
azxfer/journal/tablerecord.py), and `spec.resume` continues one a kill stopped: an export
keeps its completed data files and reads each range on from the page after them; an import
skips the batches the service had confirmed. A resumed run's events count only what it did.
Their lifecycle (connections, journal, events, result) is `tablerun.TableRun`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from msgspec import Struct

from azxfer.credentials import Credential
from azxfer.endpoints.tables.batch import BatchEntity, EntityOperation, escape_separators
from azxfer.endpoints.tables.entities import export_line, page_entities
from azxfer.endpoints.tables.rest import TableRestClient
from azxfer.errors import UsageError
from azxfer.events import (
    EventSink,
)
from azxfer.jobrun import JobResult, JobSpec, new_job_id
from azxfer.locations import Location, Service
from azxfer.tablerun import DEFAULT_BATCHES_IN_FLIGHT, TableOutcome, TableRun
from azxfer.tables.blobstore import BlobFolder
from azxfer.tables.export import (
    PageStream,
    RangeExport,
    TableQuery,
    count_entities,
    key_ranges,
)
from azxfer.tables.importer import Importer, ImportSource, file_sources, verify
from azxfer.tables.manifest import (
    FORMAT,
    PAYLOAD_JSON,
    DataFile,
    Manifest,
    Source,
    Totals,
    encode_manifest,
    export_stem,
    read_manifest,
)
from azxfer.tables.store import ExportFolder, LocalFolder

__all__ = [
    "EntityOperation",
    "JobSpec",
    "TableExportOptions",
    "TableImportOptions",
    "export_table",
    "import_table",
    "new_job_id",
]


class TableExportOptions(Struct, frozen=True):
    """An export: the table, its credential, the folder (local, or a Blob container or virtual
    directory reached with `dest_credential`), the manifest's name (None: the default), the
    query's filter and properties (None: all), whether to only count, the payload ("json",
    "csv"), the `--pkrs` bounds, the split size in bytes (None: one file per range) and how
    many ranges to export at once."""

    table: Location
    credential: Credential | None
    folder: Path | Location
    manifest_name: str | None = None
    filter: str | None = None
    select: list[str] | None = None
    dry_run: bool = False
    env: dict[str, str] | None = None
    payload: str = PAYLOAD_JSON
    bounds: list[str] = []
    split_bytes: int | None = None
    concurrency: int = DEFAULT_BATCHES_IN_FLIGHT
    dest_credential: Credential | None = None


class TableImportOptions(Struct, frozen=True):
    """An import: the source (a local folder or a Blob container or virtual directory with
    `manifest_name`, or a table, copied directly) and its credential, the table and its
    credential, what to do with each entity, and how many batches to have in flight."""

    source: Path | Location
    manifest_name: str | None
    table: Location
    credential: Credential | None
    operation: EntityOperation
    concurrency: int = DEFAULT_BATCHES_IN_FLIGHT
    env: dict[str, str] | None = None
    source_credential: Credential | None = None


def export_table(options: TableExportOptions, sink: EventSink, spec: JobSpec) -> JobResult:
    """Export a table to a folder (blocking); journaled unless a dry run or no folder."""
    job = TableRun(
        sink, spec, _remote(options.folder), (options.credential, options.dest_credential)
    )
    dry_run = options.dry_run
    body = job.run(
        options.table, options.folder, not dry_run, dry_run, lambda: _export(options, job)
    )
    return asyncio.run(body)


def import_table(options: TableImportOptions, sink: EventSink, spec: JobSpec) -> JobResult:
    """Verify a folder's export and import it into a table (blocking)."""
    credentials = (options.source_credential, options.credential)
    job = TableRun(sink, spec, _remote(options.source), credentials)
    body = job.run(options.table, options.source, True, False, lambda: _import(options, job))
    return asyncio.run(body)


def _remote(place: Path | Location) -> tuple[Location, ...]:
    return () if isinstance(place, Path) else (place,)


def _folder(place: Path | Location, job: TableRun, credential: Credential | None) -> ExportFolder:
    """The export folder at `place`: a local folder, or a Blob container or virtual directory
    reached with `credential` on the job's pool."""
    if isinstance(place, Path):
        return LocalFolder(place)
    assert job.connections is not None
    rest = job.connections.http.rest(place, credential)
    assert rest is not None
    return BlobFolder(rest, place, credential)


async def _export(options: TableExportOptions, job: TableRun) -> TableOutcome:
    """Export each partition-key range into its data files, several ranges at once, then
    write the manifest (last: an export without one is incomplete)."""
    table = options.table
    client = job.client(table, options.credential)
    query = TableQuery(options.filter, options.select)
    if options.dry_run:
        await count_entities(client, query, job.progress)
        return TableOutcome("DryRun")
    started = job.journal.remember("started", datetime.now(UTC).isoformat())
    now = datetime.fromisoformat(started)
    stem = export_stem(table.account, table.container, now)
    folder = _folder(options.folder, job, options.dest_credential)
    manifest_name = options.manifest_name or f"{stem}.manifest"
    if await folder.exists(manifest_name):
        raise UsageError(
            f"{folder.display(manifest_name)} exists already: name another with --manifest"
        )
    await folder.prepare()
    ranges = key_ranges(options.bounds)
    job.journal.load_ranges()
    slots = asyncio.Semaphore(min(len(ranges), options.concurrency))

    async def one(index: int, low: str | None, high: str | None) -> list[DataFile]:
        start = job.journal.range_start(index)
        if start is None:
            return job.journal.range_files(index)
        async with slots:
            export = RangeExport(
                folder, stem, index, options.payload, options.split_bytes, job.progress,
                job.journal.file_done, start,
            )  # fmt: skip
            return await export.run(client, query.in_range(low, high))

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(i, low, high)) for i, (low, high) in enumerate(ranges)]
    files = [item for task in tasks for item in task.result()]
    size = sum(item.size for item in files)
    manifest = Manifest(
        FORMAT,
        options.payload,
        now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        Source(table.account, table.container, table.url, options.filter, options.select),
        [list(bounds) for bounds in ranges],
        files,
        Totals(len(files), sum(item.entities for item in files), size),
    )
    await folder.write_small(manifest_name, encode_manifest(manifest))
    return TableOutcome("Completed", len(files), size)


async def _import(options: TableImportOptions, job: TableRun) -> TableOutcome:
    """Verify every data file against the manifest, create the table if missing, import; or
    copy the entities of another table."""
    manifest: Manifest | None = None
    if isinstance(options.source, Location) and options.source.service is Service.TABLE:
        source = job.client(options.source, options.source_credential)
        sources = [ImportSource("table", _table_entities(source))]
    else:
        folder = _folder(options.source, job, options.source_credential)
        manifest = read_manifest(
            await folder.read_small(options.manifest_name or ""),
            folder.display(options.manifest_name or ""),
        )
        await verify(folder, manifest)
        sources = file_sources(folder, manifest)
    client = job.client(options.table, options.credential)
    await client.create_table()
    importer = Importer(
        client, options.operation, options.concurrency, job.progress, job.journal.batch_done,
        job.journal.batches_done,
    )  # fmt: skip
    counts = await importer.run(sources)
    if counts.failed:
        status = "CompletedWithErrors" if counts.written or counts.skipped else "Failed"
    else:
        status = "CompletedWithSkipped" if counts.skipped else "Completed"
    if manifest is None:
        return TableOutcome(status, counts=counts)
    return TableOutcome(status, manifest.totals.files, manifest.totals.bytes, counts)


async def _table_entities(client: TableRestClient) -> AsyncIterator[BatchEntity]:
    """Every entity of a table, as a batch sends it (in key order: partitions together)."""
    async for body in PageStream(client, TableQuery(None, None)):
        for entity in page_entities(body):
            yield BatchEntity(
                entity["PartitionKey"], entity["RowKey"], escape_separators(export_line(entity))
            )
