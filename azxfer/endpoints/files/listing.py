"""Files and directories as entries: from a List Directories and Files page or the headers of
Get File Properties; and the walk over a directory tree, several directories listed at once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fnmatch
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import unquote
from xml.etree import ElementTree

from msgspec import Struct

from azxfer.endpoints.base import NameFilter
from azxfer.endpoints.files.requests import parse_file_time
from azxfer.models import ContentProps, Entry, EntryKind, FileProps
from azxfer.transport.headers import Headers
from azxfer.transport.wire import quoted_etag

# Directories listed at once by one walk: enough to hide the round trips of a deep tree,
# few enough to leave the job's request slots to the transfers.
WALK_WIDTH = 8
# Entries found but not yet taken by the job: the walk waits beyond this (bounded memory).
WALK_AHEAD = 2000


class Page(Struct, frozen=True):
    """One page of a directory listing: its files (name, entry fields) and sub-directories
    (name, SMB properties)."""

    files: list[tuple[str, int, FileProps, str | None]]
    directories: list[tuple[str, FileProps]]
    next_marker: str


def parse_page(raw: bytes) -> Page:
    """A List Directories and Files page: files as (name, size, SMB properties, ETag)."""
    root = ElementTree.fromstring(raw)
    files: list[tuple[str, int, FileProps, str | None]] = []
    directories: list[tuple[str, FileProps]] = []
    entries = root.find("Entries")
    for item in entries if entries is not None else ():
        if item.tag not in ("File", "Directory"):
            continue
        node = item.find("Properties")
        props = {child.tag: child.text for child in node} if node is not None else {}
        smb = FileProps(
            attributes=item.findtext("Attributes") or None,
            creation_time=props.get("CreationTime"),
            last_write_time=props.get("LastWriteTime"),
            change_time=props.get("ChangeTime"),
            permission_key=item.findtext("PermissionKey") or None,
        )
        if item.tag == "Directory":
            directories.append((_name(item), smb))
            continue
        size = int(props.get("Content-Length") or 0)
        files.append((_name(item), size, smb, quoted_etag(props.get("Etag"))))
    return Page(files, directories, root.findtext("NextMarker") or "")


def _name(item: ElementTree.Element) -> str:
    node = item.find("Name")
    name = (node.text if node is not None else None) or ""
    if node is not None and node.get("Encoded") == "true":
        # A name holding characters XML 1.0 cannot carry is sent percent-encoded.
        name = unquote(name)
    return name


def listed_entry(ref: str, rel: str, size: int, smb: FileProps, etag: str | None) -> Entry:
    """The entry of a listed file (its MD5 and content headers are not in a listing)."""
    mtime = parse_file_time(smb.last_write_time) if smb.last_write_time else None
    return Entry(ref, rel, size, mtime=mtime, etag=etag, service=smb)


def folder_entry(ref: str, rel: str, smb: FileProps | None, empty: bool) -> Entry:
    """The entry of a listed directory, with the SMB properties its parent's listing gave."""
    mtime = parse_file_time(smb.last_write_time) if smb and smb.last_write_time else None
    kind = EntryKind.EMPTY_FOLDER if empty else EntryKind.FOLDER
    return Entry(ref, rel, 0, mtime=mtime, service=smb, kind=kind)


def described_entry(ref: str, rel: str, headers: Headers) -> Entry:
    """The entry of a file from the headers of Get File Properties (or Get File)."""
    smb = FileProps(
        attributes=headers.get("x-ms-file-attributes"),
        creation_time=headers.get("x-ms-file-creation-time"),
        last_write_time=headers.get("x-ms-file-last-write-time"),
        change_time=headers.get("x-ms-file-change-time"),
        permission_key=headers.get("x-ms-file-permission-key"),
    )
    md5 = headers.get("Content-MD5")
    content = ContentProps(
        headers.get("Content-Type") or None,
        headers.get("Content-Encoding") or None,
        headers.get("Content-Language") or None,
        headers.get("Content-Disposition") or None,
        headers.get("Cache-Control") or None,
    )
    mtime = parse_file_time(smb.last_write_time) if smb.last_write_time else None
    return Entry(
        ref,
        rel,
        int(headers.get("Content-Length") or 0),
        mtime=mtime,
        md5=base64.b64decode(md5) if md5 else None,
        etag=quoted_etag(headers.get("ETag")),
        content=content,
        metadata=headers.with_prefix("x-ms-meta-") or None,
        service=smb,
    )


# Lists one page of a directory: (directory path in the share, marker) -> raw page.
ListPage = Callable[[str, str], Awaitable[bytes]]


class _Failed(Struct, frozen=True):
    error: BaseException


_DONE = object()


async def walk(
    list_page: ListPage,
    base: str,
    recursive: bool,
    filters: NameFilter,
    name_pattern: str | None = None,
    width: int = WALK_WIDTH,
    folders: bool = False,
    top_folders: bool = False,
) -> AsyncIterator[Entry]:
    """Every selected file under directory `base` of the share ('' : the root), rel_path
    relative to it, streamed as listed: up to `width` directories are listed at once, each
    page by page. Only names matching `name_pattern` are taken at the top level (files, and
    directories to descend into when recursive); filters apply while listing, so a directory
    no filter can select is never listed.

    `folders` (recursive walks): each directory below `base` is an entry too, yielded before
    anything under it, once its first page is read: `EMPTY_FOLDER` when that page is the only
    one and selects nothing, else `FOLDER` (folders are selected by path, as the local walk
    selects them).

    `top_folders` (one-level walks): the directories of `base` are entries too (`FOLDER`,
    selected by path), among its files."""
    found: asyncio.Queue[object] = asyncio.Queue(WALK_AHEAD)
    # Directories to list: (path relative to `base`, its SMB properties from its parent's page).
    todo: asyncio.Queue[tuple[str, FileProps | None]] = asyncio.Queue()
    todo.put_nowait(("", None))

    async def list_directory(rel_dir: str, own_smb: FileProps | None) -> None:
        path = f"{base}/{rel_dir}".strip("/") if rel_dir else base
        marker = ""
        first = True
        while True:
            page = parse_page(await list_page(path, marker))
            selected: list[Entry] = []
            for name, size, smb, etag in page.files:
                if not rel_dir and name_pattern and not fnmatch.fnmatchcase(name, name_pattern):
                    continue
                rel = f"{rel_dir}/{name}" if rel_dir else name
                entry = listed_entry(f"{path}/{name}" if path else name, rel, size, smb, etag)
                if filters.accepts(rel, entry.mtime):
                    selected.append(entry)
            below: list[tuple[str, FileProps]] = []
            if recursive:
                for name, dir_smb in page.directories:
                    if not rel_dir and name_pattern and not fnmatch.fnmatchcase(name, name_pattern):
                        continue
                    rel = f"{rel_dir}/{name}" if rel_dir else name
                    if filters.may_descend(rel):
                        below.append((rel, dir_smb))
            elif top_folders:
                for name, dir_smb in page.directories:
                    if name_pattern and not fnmatch.fnmatchcase(name, name_pattern):
                        continue
                    if filters.may_descend(name):
                        ref = f"{path}/{name}" if path else name
                        selected.append(folder_entry(ref, name, dir_smb, empty=False))
            if first and folders and rel_dir:
                empty = not selected and not below and not page.next_marker
                await found.put(folder_entry(path, rel_dir, own_smb, empty))
            first = False
            for entry in selected:
                await found.put(entry)
            for directory in below:
                todo.put_nowait(directory)
            marker = page.next_marker
            if not marker:
                return

    async def worker() -> None:
        while True:
            rel_dir, own_smb = await todo.get()
            try:
                await list_directory(rel_dir, own_smb)
            except Exception as exc:  # the walk's error, raised to its reader
                await found.put(_Failed(exc))
            finally:
                todo.task_done()

    async def finish() -> None:
        await todo.join()
        await found.put(_DONE)

    tasks = [asyncio.ensure_future(worker()) for _ in range(width)]
    tasks.append(asyncio.ensure_future(finish()))
    try:
        while (item := await found.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            assert isinstance(item, Entry)
            yield item
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
