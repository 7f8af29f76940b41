"""What `azxfer remove` and `azxfer set-properties` share: the selection options, building the
job's options, running it (new or resumed) and rendering its events (see azxfer/bulkjob.py)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from azxfer.cli.bulkreport import BulkTextReporter
from azxfer.cli.common import SERVICE_NAMES, environment, filter_options, filters_from
from azxfer.cli.login import device_prompt
from azxfer.cli.render import JsonReporter, OutputLevel
from azxfer.cli.run import ask, job_exit, start_job
from azxfer.credentials import path_style_services, resolve_credential
from azxfer.errors import UsageError
from azxfer.identity.provider import SignedInIdentity
from azxfer.locations import Service, parse_location, without_secrets
from azxfer.options import default_concurrency

if TYPE_CHECKING:
    from azxfer.bulkjob import BulkOperation, BulkOptions

# The selection options, as copy's (each a ';'-separated list), plus --list-of-files.
_SELECTION = [
    click.option(
        "-r", "--recursive", is_flag=True, help="Act on everything under a folder or container."
    ),
    filter_options,
    click.option(
        "--list-of-files",
        # Absolute: a resume may run in another folder.
        type=click.Path(exists=True, dir_okay=False, resolve_path=True, path_type=Path),
        help="Only the paths listed in this file, one per line, relative to URL.",
    ),
    click.option(
        "--key-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="File holding the account key (else AZXFER_DEST_KEY).",
    ),
    click.option(
        "--type",
        "service_type",
        type=click.Choice(["Blob", "File", "Local", "Table"]),
        help="Name the service (custom domains, an emulator's path-style Azure Files or Table "
        "URL); AzCopy's --from-to spelling works too.",
    ),
    click.option(
        "--concurrency",
        type=click.IntRange(min=1, max=1000),
        help="Requests in flight [default: AZXFER_CONCURRENCY, else 32 on ≤4 cores].",
    ),
]


def selection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options choosing which objects a bulk command acts on, and how it runs."""
    for option in reversed(_SELECTION):
        func = option(func)
    return func


def build_bulk_options(
    url: str, opts: dict[str, Any], operation: BulkOperation, service: Service | None
) -> BulkOptions:
    """Validate the selection flags and build the job's options (`service`: as --from-to
    names it, else told from the URL)."""
    from azxfer.bulkjob import BulkOptions, with_list_of_files
    from azxfer.syncjob import parse_max_delete

    env = environment()
    location = parse_location(url, service, path_style=path_style_services(env))
    if location.service is Service.WEB:
        raise UsageError(f"{operation.kind} cannot act on a web URL")
    if location.service is Service.TABLE:
        raise UsageError(f"{operation.kind} cannot act on a table")
    filters = filters_from(opts)
    # A resumed job's journal holds the path as text.
    listed = opts.get("list_of_files")
    filters = with_list_of_files(filters, Path(listed) if listed else None)
    credential = None
    if not location.is_local:
        identity = SignedInIdentity(env, device_prompt)
        credential = resolve_credential(location, "dest", env, opts.get("key_file"), identity)
    return BulkOptions(
        location=location,
        credential=credential,
        operation=operation,
        recursive=bool(opts["recursive"]),
        filters=filters,
        dry_run=bool(opts.get("dry_run")),
        max_delete=parse_max_delete(str(opts.get("max_delete") or "50%")),
        force=bool(opts.get("force")),
        concurrency=opts.get("concurrency") or default_concurrency(env),
    )


def service_named(opts: dict[str, Any]) -> Service | None:
    """The service --type names, or --from-to as AzCopy spells it ('BlobTrash', 'FileNone')."""
    from_to, service_type = opts.get("from_to"), opts.get("service_type")
    if from_to and service_type:
        raise UsageError("--from-to cannot be combined with --type")
    if service_type:
        return Service.TABLE if service_type == "Table" else SERVICE_NAMES[service_type]
    if not from_to:
        return None
    for name, service in SERVICE_NAMES.items():
        if from_to.startswith(name):
            return service
    raise UsageError(f"--from-to: '{from_to}' names no service")


def job_record(url: str, opts: dict[str, Any], options: BulkOptions) -> dict[str, Any]:
    """What the journal keeps of the command line: no secret, the kind of credential."""
    from azxfer.cli.common import credential_kinds, recordable

    return {
        "source": without_secrets(os.path.abspath(url) if options.location.is_local else url),
        "destination": "",
        "options": recordable(opts),
        "credentials": credential_kinds(options.credential, None),
    }


def ask_remove(count: int, listed: int) -> bool:
    """Ask once whether to remove `count` of the `listed` objects; no input means no."""
    answer = ask(f"Remove {count} of the {listed} objects listed? [y/N]")
    return answer is not None and answer.lower() in ("y", "yes")


def run_bulk_command(
    command: str,
    options: BulkOptions,
    opts: dict[str, Any],
    record: dict[str, Any] | None,
    resume_id: str | None = None,
) -> int:
    """Run a (new or resumed) bulk job with the reporter asked for; returns the exit code.
    Past --max-delete, a remove asks on a terminal; elsewhere it refuses (never waits)."""
    from azxfer import bulkjob

    spec = start_job(command, opts, record, resume_id)
    level = OutputLevel[str(opts.get("output_level") or "default").upper()]
    reporter: JsonReporter | BulkTextReporter
    if str(opts.get("output_type") or "text") == "json":
        reporter = JsonReporter(sys.stdout, level)
    else:
        reporter = BulkTextReporter(sys.stdout, sys.stderr, sys.stderr.isatty(), level)
    asking = None if options.force or not sys.stdin.isatty() else ask_remove
    logging.getLogger("azxfer").info("%s %s", command, options.location.display)
    try:
        result = bulkjob.run_bulk(options, reporter, spec, asking)
    finally:
        reporter.close()
    return job_exit(result)


def resume_bulk(
    command: str, job_id: str, url: str, raw: dict[str, Any], opts: dict[str, Any]
) -> tuple[BulkOptions, Callable[[], int]]:
    """The options of a journaled bulk job, and the call that resumes it."""
    from azxfer.cli.remove import operation_from
    from azxfer.cli.setprops import properties_from

    maker = operation_from if command == "remove" else properties_from
    options = build_bulk_options(url, raw, maker(raw), service_named(raw))
    return options, lambda: run_bulk_command(command, options, opts, None, job_id)
