"""README.md documents every option of every command (the option list comes from Click)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from azxfer.cli.main import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "azxfer") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


@pytest.mark.parametrize(("path", "command"), _commands(cli), ids=lambda v: str(v))
def test_every_option_is_documented(path: str, command: click.Command) -> None:
    missing = [
        opt
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden
        for opt in param.opts
        if opt.startswith("--") and opt != "--help" and opt not in README
    ]
    assert not missing, f"README.md does not mention {missing} of `{path}`"


def test_readme_names_the_two_setup_commands_and_ci_uses_one() -> None:
    assert "bash scripts/demo" in README
    assert "bash scripts/test" in README
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test" in ci
