"""The local file system driver: walks folders, reads with pread, writes atomically.

Downloads go to a hidden temporary file beside the final one and are renamed into place only
on commit, so an interrupted or failed download never leaves a file under the final name
(`files`); folders are walked in a thread (`walker`).
"""

from __future__ import annotations

import errno
import os
import stat as stat_mod
from collections.abc import AsyncIterator

from azxfer.endpoints.base import NameFilter, Selection, SelectionKind
from azxfer.endpoints.listing import Listed, ListField
from azxfer.endpoints.local.files import LocalReader, LocalWriter
from azxfer.endpoints.local.lister import LOCAL_LIST_FIELDS, list_local_items
from azxfer.endpoints.local.walker import Walker, file_entry, threaded
from azxfer.endpoints.lookup import Named
from azxfer.errors import LocationError, TransferError
from azxfer.models import Entry, Skipped, Transfer, WriteProps


class LocalEndpoint:
    """A driver for one local path (file, folder, or wildcard in the last component)."""

    def __init__(self, path: str, pattern: str | None = None, temp_tag: str = "azxfer") -> None:
        self.path = path
        self.pattern = pattern
        self.temp_tag = temp_tag
        self.lists_folders = False  # FolderSource: the job asks for folders

    # -- source side -------------------------------------------------------------------------

    async def select(
        self, recursive: bool, filters: NameFilter, follow_symlinks: bool
    ) -> Selection:
        """Resolve the local location into a selection; a missing path is a LocationError."""
        walker = Walker(filters, recursive, follow_symlinks, self.lists_folders)
        if self.pattern is not None:
            if not os.path.isdir(self.path):
                raise LocationError(f"local folder '{self.path}' does not exist")
            return Selection(
                SelectionKind.PATTERN, "", threaded(walker.walk_pattern(self.path, self.pattern))
            )
        try:
            st = os.stat(self.path) if follow_symlinks else os.lstat(self.path)
        except OSError:
            raise LocationError(f"local path '{self.path}' does not exist") from None
        if stat_mod.S_ISLNK(st.st_mode):
            try:
                st = os.stat(self.path)  # a symlink named on the command line is followed
            except OSError as exc:
                reason = (
                    "a symbolic link loop"
                    if exc.errno == errno.ELOOP
                    else ("a symbolic link to nothing")
                )
                raise LocationError(f"local path '{self.path}' is {reason}") from None
        if stat_mod.S_ISDIR(st.st_mode):
            name = os.path.basename(os.path.abspath(self.path))
            return Selection(
                SelectionKind.DIRECTORY, name, threaded(walker.walk_dir(self.path, ""))
            )
        if not stat_mod.S_ISREG(st.st_mode):
            raise LocationError(f"'{self.path}' is not a regular file or folder")
        entry = file_entry(os.path.abspath(self.path), os.path.basename(self.path), st)
        return Selection(SelectionKind.SINGLE, "", _single(entry))

    async def look_up(self, rel_path: str) -> Named:
        """What `rel_path` names under the folder, as its walk (without --follow-symlinks)
        would take it: a file, a folder, or something skipped with the walk's reason
        (NamedPaths)."""
        path = self.join(rel_path)
        parts = rel_path.split("/")
        for depth in range(1, len(parts)):
            # A walk never goes through a linked folder: nor does a name.
            above = "/".join(parts[:depth])
            if os.path.islink(self.join(above)):
                return Named(Skipped(path, rel_path, f"under symbolic link '{above}'"), False)
        try:
            st = os.lstat(path)
        except OSError:
            return Named(None, folder=False)
        if stat_mod.S_ISDIR(st.st_mode):
            return Named(None, folder=True)
        if stat_mod.S_ISREG(st.st_mode):
            return Named(file_entry(path, rel_path, st), folder=False)
        reason = (
            "symbolic link (use --follow-symlinks)"
            if stat_mod.S_ISLNK(st.st_mode)
            else "not a regular file (FIFO, socket or device)"
        )
        return Named(Skipped(path, rel_path, reason), folder=False)

    def named_folder(self, rel_path: str, filters: NameFilter) -> AsyncIterator[Entry | Skipped]:
        """The files of the tree of folder `rel_path`, walked as `select` walks (NamedPaths)."""
        walker = Walker(filters, recursive=True, follow_symlinks=False)
        return threaded(walker.walk_dir(self.join(rel_path), ""))

    def list_fields(self) -> frozenset[ListField]:
        """The properties a local listing gives (`Lister`)."""
        return LOCAL_LIST_FIELDS

    def list_items(
        self, recursive: bool, filters: NameFilter, fields: frozenset[ListField]
    ) -> AsyncIterator[Listed]:
        """What `azxfer list` shows of the path (`Lister`)."""
        return list_local_items(self.path, self.pattern, recursive, filters, fields)

    async def open_reader(self, entry: Entry) -> LocalReader:
        """A pread-based reader that notices if the file changes while it is read."""
        try:
            fd = os.open(entry.ref, os.O_RDONLY)
        except OSError as exc:
            raise TransferError(f"cannot open {entry.ref}: {exc.strerror}") from None
        return LocalReader(fd, entry)

    # -- destination side --------------------------------------------------------------------

    def check_writable(self) -> None:
        """Whether a folder can be written shows only when it is (prepare_destination)."""

    async def prepare_destination(self, multiple: bool) -> None:
        """Create the destination folder for a multi-object copy; refuse a file there."""
        if multiple:
            if os.path.exists(self.path) and not os.path.isdir(self.path):
                raise LocationError(f"destination '{self.path}' is a file, not a folder")
            try:
                os.makedirs(self.path, exist_ok=True)
            except OSError as exc:
                raise LocationError(f"cannot create folder '{self.path}': {exc.strerror}") from None

    async def target_for_single(self, source_name: str) -> str:
        """Where a single object goes: inside an existing folder, else at the path itself."""
        if os.path.isdir(self.path) or self.path.endswith(os.sep):
            return os.path.join(self.path, source_name)
        return self.path

    def join(self, rel_path: str) -> str:
        """The local path of a '/'-separated path relative to the destination folder."""
        return os.path.join(self.path, *rel_path.split("/"))

    async def stat(self, ref: str) -> Entry | None:
        """The file at `ref`, or None."""
        try:
            st = os.stat(ref)
        except OSError:
            return None
        return file_entry(ref, os.path.basename(ref), st)

    async def open_writer(
        self, transfer: Transfer, size: int, props: WriteProps, block_size: int
    ) -> LocalWriter:
        """A writer to a temporary file renamed over `transfer.dest_ref` on commit."""
        return LocalWriter(transfer.dest_ref, size, props, block_size, self.temp_tag, transfer.id)

    async def make_directory(self, ref: str, entry: Entry, props: WriteProps) -> None:
        """Make the folder `ref` and its missing parents (Directories); an existing one is
        success. Its modification time is not set: files written into it later change it
        anyway, and AzCopy v10 keeps no local folder times either."""
        try:
            os.makedirs(ref, exist_ok=True)
        except FileExistsError:
            raise TransferError(f"cannot create folder {ref}: a file has its name") from None
        except OSError as exc:
            raise TransferError(f"cannot create folder {ref}: {exc.strerror}") from None

    async def delete(self, ref: str) -> None:
        """Remove a local file."""
        try:
            os.unlink(ref)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise TransferError(f"cannot delete {ref}: {exc.strerror}") from None

    async def delete_directory(self, ref: str) -> bool:
        """Remove the folder `ref` if it is empty (DirectoryDeletes); one already gone is
        fine; False if something is still in it."""
        try:
            os.rmdir(ref)
        except FileNotFoundError:
            return True
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return False
            raise TransferError(f"cannot delete folder {ref}: {exc.strerror}") from None
        return True

    async def close(self) -> None:
        """Nothing to release."""


async def _single(entry: Entry) -> AsyncIterator[Entry | Skipped]:
    yield entry
