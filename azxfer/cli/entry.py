"""The `azxfer` command: start what the command line will certainly list, then run it.

Loading click, asyncio and the engine takes the interpreter 100–150 ms of CPU before a job can
send a request; the listings the job will need can be on their way meanwhile (`azxfer.early`).
So the command line is read here first, without click, just far enough to find a `copy` or
`sync` and its two locations: options are told from their values by `VALUE_OPTIONS`, which a
test keeps equal to the click commands' own. Click then parses the command line for real and
reports whatever is wrong with it; nothing here fails, prints or exits.

Up to the start of the listings' thread, only the standard library (and httptools) is loaded:
msgspec, asyncio and click come after, on this thread, while the service builds the first page.
A test keeps it so.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from azxfer.early import EarlyListings

# The options of each command that take a value (the other options are flags).
_COMMON_VALUE_OPTIONS = frozenset(
    {
        "--block-size-mb",
        "--cap-mbps",
        "--concurrency",
        "--dest-key-file",
        "--dest-type",
        "--exclude-path",
        "--exclude-pattern",
        "--from-to",
        "--include-after",
        "--include-before",
        "--include-path",
        "--include-pattern",
        "--journal-dir",
        "--log-file",
        "--log-level",
        "--max-memory",
        "--output-level",
        "--output-type",
        "--source-key-file",
        "--source-type",
    }
)
VALUE_OPTIONS = {
    "copy": _COMMON_VALUE_OPTIONS
    | {
        "--as-subdir",
        "--blob-tags",
        "--blob-type",
        "--block-blob-tier",
        "--cache-control",
        "--check-md5",
        "--content-disposition",
        "--content-encoding",
        "--content-language",
        "--content-type",
        "--delimiter",
        "--metadata",
        "--overwrite",
        "--preserve-smb-info",
        "--s2s-mode",
        "--s2s-preserve-access-tier",
        "--s2s-preserve-properties",
    },
    "sync": _COMMON_VALUE_OPTIONS | {"--compare-hash", "--delete-destination", "--max-delete"},
}
# A service named by hand (a custom domain, say) is left to the job to resolve; a listing of
# snapshots goes through the SDK, which takes no early listing.
_NOT_GUESSED = frozenset({"--from-to", "--source-type", "--dest-type", "--include-snapshots"})


class CommandShape(NamedTuple):
    """What the command line says about the listings a job will need."""

    command: str
    source: str
    destination: str
    recursive: bool
    options: dict[str, str]


def main() -> None:
    """The console script: expand response files (`@FILE`, see argfiles.py), start the
    early listings, then run the CLI, which reports a response file it could not use."""
    from azxfer.cli.argfiles import ResponseFileError, expand_args

    error: str | None = None
    try:
        args = expand_args(sys.argv[1:])
    except ResponseFileError as exc:
        args, error = [], str(exc)
    early = None if error else _start_early_listings(args, os.environ)
    from azxfer.cli.main import main as run_cli

    run_cli(early, args, error)


def command_shape(args: Sequence[str]) -> CommandShape | None:
    """The command, its two locations and its options, read without click; None for any
    other command line, or one this reading is not sure of."""
    if not args or args[0] not in VALUE_OPTIONS:
        return None
    command, takes_value = args[0], VALUE_OPTIONS[args[0]]
    positionals: list[str] = []
    options: dict[str, str] = {}
    rest = iter(args[1:])
    for arg in rest:
        if arg == "--":
            positionals.extend(rest)
        elif arg.startswith("--") and "=" in arg:
            name, _, value = arg.partition("=")
            options[name] = value
        elif arg in takes_value:
            options[arg] = next(rest, "")
        elif arg.startswith("-") and arg != "-":
            options[arg] = ""
        else:
            positionals.append(arg)
    if len(positionals) != 2 or _NOT_GUESSED & options.keys():
        return None
    recursive = "-r" in options or "--recursive" in options
    return CommandShape(command, positionals[0], positionals[1], recursive, options)


def _start_early_listings(args: Sequence[str], env: Mapping[str, str]) -> EarlyListings | None:
    shape = command_shape(args)
    if shape is None:
        return None
    try:
        from azxfer.early import start_listings

        key_files = {
            side: Path(shape.options[option]) if shape.options.get(option) else None
            for side, option in (("source", "--source-key-file"), ("dest", "--dest-key-file"))
        }
        return start_listings(
            shape.command,
            shape.source,
            shape.destination,
            shape.recursive,
            key_files,
            env,
            shape.options.get("--delimiter") or "/",
        )
    except Exception:
        return None
