"""Help text as a user reads it: defaults spelled as the choices, metavars saying what they take."""

from __future__ import annotations

import re

import pytest


def _option_line(help_text: str, option: str) -> str:
    """The option's help entry, its wrapped lines joined."""
    lines = help_text.splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith(option))
    entry = [lines[first].strip()]
    for line in lines[first + 1 :]:
        if not line.strip() or line.lstrip().startswith("-"):
            break
        entry.append(line.strip())
    return " ".join(entry)


@pytest.mark.parametrize("command", ["copy", "sync", "remove"])
def test_log_level_default_is_spelled_as_its_choices(run_azxfer, command):
    entry = _option_line(run_azxfer(command, "--help").assert_ok().stdout, "--log-level")
    choices = re.search(r"\[([a-zA-Z|]+)\]", entry)
    assert choices is not None, entry
    assert "[default: info]" in entry, entry
    assert "info" in choices.group(1).split("|"), entry


def test_log_level_is_taken_in_either_case(tmp_path, run_azxfer, make_tree, container_url):
    src = make_tree(tmp_path / "src", {"a.txt": b"a"})
    dest = container_url()
    for level in ("DEBUG", "debug"):
        log = tmp_path / f"{level}.log"
        run_azxfer("copy", src / "a.txt", f"{dest}/{level}.txt", "--log-level", level,
                   "--log-file", log).assert_ok()  # fmt: skip
        assert " DEBUG " in log.read_text(), level
    run_azxfer("copy", src / "a.txt", f"{dest}/x.txt", "--log-level", "loud").assert_usage_error()


@pytest.mark.parametrize("command", ["sync", "remove"])
def test_max_delete_metavar_says_what_it_takes(run_azxfer, command):
    entry = _option_line(run_azxfer(command, "--help").assert_ok().stdout, "--max-delete")
    assert entry.startswith("--max-delete N|P%"), entry
    assert "TEXT" not in entry, entry


@pytest.mark.parametrize("group", [(), ("jobs",), ("login",)], ids=["azxfer", "jobs", "login"])
def test_command_summaries_read_whole_at_80_columns(run_azxfer, group):
    text = run_azxfer(*group, "--help", env={"COLUMNS": "80"}).assert_ok().stdout
    listed = text[text.index("Commands:") :].splitlines()[1:]
    assert listed and all(len(line) <= 80 for line in listed), text
    assert not any(line.rstrip().endswith(("...", "…")) for line in listed), text
