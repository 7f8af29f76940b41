"""Writing one file of a share: Create File with its full size, Put Range per chunk (in
parallel, each with a transactional MD5), then Set File Properties with the whole-file MD5,
the content headers and the source's last-write time.

Until that commit the file's last-write time is 1601-01-01 (`UNFINISHED_TIME`): a
half-written file never looks newer than its source to sync, and a resume recognises a file
it may continue (a complete file of the same size never carries that time).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from xml.etree import ElementTree

from azxfer.endpoints.files.requests import (
    MAX_RANGE,
    UNFINISHED_TIME,
    format_file_time,
    smb_headers,
)
from azxfer.endpoints.files.rest import FileRestClient
from azxfer.models import Chunk, Transfer, WriteProps, file_props
from azxfer.transport.wire import md5_of

Explain = Callable[[BaseException, str], BaseException]


class FileWriter:
    """A `Writer` of one file; chunks of at most 4 MiB (Put Range's limit), in any order."""

    sequential = False

    def __init__(
        self,
        rest: FileRestClient,
        transfer: Transfer,
        size: int,
        props: WriteProps,
        block_size: int,
        parent_ready: Callable[[], Awaitable[object]],
        explain: Explain,
    ) -> None:
        """`parent_ready()`: returns once the file's directory exists."""
        self.rest = rest
        self.path = transfer.dest_ref
        self.size = size
        self.padded_size = size
        self.chunk_size = min(block_size, MAX_RANGE)
        self.props = props
        mtime = transfer.source.mtime if props.mtime is None else props.mtime
        smb = file_props(props)
        # SMB properties to write (share -> share keeps them): on Create File, and again at
        # the commit, which would otherwise move the change time.
        self.smb = smb_headers(smb)
        # The source's last-write time is kept (local -> share keeps mtime), exactly as a share
        # gave it when it did; without one the file is as new as its commit.
        if smb.last_write_time:
            self.last_write_time = smb.last_write_time
        else:
            self.last_write_time = format_file_time(mtime) if mtime is not None else "now"
        self.parent_ready = parent_ready
        self.explain = explain
        self.what = f"file '{self.path}'"
        self._created: asyncio.Future[None] | None = None

    async def put_whole(self, data: bytes, md5: bytes | None) -> None:
        """A file of one chunk: created, written and committed. A 0-byte file is created
        complete in one request (there is nothing to half-write)."""
        if not data:
            await self._call(self._create_complete(md5))
            return
        await self._ensure_created()
        await self._call(self.rest.put_range(self.path, 0, data, await md5_of(data)))
        await self.commit(md5)

    async def write_chunk(self, chunk: Chunk, data: bytes) -> None:
        """Put Range of this chunk (the file is created by the first chunk to get here)."""
        await self._ensure_created()
        md5 = await md5_of(data)
        await self._call(self.rest.put_range(self.path, chunk.offset, data, md5))

    async def commit(self, md5: bytes | None) -> None:
        """Set File Properties: the whole-file MD5 (None: a server-side copy of a source
        without one), every content header again (the call replaces them), the SMB properties
        and the source's last-write time, which marks the file finished."""
        await self._ensure_created()
        content = self.props.content
        request = self.rest.set_properties(self.path, content, md5, self.last_write_time, self.smb)
        await self._call(request)

    async def create(self) -> None:
        """Create File, once, as the first chunk would (a copy then writes its ranges)."""
        await self._ensure_created()

    def exists(self) -> None:
        """The file was made otherwise (by Copy File): commit sets its properties only, and
        abort removes it."""
        self._created = _done()

    async def abort(self) -> None:
        """Delete what was created, so a partial file cannot pass for a complete one."""
        if self._created is not None:
            with contextlib.suppress(Exception):
                await self.rest.delete_file(self.path)

    async def suspend(self) -> None:
        """Keep the partial file for a resume (its last-write time says it is unfinished)."""

    async def resumable_chunks(self, journaled: tuple[Chunk, ...]) -> set[int]:
        """Chunks the service holds: the file must be this job's unfinished one (its size,
        and the 1601 last-write time of `UNFINISHED_TIME`), and each chunk wholly inside
        the ranges it lists. The service is the authority, as Blob's block list is: a range
        written just before a crash, too late to be journaled, is found here too."""
        try:
            headers = await self.rest.file_properties(self.path)
            if headers is None or int(headers.get("Content-Length") or -1) != self.size:
                return set()
            written = headers.get("x-ms-file-last-write-time") or ""
            if written[:10] != UNFINISHED_TIME[:10]:
                return set()
            ranges = parse_ranges(await self.rest.range_list(self.path))
        except Exception as exc:
            raise self.explain(exc, self.what) from None
        self._created = _done()
        done = set()
        for index, offset in enumerate(range(0, self.size, self.chunk_size)):
            end = min(offset + self.chunk_size, self.size)
            if any(start <= offset and end <= stop for start, stop in ranges):
                done.add(index)
        return done

    async def read_back(self, chunk: Chunk) -> bytes | None:
        """Never read back: the engine reads the source again instead."""
        return None

    async def _ensure_created(self) -> None:
        if self._created is None:
            self._created = asyncio.ensure_future(self._create())
        await asyncio.shield(self._created)

    async def _create(self) -> None:
        await self._call(self.parent_ready())
        props = self.props
        request = self.rest.create_file(
            self.path, self.size, props.content, props.metadata, smb=self.smb
        )
        await self._call(request)

    async def _create_complete(self, md5: bytes | None) -> None:
        await self.parent_ready()
        props = self.props
        self._created = _done()
        await self.rest.create_file(
            self.path, 0, props.content, props.metadata, md5, self.last_write_time, self.smb
        )

    async def _call(self, request: Awaitable[None]) -> None:
        try:
            await request
        except Exception as exc:
            raise self.explain(exc, self.what) from None


def parse_ranges(raw: bytes) -> list[tuple[int, int]]:
    """The [start, stop) byte ranges of a List Ranges answer."""
    ranges = []
    for item in ElementTree.fromstring(raw).iter("Range"):
        start, end = item.findtext("Start"), item.findtext("End")
        if start is not None and end is not None:
            ranges.append((int(start), int(end) + 1))
    return ranges


def _done() -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future
