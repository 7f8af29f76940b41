"""The command line as `cli.entry` reads it before click is loaded, to start early listings."""

from __future__ import annotations

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
