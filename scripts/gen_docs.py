#!/usr/bin/env python3
"""Regenerate the shell completions and man pages from the Click command tree.

    scripts/gen_docs.py            rewrite completions/azxfer.{bash,zsh,fish} and man/*.1
    scripts/gen_docs.py --check    regenerate into a temp dir, compare, exit 1 if anything differs

Nothing here is written by hand: the completion scripts are Click's own
(`click.shell_completion`), the man pages are click-man's, one per command and
sub-command (man/azxfer.1, man/azxfer-copy.1, man/azxfer-jobs-list.1, ...).

The output is deterministic: the man page date field is pinned to a string derived
from the package version instead of today's date, so a run on any day on any machine
produces the same bytes and the --check mode (and tests/test_generated_docs.py) can
detect stale files. completions/README.md is hand-written and never touched.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Let `python scripts/gen_docs.py` work from a checkout even without an install.
    sys.path.insert(0, str(ROOT))

import click  # noqa: E402
from click.shell_completion import BashComplete, FishComplete, ZshComplete  # noqa: E402
from click_man.core import write_man_pages  # noqa: E402

PROG_NAME = "azxfer"
COMPLETE_VAR = "_AZXFER_COMPLETE"
SHELLS = {"bash": BashComplete, "zsh": ZshComplete, "fish": FishComplete}

# Generated output, relative to the repository root. Each entry: directory, and the
# glob of the files in it that this script owns (anything else there is left alone).
OWNED = {
    "completions": f"{PROG_NAME}.*",
    "man": "*.1",
}
HAND_WRITTEN = {"completions/README.md"}


def load_cli() -> click.Command:
    from azxfer.cli.main import cli

    return cli


def package_version() -> str:
    try:
        from azxfer import __version__

        return str(__version__)
    except ImportError:
        from importlib.metadata import version

        return version(PROG_NAME)


def generate(out: Path) -> list[Path]:
    """Write every generated file under `out`; return their paths relative to `out`."""
    cli = load_cli()
    version = package_version()

    completions = out / "completions"
    completions.mkdir(parents=True, exist_ok=True)
    for shell, cls in SHELLS.items():
        source = cls(cli, {}, PROG_NAME, COMPLETE_VAR).source()
        if not source.endswith("\n"):
            source += "\n"
        (completions / f"{PROG_NAME}.{shell}").write_text(source, encoding="utf-8", newline="\n")

    man = out / "man"
    man.mkdir(parents=True, exist_ok=True)
    # click-man stamps today's date (or SOURCE_DATE_EPOCH's) unless given one: pin it to
    # the version so the pages only change when the CLI or the version does.
    write_man_pages(
        PROG_NAME,
        cli,
        version=f"{PROG_NAME} {version}",
        target_dir=str(man),
        date=version,
    )
    for page in man.glob("*.1"):
        page.write_text(
            troff_safe(page.read_text(encoding="utf-8")), encoding="utf-8", newline="\n"
        )
    return sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())


# The requests click-man itself writes; every other line of its output is help text.
CLICK_MAN_REQUESTS = (".TH ", ".SH ", ".B ", ".TP", ".PP")
NO_REWRAP = "\b"  # Click's marker: the next paragraph is pre-formatted


def troff_safe(page: str) -> str:
    """Make click-man's output render as Click's --help does.

    click-man copies help text into the page verbatim, so a help line starting with
    ' or . is read by troff as a request and vanishes, and Click's \\b marker
    (keep the next paragraph's line breaks, e.g. for examples) shows as a stray
    control character. Escape the former with \\& and turn the latter into .nf/.fi.
    """
    out: list[str] = []
    no_fill = False
    for line in page.splitlines():
        if line.startswith(CLICK_MAN_REQUESTS):
            if no_fill:
                out.append(".fi")
                no_fill = False
            out.append(line)
            continue
        if line.strip() == NO_REWRAP:
            if not no_fill:
                out.append(".nf")
                no_fill = True
            continue
        line = line.replace(NO_REWRAP, "")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    if no_fill:
        out.append(".fi")
    return "\n".join(out) + "\n"


def owned_files(base: Path) -> set[Path]:
    """The generated files currently present under `base` (relative paths)."""
    found: set[Path] = set()
    for directory, pattern in OWNED.items():
        for path in (base / directory).glob(pattern):
            rel = path.relative_to(base)
            if path.is_file() and rel.as_posix() not in HAND_WRITTEN:
                found.add(rel)
    return found


def compare(fresh: Path, committed: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """Return (stale, missing, extra) relative paths between two trees."""
    new = owned_files(fresh)
    old = owned_files(committed)
    stale = sorted(p for p in new & old if (fresh / p).read_bytes() != (committed / p).read_bytes())
    return stale, sorted(new - old), sorted(old - new)


def short_diff(old: Path, new: Path, limit: int = 30) -> str:
    lines = list(
        difflib.unified_diff(
            old.read_text(encoding="utf-8", errors="replace").splitlines(),
            new.read_text(encoding="utf-8", errors="replace").splitlines(),
            fromfile=f"committed/{old.name}",
            tofile=f"generated/{new.name}",
            lineterm="",
        )
    )
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return "\n".join("    " + line for line in lines)


def check(root: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="azxfer-docs-") as tmp:
        fresh = Path(tmp)
        generate(fresh)
        stale, missing, extra = compare(fresh, root)
        if not (stale or missing or extra):
            print(f"gen_docs: {len(owned_files(fresh))} generated files are up to date")
            return 0
        print("gen_docs: completions/ and man/ are out of date with the Click command tree:")
        for rel in stale:
            print(f"  stale:   {rel.as_posix()}")
            print(short_diff(root / rel, fresh / rel))
        for rel in missing:
            print(f"  missing: {rel.as_posix()}")
        for rel in extra:
            print(f"  extra:   {rel.as_posix()} (no such command any more)")
        print("Run 'scripts/gen_docs.py' and commit the result.")
        return 1


def write(root: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="azxfer-docs-") as tmp:
        fresh = Path(tmp)
        generate(fresh)
        stale, missing, extra = compare(fresh, root)
        for rel in (*stale, *missing):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fresh / rel, root / rel)
        for rel in extra:
            (root / rel).unlink()
        total = len(owned_files(fresh))
    changed = len(stale) + len(missing) + len(extra)
    print(
        f"gen_docs: {total} files in completions/ and man/; "
        f"{len(stale)} updated, {len(missing)} added, {len(extra)} removed"
        if changed
        else f"gen_docs: {total} files in completions/ and man/ already up to date"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare freshly generated output with the committed files; exit 1 if stale",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="repository root holding completions/ and man/ (default: this checkout)",
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    return check(root) if args.check else write(root)


if __name__ == "__main__":
    sys.exit(main())
