"""Translating remote names (blob names) to local file names when downloading.

Blob names are arbitrary strings in which '/' separates virtual directories; not all of them
can be local paths. LocalNameMapper turns each remote name, relative to the enumeration root,
into a valid, unique local path relative to the destination folder, by these rules:

1. The name is split on '/'. Empty segments (from a leading '/', or 'a//b') are dropped.
   A name that ends with '/' and holds data (a zero-byte one is a directory marker, which
   the listing skips) cannot be a file name as it is: each trailing '/' becomes '%2F', so
   blob 'a/' is saved as file 'a%2F' (and '/' as '%2F').
2. A segment '.' becomes '%2E' and '..' becomes '%2E%2E'; a NUL character becomes '%00'.
   A literal '%' is kept as it is: only what is invalid is escaped, so escaping is not
   reversible, and rule 6 keeps the results distinct.
3. A segment longer than the limit (255 UTF-8 bytes by default) is truncated on a character
   boundary and given the suffix '~' + the first 8 hex digits of the SHA-1 of the original
   segment's UTF-8 bytes, so distinct long names stay distinct. The suffix goes before the
   extension, which is kept if it is at most 16 characters long.
4. A path used as a file cannot also be a directory. If a name needs as a directory a path
   an earlier name used as a file ('a', then 'a/b'), the directory is renamed: 'a (1)/b',
   and every later name under 'a/' maps into 'a (1)/' as well. If a name needs as a file a
   path an earlier name used as a directory ('a/b', then 'a'), the file is renamed: 'a (1)'.
   A file's suffix goes before its extension ('x (1).txt'); a directory's goes after its
   name ('d.v2 (1)'). The number is the lowest n >= 1 whose name is free in that directory:
   not used by this job and, on disk, absent or of the needed kind.
5. If a destination root is given, what already exists under it occupies names too: an
   existing non-directory where a directory is needed renames the directory, and an
   existing directory where a file is needed renames the file, as in rule 4. An existing
   file where a file is needed is not a conflict: whether to overwrite it is decided later.
   Symbolic links count as what they point to; a dangling link counts as a file.
6. No two names map to the same local file: if the path a name translates to was already
   given to an earlier name (a blob '%2E' and a blob '.', or the same name listed twice),
   the later one is renamed as in rule 4. Directories that translate to the same path are
   merged ('./x' and '%2E/y' both land in '%2E/').
7. The result depends only on the names and the order they are mapped in (and, with a root,
   on what exists on disk). Memory is proportional to the number of distinct local paths
   produced, plus the listings of the existing directories the job writes into.

The extension is the part from the last '.' on, when that dot is not the first character,
something follows it and the part is at most 16 characters long ('a.tar.gz' -> '.gz';
'.bashrc' has none). Every mapped path is relative, has no empty, '.' or '..' segment and
no NUL, so it can never leave the destination folder. The mapper assumes a case-sensitive
file system that does not normalise Unicode, as is usual on Linux. A mapper holds the state
of one job and is not thread-safe: feed it from one task, in enumeration order.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import pathlib
import stat

from msgspec import Struct, field

_MAX_EXT_CHARS = 16
_HASH_CHARS = 8
_MAX_QUOTED_CHARS = 80
# Room for the widest suffixes with a meaningful stem left over: a 16-character extension of
# 4-byte characters, '~' + hash and ' (n)' for any realistic n.
_MIN_COMPONENT_BYTES = 100
# Past this many single stat() calls in one directory, one listing of it is cheaper.
_STAT_BUDGET = 32


class MappedName(Struct, frozen=True):
    """Where a remote name lands locally; `reason` is None iff `local_rel` equals the name."""

    local_rel: str
    reason: str | None


class _DiskDir:
    """What exists in one local directory, looked up lazily and cached."""

    __slots__ = ("_known", "_listed", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        # name -> True (a directory), False (something else), None (absent)
        self._known: dict[str, bool | None] = {}
        self._listed = False

    def kind(self, name: str) -> bool | None:
        """True if `name` is a directory here, False if it is something else, None if absent."""
        if name in self._known:
            return self._known[name]
        if self._listed:
            return None
        if len(self._known) >= _STAT_BUDGET:
            self._list()
            return self._known.get(name)
        found = _stat_kind(os.path.join(self.path, name))
        self._known[name] = found
        return found

    def _list(self) -> None:
        """Replace per-name lookups by one listing of the whole directory."""
        self._known = {}
        self._listed = True
        try:
            with os.scandir(self.path) as entries:
                for entry in entries:
                    self._known[entry.name] = _entry_is_dir(entry)
        except OSError:
            pass  # missing or unreadable: nothing in the way; writing will report real errors


def _stat_kind(path: str) -> bool | None:
    """True for a directory (or a link to one), False for anything else, None if absent."""
    # ValueError: a name the file system encoding cannot represent cannot exist there either.
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        pass
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return None
    return False  # a dangling or looping link, or an unreadable entry


def _entry_is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether a listed entry is a directory, following symbolic links."""
    try:
        return entry.is_dir()
    except OSError:
        return False


class _Dir(Struct, eq=False):
    """One local directory this job writes into, and the names it has handed out in it."""

    rel: str
    disk: _DiskDir | None
    # local name -> its directory, or None for a file
    children: dict[str, _Dir | None] = field(default_factory=dict)
    # translated name -> (renamed directory, why) for directories that could not keep their name
    renamed: dict[str, tuple[_Dir, str]] = field(default_factory=dict)

    def child_rel(self, name: str) -> str:
        """The local relative path of `name` in this directory."""
        return f"{self.rel}/{name}" if self.rel else name


class _Name(Struct, frozen=True):
    """A translated segment as parts, so suffixes can be added without losing the hash tag."""

    stem: str
    tag: str  # '~' + hash when the segment was shortened, else ''
    ext: str

    @classmethod
    def of(cls, name: str) -> _Name:
        """The parts of a name that was not shortened."""
        stem, ext = _split_ext(name)
        return cls(stem, "", ext)

    @property
    def full(self) -> str:
        """The translated segment."""
        return self.stem + self.tag + self.ext

    def numbered(self, n: int, is_dir: bool, limit: int) -> str:
        """The name with ' (n)' added (after a directory's name, before a file's extension)."""
        if is_dir:
            return _fit(self.stem, f"{self.tag}{self.ext} ({n})", limit)
        return _fit(self.stem, f"{self.tag} ({n}){self.ext}", limit)


class LocalNameMapper:
    """Streaming mapper from remote relative names to unique, valid local relative paths."""

    def __init__(self, root: pathlib.Path | None = None, max_component_bytes: int = 255) -> None:
        """Map into `root` (None: ignore the disk) with names of at most `max_component_bytes`."""
        if max_component_bytes < _MIN_COMPONENT_BYTES:
            raise ValueError(
                f"max_component_bytes must be at least {_MIN_COMPONENT_BYTES}, "
                f"got {max_component_bytes}"
            )
        self._limit = max_component_bytes
        self._root = _Dir("", _DiskDir(os.fspath(root)) if root is not None else None)

    def map(self, remote_rel: str) -> MappedName | None:
        """A local path no earlier call returned for file `remote_rel`; None for ''."""
        if not remote_rel:
            return None
        reasons: list[str] = []
        name = remote_rel
        if name.endswith("/"):
            reasons.append("a file name cannot end with '/'")
            body = name.rstrip("/")
            name = body + "%2F" * (len(name) - len(body))
        segments = name.split("/")
        if "" in segments:
            reasons.append("empty path segment dropped")
            segments = [s for s in segments if s]
        directory = self._root
        for segment in segments[:-1]:
            directory = self._enter(directory, *self._translate(segment, reasons), reasons)
        name = self._claim_file(directory, *self._translate(segments[-1], reasons), reasons)
        local_rel = directory.child_rel(name)
        return MappedName(local_rel, "; ".join(dict.fromkeys(reasons)) if reasons else None)

    def map_directory(self, remote_rel: str) -> MappedName | None:
        """The local path of folder `remote_rel`: the one files under it map into (rules 2-6
        apply to each segment as to a file's folders); None for ''."""
        segments = [s for s in remote_rel.split("/") if s]
        if not segments:
            return None
        reasons: list[str] = []
        if len(segments) != remote_rel.count("/") + 1:
            reasons.append("empty path segment dropped")
        directory = self._root
        for segment in segments:
            directory = self._enter(directory, *self._translate(segment, reasons), reasons)
        reason = "; ".join(dict.fromkeys(reasons)) if reasons else None
        return MappedName(directory.rel, reason)

    def _translate(self, segment: str, reasons: list[str]) -> tuple[str, _Name | None]:
        """`segment` made a valid file name (rules 2 and 3), and its parts if it was shortened."""
        # Nearly every segment is valid as it is; keep that path cheap.
        if "\0" not in segment and segment not in (".", "..") and _fits(segment, self._limit):
            return segment, None
        name = segment
        if name in (".", ".."):
            reasons.append(f"'{name}' is not a valid file name")
            name = name.replace(".", "%2E")
        elif "\0" in name:
            reasons.append("NUL is not allowed in file names")
            name = name.replace("\0", "%00")
        if _fits(name, self._limit):
            return name, None
        reasons.append(f"a name longer than {self._limit} bytes was shortened")
        stem, ext = _split_ext(name)
        digest = hashlib.sha1(_utf8(segment), usedforsecurity=False).hexdigest()
        tag = f"~{digest[:_HASH_CHARS]}"
        shortened = _Name(_truncate(stem, self._limit - _utf8_len(tag + ext)), tag, ext)
        return shortened.full, shortened

    def _enter(self, parent: _Dir, full: str, shortened: _Name | None, reasons: list[str]) -> _Dir:
        """The directory translated as `full` under `parent`, creating or renaming it."""
        if full in parent.renamed:
            directory, reason = parent.renamed[full]
            reasons.append(reason)
            return directory
        used = parent.children.get(full, False)
        if used is False:
            on_disk = parent.disk.kind(full) if parent.disk else None
            if on_disk is not False:
                return self._new_dir(parent, full, on_disk)
            conflict = _uses("an existing file", parent.child_rel(full))
        elif used is None:
            conflict = _uses("a file", parent.child_rel(full))
        else:
            return used
        name = shortened or _Name.of(full)
        for n in itertools.count(1):
            candidate = name.numbered(n, True, self._limit)
            if candidate in parent.children:
                continue
            on_disk = parent.disk.kind(candidate) if parent.disk else None
            if on_disk is not False:
                directory = self._new_dir(parent, candidate, on_disk)
                parent.renamed[full] = (directory, conflict)
                reasons.append(conflict)
                return directory
        raise AssertionError("unreachable")  # count() never ends

    def _new_dir(self, parent: _Dir, name: str, on_disk: bool | None) -> _Dir:
        """Record directory `name` in `parent`; only one that exists on disk needs lookups."""
        disk = _DiskDir(os.path.join(parent.disk.path, name)) if parent.disk and on_disk else None
        directory = _Dir(parent.child_rel(name), disk)
        parent.children[name] = directory
        return directory

    def _claim_file(
        self, parent: _Dir, full: str, shortened: _Name | None, reasons: list[str]
    ) -> str:
        """A file name in `parent` that no earlier name got, `full` itself if possible."""
        used = parent.children.get(full, False)
        if used is False:
            if not (parent.disk and parent.disk.kind(full)):
                parent.children[full] = None
                return full
            conflict = _uses("an existing directory", parent.child_rel(full))
        elif used is None:
            conflict = f"an earlier name already maps to {_quoted(parent.child_rel(full))}"
        else:
            conflict = _uses("a directory", parent.child_rel(full))
        reasons.append(conflict)
        name = shortened or _Name.of(full)
        for n in itertools.count(1):
            candidate = name.numbered(n, False, self._limit)
            if candidate in parent.children or (parent.disk and parent.disk.kind(candidate)):
                continue
            parent.children[candidate] = None
            return candidate
        raise AssertionError("unreachable")  # count() never ends


def _uses(what: str, path: str) -> str:
    """The reason for a rename: `what` at `path` already has the name."""
    return f"{what} {_quoted(path)} already uses this name"


def _quoted(path: str) -> str:
    """`path` in quotes for a reason, with the middle of a very long one elided."""
    if len(path) > _MAX_QUOTED_CHARS:
        path = f"{path[: _MAX_QUOTED_CHARS // 2]}…{path[-(_MAX_QUOTED_CHARS // 3) :]}"
    return f"'{path}'"


def _utf8(text: str) -> bytes:
    """UTF-8 bytes of `text`; lone surrogates are encoded rather than rejected."""
    return text.encode("utf-8", "surrogatepass")


def _utf8_len(text: str) -> int:
    """Length of `text` in UTF-8 bytes."""
    return len(text) if text.isascii() else len(_utf8(text))


def _fits(text: str, limit: int) -> bool:
    """Whether `text` is at most `limit` UTF-8 bytes long."""
    # A character is at most 4 bytes: short names need no encoding.
    return len(text) * 4 <= limit or _utf8_len(text) <= limit


def _split_ext(name: str) -> tuple[str, str]:
    """(stem, extension) as the module defines the extension; the extension may be ''."""
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1 or len(name) - dot > _MAX_EXT_CHARS:
        return name, ""
    return name[:dot], name[dot:]


def _fit(stem: str, tail: str, limit: int) -> str:
    """`stem` + `tail`, cutting characters off the end of `stem` until it fits `limit` bytes."""
    return _truncate(stem, limit - _utf8_len(tail)) + tail


def _truncate(text: str, max_bytes: int) -> str:
    """The longest prefix of `text`, whole characters only, of at most `max_bytes` UTF-8 bytes."""
    if _utf8_len(text) <= max_bytes:
        return text
    used = 0
    for i, char in enumerate(text):
        used += _utf8_len(char)
        if used > max_bytes:
            return text[:i]
    return text
