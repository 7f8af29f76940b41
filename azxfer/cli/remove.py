"""`azxfer remove`: delete blobs, files and folders over a filtered listing (azxfer/bulkjob.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from azxfer.cli.bulk import (
    build_bulk_options,
    job_record,
    run_bulk_command,
    selection_options,
    service_named,
)
from azxfer.cli.common import absolute_location, environment, journal_option, output_options
from azxfer.credentials import path_style_services
from azxfer.locations import Service, parse_location

if TYPE_CHECKING:
    from azxfer.bulkjob import BulkOperation


@click.command("remove", short_help="Remove blobs, files or folders (a tree with -r)")
@click.argument("url")
@selection_options
@click.option(
    "--delete-snapshots",
    type=click.Choice(["include", "only"]),
    help="Blobs with snapshots: include removes them with the blob, only removes just the "
    "snapshots [default: such a blob fails, as the service says].",
)
@click.option(
    "--max-delete",
    default="50%",
    metavar="N|P%",
    show_default=True,
    help="Past N objects, or P% of those listed at URL, ask first on a terminal, else "
    "refuse (exit 1) unless --force.",
)
@click.option("--force", is_flag=True, help="Remove past --max-delete without asking.")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option(
    "--from-to",
    type=click.Choice(["BlobTrash", "FileTrash", "LocalTrash"]),
    help="Name the service (custom domains, an emulator's path-style Azure Files URL).",
)
@journal_option
@output_options
def remove_command(url: str, **opts: Any) -> int:
    """Remove the blob, file or folder at URL; with --recursive, everything under a virtual
    directory, container, share folder or local folder (a share's or a local tree's folders
    too, deepest first, when no filter is given). Filters, --list-of-files and wildcards
    choose what is removed. Blob deletes go 256 to a request (Blob Batch). Journaled:
    'azxfer resume' finishes a remove that was stopped.

    A table URL deletes the table and all its entities, by one request (not journaled):
    that is everything, past any --max-delete, so it asks on a terminal, else needs --force.

    \b
    Examples:
      azxfer remove 'https://acct.blob.core.windows.net/box/logs?<SAS>' -r --include-pattern '*.tmp'
      azxfer remove 'https://acct.blob.core.windows.net/box/old.csv' --delete-snapshots include
      azxfer remove 'https://acct.file.core.windows.net/share/dir' -r --force
      azxfer remove https://acct.table.core.windows.net/Orders --force
    """
    url = absolute_location(url)
    styles = path_style_services(environment())
    location = parse_location(url, service_named(opts), path_style=styles)
    if location.service is Service.TABLE:
        from azxfer.cli.remove_table import remove_table_command

        return remove_table_command(location, opts)
    options = build_bulk_options(url, opts, operation_from(opts), service_named(opts))
    return run_bulk_command("remove", options, opts, job_record(url, opts, options))


def operation_from(opts: dict[str, Any]) -> BulkOperation:
    """The remove operation the flags ask for."""
    from azxfer.bulkjob import REMOVE, BulkOperation

    return BulkOperation(REMOVE, snapshots=opts.get("delete_snapshots"))
