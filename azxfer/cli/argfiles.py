"""Response files: an argument `@FILE` stands for the arguments written in FILE (AzCopy v8's
`/@:FILE`), so long command lines, lists of options and secrets kept out of shell history
can live in files.

- FILE is read as UTF-8 and split as a POSIX shell would (`shlex`): quotes and backslashes
  work as in sh, any number of arguments per line, blank lines ignored, and `#` starts a
  comment to the end of its line (outside quotes), whole line or trailing.
- A file may name other response files; a relative `@FILE` inside a file is found relative to
  the folder of the file naming it (on the command line: relative to the working folder).
- A file that names itself, directly or through others, is a loop: refused with one line.
- `@@TEXT` is the argument `@TEXT` (how to pass an argument that starts with `@`), on the
  command line and in files; `@` alone is itself.

Standard library only: the expansion runs before the early listings start (see entry.py).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Sequence

PREFIX = "@"


class ResponseFileError(Exception):
    """A response file that cannot be used: missing, unreadable, malformed or in a loop.
    The message names the file (never its content, which may hold secrets)."""


def expand_args(args: Iterable[str], folder: str = "") -> list[str]:
    """`args` with every `@FILE` replaced by the arguments in FILE, recursively, and every
    `@@TEXT` by `@TEXT`. `folder`: where relative names on the command line are found
    ('': the working folder)."""
    return _expand(args, folder, ())


def _expand(args: Iterable[str], folder: str, chain: tuple[tuple[str, str], ...]) -> list[str]:
    """`chain`: the files being expanded, outermost first, as (real path, name as written)."""
    expanded: list[str] = []
    for arg in args:
        if not arg.startswith(PREFIX) or arg == PREFIX:
            expanded.append(arg)
        elif arg.startswith(PREFIX * 2):
            expanded.append(arg[1:])
        else:
            expanded.extend(_file_args(arg[1:], folder, chain))
    return expanded


def _file_args(name: str, folder: str, chain: tuple[tuple[str, str], ...]) -> list[str]:
    path = os.path.join(folder, os.path.expanduser(name))
    real = os.path.realpath(path)
    if any(real == seen for seen, _ in chain):
        names = [written for _, written in chain] + [name]
        raise ResponseFileError(f"response file loop: {' → '.join(names)}")
    text = _read(path, name)
    try:
        words = shlex.split(text, comments=True, posix=True)
    except ValueError as exc:  # shlex says what: "No closing quotation", "No escaped character"
        raise ResponseFileError(f"response file {name}: {str(exc).lower()}") from None
    return _expand(words, os.path.dirname(path), (*chain, (real, name)))


def _read(path: str, name: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as file:
            return file.read()
    except FileNotFoundError:
        raise ResponseFileError(f"response file {name} does not exist") from None
    except IsADirectoryError:
        raise ResponseFileError(f"response file {name} is a folder") from None
    except UnicodeDecodeError:
        raise ResponseFileError(f"response file {name} is not UTF-8 text") from None
    except OSError as exc:
        raise ResponseFileError(f"cannot read response file {name}: {exc.strerror}") from None


def response_file_candidates(incomplete: str, limit: int = 500) -> list[str]:
    """Shell completion of an argument being typed as `@FILE`: `@` and each file or folder
    (`/` after folders) whose path starts with what follows the `@`; hidden ones only when
    asked for by a leading dot."""
    typed = incomplete[len(PREFIX) :]
    folder, start = os.path.split(typed)
    try:
        entries = sorted(os.scandir(os.path.expanduser(folder) or "."), key=lambda e: e.name)
    except OSError:
        return []
    candidates: list[str] = []
    for entry in entries:
        if not entry.name.startswith(start) or (entry.name[0] == "." and start[:1] != "."):
            continue
        suffix = "/" if _is_dir(entry) else ""
        candidates.append(PREFIX + os.path.join(folder, entry.name) + suffix)
        if len(candidates) >= limit:
            break
    return candidates


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def expanded_or_given(args: Sequence[str]) -> list[str]:
    """The arguments expanded where they can be (shell completion must never fail)."""
    try:
        return expand_args(args)
    except ResponseFileError:
        return list(args)
