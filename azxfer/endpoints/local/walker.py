"""Walking local folders: a synchronous walk that applies filters and symlink rules, run in
a thread and handed over to the event loop in batches.

Asked for folders (`folders=True`, recursive walks only), the walk yields each folder it
descends into as an entry of its own, before what lies under it, and says whether anything
selected lies under it (`EntryKind.EMPTY_FOLDER` if not). Folders are selected by paths only
(`may_descend`: --include-path / --exclude-path); name patterns (--include-pattern,
--exclude-pattern) and times select files, as AzCopy v10 applies them to files only, so a
folder whose files a pattern leaves out still arrives, empty.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
import stat as stat_mod
import threading
from collections.abc import AsyncIterator, Iterator

from azxfer.endpoints.base import NameFilter
from azxfer.models import Entry, EntryKind, Skipped

_WALK_BATCH = 256
_WALK_AHEAD = 8


def file_entry(ref: str, rel_path: str, st: os.stat_result) -> Entry:
    """The entry of a local file, from its stat."""
    return Entry(ref=ref, rel_path=rel_path, size=st.st_size, mtime=st.st_mtime)


def folder_entry(ref: str, rel_path: str, st: os.stat_result, empty: bool) -> Entry:
    """The entry of a local folder, from its stat."""
    kind = EntryKind.EMPTY_FOLDER if empty else EntryKind.FOLDER
    return Entry(ref=ref, rel_path=rel_path, size=0, mtime=st.st_mtime, kind=kind)


class Walker:
    """A synchronous directory walk (run in a thread) applying filters and symlink rules;
    with `folders`, the folders it descends into are entries too."""

    def __init__(
        self,
        filters: NameFilter,
        recursive: bool,
        follow_symlinks: bool,
        folders: bool = False,
        top_folders: bool = False,
    ) -> None:
        """`folders`: a recursive walk yields the folders it descends into; `top_folders`: a
        one-level walk yields the folders it finds (as `FOLDER`, selected by path)."""
        self.filters = filters
        self.recursive = recursive
        self.follow = follow_symlinks
        self.folders = folders and recursive
        self.top_folders = top_folders and not recursive

    def walk_pattern(self, folder: str, pattern: str) -> Iterator[Entry | Skipped]:
        """Entries of `folder` whose names match `pattern`; matching folders if recursive."""
        for item in sorted(os.scandir(folder), key=lambda d: d.name):
            if fnmatch.fnmatchcase(item.name, pattern):
                yield from self._visit(item, item.name, set())

    def walk_dir(self, folder: str, prefix: str) -> Iterator[Entry | Skipped]:
        """Every entry under `folder` (top level only unless recursive)."""
        ancestors = {_dir_key(os.stat(folder))}
        yield from self._scan(folder, prefix, ancestors, top=True)

    def _scan(
        self, folder: str, prefix: str, ancestors: set[tuple[int, int]], top: bool = False
    ) -> Iterator[Entry | Skipped]:
        try:
            items = sorted(os.scandir(folder), key=lambda d: d.name)
        except OSError as exc:
            yield Skipped(folder, prefix, f"cannot list folder: {exc.strerror}")
            return
        for item in items:
            rel = f"{prefix}/{item.name}" if prefix else item.name
            yield from self._visit(item, rel, ancestors)

    def _visit(
        self, item: os.DirEntry[str], rel: str, ancestors: set[tuple[int, int]]
    ) -> Iterator[Entry | Skipped]:
        try:
            if item.is_symlink():
                if not self.follow:
                    yield Skipped(item.path, rel, "symbolic link (use --follow-symlinks)")
                    return
                st = os.stat(item.path)
            else:
                st = item.stat(follow_symlinks=False)
        except OSError as exc:
            yield Skipped(item.path, rel, f"cannot read: {exc.strerror or 'broken link'}")
            return
        if stat_mod.S_ISDIR(st.st_mode):
            if not self.recursive or not self.filters.may_descend(rel):
                if self.top_folders and self.filters.may_descend(rel):
                    yield folder_entry(item.path, rel, st, empty=False)
                return
            key = _dir_key(st)
            if key in ancestors:
                yield Skipped(item.path, rel, "symbolic link loop")
                return
            inside = self._scan(item.path, rel, ancestors | {key})
            if self.folders:
                # The folder's entry comes first; whether it is empty is known at its first
                # selected entry (only the skipped items before that one are held, never a
                # subtree). Done in this frame: a wrapping generator would cost every entry
                # below one more generator step per level.
                held: list[Skipped] = []
                for found in inside:
                    if type(found) is Entry:
                        yield folder_entry(item.path, rel, st, empty=False)
                        yield from held
                        yield found
                        break
                    held.append(found)
                else:
                    yield folder_entry(item.path, rel, st, empty=True)
                    yield from held
                    return
            yield from inside
        elif stat_mod.S_ISREG(st.st_mode):
            if self.filters.accepts(rel, st.st_mtime):
                yield file_entry(item.path, rel, st)
        else:
            yield Skipped(item.path, rel, "not a regular file (FIFO, socket or device)")


def _dir_key(st: os.stat_result) -> tuple[int, int]:
    return (st.st_dev, st.st_ino)


async def threaded(items: Iterator[Entry | Skipped]) -> AsyncIterator[Entry | Skipped]:
    """Run a blocking iterator in a worker thread, handing batches to the event loop.

    At most `_WALK_AHEAD` batches wait unconsumed; if the consumer stops early the producer
    notices within 0.1 s and ends, so no thread is left blocked at shutdown.
    """
    loop = asyncio.get_running_loop()
    batches: asyncio.Queue[list[Entry | Skipped] | BaseException | None] = asyncio.Queue()
    room = threading.Semaphore(_WALK_AHEAD)
    stop = threading.Event()

    def hand_over(item: list[Entry | Skipped] | BaseException | None) -> bool:
        while not room.acquire(timeout=0.1):
            if stop.is_set():
                return False
        loop.call_soon_threadsafe(batches.put_nowait, item)
        return True

    def produce() -> None:
        batch: list[Entry | Skipped] = []
        try:
            for item in items:
                batch.append(item)
                if len(batch) >= _WALK_BATCH:
                    if not hand_over(batch):
                        return
                    batch = []
            if hand_over(batch):
                hand_over(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            hand_over(exc)

    worker = loop.run_in_executor(None, produce)
    try:
        while True:
            got = await batches.get()
            room.release()
            if got is None:
                break
            if isinstance(got, BaseException):
                raise got
            for item in got:
                yield item
    finally:
        stop.set()
    await worker
