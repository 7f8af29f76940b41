"""`azxfer list` as a library call: list a location's files and directories, streaming each
entry to the caller as the service answers, never holding the listing.

`run_list(options, on_item, flush, env)` -> `ListTotals`. The caller renders (`on_item` is
called once per entry, in listing order); `flush` is called while the listing waits for the
service, so what was found is shown before the next page arrives.

Table storage (`run_table_list`): a Table service URL lists its tables (Query Tables), a
table URL its entities' keys (Query Entities asking only for PartitionKey and RowKey, and
Timestamp when LastModifiedTime is asked for), a page at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable, Mapping

from msgspec import Struct

from azxfer.credentials import Credential
from azxfer.endpoints.factory import JobConnections, endpoint_for
from azxfer.endpoints.listing import Listed, Lister, ListField
from azxfer.endpoints.tables.entities import page_entities
from azxfer.endpoints.tables.rest import TableRestClient
from azxfer.endpoints.tables.service import TableAccountClient
from azxfer.errors import UsageError
from azxfer.locations import Location
from azxfer.plan.filters import EntryFilter, FilterSpec
from azxfer.tables.export import PageStream, TableQuery
from azxfer.transport.retry import RetryPolicy

__all__ = [
    "ListField",
    "ListOptions",
    "ListTotals",
    "Listed",
    "ListedEntity",
    "TableListTotals",
    "parse_properties",
    "run_list",
    "run_table_list",
]

# Requests in flight: a listing is one page at a time per directory (Azure Files walks
# several directories at once).
_LIST_CONCURRENCY = 8
# How often what was printed is pushed to the terminal or pipe while the listing runs.
FLUSH_SECONDS = 0.1
_BY_NAME = {field.value.lower(): field for field in ListField}


class ListOptions(Struct, frozen=True):
    """What to list and how: `fields` are the properties asked for, in the order asked."""

    location: Location
    credential: Credential | None
    recursive: bool = False
    filters: FilterSpec = FilterSpec()
    fields: tuple[ListField, ...] = ()


class ListTotals(Struct):
    """What a listing found: files, directories, and the files' bytes."""

    files: int = 0
    directories: int = 0
    bytes: int = 0


class ListedEntity(Struct, frozen=True):
    """One entity of a table listing: its keys, and its Timestamp (the service's ISO 8601
    text) when LastModifiedTime was asked for."""

    partition_key: str
    row_key: str
    timestamp: str | None = None


class TableListTotals(Struct):
    """What a Table listing found: tables (a service's listing) or entities (a table's)."""

    tables: int = 0
    entities: int = 0


def parse_properties(text: str | None) -> tuple[ListField, ...]:
    """`--properties 'a;b;c'` as fields (names case-insensitive, each once, in order); an
    unknown name is a UsageError naming the valid ones."""
    fields: list[ListField] = []
    for raw in (text or "").split(";"):
        name = raw.strip()
        if not name:
            continue
        field = _BY_NAME.get(name.lower())
        if field is None:
            valid = ", ".join(f.value for f in ListField)
            raise UsageError(f"--properties: unknown property '{name}' (valid: {valid})")
        if field not in fields:
            fields.append(field)
    return tuple(fields)


def json_key(field: ListField) -> str:
    """A property's key in JSON output: snake_case ('LastModifiedTime' -> 'last_modified_time')."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", field.value).lower()


def run_list(
    options: ListOptions,
    on_item: Callable[[Listed], None],
    flush: Callable[[], None],
    env: Mapping[str, str],
) -> ListTotals:
    """List `options.location`, calling `on_item` for every entry; the totals at the end.
    Errors are ours (azxfer.errors); an exception raised by `on_item` or `flush` (a closed
    pipe) ends the listing and is raised as it is."""
    return asyncio.run(_run(options, on_item, flush, env))


async def _run(
    options: ListOptions,
    on_item: Callable[[Listed], None],
    flush: Callable[[], None],
    env: Mapping[str, str],
) -> ListTotals:
    location = options.location
    connections = JobConnections.for_job((location,), _LIST_CONCURRENCY, env)
    totals = ListTotals()
    try:
        endpoint = endpoint_for(location, options.credential, connections, "listing")
        if not isinstance(endpoint, Lister):
            raise UsageError(f"{location.service.value} locations cannot be listed")
        fields = _checked_fields(options.fields, endpoint.list_fields(), location)
        spec = options.filters
        if spec.include_after is not None or spec.include_before is not None:
            # The time filters need each entry's time, shown or not.
            fields |= {ListField.LAST_MODIFIED}
        items = endpoint.list_items(options.recursive, EntryFilter(spec), fields)
        async with _flushing(flush):
            async for item in items:
                if item.is_directory:
                    totals.directories += 1
                else:
                    totals.files += 1
                    totals.bytes += item.size
                on_item(item)
    finally:
        await connections.close()
    return totals


def _checked_fields(
    asked: tuple[ListField, ...], offered: frozenset[ListField], location: Location
) -> frozenset[ListField]:
    """The fields asked for, refused up front (before any request) if the service's listing
    cannot give one."""
    missing = [field.value for field in asked if field not in offered]
    if missing:
        valid = ", ".join(f.value for f in ListField if f in offered)
        raise UsageError(
            f"--properties: a {location.service.value} listing does not give "
            f"{', '.join(missing)} (it gives: {valid})"
        )
    return frozenset(asked)


@contextlib.asynccontextmanager
async def _flushing(flush: Callable[[], None]) -> AsyncIterator[None]:
    """Call `flush` every FLUSH_SECONDS while the body runs (it runs while the listing awaits
    the service); if `flush` raises, the body is cancelled and its error raised instead."""
    body = asyncio.current_task()
    assert body is not None
    failed: list[BaseException] = []

    async def flusher() -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                flush()
            except BaseException as exc:  # a closed pipe: the listing has nowhere to go
                failed.append(exc)
                body.cancel()
                return

    task = asyncio.ensure_future(flusher())
    try:
        yield
    except asyncio.CancelledError:
        if failed:
            raise failed[0] from None
        raise
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


def run_table_list(
    options: ListOptions,
    on_table: Callable[[str], None],
    on_entity: Callable[[ListedEntity], None],
    flush: Callable[[], None],
    env: Mapping[str, str],
) -> TableListTotals:
    """List a Table location: a service's tables (`on_table` with each name passing the name
    patterns, in name order), or a table's entities (`on_entity`, in key order). Errors as
    `run_list`'s."""
    check_table_list(options)
    return asyncio.run(_run_table(options, on_table, on_entity, flush, env))


def check_table_list(options: ListOptions) -> None:
    """A UsageError for what a Table listing cannot do (before any request)."""
    spec, location = options.filters, options.location
    unusable = [
        name
        for name, given in (
            ("--include-path", spec.include_paths),
            ("--exclude-path", spec.exclude_paths),
            ("--include-after", spec.include_after),
            ("--include-before", spec.include_before),
            ("--recursive", options.recursive),
        )
        if given
    ]
    if location.container and (spec.include_patterns or spec.exclude_patterns):
        unusable.append("--include-pattern/--exclude-pattern (they choose tables)")
    if unusable:
        raise UsageError(f"a Table listing takes no {', '.join(unusable)}")
    offered = (ListField.LAST_MODIFIED,) if location.container else ()
    _checked_fields(options.fields, frozenset(offered), location)


async def _run_table(
    options: ListOptions,
    on_table: Callable[[str], None],
    on_entity: Callable[[ListedEntity], None],
    flush: Callable[[], None],
    env: Mapping[str, str],
) -> TableListTotals:
    location, credential = options.location, options.credential
    connections = JobConnections.for_job((location,), 2, env)
    totals = TableListTotals()
    try:
        async with _flushing(flush):
            if not location.container:
                names = EntryFilter(options.filters)
                service = TableAccountClient(
                    connections.pool, location.endpoint, credential, RetryPolicy()
                )
                async for name in service.table_names():
                    if names.accepts(name, None):
                        totals.tables += 1
                        on_table(name)
                return totals
            table = TableRestClient(
                connections.pool, location.endpoint, location.container, credential, RetryPolicy()
            )
            timestamp = ListField.LAST_MODIFIED in options.fields
            select = ["PartitionKey", "RowKey"] + (["Timestamp"] if timestamp else [])
            async for body in PageStream(table, TableQuery(None, select)):
                for entity in page_entities(body):
                    totals.entities += 1
                    on_entity(
                        ListedEntity(
                            entity["PartitionKey"],
                            entity["RowKey"],
                            entity.get("Timestamp") if timestamp else None,
                        )
                    )
    finally:
        await connections.close()
    return totals
