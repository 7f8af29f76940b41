"""The local file system driver: walks folders, reads with pread, writes atomically.

Downloads go to a hidden temporary file beside the final one and are renamed into place only
on commit, so an interrupted or failed download never leaves a file under the final name.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fnmatch
import os
import stat as stat_mod
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

from azxfer.endpoints.base import NameFilter, Selection, SelectionKind
from azxfer.errors import IntegrityError, LocationError, TransferError
from azxfer.models import Chunk, Entry, Skipped, Transfer, WriteProps

# Reads and writes below this size are cheaper inline than through a worker thread.
_INLINE_IO = 256 * 1024
_WALK_BATCH = 256
_WALK_AHEAD = 8
# Chunk reads run on their own two threads. Each thread that allocates gets its own malloc
# arena, and an arena keeps the chunks freed into it: reading on every worker thread of the
# default pool left peak RSS 50-60 MB further above the memory budget (up-large, 2 cores).
# Two threads keep the page cache (or a disk's readahead) ahead of the network.
_READ_THREADS = 2
_read_pool: ThreadPoolExecutor | None = None


def _reads() -> ThreadPoolExecutor:
    global _read_pool
    if _read_pool is None:
        _read_pool = ThreadPoolExecutor(_READ_THREADS, thread_name_prefix="azxfer-read")
    return _read_pool


class LocalEndpoint:
    """A driver for one local path (file, folder, or wildcard in the last component)."""

    def __init__(self, path: str, pattern: str | None = None, temp_tag: str = "azxfer") -> None:
        self.path = path
        self.pattern = pattern
        self.temp_tag = temp_tag

    # -- source side -------------------------------------------------------------------------

    async def select(
        self, recursive: bool, filters: NameFilter, follow_symlinks: bool
    ) -> Selection:
        """Resolve the local location into a selection; a missing path is a LocationError."""
        walker = Walker(filters, recursive, follow_symlinks)
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
        entry = _entry(os.path.abspath(self.path), os.path.basename(self.path), st)
        return Selection(SelectionKind.SINGLE, "", _single(entry))

    async def open_reader(self, entry: Entry) -> LocalReader:
        """A pread-based reader that notices if the file changes while it is read."""
        try:
            fd = os.open(entry.ref, os.O_RDONLY)
        except OSError as exc:
            raise TransferError(f"cannot open {entry.ref}: {exc.strerror}") from None
        return LocalReader(fd, entry)

    # -- destination side --------------------------------------------------------------------

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
        return _entry(ref, os.path.basename(ref), st)

    async def open_writer(
        self, transfer: Transfer, size: int, props: WriteProps, block_size: int
    ) -> LocalWriter:
        """A writer to a temporary file renamed over `transfer.dest_ref` on commit."""
        return LocalWriter(transfer.dest_ref, size, props, block_size, self.temp_tag, transfer.id)

    async def delete(self, ref: str) -> None:
        """Remove a local file."""
        try:
            os.unlink(ref)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise TransferError(f"cannot delete {ref}: {exc.strerror}") from None

    async def close(self) -> None:
        """Nothing to release."""


class LocalReader:
    """Ranged reads of one local file by pread."""

    def __init__(self, fd: int, entry: Entry) -> None:
        self.fd = fd
        self.entry = entry

    async def read(self, offset: int, length: int) -> bytes:
        """`length` bytes at `offset`; a short read means the file shrank."""
        if length <= _INLINE_IO:
            data = os.pread(self.fd, length, offset)
        else:
            loop = asyncio.get_running_loop()
            data = await loop.run_in_executor(_reads(), os.pread, self.fd, length, offset)
        if len(data) != length:
            raise IntegrityError(f"{self.entry.ref} shrank while it was being read")
        return data

    async def finish(self) -> None:
        """Fail if size or modification time changed since enumeration."""
        st = os.fstat(self.fd)
        if st.st_size != self.entry.size or (
            self.entry.mtime is not None and st.st_mtime != self.entry.mtime
        ):
            raise IntegrityError(f"{self.entry.ref} changed while it was being transferred")

    async def close(self) -> None:
        """Close the file descriptor."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class LocalWriter:
    """Writes chunks into `.NAME.TAG-N.part` beside the target; rename on commit."""

    sequential = False

    def __init__(
        self, target: str, size: int, props: WriteProps, block_size: int, tag: str, transfer_id: int
    ) -> None:
        self.target = target
        self.size = size
        self.padded_size = size
        self.chunk_size = block_size
        self.props = props
        folder, name = os.path.split(target)
        self.temp = os.path.join(folder, f".{name[:200]}.{tag}-{transfer_id}.part")
        self.fd = -1

    def _open(self, truncate: bool = True) -> None:
        if self.fd >= 0:
            return
        folder = os.path.dirname(self.target)
        flags = os.O_RDWR | os.O_CREAT | (os.O_TRUNC if truncate else 0)
        try:
            self.fd = os.open(self.temp, flags, 0o644)
        except FileNotFoundError:
            # The folder does not exist yet: create it only then (not a stat per file).
            try:
                os.makedirs(folder, exist_ok=True)
                self.fd = os.open(self.temp, flags, 0o644)
            except OSError as exc:
                raise TransferError(f"cannot write {self.target}: {exc.strerror}") from None
        except OSError as exc:
            raise TransferError(f"cannot write {self.target}: {exc.strerror}") from None

    async def resumable_chunks(self, journaled: tuple[Chunk, ...]) -> set[int]:
        """Journaled chunks that the partial file left by an earlier run really holds."""
        try:
            have = os.stat(self.temp).st_size
        except OSError:
            return set()
        self._open(truncate=False)
        return {c.index for c in journaled if c.offset + c.length <= have}

    async def read_back(self, chunk: Chunk) -> bytes | None:
        """Read a chunk back from the partial file."""
        self._open(truncate=False)
        data = os.pread(self.fd, chunk.length, chunk.offset)
        if len(data) != chunk.length:
            raise TransferError(f"the partial download of {self.target} is shorter than recorded")
        return data

    async def suspend(self) -> None:
        """Close the partial file and keep it for a resume."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    async def put_whole(self, data: bytes, md5: bytes) -> None:
        """Write the whole file and commit it."""
        await self.write_chunk(Chunk(0, 0, len(data)), data)
        await self.commit(md5)

    async def write_chunk(self, chunk: Chunk, data: bytes) -> None:
        """pwrite one chunk at its offset."""
        await self.write_at(chunk.offset, data)

    async def write_at(self, offset: int, data: bytes) -> None:
        """pwrite bytes at `offset`: a whole chunk, or a piece of one as a streamed download
        hands it over (pieces are small, so they are written inline, without a thread hop)."""
        self._open()
        try:
            if len(data) <= _INLINE_IO:
                _write_all(self.fd, data, offset)
            else:
                await asyncio.to_thread(_write_all, self.fd, data, offset)
        except OSError as exc:
            raise TransferError(f"cannot write {self.target}: {exc.strerror}") from None

    async def commit(self, md5: bytes) -> None:
        """Close, set the modification time if asked, and rename into place."""
        self._open()
        try:
            os.close(self.fd)
            self.fd = -1
            if self.props.mtime is not None:
                os.utime(self.temp, (self.props.mtime, self.props.mtime))
            os.replace(self.temp, self.target)
        except OSError as exc:
            await self.abort()
            # Checked only now, not with a stat before every file is written.
            if os.path.isdir(self.target):
                raise TransferError(f"a folder already exists at {self.target}") from None
            raise TransferError(f"cannot write {self.target}: {exc.strerror}") from None

    async def abort(self) -> None:
        """Close and remove the temporary file."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        with contextlib.suppress(OSError):
            os.unlink(self.temp)


def _write_all(fd: int, data: bytes, offset: int) -> None:
    """pwrite all of `data`: a short write (file size limit, full disk) is an error, never a
    silently shorter file."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        if written == 0:
            raise OSError(errno.ENOSPC, "no space left (short write)")
        view, offset = view[written:], offset + written


def _entry(ref: str, rel_path: str, st: os.stat_result) -> Entry:
    return Entry(ref=ref, rel_path=rel_path, size=st.st_size, mtime=st.st_mtime)


async def _single(entry: Entry) -> AsyncIterator[Entry | Skipped]:
    yield entry


class Walker:
    """A synchronous directory walk (run in a thread) applying filters and symlink rules."""

    def __init__(self, filters: NameFilter, recursive: bool, follow_symlinks: bool) -> None:
        self.filters = filters
        self.recursive = recursive
        self.follow = follow_symlinks

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
                return
            key = _dir_key(st)
            if key in ancestors:
                yield Skipped(item.path, rel, "symbolic link loop")
                return
            yield from self._scan(item.path, rel, ancestors | {key})
        elif stat_mod.S_ISREG(st.st_mode):
            if self.filters.accepts(rel, st.st_mtime):
                yield _entry(item.path, rel, st)
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
