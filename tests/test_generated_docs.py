"""The committed completions/ and man/ match the Click tree, and they actually work.

The completion tests drive each generated script the way its shell does, with the
real `azxfer` executable of this environment on PATH answering the queries; a shell
that is not installed is skipped (bash is always expected).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import click
import pytest

from azxfer.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
GEN_DOCS = ROOT / "scripts" / "gen_docs.py"
COMPLETIONS = ROOT / "completions"
MAN = ROOT / "man"


def _copy_command() -> click.Command:
    with click.Context(cli, info_name="azxfer") as ctx:
        command = cli.get_command(ctx, "copy")
    assert command is not None, "the CLI has no 'copy' command"
    return command


def _documented_options(command: click.Command) -> list[str]:
    """Every switch of every visible option, e.g. ['-r', '--recursive', ...]."""
    names: list[str] = []
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            names.extend([*param.opts, *param.secondary_opts])
    return names


def _shell_env(tmp_path: Path) -> dict[str, str]:
    """Environment in which `azxfer` resolves to this environment's console script."""
    scripts = sysconfig.get_path("scripts")
    bindirs = [scripts, str(Path(sys.executable).parent)]
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*bindirs, env.get("PATH", os.defpath)])
    if shutil.which("azxfer", path=env["PATH"]) is None:
        pytest.fail(f"no 'azxfer' executable in {bindirs}: is the project installed (pip -e .)?")
    # Keep shells from reading or writing the user's config and history.
    env["HOME"] = str(tmp_path)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.pop("_AZXFER_COMPLETE", None)
    return env


def _run_shell(argv: list[str], env: dict[str, str]) -> list[str]:
    proc = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, f"{argv[0]} exited {proc.returncode}:\n{proc.stderr}"
    return [line for line in proc.stdout.splitlines() if line.strip()]


def _bash_complete(words: list[str], env: dict[str, str]) -> list[str]:
    """Call the function the script registers with `complete -F`, as readline would.

    The last word is the one being completed; bash passes the command name as $1.
    """
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    script = COMPLETIONS / "azxfer.bash"
    array = " ".join(_sh_quote(w) for w in words)
    code = (
        f"source {_sh_quote(str(script))}\n"
        # the script registered itself for the azxfer command
        "complete -p azxfer >/dev/null || { echo 'azxfer.bash registered nothing' >&2; exit 3; }\n"
        f"COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; COMPREPLY=()\n"
        f"_azxfer_completion azxfer {_sh_quote(words[-1])} {_sh_quote(words[-2])}\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    return _run_shell(["bash", "--norc", "--noprofile", "-c", code], env)


def _zsh_complete(words: list[str], env: dict[str, str]) -> list[str]:
    """Run the script's completion function with zsh's completion builtins stubbed.

    Outside a completion widget `compadd` and `_describe` cannot run, so they are
    replaced by functions printing the candidates the script hands them; the script
    itself (its call of azxfer and its parsing of the answer) runs unchanged.
    """
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    script = COMPLETIONS / "azxfer.zsh"
    array = " ".join(_sh_quote(w) for w in words)
    code = (
        'compdef() { print -r -- "compdef $*" >&2 }\n'
        "_path_files() { : }\n"
        '_describe() { print -rl -- "${completions_with_descriptions[@]%%:*}" }\n'
        'compadd() { print -rl -- "${completions[@]}" }\n'
        f"source {_sh_quote(str(script))}\n"
        f"words=({array}); CURRENT={len(words)}\n"
        "_azxfer_completion\n"
    )
    return _run_shell(["zsh", "-f", "-c", code], env)


def _fish_complete(words: list[str], env: dict[str, str]) -> list[str]:
    """Ask fish itself (`complete -C`) what it would offer for the command line."""
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    script = COMPLETIONS / "azxfer.fish"
    line = " ".join(words)
    code = f"source {_fish_quote(str(script))}; complete -C {_fish_quote(line)}"
    lines = _run_shell(["fish", "--no-config", "-c", code], env)
    return [line.split("\t", 1)[0] for line in lines]


def _sh_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


COMPLETERS = {"bash": _bash_complete, "zsh": _zsh_complete, "fish": _fish_complete}


def test_completions_and_man_pages_are_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(GEN_DOCS), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"scripts/gen_docs.py --check exited {proc.returncode}:\n{proc.stdout}{proc.stderr}",
            pytrace=False,
        )


@pytest.mark.parametrize("shell", sorted(COMPLETERS))
def test_completion_offers_subcommand(shell: str, tmp_path: Path) -> None:
    offered = COMPLETERS[shell](["azxfer", "co"], _shell_env(tmp_path))
    assert "copy" in offered, f"{shell}: 'azxfer co<TAB>' offered {offered}"


@pytest.mark.parametrize("shell", sorted(COMPLETERS))
def test_completion_offers_copy_options(shell: str, tmp_path: Path) -> None:
    wanted = sorted(o for o in _documented_options(_copy_command()) if o.startswith("--"))
    assert "--recursive" in wanted
    offered = COMPLETERS[shell](["azxfer", "copy", "--"], _shell_env(tmp_path))
    missing = [o for o in wanted if o not in offered]
    assert not missing, f"{shell}: 'azxfer copy --<TAB>' lacks {missing}; offered {offered}"


def test_copy_man_page_documents_every_option() -> None:
    page = MAN / "azxfer-copy.1"
    assert page.is_file(), "man/azxfer-copy.1 is missing: run scripts/gen_docs.py"
    text = page.read_text(encoding="utf-8")
    options = _documented_options(_copy_command())
    assert options, "the copy command has no options?"
    # troff escapes every '-' in the option lines as '\-'
    missing = [o for o in options if o.replace("-", "\\-") not in text and o not in text]
    assert not missing, f"man/azxfer-copy.1 does not mention {missing}"
