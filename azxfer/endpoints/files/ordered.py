"""A share's tree in a given order, for sync's merge join: each directory listed whole (every
page), its children ordered by the caller's walk key (a folder as its name followed by '/'),
and walked depth first in that order, so paths come out in the order of the matching path key
(`sync_key`, or its case-folded form toward a case-insensitive destination).

The service lists one directory per request, so a walk that listed a directory only when it
reached it would make the merge wait one round trip per directory. The next directories in
walk order are listed ahead instead, at most `LISTED_AHEAD` at a time (listed and not yet
reached): memory is those directories' entries and the names of the directories known but not
yet listed, never the tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import AsyncIterator

from msgspec import Struct

from azxfer.endpoints.base import NameFilter, WalkKey
from azxfer.endpoints.files.listing import ListPage, folder_entry, listed_entry, parse_page
from azxfer.models import Entry, FileProps

# Directories listed ahead of the walk: enough to hide the round trips of a tree of small
# directories, few enough to leave the job's request slots to the transfers.
LISTED_AHEAD = 8


class _Child(Struct, frozen=True):
    """One selected child of a listed directory: a file's entry, or a directory's name and
    SMB properties."""

    sort_key: bytes
    name: str
    entry: Entry | None  # None: a directory
    smb: FileProps | None = None  # a directory's


async def _list_whole(
    list_page: ListPage, path: str, rel_dir: str, filters: NameFilter, walk_key: WalkKey
) -> list[_Child]:
    """Every selected file and every directory the filters may descend into of directory
    `path`, all pages, in walk order."""
    children: list[_Child] = []
    marker = ""
    while True:
        page = parse_page(await list_page(path, marker))
        for name, size, smb, etag in page.files:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            entry = listed_entry(f"{path}/{name}" if path else name, rel, size, smb, etag)
            if filters.accepts(rel, entry.mtime):
                children.append(_Child(walk_key(name, False), name, entry))
        for name, smb in page.directories:
            if filters.may_descend(f"{rel_dir}/{name}" if rel_dir else name):
                children.append(_Child(walk_key(name, True), name, None, smb))
        marker = page.next_marker
        if not marker:
            children.sort(key=lambda child: child.sort_key)
            return children


class _Lister:
    """Lists directories of one walk ahead of it, next-needed first, `ahead` at a time."""

    def __init__(
        self,
        list_page: ListPage,
        base: str,
        filters: NameFilter,
        walk_key: WalkKey,
        ahead: int,
    ) -> None:
        self.list_page = list_page
        self.base = base
        self.filters = filters
        self.walk_key = walk_key
        self.ahead = ahead
        # Directories known, not yet listed, by walk position: the tuple of the walk keys
        # along its path orders directories as a depth-first walk reaches them.
        self.waiting: list[tuple[tuple[bytes, ...], str]] = []
        self.listing: dict[str, asyncio.Task[list[_Child]]] = {}

    def known(self, position: tuple[bytes, ...], rel_dir: str) -> None:
        """Directory `rel_dir` will be walked, at `position`."""
        heapq.heappush(self.waiting, (position, rel_dir))
        self._start_more()

    async def children(self, rel_dir: str) -> list[_Child]:
        """The children of `rel_dir` (listed ahead, or now); frees its place ahead."""
        task = self.listing.pop(rel_dir, None)
        if task is None:
            # Not started yet: it is the walk's next directory, so the first waiting one.
            self.waiting = [w for w in self.waiting if w[1] != rel_dir]
            heapq.heapify(self.waiting)
            task = self._start(rel_dir)
            self.listing.pop(rel_dir)
        self._start_more()  # its place ahead is free while it is awaited
        return await task

    def _start_more(self) -> None:
        while self.waiting and len(self.listing) < self.ahead:
            self._start(heapq.heappop(self.waiting)[1])

    def _start(self, rel_dir: str) -> asyncio.Task[list[_Child]]:
        path = f"{self.base}/{rel_dir}".strip("/") if rel_dir else self.base
        task = asyncio.ensure_future(
            _list_whole(self.list_page, path, rel_dir, self.filters, self.walk_key)
        )
        self.listing[rel_dir] = task
        return task

    async def close(self) -> None:
        """Stop every listing still going."""
        tasks = list(self.listing.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


async def ordered_walk(
    list_page: ListPage,
    base: str,
    filters: NameFilter,
    walk_key: WalkKey,
    folders: bool = False,
    ahead: int = LISTED_AHEAD,
) -> AsyncIterator[Entry]:
    """Every selected file under directory `base` of the share ('' : the root), rel_path
    relative to it, each directory's children ordered by `walk_key`. With `folders`, each
    directory the filters may descend into comes too, before what lies under it
    (`EntryKind.EMPTY_FOLDER` if nothing selected does)."""
    lister = _Lister(list_page, base, filters, walk_key, ahead)
    # The walk's path: (position, rel_dir, its children, how many of them were taken).
    stack: list[tuple[tuple[bytes, ...], str, list[_Child], int]] = [
        ((), "", await lister.children(""), 0)
    ]
    try:
        _announce(lister, (), "", stack[0][2])
        while stack:
            position, rel_dir, children, taken = stack[-1]
            if taken == len(children):
                stack.pop()
                continue
            child = children[taken]
            stack[-1] = (position, rel_dir, children, taken + 1)
            if child.entry is not None:
                yield child.entry
                continue
            rel = f"{rel_dir}/{child.name}" if rel_dir else child.name
            inner = (*position, child.sort_key)
            below = await lister.children(rel)
            if folders:
                ref = f"{base}/{rel}".strip("/") if base else rel
                yield folder_entry(ref, rel, child.smb, empty=not below)
            _announce(lister, inner, rel, below)
            stack.append((inner, rel, below, 0))
    finally:
        await lister.close()


def _announce(
    lister: _Lister, position: tuple[bytes, ...], rel_dir: str, children: list[_Child]
) -> None:
    """Tell the lister of the directories among `children`, so it lists them ahead."""
    for child in children:
        if child.entry is None:
            rel = f"{rel_dir}/{child.name}" if rel_dir else child.name
            lister.known((*position, child.sort_key), rel)
