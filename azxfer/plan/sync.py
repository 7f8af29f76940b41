"""Pure pieces of `azxfer sync`: comparison strategies, the sorted merge-join, delete limits.

Comparison strategies take a source entry and the destination entry of the same relative path
(None when there is none) and return a Decision: transfer or skip, and why.

- `by_size_and_time` (the default): copy when the destination is missing, its size differs,
  or the source is newer than the destination by more than `skew` seconds (2 s by default:
  local mtimes and blob Last-Modified times come from different clocks and resolutions).
  A download made by sync gets the blob's Last-Modified as its mtime, and an uploaded blob's
  Last-Modified is later than the file's mtime, so a second sync skips both.
- `by_md5` (`--compare-hash md5`): copy when missing, the size differs, or the MD5s differ;
  modification times are ignored. A side without an MD5 (a blob without Content-MD5) counts
  as different, and the reason says so. The caller fills in local files' MD5s.
- `always` (`--mirror-mode`): copy everything that exists at the source.

The merge-join walks two listings that are both sorted by `sync_key` (the UTF-8 bytes of the
'/'-joined relative path, compared as bytes: the order in which Blob storage lists names) and
pairs entries of equal keys. It holds one entry per side at a time, and fails with
OutOfOrderError if a side is not strictly increasing, so an unsorted listing can never be
mistaken for missing entries (and so cause wrong deletes).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from msgspec import Struct

from azxfer.endpoints.base import WalkKey, sync_key, walk_sort_key
from azxfer.errors import AzxferError, UsageError
from azxfer.events import IDENTICAL
from azxfer.models import Entry, EntryKind
from azxfer.plan.compare import Decision

DEFAULT_SKEW_SECONDS = 2.0

Strategy = Callable[[Entry, Entry | None], Decision]


def by_size_and_time(src: Entry, dst: Entry | None, skew: float = DEFAULT_SKEW_SECONDS) -> Decision:
    """Copy if missing, of another size, or newer at the source by more than `skew` seconds."""
    if dst is None:
        return Decision(True, "missing at the destination")
    if src.size != dst.size:
        return Decision(True, f"size differs ({src.size} at the source, {dst.size} here)")
    if src.mtime is not None and dst.mtime is not None and src.mtime > dst.mtime + skew:
        return Decision(True, f"the source is newer by {src.mtime - dst.mtime:.0f} s")
    return Decision(False, IDENTICAL)


def by_md5(src: Entry, dst: Entry | None) -> Decision:
    """Copy if missing, of another size, or of another (or unknown) MD5."""
    if dst is None:
        return Decision(True, "missing at the destination")
    if src.size != dst.size:
        return Decision(True, f"size differs ({src.size} at the source, {dst.size} here)")
    if src.md5 is None or dst.md5 is None:
        side = "source" if src.md5 is None else "destination"
        return Decision(True, f"the {side} has no Content-MD5 to compare (--compare-hash md5)")
    if src.md5 != dst.md5:
        return Decision(True, "MD5 differs")
    return Decision(False, IDENTICAL)


def always(src: Entry, dst: Entry | None) -> Decision:
    """Copy everything (--mirror-mode)."""
    return Decision(True, "--mirror-mode")


def strategy_for(compare_hash: str | None, mirror: bool, skew: float) -> Strategy:
    """The strategy the options ask for."""
    if mirror:
        return always
    if compare_hash == "md5":
        return by_md5
    return lambda src, dst: by_size_and_time(src, dst, skew)


# -- ordering ---------------------------------------------------------------------------------


def fold_case(name: str) -> str:
    """`name` as a case-insensitive service (Azure Files, SMB) compares it: each character
    upper-cased alone (a simple mapping, as NTFS's upcase table; 'ß' stays 'ß')."""
    upper = name.upper()
    if len(upper) == len(name):
        return upper
    return "".join(c if len(c.upper()) != 1 else c.upper() for c in name)


def folded_key(rel_path: str) -> bytes:
    """`sync_key` of a path as a case-insensitive destination compares it."""
    return sync_key(fold_case(rel_path))


def folded_walk_key(name: str, is_dir: bool) -> bytes:
    """`walk_sort_key` for `folded_key` order; names equal but for case (a case-insensitive
    destination's twins) follow each other in byte order ('\0' is in no name)."""
    return walk_sort_key(fold_case(name), is_dir) + b"\0" + sync_key(name)


@dataclass(frozen=True)
class MergeOrder:
    """The order both listings of a sync come in, and by which keys the merge pairs them."""

    key: Callable[[str], bytes]  # a path's merge key
    walk_key: WalkKey  # how a walk orders one folder so that paths come in `key` order
    folds_case: bool  # names equal but for case pair (and may follow each other)


BYTE_ORDER = MergeOrder(sync_key, walk_sort_key, False)
# Toward a case-insensitive destination: 'A.txt' and 'a.txt' are one name there.
FOLDED_ORDER = MergeOrder(folded_key, folded_walk_key, True)


class OutOfOrderError(AzxferError):
    """A listing was not in sync_key order: the merge cannot trust it (nothing is deleted)."""


class Pair(Struct, frozen=True):
    """One step of the merge: a source entry, a destination entry, or both (same key)."""

    key: bytes
    src: Entry | None
    dst: Entry | None


async def merge_join(
    src: AsyncIterator[Entry],
    dst: AsyncIterator[Entry],
    key: Callable[[str], bytes] = sync_key,
    ties: bool = False,
) -> AsyncIterator[Pair]:
    """Pair two listings sorted by key; O(1) memory. Raises OutOfOrderError on disorder.

    A folder's key is its path's followed by '/', where `walk_sort_key` puts it (before what
    lies under it), so a folder pairs only with a folder. With `ties` (a case-folding key) a
    listing may hold several entries of one key (a source's 'A.txt' and 'a.txt'): the first
    pairs with the other side's entry of that key, the next ones with none."""
    file = EntryKind.FILE

    async def ordered(items: AsyncIterator[Entry], side: str) -> AsyncIterator[tuple[bytes, Entry]]:
        last: bytes | None = None
        async for entry in items:
            k = key(entry.rel_path)
            if entry.kind is not file:
                k += b"/"
            if last is not None and (k < last or (k == last and not ties)):
                raise OutOfOrderError(
                    f"the {side} listing is not in name order ('{entry.rel_path}' came after "
                    f"'{last.decode('utf-8', 'replace')}'); nothing was deleted"
                )
            last = k
            yield k, entry

    left, right = ordered(src, "source"), ordered(dst, "destination")
    a = await anext(left, None)
    b = await anext(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            assert a is not None
            yield Pair(a[0], a[1], None)
            a = await anext(left, None)
        elif a is None or b[0] < a[0]:
            yield Pair(b[0], None, b[1])
            b = await anext(right, None)
        else:
            yield Pair(a[0], a[1], b[1])
            a = await anext(left, None)
            b = await anext(right, None)


# -- delete limits ----------------------------------------------------------------------------


class DeleteLimit(Struct, frozen=True):
    """--max-delete: at most `count` entries, or at most `percent` % of the destination."""

    count: int | None = None
    percent: float | None = None

    def exceeded(self, deletes: int, dest_total: int) -> bool:
        """Whether deleting `deletes` of `dest_total` destination entries is more than allowed."""
        if self.count is not None:
            return deletes > self.count
        if self.percent is not None:
            return deletes * 100 > self.percent * dest_total
        return False

    def describe(self) -> str:
        """The limit as the user wrote it."""
        return f"{self.count}" if self.count is not None else f"{self.percent:g}%"


DEFAULT_DELETE_LIMIT = DeleteLimit(percent=50.0)


def parse_max_delete(text: str) -> DeleteLimit:
    """'N' (a count) or 'P%' (a share of the destination's entries), else a UsageError."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", text or "")
    if not match:
        raise UsageError(f"--max-delete: '{text}' is not a count such as 100 or a share like 10%")
    if match[2]:
        percent = float(match[1])
        if percent > 100:
            raise UsageError("--max-delete: a percentage cannot exceed 100%")
        return DeleteLimit(percent=percent)
    if "." in match[1]:
        raise UsageError(f"--max-delete: '{text}' is not a whole number")
    return DeleteLimit(count=int(match[1]))
