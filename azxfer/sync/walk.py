"""The local walk of a sync: each folder in the order Blob storage lists names in, so the
source and destination listings can be merged as they stream."""

from __future__ import annotations

import os
import re
import stat as stat_mod
from collections.abc import Iterator

from msgspec.structs import replace

from azxfer.endpoints.base import WalkKey, walk_sort_key
from azxfer.endpoints.local.walker import Walker
from azxfer.journal.hashcache import HashCache, stat_key
from azxfer.models import Entry, Skipped
from azxfer.plan.filters import EntryFilter

# Partial downloads of any azxfer job (kept for its resume): never listed, never deleted.
_PARTIAL = re.compile(r"^\..*\.azxfer-[0-9a-f]{8}-\d+\.part$")


class SortedWalker(Walker):
    """The local walk, each folder ordered by `walk_sort_key` so relative paths come out in
    the byte order Blob storage lists names in."""

    def __init__(
        self,
        filters: EntryFilter,
        recursive: bool,
        follow_symlinks: bool,
        skip_partials: bool = False,
        hashes: HashCache | None = None,
        folders: bool = False,
        walk_key: WalkKey = walk_sort_key,
    ) -> None:
        super().__init__(filters, recursive, follow_symlinks, folders)
        self.skip_partials = skip_partials
        self.hashes = hashes
        self.walk_key = walk_key  # each folder's order (case-folded toward Azure Files)

    def _scan(
        self, folder: str, prefix: str, ancestors: set[tuple[int, int]], top: bool = False
    ) -> Iterator[Entry | Skipped]:
        try:
            items = list(os.scandir(folder))
        except OSError as exc:
            yield Skipped(folder, prefix, f"cannot list folder: {exc.strerror}")
            return
        walk_key = self.walk_key
        items.sort(key=lambda d: walk_key(d.name, self._is_dir(d)))
        for item in items:
            if self.skip_partials and _PARTIAL.match(item.name):
                continue
            rel = f"{prefix}/{item.name}" if prefix else item.name
            yield from self._visit(item, rel, ancestors)

    def _visit(
        self, item: os.DirEntry[str], rel: str, ancestors: set[tuple[int, int]]
    ) -> Iterator[Entry | Skipped]:
        """As the plain walk; with a hash cache, a file's entry carries its cached MD5 (looked
        up here, in the walk's thread, with the stat the walk already made)."""
        hashes = self.hashes
        if hashes is None:
            yield from super()._visit(item, rel, ancestors)
            return
        for found in super()._visit(item, rel, ancestors):
            if type(found) is Entry and found.ref == item.path and not found.is_folder:
                try:
                    key = stat_key(item.stat())  # the walk's own (cached) stat
                except OSError:
                    yield found
                    continue
                digest = hashes.lookup(os.path.abspath(found.ref), key)
                if digest is not None:
                    found = replace(found, md5=digest)
            yield found

    def _is_dir(self, item: os.DirEntry[str]) -> bool:
        try:
            if item.is_symlink():
                return self.follow and stat_mod.S_ISDIR(os.stat(item.path).st_mode)
            return item.is_dir(follow_symlinks=False)
        except OSError:
            return False
