"""The Azure Files driver: one share (and a directory or file in it) as a source or a
destination. Every request goes through the service-neutral REST client (`rest`)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from msgspec.structs import replace

from azxfer.credentials import Credential
from azxfer.endpoints.base import (
    SMB_NAME_RULES,
    NameFilter,
    NameRules,
    Selection,
    SelectionKind,
    WalkKey,
    walk_sort_key,
)
from azxfer.endpoints.files.copy import FilesUrlCopies
from azxfer.endpoints.files.directories import DirectoryMaker
from azxfer.endpoints.files.errors import FILE_ERRORS, explain
from azxfer.endpoints.files.lister import FILES_LIST_FIELDS, list_file_items
from azxfer.endpoints.files.listing import described_entry, walk
from azxfer.endpoints.files.ordered import ordered_walk
from azxfer.endpoints.files.reader import FileReader
from azxfer.endpoints.files.requests import MAX_FILE_SIZE, smb_headers
from azxfer.endpoints.files.rest import FileRestClient
from azxfer.endpoints.files.writer import FileWriter
from azxfer.endpoints.listing import Listed, ListField
from azxfer.endpoints.lookup import Named
from azxfer.errors import ContainerMissing, LocationError, NotFoundError, TransferError
from azxfer.locations import Location
from azxfer.models import Entry, Skipped, Transfer, WriteProps, file_props
from azxfer.transport.classify import ErrorAnswer, classify_answer

T = TypeVar("T")
_WILDCARD_CHARS = "*?["
# Properties asked at once while a listing is completed with Content-MD5s (see `select`).
_STAT_AHEAD = 16
# Set Directory Properties requests at once when the job's directories are settled.
_SETTLE_AT_ONCE = 32


class FilesEndpoint(FilesUrlCopies):
    """A driver for one share (and an optional directory or file path inside it).

    `listed_md5`: complete each listed file with what only Get File Properties tells (its
    Content-MD5, content headers and metadata), one request per file, so downloads can be
    checked against the MD5 (List Directories and Files does not give it)."""

    def __init__(
        self,
        location: Location,
        rest: FileRestClient,
        credential: Credential | None = None,
        listed_md5: bool = False,
    ) -> None:
        self.location = location
        self.rest = rest
        self.credential = credential
        self.listed_md5 = listed_md5
        self.lists_folders = False  # FolderSource: the job asks for folders
        self.share = location.container
        self.where = rest.where
        self.directories = DirectoryMaker(rest.create_directory)
        # Directories to give their SMB properties again after the job's files.
        self._settle: dict[str, dict[str, str]] = {}
        self._init_url_copies()

    def explain(self, exc: BaseException, what: str) -> BaseException:
        return explain(exc, what, self.credential)

    # -- source side -------------------------------------------------------------------------

    async def select(
        self, recursive: bool, filters: NameFilter, follow_symlinks: bool
    ) -> Selection:
        """Resolve the location: the share, a directory, a file, or a wildcard last part."""
        path = self.location.path
        if any(c in path for c in _WILDCARD_CHARS):
            folder, _, pattern = path.rpartition("/")
            if any(c in folder for c in _WILDCARD_CHARS):
                raise LocationError("wildcards are allowed only in the last part of a file path")
            items = self.list_entries(folder, recursive, filters, pattern)
            return Selection(SelectionKind.PATTERN, "", items)
        if not path:
            items = self.list_entries("", recursive, filters)
            return Selection(SelectionKind.DIRECTORY, self.share, items)
        path = path.rstrip("/")
        name = path.rpartition("/")[2]
        if not self.location.path.endswith("/"):
            single = await self.stat(path)
            if single is not None:
                return Selection(SelectionKind.SINGLE, "", _one(replace(single, rel_path=name)))
        if not await self._call(self.rest.directory_exists(path), f"directory '{path}'"):
            raise NotFoundError(f"no file or directory '{path}' in share {self.where}")
        return Selection(SelectionKind.DIRECTORY, name, self.list_entries(path, recursive, filters))

    async def list_entries(
        self,
        base: str,
        recursive: bool,
        filters: NameFilter,
        name_pattern: str | None = None,
    ) -> AsyncIterator[Entry | Skipped]:
        """Files under directory `base` ('' : the share root), rel_path relative to it."""
        what = f"listing share {self.where}"
        folders = self.lists_folders and recursive
        found = walk(self.rest.list_page, base, recursive, filters, name_pattern, folders=folders)
        try:
            if not self.listed_md5:
                async for entry in found:
                    yield entry
                return
            async for entry in _with_properties(found, self._described):
                yield entry
        except Exception as exc:
            raise self.explain(exc, what) from None

    def sorted_entries(self, filters: NameFilter) -> AsyncIterator[Entry | Skipped]:
        """Every selected file under the path in `sync_key` order (SortedListing)."""
        return self.ordered_entries(filters, walk_sort_key)

    async def ordered_entries(
        self, filters: NameFilter, walk_key: WalkKey
    ) -> AsyncIterator[Entry | Skipped]:
        """Every selected file under the path (with `lists_folders`, its directories too),
        each directory ordered by `walk_key` (OrderedListing); NotFoundError if the path is
        not a directory of the share."""
        base = self.location.path.strip("/")
        what = f"listing share {self.where}"
        found = ordered_walk(self.rest.list_page, base, filters, walk_key, self.lists_folders)
        try:
            if not self.listed_md5:
                async for entry in found:
                    yield entry
                return
            async for entry in _with_properties(found, self._described):
                yield entry
        except Exception as exc:
            raise self.explain(exc, what) from None

    def list_fields(self) -> frozenset[ListField]:
        """The properties a listing of a share gives (`Lister`)."""
        return FILES_LIST_FIELDS

    def list_items(
        self, recursive: bool, filters: NameFilter, fields: frozenset[ListField]
    ) -> AsyncIterator[Listed]:
        """What `azxfer list` shows of the location (`Lister`)."""
        return list_file_items(self, recursive, filters, fields)

    async def _described(self, listed: Entry) -> Entry:
        """A listed file completed by its properties (as listed if it is gone meanwhile)."""
        if listed.is_folder:
            return listed
        headers = await self.rest.file_properties(listed.ref)
        if headers is None:
            return listed
        return described_entry(listed.ref, listed.rel_path, headers)

    async def stat(self, ref: str) -> Entry | None:
        """The file at `ref`, or None if there is none."""
        headers = await self._call(self.rest.file_properties(ref), f"file '{ref}'")
        return described_entry(ref, ref, headers) if headers is not None else None

    async def look_up(self, rel_path: str) -> Named:
        """The file `rel_path` names (Get File Properties), else whether it is a directory
        (Get Directory Properties): a name is one or the other (NamedPaths)."""
        ref = self.join(rel_path)
        headers = await self._call(self.rest.file_properties(ref), f"file '{ref}'")
        if headers is not None:
            return Named(described_entry(ref, rel_path, headers), folder=False)
        folder = await self._call(self.rest.directory_exists(ref), f"directory '{ref}'")
        return Named(None, folder)

    def named_folder(self, rel_path: str, filters: NameFilter) -> AsyncIterator[Entry | Skipped]:
        """The files of the tree of directory `rel_path` (NamedPaths)."""
        return self.list_entries(self.join(rel_path), True, filters)

    async def open_reader(self, entry: Entry) -> FileReader:
        """A ranged reader that fails if the file changes while it is read."""
        return FileReader(self.rest, entry, self.explain)

    # -- destination side --------------------------------------------------------------------

    def check_writable(self) -> None:
        """A share can always be written (a share snapshot cannot, but is not addressed)."""

    async def prepare_destination(self, multiple: bool) -> None:
        """Check that the share exists (it is never created: a share is provisioned, with a
        quota), and create the destination directory when it receives several files."""
        status, code = await self._call(self.rest.share_status(), f"share {self.where}")
        if status == 404 or code == "ShareNotFound":
            raise ContainerMissing(f"share {self.where} does not exist")
        if status == 401 or (status == 403 and code in ("AuthenticationFailed", "")):
            what = f"share {self.where}"
            raise self.explain(classify_answer(ErrorAnswer(403, code, what), FILE_ERRORS), what)
        # Any other answer (a SAS scoped below the share may not read its properties) lets
        # the writes themselves tell.
        path = self.location.path.strip("/")
        if multiple and path:
            await self._call(self.directories.ensure(path), f"directory '{path}'")

    async def target_for_single(self, source_name: str) -> str:
        """The file a single source is written to: inside the path if it is a directory,
        else the path itself."""
        path = self.location.path
        if not path or path.endswith("/"):
            return path + source_name
        if await self._call(self.rest.directory_exists(path), f"directory '{path}'"):
            self.directories.known(path)
            return f"{path}/{source_name}"
        return path

    async def make_directory(self, ref: str, entry: Entry, props: WriteProps) -> None:
        """Make the directory `ref` and its missing parents, once per job (`Directories`),
        with the SMB properties of `props` (share to share: the source directory's)."""
        path = ref.strip("/")
        if not path:
            return
        smb = await self._directory_smb(props)
        asked = await self._call(self.directories.ensure(path, smb), f"directory '{path}'")
        kept_time = file_props(props).last_write_time not in (None, "now")
        if smb and (kept_time or not asked):
            # Set again after the files: writing them moves its last-write time (and one a
            # file's writer made first got none of them).
            self._settle[path] = smb

    async def settle_directories(self) -> None:
        """Set Directory Properties again on the directories made with SMB properties, once
        their files are written (`SettledDirectories`), `_SETTLE_AT_ONCE` at a time."""
        settle, self._settle = self._settle, {}
        pending = iter(settle.items())
        while batch := list(itertools.islice(pending, _SETTLE_AT_ONCE)):
            await asyncio.gather(*(self._set_directory(path, smb) for path, smb in batch))

    async def _set_directory(self, path: str, smb: dict[str, str]) -> None:
        await self._call(self.rest.set_directory_properties(path, smb), f"directory '{path}'")

    async def _directory_smb(self, props: WriteProps) -> dict[str, str] | None:
        """The SMB headers a directory is made with (None: the service's defaults)."""
        props = await self._with_permission(props)
        smb = file_props(props)
        headers = smb_headers(smb)
        if smb.last_write_time:
            headers["x-ms-file-last-write-time"] = smb.last_write_time
        return headers or None

    def name_rules(self) -> NameRules:
        """Azure Files names: SMB's forbidden characters, case-insensitive (DestinationNames)."""
        return SMB_NAME_RULES

    def join(self, rel_path: str) -> str:
        """The file path for a path relative to the destination directory."""
        prefix = self.location.path.strip("/")
        return f"{prefix}/{rel_path}" if prefix else rel_path

    async def open_writer(
        self, transfer: Transfer, size: int, props: WriteProps, block_size: int
    ) -> FileWriter:
        """A writer of the file `transfer.dest_ref`, its directories created first."""
        if size > MAX_FILE_SIZE:
            raise TransferError(
                f"'{transfer.source.ref}' is larger than a file share allows (4 TiB)"
            )
        parent = transfer.dest_ref.rpartition("/")[0]
        props = await self._with_permission(props)
        return FileWriter(
            self.rest,
            transfer,
            size,
            props,
            block_size,
            lambda: self.directories.ensure(parent),
            self.explain,
        )

    async def delete_directory(self, ref: str) -> bool:
        """Delete directory `ref` if it is empty (DirectoryDeletes)."""
        return await self._call(self.rest.delete_directory(ref), f"directory '{ref}'")

    async def _with_permission(self, props: WriteProps) -> WriteProps:
        """`props` with the source file's permission key as this share's key (when permissions
        are carried over), else with none: a key names a descriptor in one share only."""
        smb = file_props(props)
        if not smb.permission_key:
            return props
        key = None
        if self._permissions is not None:
            what = f"the permission of '{smb.permission_key}'"
            key = await self._call(self._permissions.key_for(smb.permission_key), what)
        return replace(props, service=replace(smb, permission_key=key))

    async def set_metadata(self, ref: str, metadata: dict[str, str]) -> None:
        """Replace a file's metadata (MetadataSetter: set-properties --metadata)."""
        await self._call(self.rest.set_file_metadata(ref, metadata), f"file '{ref}'")

    async def delete(self, ref: str) -> None:
        """Delete a file (one already gone is fine)."""
        await self._call(self.rest.delete_file(ref), f"file '{ref}'")

    async def close(self) -> None:
        """The pool is closed by the job's connections."""

    async def _call(self, request: Awaitable[T], what: str) -> T:
        try:
            return await request
        except Exception as exc:
            raise self.explain(exc, what) from None


async def _one(entry: Entry) -> AsyncIterator[Entry | Skipped]:
    yield entry


async def _with_properties(
    found: AsyncIterator[Entry], describe: Callable[[Entry], Awaitable[Entry]]
) -> AsyncIterator[Entry]:
    """Each listed entry replaced by `describe(entry)`, up to `_STAT_AHEAD` asked at once,
    in listing order."""
    pending: asyncio.Queue[asyncio.Task[Entry] | None] = asyncio.Queue(_STAT_AHEAD)

    async def ask() -> None:
        try:
            async for entry in found:
                await pending.put(asyncio.ensure_future(describe(entry)))
        finally:
            await pending.put(None)

    feeder = asyncio.ensure_future(ask())
    try:
        while (task := await pending.get()) is not None:
            yield await task
        await feeder  # the listing's own error
    finally:
        feeder.cancel()
        while not pending.empty():
            task = pending.get_nowait()
            if task is not None:
                task.cancel()
