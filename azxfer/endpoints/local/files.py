"""Reading and writing one local file: ranged preads, and downloads written to a hidden
temporary file that is renamed into place on commit."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
from concurrent.futures import ThreadPoolExecutor

from azxfer.errors import IntegrityError, TransferError
from azxfer.models import Chunk, Entry, WriteProps

# Reads and writes below this size are cheaper inline than through a worker thread.
_INLINE_IO = 256 * 1024
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
