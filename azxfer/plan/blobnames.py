"""Local names as the Blob service stores them, for uploads (copy and sync).

The Blob service turns every '\\' in a blob name into '/' (Azurite does too), so a file
'a\\b.txt' would be stored as blob 'a/b.txt' whatever name was asked for. BlobNamer plans
with the name the service really stores, by these rules:

1. A relative name containing '\\' is uploaded under the name with each '\\' replaced by
   '/'; the translation is reported. Other names are used as they are.
2. Two source files that land on one blob name are a conflict, and nothing is overwritten:
   a file whose name needed no translation keeps the blob, whichever is enumerated first;
   of two translated names, the first enumerated keeps it. The other one is not uploaded
   and fails, its reason naming the file that has the blob.
3. Memory: only translated names are remembered (they are rare). A plain name that a
   translated one lands on is looked up on disk, in the source folder, when the translated
   one is planned: it is a conflict if the walk selects that file (it exists as a regular
   file, or a followed link to one, under folders the walk enters, and passes the filters).
   So plain names cost nothing, in either enumeration order.

Blob to blob copies need none of this: stored blob names never contain '\\'.
"""

from __future__ import annotations

import os
import stat

from azxfer.models import Entry
from azxfer.plan.filters import EntryFilter
from azxfer.plan.namers import StoredName

BACKSLASH_REASON = "the Blob service stores '\\' as '/'"

# The relative blob name a local file gets, and why it cannot be uploaded (if so).
BlobName = StoredName


class BlobNamer:
    """Streaming namer of local files' relative blob names for one upload job."""

    def __init__(self, filters: EntryFilter, recursive: bool, follow_symlinks: bool) -> None:
        """`filters`, `recursive` and `follow_symlinks` are the source walk's."""
        self.filters = filters
        self.recursive = recursive
        self.follow = follow_symlinks
        # translated name -> the source file (ref) that was given it
        self._taken: dict[str, str] = {}

    def name(self, entry: Entry) -> BlobName:
        """The blob name (relative, as `entry.rel_path` is) the service stores `entry` under."""
        rel = entry.rel_path
        if "\\" not in rel:
            return BlobName(rel)
        stored = rel.replace("\\", "/")
        other = self._taken.get(stored) or self._plain_source(entry, stored)
        if other is not None:
            return BlobName(stored, _conflict(stored, other))
        self._taken[stored] = entry.ref
        return BlobName(stored)

    def stored(self, path: str) -> str:
        """`path` as the Blob service stores it: every '\\' becomes '/'."""
        return path.replace("\\", "/")

    def reason(self, source: str) -> str:
        """Why `source` is stored under another name."""
        return BACKSLASH_REASON

    def refusal(self, dest_ref: str) -> str | None:
        """None: the service takes every name that reaches it."""
        return None

    def _plain_source(self, entry: Entry, rel: str) -> str | None:
        """The source file the walk selects as `rel` (relative to `entry`'s root), if any."""
        if not entry.ref.endswith(entry.rel_path):
            return None  # not a walked file (a single file's name is its own)
        root = entry.ref[: len(entry.ref) - len(entry.rel_path)]
        parts = rel.split("/")
        if len(parts) > 1 and not self.recursive:
            return None
        folder = root
        for depth, part in enumerate(parts[:-1], 1):
            folder = os.path.join(folder, part)
            if not self.filters.may_descend("/".join(parts[:depth])):
                return None
            if not self.follow and os.path.islink(folder):
                return None  # the walk skips a linked folder it does not follow
        path = os.path.join(folder, parts[-1])
        try:
            st = os.stat(path) if self.follow else os.lstat(path)
        except (OSError, ValueError):
            return None
        if stat.S_ISREG(st.st_mode) and self.filters.accepts(rel, st.st_mtime):
            return path
        return None


def _conflict(stored: str, other: str) -> str:
    """The reason a translated name is not uploaded."""
    return (
        f"not uploaded: {BACKSLASH_REASON}, so this file would be blob '{stored}', which is "
        f"source file '{other}' (rename one of them)"
    )
