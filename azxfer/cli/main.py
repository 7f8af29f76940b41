"""The `azxfer` command group and the one place where errors become exit codes."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import NoReturn

import click

from azxfer import __version__
from azxfer.cli.bench import bench_command
from azxfer.cli.completion import COMPLETE_VAR, install_completion
from azxfer.cli.copy import copy_command
from azxfer.cli.env import env_command
from azxfer.cli.jobs import jobs_group
from azxfer.cli.list import list_command
from azxfer.cli.login import login_group, logout_command
from azxfer.cli.make import make_command
from azxfer.cli.remove import remove_command
from azxfer.cli.resume import resume_command
from azxfer.cli.setprops import set_properties_command
from azxfer.cli.sync import sync_command
from azxfer.cli.tables import register as register_table_commands
from azxfer.early import EarlyListings
from azxfer.errors import AzxferError
from azxfer.locations import redact

log = logging.getLogger("azxfer")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="azxfer")
def cli() -> None:
    """Move data between local disks and Azure Storage: fast, resumable, verifiable.

    Credentials, first match wins: a SAS token on the URL; an account key from
    --source-key-file/--dest-key-file or AZXFER_SOURCE_KEY/AZXFER_DEST_KEY; the
    AZURE_STORAGE_CONNECTION_STRING environment variable; the identity signed in with
    'azxfer login' (or named by AZXFER_AUTO_LOGIN_TYPE); anonymous access.

    Response files: an argument @FILE is replaced by the arguments written in FILE
    (shell quoting, # comments, nested @FILE relative to the file naming it); @@X passes @X.

    Exit codes: 0 everything transferred, 1 some transfers failed or the job could not run,
    2 the command line is wrong, 130 interrupted.
    """


cli.add_command(copy_command)
cli.add_command(sync_command)
cli.add_command(remove_command)
cli.add_command(set_properties_command)
cli.add_command(bench_command)
cli.add_command(resume_command)
cli.add_command(jobs_group)
cli.add_command(list_command)
cli.add_command(login_group)
cli.add_command(logout_command)
cli.add_command(env_command)
cli.add_command(make_command)
register_table_commands(cli)


def main(
    early: EarlyListings | None = None,
    args: list[str] | None = None,
    args_error: str | None = None,
) -> None:
    """Run the CLI and map every failure to one line on stderr and an exit code. `early`: the
    listings `cli.entry` started for this command line, for its job to take; `args`: the
    command line with its response files expanded (None: sys.argv's); `args_error`: why
    they could not be (a usage error)."""
    if args_error is not None:
        _fail(args_error, 2)
    if COMPLETE_VAR in os.environ:
        install_completion()
    try:
        code = cli.main(args, prog_name="azxfer", standalone_mode=False, obj=early)
    except click.exceptions.Abort:
        _fail("interrupted", 130)
    except click.exceptions.NoArgsIsHelpError as exc:
        # `azxfer` or `azxfer jobs` alone: the help it asks for, as --help shows it.
        assert exc.ctx is not None
        click.echo(exc.ctx.get_help())
        _exit(0)
    except click.ClickException as exc:
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        _fail(exc.format_message().replace("\n", " ") + hint, exc.exit_code)
    except click.exceptions.Exit as exc:
        _exit(exc.exit_code)
    except AzxferError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:
        log.debug("internal error", exc_info=True)
        _fail(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --log-file to keep details)",
            1,
        )
    _exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"azxfer: error: {redact(message)}", err=True)
    _exit(code)


def _exit(code: int) -> NoReturn:
    """End the process now. The job has closed its journal and files, so what is left is the
    interpreter's teardown of every module and object of the run (and a wait for idle worker
    threads): about 50 ms, a tenth of a small job's time. Logs and output are flushed first."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
