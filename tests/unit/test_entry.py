"""The command line as `cli.entry` reads it before click is loaded, to start early listings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from azxfer.cli.entry import VALUE_OPTIONS, CommandShape, command_shape
from azxfer.cli.main import cli


@pytest.mark.parametrize("command", sorted(VALUE_OPTIONS))
def test_value_options_are_the_click_commands_own(command: str) -> None:
    params = cli.commands[command].params
    taking_values = {
        name
        for p in params
        if p.param_type_name == "option" and not getattr(p, "is_flag", False)
        for name in (*p.opts, *p.secondary_opts)
    }
    assert VALUE_OPTIONS[command] == taking_values


def test_positionals_are_told_from_option_values() -> None:
    shape = command_shape(
        ["sync", "--include-pattern", "*.txt", "./src", "--log-level=DEBUG", "--dry-run", "URL"]
    )
    assert shape == CommandShape(
        "sync",
        "./src",
        "URL",
        False,
        {"--include-pattern": "*.txt", "--log-level": "DEBUG", "--dry-run": ""},
    )


@pytest.mark.parametrize("flag", ["-r", "--recursive"])
def test_copy_recursive(flag: str) -> None:
    shape = command_shape(["copy", "SRC", flag, "DST", "--source-key-file", "k"])
    assert shape is not None
    assert (shape.source, shape.destination, shape.recursive) == ("SRC", "DST", True)
    assert shape.options["--source-key-file"] == "k"


def test_double_dash_ends_the_options() -> None:
    shape = command_shape(["copy", "--", "-odd-name", "DST"])
    assert shape is not None
    assert (shape.source, shape.destination) == ("-odd-name", "DST")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        ["jobs", "list"],
        ["resume", "abc"],
        ["sync", "only-one"],
        ["sync", "a", "b", "c"],
        ["sync", "a", "b", "--from-to", "LocalBlob"],
        ["copy", "a", "b", "-r", "--include-snapshots"],
        ["copy", "a", "--source-type", "blob", "b"],
    ],
)
def test_command_lines_not_read(args: list[str]) -> None:
    assert command_shape(args) is None


def test_the_early_listing_starts_before_msgspec_asyncio_or_click_are_loaded() -> None:
    """The listing's thread is started by the standard library alone: msgspec's import
    (typing_extensions, inspect, uuid, decimal: ~25 ms) would delay it, and the main thread
    loads it afterwards, while the service builds the first page."""
    code = (
        "import sys, threading;"
        "from azxfer.cli.entry import _start_early_listings;"
        "early = _start_early_listings(['sync', '.', 'http://127.0.0.1:9/devstoreaccount1/cont'],"
        " {'AZXFER_DEST_KEY': 'a2V5'});"
        "started = [t.name for t in threading.enumerate() if t.name == 'azxfer-early-listing'];"
        "loaded = sorted(m for m in ('msgspec', 'asyncio', 'click') if m in sys.modules);"
        "print(early is not None, loaded)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "True []"
