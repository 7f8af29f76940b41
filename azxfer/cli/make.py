"""`azxfer make`: create a Blob container, an Azure Files share or a table (see makejob.py)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from azxfer.cli.common import environment
from azxfer.cli.login import device_prompt
from azxfer.credentials import path_style_services, resolve_credential
from azxfer.identity.provider import SignedInIdentity
from azxfer.locations import Service, parse_location

_SERVICES = {"Blob": Service.BLOB, "File": Service.FILE, "Table": Service.TABLE}
# The largest quota a share may have (a large file share), in GiB.
MAX_QUOTA_GB = 102400


@click.command("make", short_help="Create a container, share or table")
@click.argument("url")
@click.option(
    "--quota-gb",
    type=click.IntRange(1, MAX_QUOTA_GB),
    help="A share's quota in GiB [default: the service's, 5120 on Azure].",
)
@click.option(
    "--fail-if-exists",
    is_flag=True,
    help="Exit 1 when it exists already [default: exit 0 with a note].",
)
@click.option(
    "--type",
    "service_type",
    type=click.Choice(sorted(_SERVICES)),
    help="Name the service: for custom domains, and for an emulator's path-style URL of a "
    "share or table unless AZURE_STORAGE_CONNECTION_STRING's FileEndpoint or "
    "TableEndpoint names its host and port.",
)
@click.option(
    "--key-file",
    "--dest-key-file",
    "dest_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the account key (else AZXFER_DEST_KEY).",
)
@click.option(
    "--output-type",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one line; json: one JSON event 'made' (kind, name, url, created).",
)
def make_command(
    url: str,
    quota_gb: int | None,
    fail_if_exists: bool,
    service_type: str | None,
    dest_key_file: Path | None,
    output_type: str,
) -> None:
    """Create the Blob container, Azure Files share or table URL names. One that exists
    already is a note and exit 0 (exit 1 with --fail-if-exists). Credentials as for a copy's
    destination: a SAS on the URL, --dest-key-file or AZXFER_DEST_KEY, the connection
    string, the signed-in identity.

    \b
    Examples:
      azxfer make 'https://acct.blob.core.windows.net/backups?<SAS>'
      azxfer make https://acct.file.core.windows.net/team --quota-gb 1024
      azxfer make https://acct.table.core.windows.net/Orders --fail-if-exists
      azxfer make http://127.0.0.1:10004/devstoreaccount1/team --type File
    """
    from azxfer.makejob import MakeOptions, check_make, make

    env = environment()
    service = _SERVICES[service_type] if service_type else None
    location = parse_location(url, service, path_style=path_style_services(env))
    options = MakeOptions(location, None, quota_gb, fail_if_exists, env)
    check_make(options)  # a wrong kind of URL is told before any sign-in
    identity = SignedInIdentity(env, device_prompt)
    credential = resolve_credential(location, "dest", env, dest_key_file, identity)
    options = MakeOptions(location, credential, quota_gb, fail_if_exists, env)
    made = make(options)
    if output_type == "json":
        record = {"event": "made", "kind": made.kind, "name": made.name, "url": made.url}
        record["created"] = made.created
        click.echo(json.dumps(record))
    elif made.created:
        click.echo(f"Created {made.kind} '{made.name}' at {made.url}")
    else:
        click.echo(f"{made.kind} '{made.name}' already exists")
