"""Options and helpers shared by every transfer command."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from azxfer.credentials import Credential, path_style_services
from azxfer.errors import AzxferError, UsageError
from azxfer.locations import Location, Service, parse_location
from azxfer.options import DEFAULT_MAX_MEMORY, FilterSpec, parse_cap_mbps

FROM_TO = {
    "LocalBlob": (Service.LOCAL, Service.BLOB),
    "BlobLocal": (Service.BLOB, Service.LOCAL),
    "BlobBlob": (Service.BLOB, Service.BLOB),
    "WebBlob": (Service.WEB, Service.BLOB),
    "WebLocal": (Service.WEB, Service.LOCAL),
    "LocalFile": (Service.LOCAL, Service.FILE),
    "FileLocal": (Service.FILE, Service.LOCAL),
    "FileFile": (Service.FILE, Service.FILE),
    "FileBlob": (Service.FILE, Service.BLOB),
    "BlobFile": (Service.BLOB, Service.FILE),
}
SERVICE_NAMES = {
    "Local": Service.LOCAL,
    "Blob": Service.BLOB,
    "File": Service.FILE,
    "Web": Service.WEB,
}


OUTPUT_LEVELS = ("default", "essential", "quiet")


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--output-type, --output-level, --log-file and --log-level."""
    func = click.option(
        "--output-level",
        type=click.Choice(OUTPUT_LEVELS),
        default="default",
        show_default=True,
        help="essential: only errors, warnings and the final summary (no progress, no "
        "per-file lines); quiet: only errors. Exit codes are the same. With --output-type "
        "json, essential leaves out progress and per-file events, quiet keeps only errors "
        "and job_finished.",
    )(func)
    func = click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
        default="info",
        show_default=True,
        help="Detail written to --log-file.",
    )(func)
    func = click.option(
        "--log-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write a detailed log here (secrets are redacted).",
    )(func)
    return click.option(
        "--output-type",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="text: progress and a summary; json: one JSON event per line on stdout.",
    )(func)


def endpoint_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--from-to, --source-type, --dest-type and the key-file options."""
    for option in reversed(
        [
            click.option(
                "--from-to",
                type=click.Choice(sorted(FROM_TO)),
                help="Name both services: needed for custom domain names, and for an "
                "emulator's path-style Azure Files URL (LocalFile, FileLocal, ...) unless "
                "AZURE_STORAGE_CONNECTION_STRING's FileEndpoint names its host and port.",
            ),
            click.option(
                "--source-type",
                type=click.Choice(sorted(SERVICE_NAMES)),
                help="Name the source's service (custom domains).",
            ),
            click.option(
                "--dest-type",
                type=click.Choice(sorted(SERVICE_NAMES)),
                help="Name the destination's service (custom domains).",
            ),
            click.option(
                "--source-key-file",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="File holding the source account key (else AZXFER_SOURCE_KEY).",
            ),
            click.option(
                "--dest-key-file",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="File holding the destination account key (else AZXFER_DEST_KEY).",
            ),
        ]
    ):
        func = option(func)
    return func


def parse_endpoints(
    source: str,
    destination: str,
    from_to: str | None,
    source_type: str | None,
    dest_type: str | None,
) -> tuple[Location, Location]:
    """Parse both locations, honouring the service overrides."""
    src_service = SERVICE_NAMES.get(source_type) if source_type else None
    dst_service = SERVICE_NAMES.get(dest_type) if dest_type else None
    if from_to:
        if source_type or dest_type:
            raise UsageError("--from-to cannot be combined with --source-type/--dest-type")
        src_service, dst_service = FROM_TO[from_to]
    if dst_service is Service.WEB:
        raise UsageError("a web URL can only be a source")
    path_style = path_style_services(environment())
    return (
        parse_location(source, src_service, allow_web=True, path_style=path_style),
        parse_location(destination, dst_service, path_style=path_style),
    )


def environment() -> dict[str, str]:
    """A snapshot of the environment (passed down, never read deep inside the core)."""
    return dict(os.environ)


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The six options that choose entries by name, path and modification time, as copy,
    sync, list, remove and set-properties all take them (read by `FilterSpec.from_strings`)."""
    for option in reversed(
        [
            click.option(
                "--include-pattern", help="Only names matching these ';'-separated wildcards."
            ),
            click.option(
                "--exclude-pattern", help="Skip names matching these ';'-separated wildcards."
            ),
            click.option(
                "--include-path", help="Only these ';'-separated relative paths (prefixes)."
            ),
            click.option(
                "--exclude-path", help="Skip these ';'-separated relative paths (prefixes)."
            ),
            click.option(
                "--include-after", help="Only entries modified at or after this ISO-8601 time."
            ),
            click.option(
                "--include-before", help="Only entries modified at or before this ISO-8601 time."
            ),
        ]
    ):
        func = option(func)
    return func


def filters_from(opts: dict[str, Any]) -> FilterSpec:
    """The selection `filter_options` read; a malformed one is a usage error."""
    try:
        return FilterSpec.from_strings(
            opts.get("include_pattern"),
            opts.get("exclude_pattern"),
            opts.get("include_path"),
            opts.get("exclude_path"),
            opts.get("include_after"),
            opts.get("include_before"),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def journal_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--journal-dir (AzCopy v8's /Z)."""
    return click.option(
        "--journal-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where job journals live [default: AZXFER_JOB_DIR, else 'jobs' in the state folder: "
        "~/.local/state/azxfer (or $XDG_STATE_HOME/azxfer) on Linux, ~/Library/Application "
        "Support/azxfer on macOS].",
    )(func)


def job_dir_from(option: Path | None) -> Path:
    """The journal folder: the option, else the environment's default."""
    from azxfer.jobs import default_job_dir

    job_dir = option if option is not None else default_job_dir(environment())
    _check_folder(job_dir, "--journal-dir" if option is not None else "the journal folder")
    return job_dir


def job_dirs_from(option: Path | None) -> list[Path]:
    """The folders whose jobs are listed and resumed: the option, else the default one and
    the folder of versions before platformdirs where that differs and exists."""
    if option is not None:
        return [job_dir_from(option)]
    from azxfer.jobs import job_dirs

    folders = job_dirs(environment())
    _check_folder(folders[0], "the journal folder")
    return folders


def _check_folder(path: Path, what: str) -> None:
    """Raise UsageError if `path` is, or lies under, something that is not a folder (it need
    not exist yet: journals create it). Checked up front so no job starts without its journal."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise UsageError(f"{what} {path}: {candidate} is a file, not a folder")
            return


def credential_kinds(source: Credential | None, dest: Credential | None) -> dict[str, str]:
    """Which kind of credential each remote side used ('sas', 'shared_key', ...), for the job
    record: never the secret, but enough for `resume` to ask for a SAS it cannot have kept."""
    sides = {"source": source, "destination": dest}
    return {side: cred.kind for side, cred in sides.items() if cred is not None}


# Options that only shape one run (its output, its bandwidth); a resumed job chooses its own.
RUN_ONLY_OPTIONS = (
    "output_type",
    "output_level",
    "log_file",
    "log_level",
    "journal_dir",
    "cap_mbps",
)


def _check_cap(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    try:
        return parse_cap_mbps(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc).removeprefix("--cap-mbps").lstrip(": ")) from None


def cap_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--cap-mbps: this run's bandwidth cap (never journaled: a resume gives its own)."""
    return click.option(
        "--cap-mbps",
        callback=_check_cap,
        metavar="MBPS",
        help="Cap the transfer rate at this many megabits per second (e.g. 40 or 0.5), "
        "uploads and downloads together [default: AZXFER_CAP_MBPS, else no cap]. Copies "
        "made server side move no bytes through this machine and are not capped.",
    )(func)


def cap_mbps_of(opts: dict[str, Any], env: dict[str, str]) -> float | None:
    """This run's cap: --cap-mbps (already checked), else AZXFER_CAP_MBPS."""
    given = opts.get("cap_mbps")
    if given is not None:
        return float(given)
    return parse_cap_mbps(env.get("AZXFER_CAP_MBPS") or None, "AZXFER_CAP_MBPS")


def recordable(opts: dict[str, Any]) -> dict[str, Any]:
    """The command's options as JSON-ready values, minus those that belong to one run."""
    return {
        key: str(value) if isinstance(value, Path) else value
        for key, value in opts.items()
        if key not in RUN_ONLY_OPTIONS
    }


def engine_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--block-size-mb, --concurrency, --max-memory and --cap-mbps: the engine's budgets."""
    func = cap_option(func)
    for option in reversed(
        [
            click.option(
                "--block-size-mb",
                type=click.FloatRange(min=0, min_open=True, max=4000),
                help="Block size in MiB [default: 8, grown so a file fits 50,000 blocks].",
            ),
            click.option(
                "--concurrency",
                type=click.IntRange(min=1, max=1000),
                help="Requests in flight [default: AZXFER_CONCURRENCY, else 32 on ≤4 cores].",
            ),
            click.option(
                "--max-memory",
                default=f"{DEFAULT_MAX_MEMORY // (1024 * 1024)}M",
                show_default=True,
                help="Upper bound on data buffered in flight, e.g. 256M or 2G.",
            ),
        ]
    ):
        func = option(func)
    return func


def absolute_location(text: str) -> str:
    """A local path made absolute (a job saved for resume must not depend on the folder it
    was started in); URLs, wildcards and anything unparsable as they are."""
    try:
        location = parse_location(text)
    except AzxferError:
        return text
    return os.path.abspath(text) if location.is_local and location.pattern is None else text
