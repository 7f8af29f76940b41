"""`azxfer export` and `azxfer import`: a table to a folder of JSON data files with a manifest,
and back (see azxfer/tablejob.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from azxfer.cli.common import environment, output_options
from azxfer.cli.progressline import size_text
from azxfer.cli.render import PLAIN_INTERVAL, make_reporter
from azxfer.cli.run import configure_logging
from azxfer.credentials import path_style_services, resolve_credential
from azxfer.errors import UsageError
from azxfer.events import EntitiesDone, EntitiesProgress, Event
from azxfer.locations import Location, Service, parse_location, redact

_OPERATIONS = ("InsertOrSkip", "InsertOrMerge", "InsertOrReplace")


def register(group: click.Group) -> None:
    """Add both commands to the `azxfer` group."""
    group.add_command(export_command)
    group.add_command(import_command)


def _table(text: str) -> Location:
    """A table URL: Azure's `https://ACCT.table.core.windows.net/TABLE`, or an emulator's
    path-style `http://HOST:PORT/ACCT/TABLE` (the argument is a table whatever its port)."""
    return parse_location(text, Service.TABLE, path_style=path_style_services(environment()))


def _folder(text: str, must_exist: bool) -> Path:
    path = Path(text).absolute()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{text} is a file, not a folder")
    if must_exist and not path.is_dir():
        raise UsageError(f"folder {text} does not exist")
    return path


@click.command("export")
@click.argument("table_url")
@click.argument("dest_folder")
@click.option("--manifest", help="The manifest's file name [default: ACCOUNT_TABLE_TIME.manifest].")
@click.option("--filter", "filter_", metavar="ODATA", help="Only entities matching this filter.")
@click.option("--select", metavar="A,B", help="Only these properties (and the keys).")
@click.option("--dry-run", is_flag=True, help="Count the entities; write nothing.")
@click.option(
    "--source-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the account key (else AZXFER_SOURCE_KEY).",
)
@output_options
def export_command(table_url: str, dest_folder: str, **opts: Any) -> int:
    """Export the table TABLE_URL to DEST_FOLDER: one JSON data file, one entity per line
    (the service's JSON with an @odata.type wherever JSON cannot carry the type), named
    ACCOUNT_TABLE_TIME_0_0_CRC.json (CRC: CRC-32 of its bytes, hex), and a manifest listing
    it with its size, entity count and CRC.

    \b
    Example:
      azxfer export 'https://acct.table.core.windows.net/orders?<SAS>' ./backup
    """
    from azxfer.tablejob import TableExportOptions, export_table

    table = _table(table_url)
    folder = _folder(dest_folder, must_exist=False)
    select = [p.strip() for p in opts["select"].split(",") if p.strip()] if opts["select"] else None
    _check_manifest_name(opts["manifest"])
    env = environment()
    options = TableExportOptions(
        table,
        resolve_credential(table, "source", env, opts["source_key_file"]),
        folder,
        opts["manifest"],
        opts["filter_"],
        select,
        bool(opts["dry_run"]),
        env,
    )
    return _run(opts, lambda sink, job_id: export_table(options, sink, job_id))


@click.command("import")
@click.argument("source_folder")
@click.argument("table_url")
@click.option("--manifest", required=True, help="The manifest's file name in SOURCE_FOLDER.")
@click.option(
    "--entity-operation",
    type=click.Choice(_OPERATIONS),
    default="InsertOrSkip",
    show_default=True,
    help="InsertOrSkip: keep entities the table has (counted as skipped); InsertOrMerge: "
    "merge properties into them; InsertOrReplace: replace them.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=256),
    default=16,
    show_default=True,
    help="Batches (Entity Group Transactions) in flight.",
)
@click.option(
    "--dest-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the account key (else AZXFER_DEST_KEY).",
)
@output_options
def import_command(source_folder: str, table_url: str, **opts: Any) -> int:
    """Import an export in SOURCE_FOLDER into the table TABLE_URL (created if missing). The
    manifest and every data file's size, CRC and entities are verified first: nothing is
    written unless all of them match. Entities go in batches of up to 100 of one partition.

    \b
    Example:
      azxfer import ./backup 'https://acct.table.core.windows.net/orders?<SAS>' \\
          --manifest acct_orders_20261206T181618123Z.manifest --entity-operation InsertOrReplace
    """
    from azxfer.tablejob import EntityOperation, TableImportOptions, import_table

    folder = _folder(source_folder, must_exist=True)
    table = _table(table_url)
    _check_manifest_name(opts["manifest"])
    env = environment()
    options = TableImportOptions(
        folder,
        opts["manifest"],
        table,
        resolve_credential(table, "dest", env, opts["dest_key_file"]),
        EntityOperation(opts["entity_operation"]),
        int(opts["concurrency"]),
        env,
    )
    return _run(opts, lambda sink, job_id: import_table(options, sink, job_id))


def _check_manifest_name(name: str | None) -> None:
    if name is not None and (not name or Path(name).name != name):
        raise UsageError(f"--manifest {name!r}: give a file name, without a folder")


def _run(opts: dict[str, Any], job: Any) -> int:
    """Run a table job with the reporter asked for; returns the exit code."""
    from azxfer.tablejob import new_job_id

    configure_logging(opts.get("log_file"), str(opts.get("log_level") or "INFO"))
    output_type = str(opts.get("output_type") or "text")
    reporter = _TableReporter(make_reporter(output_type, journaled=False), output_type == "text")
    try:
        result = job(reporter, new_job_id())
    finally:
        reporter.close()
    if result.error and result.exit_code:
        click.echo(f"azxfer: error: {redact(result.error)}", err=True)
    return int(result.exit_code)


class _TableReporter:
    """The copy reporter, plus entity progress (entities/s) and counts in text mode."""

    def __init__(self, reporter: Any, text: bool) -> None:
        self.reporter = reporter
        self.text = text
        self.started = self.last = time.monotonic()
        self.entities = self.bytes = 0

    def emit(self, event: Event) -> None:
        if isinstance(event, EntitiesProgress):
            self.entities += event.entities
            self.bytes += event.bytes
            now = time.monotonic()
            if self.text and now - self.last >= PLAIN_INTERVAL:
                self.last = now
                rate = self.entities / max(now - self.started, 1e-6)
                click.echo(
                    f"progress: {self.entities} entities, {size_text(self.bytes)}, "
                    f"{rate:.0f} entities/s",
                    err=True,
                )
            if self.text:
                return
        if self.text and isinstance(event, EntitiesDone):
            self.reporter._line(
                f"Entities: {event.entities_total} total, {event.entities_written} written, "
                f"{event.entities_skipped} skipped, {event.entities_failed} failed "
                f"({event.entities_per_second:.0f} entities/s)"
            )
            return
        self.reporter.emit(event)

    def close(self) -> None:
        self.reporter.close()
