"""Running a job from a command: logging, reporter, prompt, exit code."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from azxfer.cli.common import cap_mbps_of, environment, job_dir_from
from azxfer.cli.render import make_reporter
from azxfer.early import EarlyListings
from azxfer.locations import redact
from azxfer.options import CopyOptions, Overwrite

if TYPE_CHECKING:  # the client (and its dependencies) load only when a job runs
    from azxfer.client import JobSpec

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Removes SAS signatures and keys from every record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message with secrets redacted."""
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def configure_logging(log_file: Path | None, level: str) -> None:
    """Send azxfer's and the SDK's logs to --log-file (redacted); nothing to the terminal."""
    root = logging.getLogger()
    root.handlers.clear()
    if log_file is None:
        root.addHandler(logging.NullHandler())
        return
    try:
        handler = logging.FileHandler(log_file, encoding="utf-8")
    except OSError as exc:
        raise click.UsageError(f"cannot write log file {log_file}: {exc.strerror}") from None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The SDK logs every request header at DEBUG; keep that only when DEBUG is asked for.
    logging.getLogger("azure").setLevel(level.upper() if level.upper() == "DEBUG" else "WARNING")


def ask(question: str) -> str | None:
    """One answer typed on the terminal (prompt on stderr); None when there is no input."""
    try:
        return click.prompt(question, default="n", show_default=False, err=True).strip()
    except (click.exceptions.Abort, EOFError):
        return None


def ask_overwrite(dest: str) -> str:
    """Ask whether to overwrite `dest`; no input at all means 'no to all'."""
    answer = ask(f"Overwrite {redact(dest)}? [y]es/[n]o/[a]ll/[N]one")
    if answer is None:
        return "N"
    return answer if answer in ("y", "n", "a", "N") else "n"


def start_job(
    command: str, opts: dict[str, Any], record: dict[str, Any] | None, resume_id: str | None
) -> JobSpec:
    """Set up logging, prune old finished jobs, and name this run's job (new or resumed)."""
    from azxfer import client
    from azxfer.jobs import prune_finished

    configure_logging(opts.get("log_file"), str(opts.get("log_level") or "INFO"))
    env = environment()
    job_dir = job_dir_from(opts.get("journal_dir"))
    for removed in prune_finished(job_dir, env):
        logging.getLogger("azxfer").info("pruned finished job %s", removed)
    context = click.get_current_context(silent=True)
    cap_mbps = cap_mbps_of(opts, env)
    return client.JobSpec(
        job_id=resume_id or client.new_job_id(),
        command=command,
        job_dir=job_dir,
        record=record,
        resume=resume_id is not None,
        env=env,
        early_listings=context.find_object(EarlyListings) if context else None,
        cap_mbps=cap_mbps,
    )


def run_job(
    command: str,
    options: CopyOptions,
    opts: dict[str, Any],
    record: dict[str, Any] | None = None,
    resume_id: str | None = None,
) -> int:
    """Run a (new or resumed) copy job with the reporter asked for; returns the exit code."""
    from azxfer import client

    spec = start_job(command, opts, record, resume_id)
    level = str(opts.get("output_level") or "default")
    reporter = make_reporter(str(opts.get("output_type") or "text"), output_level=level)
    ask = ask_overwrite if options.overwrite is Overwrite.PROMPT else None
    logging.getLogger("azxfer").info(
        "%s %s -> %s", command, options.source.display, options.destination.display
    )
    try:
        result = client.copy(options, reporter, ask, spec)
    finally:
        reporter.close()
    return job_exit(result)


def job_exit(result: Any) -> int:
    """Say why a finished job failed, in one stderr line, and return its exit code."""
    message = result.error or failure_summary(result)
    if message and result.exit_code:
        click.echo(f"azxfer: error: {redact(message)}", err=True)
    return result.exit_code


def failure_summary(result: Any) -> str | None:
    """The one stderr line for a job that ended badly without a single cause."""
    totals = result.totals
    if result.status == "Cancelled":
        return f"interrupted; resume with: {result.resume_command}"
    if totals.files_failed:
        return (
            f"{totals.files_failed} of {totals.files_total} transfers failed "
            f"(resume with: {result.resume_command})"
        )
    return None
