"""`azxfer list`: parse, run the listing (`azxfer.listjob`), render each entry as it comes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from azxfer.cli.common import FROM_TO, SERVICE_NAMES, environment, filter_options, filters_from
from azxfer.cli.progressline import size_text
from azxfer.credentials import path_style_services, resolve_credential
from azxfer.errors import UsageError
from azxfer.events import ListEntity, ListEntry, ListSummary, TableListSummary
from azxfer.locations import Location, Service, check_local_source, parse_location

if TYPE_CHECKING:  # the listing (asyncio, the drivers) loads only when it runs
    from azxfer.listjob import Listed, ListedEntity, ListField, ListOptions

# What --type may name: copy's services, and Table storage (its tables, or a table's keys).
_SERVICES = {**SERVICE_NAMES, "Table": Service.TABLE}


@click.command("list", short_help="List the files in a container, share or folder")
@click.argument("location")
@click.option("-r", "--recursive", is_flag=True, help="List everything below, not one level.")
@click.option(
    "--properties",
    help="';'-separated properties to show (any case): LastModifiedTime, VersionId, BlobType, "
    "BlobAccessTier, ContentType, ContentEncoding, ContentMD5, LeaseState, LeaseDuration, "
    "LeaseStatus, ArchiveStatus, Metadata, ETag, CreationTime; Azure Files: LastModifiedTime, "
    "CreationTime, LastWriteTime, ChangeTime, Attributes, ETag.",
)
@click.option("--machine-readable", is_flag=True, help="Sizes in bytes, not KiB/MiB/...")
@click.option(
    "--running-tally",
    is_flag=True,
    help="Print the count of files and directories and the total size on stdout after the "
    "entries (AzCopy's); without it that line is always printed too, on stderr.",
)
@filter_options
@click.option(
    "--output-type",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one tab-separated line per entry; json: one list_entry object per line, then "
    "one list_summary.",
)
@click.option(
    "--type",
    "--source-type",
    "source_type",
    type=click.Choice(sorted(_SERVICES)),
    help="Name the location's service (custom domains, an emulator's path-style File or "
    "Table URL).",
)
@click.option(
    "--from-to",
    type=click.Choice(sorted(FROM_TO)),
    help="As for copy: its source side names the location's service (e.g. FileLocal).",
)
@click.option(
    "--key-file",
    "--source-key-file",
    "source_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the account key (else AZXFER_SOURCE_KEY).",
)
def list_command(location: str, **opts: object) -> int:
    """List the files (and directories) at LOCATION: a container, virtual directory, name
    prefix or wildcard ('.../box/logs/2024-', '.../box/*.csv'), a share or a directory in it,
    or a local folder. One level unless --recursive; directories end in '/'.

    A Table service URL lists its tables, one name per line (--include-pattern and
    --exclude-pattern choose by name), then 'Tables: N'; a table URL lists its entities'
    keys, PARTITIONKEY<TAB>ROWKEY (with --properties LastModifiedTime, the entity's
    Timestamp), then 'Entities: N' (the entities themselves: 'azxfer export').

    Text output, one line per entry: NAME<TAB>SIZE, then one KEY=VALUE field per property
    asked for ('-' is a directory's size). The count of files and directories and their total
    size always follow: on stderr, or on stdout with --running-tally.

    \b
    Examples:
      azxfer list 'https://acct.blob.core.windows.net/box?<SAS>'
      azxfer list 'https://acct.blob.core.windows.net/box/logs/' -r --machine-readable
      azxfer list 'https://acct.file.core.windows.net/share/dir' --properties LastWriteTime
      azxfer list https://acct.table.core.windows.net/ --include-pattern 'Orders*'
    """
    from azxfer.listjob import ListOptions, parse_properties, run_list

    fields = parse_properties(_text(opts["properties"]))
    where = _parse(location, opts)
    filters = filters_from(opts)
    if where.service is Service.TABLE:
        from azxfer.listjob import check_table_list

        # What a Table listing cannot do is told before any sign-in.
        check_table_list(ListOptions(where, None, bool(opts["recursive"]), filters, fields))
    env = environment()
    credential = None
    if not where.is_local:
        from azxfer.cli.login import device_prompt
        from azxfer.identity.provider import SignedInIdentity

        key_file = opts["source_key_file"]
        assert key_file is None or isinstance(key_file, Path)
        credential = resolve_credential(
            where, "source", env, key_file, SignedInIdentity(env, device_prompt)
        )
    options = ListOptions(where, credential, bool(opts["recursive"]), filters, fields)
    if where.service is Service.TABLE:
        return _list_tables(options, opts, env)
    if hasattr(sys.stdout, "reconfigure"):
        # Local names that are not UTF-8 are printed as their bytes, as `ls` prints them.
        sys.stdout.reconfigure(errors="surrogateescape")
    renderer = Renderer(
        sys.stdout, opts["output_type"] == "json", bool(opts["machine_readable"]), options.fields
    )
    try:
        totals = run_list(options, renderer.entry, sys.stdout.flush, env)
        tally = bool(opts["running_tally"])
        renderer.summary(totals.files, totals.directories, totals.bytes, tally)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more to say, and nothing wrong.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


def _list_tables(options: ListOptions, opts: dict[str, object], env: dict[str, str]) -> int:
    """A Table service's tables, or a table's entities' keys, as they come."""
    from azxfer.listjob import run_table_list

    renderer = TableRenderer(sys.stdout, opts["output_type"] == "json")
    try:
        totals = run_table_list(options, renderer.table, renderer.entity, sys.stdout.flush, env)
        what = "entities" if options.location.container else "tables"
        renderer.summary(what, getattr(totals, what), bool(opts["running_tally"]))
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes kept as surrogates (surrogateescape)
        return False
    return True


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _parse(text: str, opts: dict[str, object]) -> Location:
    """The location, its service named by --source-type or --from-to's source side."""
    source_type, from_to = _text(opts["source_type"]), _text(opts["from_to"])
    if source_type and from_to:
        raise UsageError("--from-to cannot be combined with --type")
    service = _SERVICES[source_type] if source_type else None
    if from_to:
        service = FROM_TO[from_to][0]
    if service is Service.WEB:
        raise UsageError("a web URL cannot be listed")
    styles = path_style_services(environment())
    where = parse_location(text, service, path_style=styles, table_service=True)
    check_local_source(where)
    return where


class Renderer:
    """Writes entries as they come (text or NDJSON) and the closing count."""

    def __init__(
        self, out: TextIO, json_output: bool, machine: bool, fields: tuple[ListField, ...]
    ) -> None:
        from azxfer.listjob import json_key

        self.out = out
        self.json_output = json_output
        self.machine = machine
        # (name in text, key in JSON, is the metadata map) of each property asked for
        self.fields = [(f.value, json_key(f), f.value == "Metadata") for f in fields]

    def entry(self, item: Listed) -> None:
        """One entry: a line of text, or a list_entry object."""
        props = item.properties or {}
        if self.json_output:
            shown = {key: props[name] for name, key, _ in self.fields if name in props}
            kind = "directory" if item.is_directory else "file"
            record = ListEntry(item.name, item.size, kind, shown or None, item.metadata).to_json()
            # A local name that is not UTF-8 is escaped, so the line stays valid UTF-8 JSON.
            plain = item.name.isascii() or _is_utf8(item.name)
            self.out.write(json.dumps(record, ensure_ascii=not plain) + "\n")
            return
        # A directory has no size of its own: '-' keeps the columns.
        size = "-" if item.is_directory else self._size(item.size)
        parts = [item.name + "/" if item.is_directory else item.name, size]
        for name, _, is_metadata in self.fields:
            if is_metadata:
                meta = item.metadata or {}
                parts.append("Metadata=" + ";".join(f"{k}={v}" for k, v in meta.items()))
            elif name in props:
                parts.append(f"{name}={props[name]}")
        self.out.write("\t".join(parts) + "\n")

    def summary(self, files: int, directories: int, size: int, tally: bool) -> None:
        """The closing count: a list_summary object, or one line (stdout with `tally`)."""
        if self.json_output:
            record = ListSummary(files, directories, size).to_json()
            self.out.write(json.dumps(record) + "\n")
            return
        line = f"Files: {files}; directories: {directories}; total size: {self._size(size)}"
        if tally:
            self.out.write(line + "\n")
        else:
            self.out.flush()
            click.echo(line, err=True)

    def _size(self, size: int) -> str:
        return str(size) if self.machine else size_text(size)


class TableRenderer:
    """Writes a Table listing as it comes (text or NDJSON) and its closing count."""

    def __init__(self, out: TextIO, json_output: bool) -> None:
        self.out = out
        self.json_output = json_output

    def table(self, name: str) -> None:
        """One table: its name, or a list_entry of type "table" (size 0: none is known)."""
        if self.json_output:
            record = ListEntry(name, 0, "table").to_json()
            self.out.write(json.dumps(record) + "\n")
        else:
            self.out.write(name + "\n")

    def entity(self, item: ListedEntity) -> None:
        """One entity: PK<TAB>RK[<TAB>LastModifiedTime=T] (keys hold no tab: the service
        forbids control characters in them), or a list_entity object."""
        if self.json_output:
            record = ListEntity(item.partition_key, item.row_key, item.timestamp).to_json()
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        line = f"{item.partition_key}\t{item.row_key}"
        if item.timestamp is not None:
            line += f"\tLastModifiedTime={item.timestamp}"
        self.out.write(line + "\n")

    def summary(self, what: str, count: int, tally: bool) -> None:
        """'Tables: N' or 'Entities: N' (stdout with `tally`, else stderr), or a
        list_summary object with that one count."""
        if self.json_output:
            self.out.write(json.dumps(TableListSummary(what, count).to_json()) + "\n")
            return
        line = f"{what.capitalize()}: {count}"
        if tally:
            self.out.write(line + "\n")
        else:
            self.out.flush()
            click.echo(line, err=True)
