"""`--move --delete-empty-src-dirs`: remove the source folders a move emptied.

While the plan streams past, the folders the source listed are remembered (relative path →
ref) and, per folder, the files planned directly in it that have not moved yet. After the
job, a folder is removed only if no file under it is left unmoved (failed, skipped,
interrupted) and the job copied the folder itself; the source is then asked to remove it,
a depth at a time, deepest first, and a folder still holding anything (a file the filters
left out) stays, silently, as rclone does. A source with real folders removes them
(`DirectoryDeletes`); a Blob source has only marker blobs to delete, and only when no
filter could have left a blob under the folder unseen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

from azxfer.endpoints.base import DirectoryDeletes, Endpoint
from azxfer.engine.folderdeletes import FolderOutcome, delete_by_depth
from azxfer.engine.folders import is_folder
from azxfer.errors import AzxferError
from azxfer.events import EventSink, SourceFolderRemoved
from azxfer.journal.bulkrecord import folder_depth
from azxfer.models import Planned, Transfer


def _parent(rel_path: str) -> str:
    return rel_path.rpartition("/")[0]


def _root_of(ref: str, rel_path: str) -> str | None:
    """The ref of the walked root, from one entry under it ('' for a share's top); None if
    the entry's ref is not its path under the root (a Blob snapshot's name)."""
    if ref == rel_path:
        return ""
    if ref.endswith("/" + rel_path):
        return ref[: -len(rel_path) - 1]
    return None


class EmptiedFolders:
    """The source folders one move job walked, and which of them it emptied.

    `dry_run`: nothing moves, so a file counts as moved when the plan would transfer it.
    """

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.folders: dict[str, str] = {}  # rel_path -> source ref of each folder listed
        self.implied: set[str] = set()  # folders known only by the files planned in them
        self.unmoved: Counter[str] = Counter()  # folder rel_path -> its files not moved
        self.root_ref: str | None = None

    async def watch(self, plan: AsyncIterator[Planned]) -> AsyncIterator[Planned]:
        """Pass the plan through, noting its folders and files."""
        async for item in plan:
            self._note(item)
            yield item

    def _note(self, item: Planned) -> None:
        entry = item.transfer.source
        rel = entry.rel_path
        if self.root_ref is None:
            self.root_ref = _root_of(entry.ref, rel)
        settled = item.skip_reason is not None or item.fail_reason is not None
        if is_folder(item):
            if settled:  # not copied (no folders at the destination): it must stay
                self.unmoved[rel] += 1
            else:
                self.folders[rel] = entry.ref
            return
        parent = _parent(rel)
        if settled or not self.dry_run:
            self.unmoved[parent] += 1
        # A folder its files imply is not planned (a destination without folders): the
        # walk went into it all the same.
        while parent and parent not in self.implied:
            self.implied.add(parent)
            parent = _parent(parent)

    def after(
        self, delete_source: Callable[[Transfer], Awaitable[None]]
    ) -> Callable[[Transfer], Awaitable[None]]:
        """The per-transfer source delete of --move, counting the file as moved once its
        source is gone."""

        async def delete_and_count(transfer: Transfer) -> None:
            await delete_source(transfer)
            self.unmoved[_parent(transfer.source.rel_path)] -= 1

        return delete_and_count

    def candidates(self, include_root: bool, with_implied: bool) -> list[tuple[str, str]]:
        """(rel_path, ref) of each folder whose every selected file moved, deepest first:
        those listed, and with `with_implied` (a source of real folders, whose refs are
        paths under the root's) those its files imply; the root ('') only if
        `include_root` and it is a folder below the top of its share or disk."""
        held: set[str] = set()
        for rel, count in self.unmoved.items():
            if count <= 0:
                continue
            while rel not in held:
                held.add(rel)
                if not rel:
                    break
                rel = _parent(rel)
        found = [(rel, ref) for rel, ref in self.folders.items() if rel not in held]
        if with_implied and self.root_ref is not None:
            root = self.root_ref
            found += [
                (rel, f"{root}/{rel}" if root else rel)
                for rel in self.implied
                if rel not in held and rel not in self.folders
            ]
        if include_root and "" not in held and self.root_ref:
            found.append(("", self.root_ref))
        found.sort(key=lambda pair: -folder_depth(pair[0]))
        return found

    async def remove(
        self,
        source: Endpoint,
        sink: EventSink,
        include_root: bool,
        markers_only_safe: bool,
        concurrency: int,
    ) -> int:
        """Remove (or, in a dry run, list) the emptied folders, a depth at a time with up to
        `concurrency` deletes in flight (`engine.folderdeletes`); the number removed.

        `markers_only_safe`: for a source without folders (Blob), whether every blob under a
        folder was selected, so that its marker may go."""
        real_folders = isinstance(source, DirectoryDeletes)
        if not real_folders and not markers_only_safe:
            return 0
        # A Blob source's root is a name prefix, not a marker this job listed: it stays.
        found = self.candidates(include_root and real_folders, real_folders)
        if self.dry_run:
            for _rel, ref in found:
                sink.emit(SourceFolderRemoved(ref, True))
            return 0
        removed = 0

        async def delete(folder: tuple[str, str]) -> bool:
            ref = folder[1]
            if isinstance(source, DirectoryDeletes):
                return await source.delete_directory(ref)
            await source.delete(ref)  # the folder's marker blob
            return True

        def done(folder: tuple[str, str], outcome: FolderOutcome) -> None:
            nonlocal removed
            if isinstance(outcome, AzxferError):
                sink.emit(SourceFolderRemoved(folder[1], False, "failed", str(outcome)))
            elif outcome:  # else something is still in it: it stays, silently
                removed += 1
                sink.emit(SourceFolderRemoved(folder[1], False))

        await delete_by_depth(
            found, lambda folder: folder_depth(folder[0]), delete, done, concurrency
        )
        return removed
