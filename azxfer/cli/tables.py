"""`azxfer export` and `azxfer import`: a table to a local folder or a Blob container of JSON
or CSV data files with a manifest, and back, or a table to a table (see azxfer/tablejob.py)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import click

from azxfer.cli.common import (
    cap_option,
    credential_kinds,
    environment,
    journal_option,
    output_options,
    recordable,
)
from azxfer.cli.login import device_prompt
from azxfer.cli.tablereport import run_table_job
from azxfer.credentials import (
    Credential,
    Side,
    TokenProvider,
    path_style_services,
    resolve_credential,
)
from azxfer.errors import UsageError
from azxfer.identity.provider import SignedInIdentity
from azxfer.locations import Location, Service, parse_location, without_secrets

_OPERATIONS = ("InsertOrSkip", "InsertOrMerge", "InsertOrReplace")


def register(group: click.Group) -> None:
    """Add both commands to the `azxfer` group."""
    group.add_command(export_command)
    group.add_command(import_command)


def _table(text: str) -> Location:
    """A table URL: Azure's `https://ACCT.table.core.windows.net/TABLE`, or an emulator's
    path-style `http://HOST:PORT/ACCT/TABLE` (the argument is a table whatever its port)."""
    return parse_location(text, Service.TABLE, path_style=path_style_services(environment()))


def _place(text: str, must_exist: bool) -> Path | Location:
    """The place of an export's files: a local folder, or a Blob container or virtual
    directory (whose existence the job finds out)."""
    if "://" not in text:
        return _folder(text, must_exist)
    location = parse_location(text, path_style=path_style_services(environment()))
    if location.service is not Service.BLOB:
        raise UsageError(
            f"{location.display}: an export's files can be in a local folder or a Blob "
            f"container, not in {location.service.value} storage"
        )
    if location.snapshot or location.version_id:
        raise UsageError(f"{location.display}: give a container or virtual directory")
    return location


def _place_credential(
    place: Path | Location,
    side: Side,
    key_file: Path | None,
    env: dict[str, str],
    identity: TokenProvider,
) -> Credential | None:
    """The credential of a Blob place of an export's files (None for a local folder): a SAS
    on its URL, else the key file, the side's key variable, the connection string or the
    signed-in identity."""
    if isinstance(place, Path):
        return None
    return resolve_credential(place, side, env, key_file, identity)


def _signed_in(env: dict[str, str]) -> TokenProvider:
    """The identity a job signs in with where no SAS, key or connection string applies:
    copy's, made once per command so a table and its place of files share one sign-in."""
    return SignedInIdentity(env, device_prompt)


def _folder(text: str, must_exist: bool) -> Path:
    path = Path(text).absolute()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{text} is a file, not a folder")
    if must_exist and not path.is_dir():
        raise UsageError(f"folder {text} does not exist")
    return path


@click.command("export", short_help="Export a table to a local folder or Blob storage")
@click.argument("table_url")
@click.argument("dest")
@click.option("--manifest", help="The manifest's file name [default: ACCOUNT_TABLE_TIME.manifest].")
@click.option(
    "--payload-format",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="json: one entity per line; csv: rows, each file's column types in a .schema.csv "
    "beside it.",
)
@click.option(
    "--pkrs",
    metavar="K1#K2…",
    help="Split the partition keys at these bounds ('aa#bb': [first, aa), [aa, bb), "
    "[bb, last]); the ranges are exported at once, each to its own files.",
)
@click.option(
    "--split-size",
    type=int,
    metavar="MB",
    help="Start a new data file once one exceeds MB megabytes (at least 32) [default: one "
    "file per range].",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=256),
    default=16,
    show_default=True,
    help="Ranges exported at once (at most the number of ranges).",
)
@click.option("--filter", "filter_", metavar="ODATA", help="Only entities matching this filter.")
@click.option("--select", metavar="A,B", help="Only these properties (and the keys).")
@click.option("--dry-run", is_flag=True, help="Count the entities; write nothing.")
@click.option(
    "--source-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the table's account key (else AZXFER_SOURCE_KEY).",
)
@click.option(
    "--dest-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding a Blob DEST's account key (else AZXFER_DEST_KEY).",
)
@cap_option
@journal_option
@output_options
def export_command(table_url: str, dest: str, **opts: Any) -> int:
    """Export the table TABLE_URL to DEST, a local folder or a Blob container or virtual
    directory URL (the manifest written last; blobs streamed, nothing kept on disk).
    Data files are named ACCOUNT_TABLE_TIME_RANGE_SPLIT_CRC.json (CRC: CRC-32 of its bytes,
    hex): one entity per line, the service's JSON with an @odata.type wherever JSON cannot
    carry the type; or .csv with a .schema.csv beside it. The manifest lists every file with
    its size, entity count and CRC, and the ranges. The job is journaled: `azxfer resume`
    continues a killed export, keeping its completed data files.

    \b
    Example:
      azxfer export 'https://acct.table.core.windows.net/orders?<SAS>' ./backup \\
          --pkrs 'm#t' --split-size 256
    """
    from azxfer.tablejob import export_table

    options = build_export_options(table_url, dest, opts)
    record = _record(table_url, dest, opts, options.credential, None)
    return run_table_job(
        "export", opts, record, lambda sink, spec: export_table(options, sink, spec)
    )


def build_export_options(table_url: str, dest: str, opts: dict[str, Any]) -> Any:
    """The TableExportOptions of `azxfer export` (also what a resume rebuilds)."""
    from azxfer.tablejob import TableExportOptions

    table = _table(table_url)
    place = _place(dest, must_exist=False)
    select = [p.strip() for p in opts["select"].split(",") if p.strip()] if opts["select"] else None
    _check_manifest_name(opts["manifest"])
    env = environment()
    identity = _signed_in(env)
    return TableExportOptions(
        table,
        resolve_credential(table, "source", env, _key_file(opts, "source_key_file"), identity),
        place,
        opts["manifest"],
        opts["filter_"],
        select,
        bool(opts["dry_run"]),
        env,
        opts["payload_format"],
        _bounds(opts["pkrs"]),
        _split_bytes(opts["split_size"]),
        int(opts["concurrency"]),
        _place_credential(place, "dest", _key_file(opts, "dest_key_file"), env, identity),
    )


@click.command("import", short_help="Import a table export into a table")
@click.argument("source")
@click.argument("table_url")
@click.option(
    "--manifest",
    help="The manifest's file name in SOURCE [default: a local folder's only one]; without it a "
    "URL SOURCE is a table, copied directly.",
)
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
    help="File holding TABLE_URL's account key (else AZXFER_DEST_KEY).",
)
@click.option(
    "--source-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding SOURCE's account key, a table's or a Blob container's (else "
    "AZXFER_SOURCE_KEY).",
)
@cap_option
@journal_option
@output_options
def import_command(source: str, table_url: str, **opts: Any) -> int:
    """Import an export in SOURCE, a local folder or a Blob container or virtual directory URL,
    into the table TABLE_URL (created if missing). The manifest and every data file's size,
    CRC and entities are verified first (one read of each file; the import reads it again):
    nothing is written unless all of them match. JSON and CSV exports alike. Entities go in
    batches of up to 100 of one partition.

    Without --manifest, a local folder's one manifest is imported, and a URL SOURCE is a
    table: its entities are copied to TABLE_URL directly, across accounts too, with no files in
    between.

    The job is journaled: `azxfer resume` continues a killed import, skipping the batches the
    table confirmed. A batch in flight at the kill may have landed and is sent again: harmless
    for InsertOrReplace and InsertOrMerge; with InsertOrSkip its entities count as skipped.

    \b
    Examples:
      azxfer import ./backup 'https://acct.table.core.windows.net/orders?<SAS>' \\
          --manifest acct_orders_20261206T181618123Z.manifest --entity-operation InsertOrReplace
      azxfer import 'https://a.table.core.windows.net/orders?<SAS>' \\
          'https://b.table.core.windows.net/orders?<SAS>'
    """
    from azxfer.tablejob import import_table

    options = build_import_options(source, table_url, opts)
    record = _record(source, table_url, opts, options.source_credential, options.credential)
    return run_table_job(
        "import", opts, record, lambda sink, spec: import_table(options, sink, spec)
    )


def build_import_options(source: str, table_url: str, opts: dict[str, Any]) -> Any:
    """The TableImportOptions of `azxfer import` (also what a resume rebuilds)."""
    from azxfer.tablejob import EntityOperation, TableImportOptions

    env = environment()
    identity = _signed_in(env)
    place: Path | Location
    source_credential = None
    if opts["manifest"] is None and "://" not in source:
        # A local folder is an export's: its one manifest (recorded, so a resume reads it).
        opts["manifest"] = _only_manifest(_folder(source, must_exist=True))
    if opts["manifest"] is None:
        place = _table(source)
        source_credential = resolve_credential(
            place, "source", env, _key_file(opts, "source_key_file"), identity
        )
    else:
        _check_manifest_name(opts["manifest"])
        place = _place(source, must_exist=True)
        if isinstance(place, Path) and not (place / opts["manifest"]).is_file():
            raise UsageError(
                f"manifest {opts['manifest']!r} does not exist in {place} (it holds: "
                f"{', '.join(_manifests(place)) or 'none'})"
            )
        source_credential = _place_credential(
            place, "source", _key_file(opts, "source_key_file"), env, identity
        )
    table = _table(table_url)
    return TableImportOptions(
        place,
        opts["manifest"],
        table,
        resolve_credential(table, "dest", env, _key_file(opts, "dest_key_file"), identity),
        EntityOperation(opts["entity_operation"]),
        int(opts["concurrency"]),
        env,
        source_credential,
    )


def _key_file(opts: dict[str, Any], name: str) -> Path | None:
    """A key file option, also as a resume reads it back from the journal (a string)."""
    value = opts.get(name)
    return Path(value) if value else None


def _record(
    source: str,
    destination: str,
    opts: dict[str, Any],
    source_credential: Credential | None,
    dest_credential: Credential | None,
) -> dict[str, Any]:
    """What the journal keeps to resume the job: never a SAS token or key."""
    return {
        "source": without_secrets(source),
        "destination": without_secrets(destination),
        "options": recordable(opts),
        "credentials": credential_kinds(source_credential, dest_credential),
    }


def _bounds(text: str | None) -> list[str]:
    """The bounds of `--pkrs`: non-empty, each above the one before."""
    if text is None:
        return []
    bounds = text.split("#")
    if any(not bound for bound in bounds):
        raise UsageError(f"--pkrs {text!r}: give partition keys separated by '#', none empty")
    if any(a >= b for a, b in itertools.pairwise(bounds)):
        raise UsageError(f"--pkrs {text!r}: each partition key must sort after the one before")
    return bounds


# The smallest --split-size: AzCopy v8's, so a table is never cut into thousands of files.
_MIN_SPLIT_MB = 32


def _split_bytes(megabytes: int | None) -> int | None:
    if megabytes is None:
        return None
    if megabytes < _MIN_SPLIT_MB:
        raise UsageError(f"--split-size {megabytes}: give at least {_MIN_SPLIT_MB} (MB)")
    return megabytes * 1024 * 1024


def _manifests(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.manifest"))


def _only_manifest(folder: Path) -> str:
    """The one manifest of an export folder, when --manifest names none."""
    names = _manifests(folder)
    if len(names) == 1:
        return names[0]
    if not names:
        raise UsageError(
            f"{folder} holds no export manifest (*.manifest): give the folder an export wrote "
            "(or a table URL, to copy a table)"
        )
    raise UsageError(
        f"{folder} holds several manifests ({', '.join(names)}): name one with --manifest"
    )


def _check_manifest_name(name: str | None) -> None:
    if name is not None and (not name or Path(name).name != name):
        raise UsageError(f"--manifest {name!r}: give a file name, without a folder")
