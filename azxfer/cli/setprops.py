"""`azxfer set-properties`: change the tier, metadata or tags of blobs over a filtered listing
(azxfer/bulkjob.py)."""

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
from azxfer.cli.common import journal_option, output_options
from azxfer.errors import UsageError
from azxfer.options import BLOB_TIERS, parse_metadata, parse_tags

if TYPE_CHECKING:
    from azxfer.bulkjob import BulkOperation


@click.command("set-properties", short_help="Change the tier, metadata or tags of blobs")
@click.argument("url")
@selection_options
@click.option(
    "--block-blob-tier",
    type=click.Choice(BLOB_TIERS, case_sensitive=False),
    help="Move each block blob to this access tier (Set Blob Tier).",
)
@click.option(
    "--rehydrate-priority",
    type=click.Choice(["Standard", "High"], case_sensitive=False),
    help="With --block-blob-tier out of Archive: how soon to rehydrate.",
)
@click.option(
    "--metadata", help="Replace each blob's metadata: 'name=value;name2=value2' ('' clears)."
)
@click.option(
    "--blob-tags", help="Replace each blob's index tags: 'key=value&key2=value2' ('' clears)."
)
@click.option("--dry-run", is_flag=True, help="List what would change; change nothing.")
@click.option(
    "--from-to",
    type=click.Choice(["BlobNone", "FileNone"]),
    help="Name the service (custom domains, an emulator's path-style URL).",
)
@journal_option
@output_options
def set_properties_command(url: str, **opts: Any) -> int:
    """Change the access tier, metadata or index tags of the blob at URL, or, with
    --recursive, of every blob under a virtual directory or container (filters,
    --list-of-files and wildcards choose which). Tier changes go 256 to a request (Blob
    Batch). On Azure Files, --metadata only. Journaled: 'azxfer resume' finishes one that
    was stopped.

    \b
    Examples:
      azxfer set-properties 'https://acct.blob.core.windows.net/box/logs?<SAS>' -r \\
          --block-blob-tier Cool
      azxfer set-properties 'https://acct.blob.core.windows.net/box' -r --metadata 'team=data'
      azxfer set-properties 'https://acct.blob.core.windows.net/box/a.csv' --blob-tags ''
    """
    options = build_bulk_options(url, opts, properties_from(opts), service_named(opts))
    return run_bulk_command("set-properties", options, opts, job_record(url, opts, options))


def properties_from(opts: dict[str, Any]) -> BulkOperation:
    """The property changes the flags ask for (at least one)."""
    from azxfer.bulkjob import SET_PROPERTIES, BulkOperation

    tier_given = opts.get("block_blob_tier")
    metadata, tags = opts.get("metadata"), opts.get("blob_tags")
    if not tier_given and metadata is None and tags is None:
        raise UsageError("give at least one of --block-blob-tier, --metadata, --blob-tags")
    tier = next((t for t in BLOB_TIERS if tier_given and t.lower() == tier_given.lower()), None)
    rehydrate = opts.get("rehydrate_priority")
    if rehydrate and (tier is None or tier == "Archive"):
        raise UsageError(
            "--rehydrate-priority needs --block-blob-tier Hot, Cool or Cold (out of Archive)"
        )
    return BulkOperation(
        SET_PROPERTIES,
        tier=tier,
        rehydrate=rehydrate.capitalize() if rehydrate else None,
        metadata=None if metadata is None else parse_metadata(metadata),
        tags=None if tags is None else parse_tags(tags),
    )
