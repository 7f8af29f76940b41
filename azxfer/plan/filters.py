"""Copy/sync filters: which enumerated entries take part in a job.

Patterns are shell wildcards (`*` any run of characters, `?` one character, `[seq]` and `[!seq]`
as in fnmatch), matched case-sensitively against the entry's base name (its last '/' segment),
so a base-name `*` never crosses '/'. A pattern that contains '/' is matched against the whole
'/'-separated relative path instead, and there `*` does cross '/' ('logs/*.gz' also matches
'logs/2024/a.gz'). Paths are prefixes of the relative path that end at a segment boundary:
'logs' selects 'logs' and 'logs/a.gz' but not 'logs2/a.gz'. Dates bound the entry's
last-modified time, both ends inclusive; an entry whose time is unknown passes them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from msgspec import Struct

_DATE_EXAMPLE = "2024-01-31T10:00:00Z"


class FilterSpec(Struct, frozen=True):
    """The filters as the user gave them; naive datetimes are rejected (use from_strings)."""

    include_patterns: tuple[str, ...] = ()
    exclude_patterns: tuple[str, ...] = ()
    include_paths: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()
    include_after: datetime | None = None
    include_before: datetime | None = None

    def __post_init__(self) -> None:
        # Comparing a naive bound with real timestamps would silently use the local zone.
        for name, value in (
            ("include_after", self.include_after),
            ("include_before", self.include_before),
        ):
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")

    @classmethod
    def from_strings(
        cls,
        include_pattern: str | None,
        exclude_pattern: str | None,
        include_path: str | None,
        exclude_path: str | None,
        include_after: str | None,
        include_before: str | None,
    ) -> FilterSpec:
        """Parse the CLI's ';'-separated lists and ISO-8601 dates; ValueError names a bad option."""
        after = _parse_date(include_after, "--include-after")
        before = _parse_date(include_before, "--include-before")
        if after is not None and before is not None and after > before:
            raise ValueError(
                f"--include-after ({after.isoformat()}) is later than "
                f"--include-before ({before.isoformat()}): nothing could match"
            )
        return cls(
            include_patterns=_split_list(include_pattern),
            exclude_patterns=_split_list(exclude_pattern),
            include_paths=_normalise_paths(_split_list(include_path)),
            exclude_paths=_normalise_paths(_split_list(exclude_path)),
            include_after=after,
            include_before=before,
        )

    @property
    def is_empty(self) -> bool:
        """True if no filter is set, so every entry is accepted."""
        return not (
            self.include_patterns
            or self.exclude_patterns
            or self.include_paths
            or self.exclude_paths
            or self.include_after is not None
            or self.include_before is not None
        )


class EntryFilter:
    """A FilterSpec compiled for fast, repeated matching during enumeration."""

    __slots__ = (
        "_after",
        "_before",
        "_exclude_base",
        "_exclude_paths",
        "_exclude_whole",
        "_include_base",
        "_include_paths",
        "_include_whole",
        "_includes_patterns",
        "spec",
    )

    def __init__(self, spec: FilterSpec) -> None:
        """Compile `spec`; never raises for odd patterns (they match literally or not at all)."""
        self.spec = spec
        self._includes_patterns = bool(spec.include_patterns)
        self._include_base, self._include_whole = _compile_patterns(spec.include_patterns)
        self._exclude_base, self._exclude_whole = _compile_patterns(spec.exclude_patterns)
        self._include_paths = spec.include_paths
        self._exclude_paths = spec.exclude_paths
        self._after = spec.include_after.timestamp() if spec.include_after is not None else None
        self._before = spec.include_before.timestamp() if spec.include_before is not None else None

    def accepts(self, rel_path: str, mtime: float | None) -> bool:
        """Whether the entry at '/'-separated `rel_path`, modified at `mtime` (or None), is in."""
        if self._include_paths and not _under_any(rel_path, self._include_paths):
            return False
        if self._exclude_paths and _under_any(rel_path, self._exclude_paths):
            return False
        base = rel_path.rpartition("/")[2]
        if self._includes_patterns and not _matches(
            self._include_base, self._include_whole, base, rel_path
        ):
            return False
        if _matches(self._exclude_base, self._exclude_whole, base, rel_path):
            return False
        if mtime is not None:
            if self._after is not None and mtime < self._after:
                return False
            if self._before is not None and mtime > self._before:
                return False
        return True

    def may_descend(self, rel_dir: str) -> bool:
        """False only if no entry under directory `rel_dir` ('' is the root) could be accepted."""
        rel_dir = rel_dir.rstrip("/")
        if not rel_dir:
            return True
        if self._exclude_paths and _under_any(rel_dir, self._exclude_paths):
            return False
        if not self._include_paths:
            return True
        if _under_any(rel_dir, self._include_paths):
            return True
        prefix = rel_dir + "/"
        return any(path.startswith(prefix) for path in self._include_paths)


def _split_list(value: str | None) -> tuple[str, ...]:
    """The non-empty, stripped items of a ';'-separated list."""
    if not value:
        return ()
    return tuple(item for item in (part.strip() for part in value.split(";")) if item)


def _normalise_paths(paths: Iterable[str]) -> tuple[str, ...]:
    """Paths as '/'-separated, root-relative prefixes; paths naming the root itself are dropped."""
    result = []
    for path in paths:
        path = path.replace("\\", "/")
        while True:
            stripped = path.lstrip("/").removeprefix("./")
            if stripped == path:
                break
            path = stripped
        path = path.rstrip("/")
        # '' and '.' would select the whole tree, which is what no path filter already does.
        if path and path != ".":
            result.append(path)
    return tuple(result)


def _parse_date(value: str | None, option: str) -> datetime | None:
    """An aware datetime from ISO-8601 text (naive means UTC), or ValueError naming `option`."""
    if value is None:
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{option}: {value!r} is not an ISO-8601 date or time (e.g. {_DATE_EXAMPLE})"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _compile_patterns(
    patterns: Iterable[str],
) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """One regex for base-name patterns and one for whole-path patterns (None if there are none)."""
    patterns = tuple(patterns)
    base = [_translate(p) for p in patterns if "/" not in p]
    whole = [_translate(p) for p in patterns if "/" in p]
    return (
        re.compile("|".join(base)) if base else None,
        re.compile("|".join(whole)) if whole else None,
    )


def _translate(pattern: str) -> str:
    """fnmatch's regex for `pattern`, or a literal match if that regex does not compile."""
    regex = fnmatch.translate(pattern)
    try:
        re.compile(regex)
    except re.error:
        return f"(?:{re.escape(pattern)})\\Z"
    return regex


def _matches(
    base_re: re.Pattern[str] | None, whole_re: re.Pattern[str] | None, base: str, rel_path: str
) -> bool:
    """Whether the base name or whole path matches the respective compiled patterns."""
    return bool(
        (base_re is not None and base_re.match(base))
        or (whole_re is not None and whole_re.match(rel_path))
    )


def _under_any(rel_path: str, prefixes: Iterable[str]) -> bool:
    """Whether `rel_path` is one of `prefixes` or lies below one of them."""
    return any(rel_path == p or rel_path.startswith(p + "/") for p in prefixes)
