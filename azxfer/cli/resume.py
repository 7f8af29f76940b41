"""`azxfer resume`: continue a journaled job with its own options and, if needed, new secrets."""

from __future__ import annotations

from pathlib import Path

import click

from azxfer.cli.common import cap_option, job_dirs_from, journal_option, output_options
from azxfer.cli.run import run_job
from azxfer.credentials import Credential
from azxfer.errors import UsageError
from azxfer.locations import with_sas
from azxfer.options import CopyOptions


@click.command("resume", short_help="Continue a stopped or failed job where it left off")
@click.argument("job_id", required=False)
@click.option("--last", is_flag=True, help="Resume the most recent job.")
@click.option("--source-sas", help="A fresh SAS token for the source (the old one expired).")
@click.option("--dest-sas", help="A fresh SAS token for the destination.")
@click.option(
    "--source-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the source account key (else AZXFER_SOURCE_KEY).",
)
@click.option(
    "--dest-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the destination account key (else AZXFER_DEST_KEY).",
)
@cap_option
@journal_option
@output_options
def resume_command(
    job_id: str | None, last: bool, source_sas: str | None, dest_sas: str | None, **opts: object
) -> int:
    """Continue JOB_ID (or --last) where it stopped: only chunks not yet at the destination
    are sent. An export keeps its completed data files and reads each range on from the page
    after them; an import skips the batches the table had confirmed. A sync job runs the
    same sync again in its journal: what is still different is copied (interrupted transfers
    continue), and deletes are decided anew. A remove or set-properties acts on the objects
    its journal holds as not yet done. SAS tokens are
    never journaled, so give fresh ones with --source-sas and --dest-sas when the job used
    them; account keys come from the same places as for copy.

    \b
    Examples:
      azxfer resume --last
      azxfer resume 3f2a9c1e --source-sas '<fresh SAS>' --output-type json
      azxfer resume 3f2a9c1e --dest-sas '<fresh SAS>'
    """
    from azxfer.cli.copy import build_copy_options
    from azxfer.jobs import FINISHED, job_record, jobs_in, locate_job

    job_dirs = job_dirs_from(opts.get("journal_dir"))  # type: ignore[arg-type]
    if last == bool(job_id):
        raise UsageError("name a JOB_ID or give --last (not both)")
    if last:
        recent = jobs_in(job_dirs)
        if not recent:
            raise UsageError(f"no jobs in {job_dirs[0]}")
        job_id = recent[0].id
    job_dir, job_id = locate_job(job_dirs, str(job_id))
    # The run journals on where the job was found (a folder of an older version, maybe).
    opts["journal_dir"] = job_dir
    record = job_record(job_dir, job_id)
    job_id = record.id
    if record.status in FINISHED and not any(
        record.counts[s] for s in ("pending", "active", "failed")
    ):
        if opts.get("output_level") != "quiet":  # a note, not an error
            click.echo(f"Job {job_id} already finished ({record.status}); nothing to resume.")
        return 0
    saved = record.options
    raw = dict(saved["options"])
    for key in ("source_key_file", "dest_key_file"):
        if opts.get(key) is not None:
            raw[key] = opts[key]
        elif raw.get(key):
            raw[key] = Path(raw[key])
    source = with_sas(saved["source"], source_sas)
    destination = with_sas(saved["destination"], dest_sas)
    used = saved.get("credentials") or {}
    if record.command in ("remove", "set-properties"):
        from azxfer.cli.bulk import resume_bulk

        options, resume = resume_bulk(record.command, job_id, source, raw, dict(opts))
        _check_sas_given(job_id, used, {"source": options.credential})
        return resume()
    if record.command in ("export", "import"):
        return _resume_table(record.command, job_id, source, destination, raw, used, dict(opts))
    if record.command == "sync":
        from azxfer.cli.sync import build_sync_options, run_sync

        sync_options = build_sync_options(source, destination, raw)
        _check_sas_given(job_id, used, _sides(sync_options.copy))
        return run_sync(sync_options, dict(opts), None, job_id)
    options = build_copy_options(source, destination, raw)
    _check_sas_given(job_id, used, _sides(options))
    return run_job(record.command, options, dict(opts), resume_id=job_id)


def _resume_table(
    command: str,
    job_id: str,
    source: str,
    destination: str,
    raw: dict[str, object],
    used: dict[str, str],
    opts: dict[str, object],
) -> int:
    """Continue an export or import with its own options and the SAS tokens given now."""
    from azxfer.cli.tablereport import run_table_job
    from azxfer.cli.tables import build_export_options, build_import_options
    from azxfer.tablejob import export_table, import_table

    if command == "export":
        export = build_export_options(source, destination, raw)
        _check_sas_given(job_id, used, {"source": export.credential, "destination": None})
        return run_table_job(
            command, opts, None, lambda sink, spec: export_table(export, sink, spec), job_id
        )
    options = build_import_options(source, destination, raw)
    now = {"source": options.source_credential, "destination": options.credential}
    _check_sas_given(job_id, used, now)
    return run_table_job(
        command, opts, None, lambda sink, spec: import_table(options, sink, spec), job_id
    )


def _sides(options: CopyOptions) -> dict[str, Credential | None]:
    return {"source": options.source_credential, "destination": options.dest_credential}


def _check_sas_given(job_id: str, used: dict[str, str], now: dict[str, Credential | None]) -> None:
    """Refuse, before any request, to resume a side that had a SAS token and now has no
    credential at all: every transfer would fail as anonymous and the job would turn Failed."""
    flags = {"source": "--source-sas", "destination": "--dest-sas"}
    missing = [
        flags[side]
        for side, credential in now.items()
        if used.get(side) == "sas" and credential is not None and credential.kind == "anonymous"
    ]
    if missing:
        raise UsageError(
            f"job {job_id} used SAS tokens, which are never journaled: resume it with "
            f"{' and '.join(missing)}"
        )
