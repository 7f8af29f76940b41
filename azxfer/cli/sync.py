"""`azxfer sync`: a one-way mirror of a folder onto a destination (see azxfer/syncjob.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import click

from azxfer.cli.common import (
    absolute_location,
    credential_kinds,
    endpoint_options,
    engine_options,
    filter_options,
    journal_option,
    output_options,
    recordable,
)
from azxfer.cli.copy import build_copy_options
from azxfer.cli.render import make_reporter
from azxfer.cli.run import ask, job_exit, start_job
from azxfer.events import Event
from azxfer.locations import redact, without_secrets

if TYPE_CHECKING:
    from azxfer.syncjob import SyncOptions

# What `copy` options a sync always uses: recursive, a folder's contents onto the destination
# path, the blob's Last-Modified kept on downloads (so a second sync finds them identical).
_COPY_DEFAULTS: dict[str, Any] = {
    "recursive": True,
    "as_subdir": False,
    "overwrite": "true",
    "blob_type": None,
    "block_blob_tier": None,
    "metadata": None,
    "blob_tags": None,
    "content_type": None,
    "content_encoding": None,
    "content_language": None,
    "content_disposition": None,
    "cache_control": None,
    "no_guess_mime_type": False,
    "check_md5": "FailIfDifferent",
    "preserve_last_modified_time": True,
    "move": False,
    "follow_symlinks": False,
}


@click.command("sync", short_help="Make DESTINATION match SOURCE: copy what differs")
@click.argument("source")
@click.argument("destination")
@filter_options
@click.option(
    "--compare-hash",
    type=click.Choice(["none", "md5"]),
    default="none",
    show_default=True,
    help="md5: compare sizes and MD5s (blob Content-MD5) instead of sizes and times.",
)
@click.option("--mirror-mode", is_flag=True, help="Copy every source file, identical or not.")
@click.option(
    "--delete-destination",
    type=click.Choice(["false", "true", "prompt"]),
    default="false",
    show_default=True,
    help="Delete destination files that are not in the source (after the copies).",
)
@click.option(
    "--max-delete",
    default="50%",
    metavar="N|P%",
    show_default=True,
    help="Refuse (exit 1) to delete more than N entries, or P% of the destination's.",
)
@click.option(
    "--include-directory-stub",
    is_flag=True,
    help="Toward Blob storage: write each source folder as a zero-byte marker blob "
    "(metadata hdi_isfolder=true), so empty folders are kept too.",
)
@click.option(
    "--dry-run", is_flag=True, help="List what would be copied and deleted; change nothing."
)
@engine_options
@endpoint_options
@journal_option
@output_options
def sync_command(source: str, destination: str, **opts: object) -> int:
    """Make DESTINATION a copy of the folder, container, share, directory or virtual
    directory SOURCE: copy what is missing or different (size, or a source newer by more than
    2 s; or MD5 with --compare-hash md5) and, with --delete-destination, delete what the source
    lacks. The source's contents map onto the destination path. Between local folders, Blob
    and Azure Files, in any direction but local to local.

    \b
    Examples:
      azxfer sync ./site 'https://acct.blob.core.windows.net/$web?<SAS>' --delete-destination true
      azxfer sync 'https://acct.blob.core.windows.net/box/logs' ./logs --exclude-pattern '*.tmp'
      azxfer sync ./docs 'https://acct.file.core.windows.net/team/docs?<SAS>'
    """
    # Absolute local paths, so that `azxfer resume` finds the same files from any folder.
    source, destination = absolute_location(source), absolute_location(destination)
    options = build_sync_options(source, destination, opts)
    record = {
        "source": without_secrets(source),
        "destination": without_secrets(destination),
        "options": recordable(opts),
        "credentials": credential_kinds(
            options.copy.source_credential, options.copy.dest_credential
        ),
    }
    return run_sync(options, opts, record)


def build_sync_options(source: str, destination: str, opts: dict[str, Any]) -> SyncOptions:
    """Validate the flags; the copy part is built exactly as `copy` builds it."""
    # The sync facade loads the whole core: only a sync pays for it, once its flags are read.
    from azxfer.syncjob import SyncOptions, parse_max_delete

    copy = build_copy_options(source, destination, {**_COPY_DEFAULTS, **opts})
    return SyncOptions(
        copy=copy,
        compare_hash=None if opts["compare_hash"] == "none" else str(opts["compare_hash"]),
        mirror=bool(opts["mirror_mode"]),
        delete_destination=str(opts["delete_destination"]),
        max_delete=parse_max_delete(str(opts["max_delete"])),
    )


def ask_delete(count: int) -> bool:
    """Ask once whether to delete `count` destination entries; no input means no."""
    answer = ask(f"Delete {count} destination entries that are not in the source? [y/N]")
    return answer is not None and answer.lower() in ("y", "yes")


class _SyncReporter:
    """The copy reporter, plus lines for deletes and the sync summary in text mode."""

    def __init__(self, reporter: Any, text: bool) -> None:
        from azxfer.syncjob import Deleted, SyncSummary

        self.reporter = reporter
        self.text = text
        self._deleted, self._summary = Deleted, SyncSummary

    def emit(self, event: Event) -> None:
        if self.text and isinstance(event, self._deleted | self._summary):
            if self.reporter.shows(event):
                self._text_line(event)
            return
        self.reporter.emit(event)

    def _text_line(self, event: Event) -> None:
        """A delete or the sync summary, as a line of text."""
        if isinstance(event, self._deleted):
            what = "DRYRUN: delete" if event.dry_run else "deleted:"
            if event.outcome == "failed":
                what = "FAILED to delete"
            suffix = f": {event.reason}" if event.reason else ""
            self.reporter._line(f"{what} {redact(event.destination)}{suffix}")
            return
        if isinstance(event, self._summary):
            line = (
                f"Sync: {event.copied} copied, {event.deleted} deleted, "
                f"{event.skipped_identical} identical, {event.failed} failed"
            )
            if event.hashed or event.hashes_cached:
                line += f"; MD5s: {event.hashed} hashed, {event.hashes_cached} from the cache"
            if event.note:
                line += f" ({event.note})"
            self.reporter._line(line)

    def close(self) -> None:
        self.reporter.close()


def run_sync(
    options: SyncOptions,
    opts: dict[str, Any],
    record: dict[str, Any] | None,
    resume_id: str | None = None,
) -> int:
    """Run a (new or resumed) sync job with the reporter asked for; returns the exit code."""
    from azxfer import syncjob

    spec = start_job("sync", opts, record, resume_id)
    output_type = str(opts.get("output_type") or "text")
    level = str(opts.get("output_level") or "default")
    reporter = _SyncReporter(make_reporter(output_type, output_level=level), output_type == "text")
    ask = ask_delete if options.delete_destination == "prompt" else None
    logging.getLogger("azxfer").info(
        "sync %s -> %s", options.copy.source.display, options.copy.destination.display
    )
    try:
        result = syncjob.sync(options, reporter, ask, spec)
    finally:
        reporter.close()
    return job_exit(result)
