"""Names as a case-insensitive share (Azure Files) stores them, for copies and syncs to it.

The destination declares its `NameRules` (`SMB_NAME_RULES` for Azure Files: no `" \\ : | < >
* ?` nor control characters, no component ending in '.' or ' ', components of at most 255
and paths of at most 2,048 UTF-16 code units, case-insensitive). FileNamer plans by them:

1. Translation, as rclone's encoder does it: a forbidden printable character becomes its
   full-width look-alike (U+FEE0 above it: ':' -> U+FF1A), a control character its Unicode
   "symbol for" picture (U+2400 + code, DEL U+2421), and the last character of a component
   ending in '.' or ' ' becomes U+FF0E or U+2420. Every translated name is reported. Unlike
   rclone nothing is quoted: a source name already holding a look-alike is stored as it is,
   and a translated name landing on it is a conflict (rule 3).
2. A destination path longer than the limits after translation fails alone, with its reason;
   nothing is sent for it (`refusal`).
3. Two source entries whose stored names are one name case-insensitively ('A.txt' and
   'a.txt', or folders 'Dir' and 'dir') are a conflict: the first enumerated keeps the name,
   the other fails naming it, and nothing is overwritten. Of two colliding folders, every file
   under the second fails: the share would merge them into one, and whether that merge
   collides below cannot be known once the first folder's walk is over.
4. Memory: names collide only with a sibling (two paths collide where they first differ, under
   one parent), and every walk and listing enumerates each folder's subtree contiguously. So
   only the folders on the current path are remembered, each with its children seen so far:
   memory is the sum of the fan-outs along one path, not the number of files. A folder met
   again after its subtree was left (an enumeration that is not grouped by folder) cannot be
   checked: its files fail rather than risk an overwrite.

Names are compared by `str.casefold`, which equates at least what the service does (a false
conflict is reported, never a missed one).

`CaseTwins` applies rule 3 to a sync's merged listings: a destination-only entry whose name
differs from a source entry's only in case is the same object to the service, so the sync must
never delete it.
"""

from __future__ import annotations

import re

from azxfer.endpoints.base import NameRules
from azxfer.models import Entry
from azxfer.plan.namers import StoredName

_FULL_WIDTH = 0xFEE0  # added to a printable ASCII character: its FULLWIDTH form
_CONTROL_PICTURES = 0x2400  # U+2400 SYMBOL FOR NULL: the first control picture
_TRAILING_LOOKALIKES = {".": "\uff0e", " ": "\u2420"}  # FULLWIDTH FULL STOP, SYMBOL FOR SPACE
_CONTROLS = "".join(map(chr, range(0x20))) + "\x7f"


def restricts(rules: NameRules) -> bool:
    """Whether `rules` ask for any of FileNamer's checks."""
    return bool(
        rules.forbidden
        or rules.no_controls
        or rules.no_trailing
        or rules.case_insensitive
        or rules.max_component
        or rules.max_path
    )


def _lookalike(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(_CONTROL_PICTURES + code)
    if code == 0x7F:
        return "\u2421"  # SYMBOL FOR DELETE
    if char in _TRAILING_LOOKALIKES:  # a full-width space (U+FF00) does not exist
        return _TRAILING_LOOKALIKES[char]
    return chr(code + _FULL_WIDTH)


class NameTranslator:
    """Translates one component at a time to a name the rules allow."""

    def __init__(self, rules: NameRules) -> None:
        bad = rules.forbidden + (_CONTROLS if rules.no_controls else "")
        self.table = str.maketrans({c: _lookalike(c) for c in bad})
        self.trailing = {c: _lookalike(c) for c in rules.no_trailing}
        inner = f"[{re.escape(bad)}]" if bad else None
        tail = f"[{re.escape(rules.no_trailing)}](?=/|$)" if rules.no_trailing else None
        either = "|".join(p for p in (inner, tail) if p)
        # One search finds whether any component of a path needs translating (the hot path).
        self.needs = re.compile(either).search if either else None
        self.bad = bad

    def path(self, path: str) -> str:
        """`path` with every component translated."""
        if self.needs is None or not self.needs(path):
            return path
        return "/".join(self.component(part) for part in path.split("/"))

    def component(self, name: str) -> str:
        """One component translated."""
        if self.needs is None or not self.needs(name):
            return name
        stored = name.translate(self.table)
        if stored and stored[-1] in self.trailing:
            stored = stored[:-1] + self.trailing[stored[-1]]
        return stored

    def reason(self, source: str) -> str:
        """What in `source` the destination cannot store."""
        chars = sorted({c for c in source if c in self.bad})
        shown = [repr(c) if c in _CONTROLS else f"'{c}'" for c in chars]
        what = [f"{', '.join(shown)} in names"] if shown else []
        parts = source.split("/")
        ends = sorted({part[-1] for part in parts if part and part[-1] in self.trailing})
        what += [f"a name ending in '{c}'" for c in ends]
        return f"the destination cannot store {' or '.join(what)} (stored as look-alikes)"


class _Folder:
    """A source folder on the current path: its stored path and the children seen so far."""

    __slots__ = ("children", "closed", "refused", "source", "source_path", "stored")

    def __init__(self, source: str, source_path: str, stored: str, refused: str | None) -> None:
        self.source = source  # its own name in the source
        self.source_path = source_path
        self.stored = stored  # its stored path, relative
        self.refused = refused  # why nothing under it is sent
        self.children: dict[str, str] = {}  # folded stored name -> source name that has it
        self.closed: set[str] = set()  # child folders whose subtree was left


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


class FolderPath:
    """The folders on the current path of a walk grouped by folder (see rule 4)."""

    def __init__(self, translator: NameTranslator, fold: bool) -> None:
        self.translator = translator
        self.fold = fold
        self.stack = [_Folder("", "", "", None)]

    def key(self, stored: str) -> str:
        """The name `stored` is compared by."""
        return stored.casefold() if self.fold else stored

    def enter(self, dirs: list[str]) -> _Folder:
        """The folder of source path `dirs` (its components), leaving the ones not on it."""
        stack = self.stack
        depth, most = 0, min(len(stack) - 1, len(dirs))
        while depth < most and stack[depth + 1].source == dirs[depth]:
            depth += 1
        while len(stack) > depth + 1:
            left = stack.pop()
            stack[-1].closed.add(left.source)
        for name in dirs[depth:]:
            stack.append(self._child(stack[-1], name))
        return stack[-1]

    def _child(self, parent: _Folder, name: str) -> _Folder:
        stored = self.translator.component(name)
        path, source_path = _join(parent.stored, stored), _join(parent.source_path, name)
        refused = parent.refused
        if refused is None and name in parent.closed:
            refused = (
                f"not copied: the source listed folder '{source_path}' again after leaving "
                "it, so names in it cannot be checked for case-insensitive twins"
            )
        elif refused is None:
            other = self.claim(parent, stored, name)
            if other is not None:
                refused = _conflict(f"folder '{path}'", _join(parent.source_path, other))
        return _Folder(name, source_path, path, refused)

    def claim(self, folder: _Folder, stored: str, name: str) -> str | None:
        """Give child `stored` of `folder` to source name `name`; the source name that has
        it already, if another."""
        other = folder.children.setdefault(self.key(stored), name)
        return None if other == name else other


class FileNamer:
    """Streaming namer of one job's source entries for a destination following `rules`."""

    def __init__(self, rules: NameRules) -> None:
        self.rules = rules
        self.translator = NameTranslator(rules)
        self.folders = FolderPath(self.translator, rules.case_insensitive)

    def name(self, entry: Entry) -> StoredName:
        """The stored name of `entry`, or the conflict that keeps it from being sent."""
        rel = entry.rel_path
        *dirs, leaf = rel.split("/")
        folder = self.folders.enter(dirs)
        stored_leaf = self.translator.component(leaf)
        stored = _join(folder.stored, stored_leaf)
        if folder.refused is not None:
            return StoredName(stored, folder.refused)
        other = self.folders.claim(folder, stored_leaf, leaf)
        if other is None:
            return StoredName(stored)
        root = entry.ref[: len(entry.ref) - len(rel)] if entry.ref.endswith(rel) else ""
        return StoredName(stored, _conflict(f"'{stored}'", root + _join(folder.source_path, other)))

    def stored(self, path: str) -> str:
        """`path` with every component translated."""
        return self.translator.path(path)

    def reason(self, source: str) -> str:
        """Why `source` is stored under another name."""
        return self.translator.reason(source)

    def refusal(self, dest_ref: str) -> str | None:
        """Why `dest_ref` (a path in the share) is too long to be stored, or None."""
        return too_long(dest_ref, self.rules.max_component, self.rules.max_path)


def _units(text: str) -> int:
    """Length in UTF-16 code units, as the service counts."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def too_long(path: str, max_component: int, max_path: int) -> str | None:
    """Why `path` exceeds the limits (0: none), or None."""
    # A character is at most two UTF-16 code units: short paths need no counting.
    if max_path and 2 * len(path) > max_path and _units(path) > max_path:
        return f"not copied: the destination path is over {max_path} characters long"
    if max_component and 2 * len(path) > max_component:
        for part in path.split("/"):
            if _units(part) > max_component:
                return (
                    f"not copied: the name '{part[:40]}…' is over {max_component} characters "
                    "long at the destination"
                )
    return None


def _conflict(what: str, other: str) -> str:
    """The reason a name is not sent: another source has it."""
    return (
        f"not copied: the destination would store this as {what}, which source '{other}' "
        "has (names there are case-insensitive; rename one of them)"
    )


class _Names:
    """A folder on a sync's current path: its children's names from each side, by key."""

    __slots__ = ("children", "name", "sides")

    def __init__(self, name: str) -> None:
        self.name = name
        self.sides = 0  # which sides' entries under it were noted in its parent (bits)
        # folded stored name -> (source names, destination-only names not yet protected)
        self.children: dict[str, tuple[set[str], set[str]]] = {}


class CaseTwins:
    """A sync's destination-only entries that a source entry's name matches but for case:
    the service holds them as one, so they are never deleted. Fed the merged listings in
    their (folder-grouped) order; memory as rule 4."""

    def __init__(self, rules: NameRules) -> None:
        self.translator = NameTranslator(rules)
        self.stack = [_Names("")]

    def add(self, rel: str, from_source: bool) -> list[str]:
        """Note a source entry, or a destination-only one; the destination-only paths (whole
        subtrees for folders) newly known to be twins of a source entry's."""
        *dirs, leaf = rel.split("/")
        side = 1 if from_source else 2
        stack = self.stack
        depth, most = 0, min(len(stack) - 1, len(dirs))
        while depth < most and stack[depth + 1].name == dirs[depth]:
            depth += 1
        del stack[depth + 1 :]
        stack.extend(_Names(name) for name in dirs[depth:])
        twins: list[str] = []
        for level, folder in enumerate(stack[1:]):
            if not folder.sides & side:
                folder.sides |= side
                twins += self._note(level, folder.name, from_source)
        return twins + self._note(len(dirs), leaf, from_source)

    def _note(self, level: int, name: str, from_source: bool) -> list[str]:
        """Note child `name` of the folder at `level` of the path."""
        children = self.stack[level].children
        key = self.translator.component(name).casefold()
        sources, dests = children.setdefault(key, (set(), set()))
        (sources if from_source else dests).add(name)
        if not sources:
            return []
        twins = [d for d in dests if d not in sources]
        dests.clear()  # protected once is enough
        parent = "/".join(folder.name for folder in self.stack[1 : level + 1])
        return [_join(parent, twin) for twin in twins]
