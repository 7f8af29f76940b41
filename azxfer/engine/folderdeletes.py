"""Deleting the folders of a tree once their files are gone: a depth at a time, deepest first,
the folders of one depth concurrently.

Folders of one depth are independent of each other once every deeper folder and every file
is gone, so only the depths need an order. One folder that fails (something is still in it,
or a real error) does not stop its siblings; its parent then finds it still there and stays
too. Used by `azxfer remove -r` (journaled), sync's --delete-destination and move's
--delete-empty-src-dirs.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TypeVar

from azxfer.errors import AzxferError

T = TypeVar("T")

# A folder's outcome: True deleted, False kept (something is still in it), or the error.
FolderOutcome = bool | AzxferError


async def delete_by_depth(
    folders: Iterable[T],
    depth_of: Callable[[T], int],
    delete: Callable[[T], Awaitable[bool]],
    done: Callable[[T, FolderOutcome], None],
    concurrency: int,
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    """Delete `folders` (given deepest first) with `delete`, up to `concurrency` at a time
    within one depth, telling `done` of each outcome as it comes (so a journal records each
    folder the moment it is answered). Once `stopping()`, no folder is started; those in
    flight finish and are told."""

    async def worker(group: Iterator[T]) -> None:
        # Workers share the depth's iterator: each takes the next folder when it is free,
        # so a depth of many folders never holds a task per folder.
        for folder in group:
            if stopping():
                return
            try:
                outcome: FolderOutcome = await delete(folder)
            except AzxferError as exc:
                outcome = exc
            done(folder, outcome)

    for _depth, group in itertools.groupby(folders, depth_of):
        if stopping():
            return
        shared = iter(group)  # one iterator for all the depth's workers, on purpose
        workers = [asyncio.ensure_future(worker(shared)) for _ in range(max(1, concurrency))]
        try:
            # gather, not a TaskGroup: an unexpected error surfaces as itself, not wrapped
            # in an ExceptionGroup the job's error handling would not know.
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
