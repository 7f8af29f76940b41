"""An export's folder in a Blob container or virtual directory (`BlobFolder`), over the REST
fast path, with nothing of an export held on this machine's disk.

A data file's name holds its CRC, known only once the file is written, and a blob cannot be
renamed; Put Block List commits only blocks staged on the blob itself. So a data file is
written as blocks to a temporary blob (`…_<range>_<split>.partial`) while its CRC
accumulates, committed, then copied server side into its final name (Put Block From URL of
the temporary blob's ranges, then Put Block List: its bytes do not pass through this machine
again), and the temporary blob deleted. A data file no larger than one block never needs the
temporary blob: it is still in memory when its name is known, and is written by one Put Blob.

Reads check the ETag the verification pass saw, so an import writes exactly the bytes it
verified: a blob changed in between is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterator

from azxfer.credentials import Credential
from azxfer.endpoints.blob.copy import SourceAuthority
from azxfer.endpoints.blob.copy_rest import put_block_from_url
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.endpoints.blob.wire import md5_of
from azxfer.endpoints.denials import denied
from azxfer.errors import CredentialError, IntegrityError, UsageError
from azxfer.locations import Location
from azxfer.models import ContentProps, Entry
from azxfer.transport.wire import quoted_etag

# The block a data file is staged in, and the range a data file is read in: large enough that
# a request's overhead is small, small enough that a few in flight per range cost little memory.
BLOCK = 8 * 1024 * 1024
# Blocks of one data file being sent at once while the export goes on reading its table.
_BLOCKS_IN_FLIGHT = 2
# The range of the temporary blob each Put Block From URL copies: the largest every service
# version takes (100 MiB before 2019-12-12), so a 1 GiB data file is 11 requests.
COPY_RANGE = 100 * 1024 * 1024
# Put Block From URL requests of one data file at once.
_COPIES_IN_FLIGHT = 4
# Data files and manifests carry no content properties, as a local export's files carry none.
_PLAIN = ContentProps()


class BlobFolder:
    """An export's folder: the blobs under `location`'s container and virtual directory."""

    def __init__(
        self, rest: RestBlobClient, location: Location, credential: Credential | None
    ) -> None:
        self.rest = rest
        self.location = location
        self.container = location.container
        directory = location.path.strip("/")
        self.prefix = f"{directory}/" if directory else ""
        self.credential = credential or Credential("anonymous", location.account)
        self.authority = SourceAuthority(location, credential, rest)
        # What the first look at each blob saw (size, ETag): later reads must see the same.
        self._seen: dict[str, tuple[int, str | None]] = {}

    def display(self, name: str) -> str:
        return f"{self.location.url.rstrip('/')}/{name}"

    @contextlib.contextmanager
    def told(self) -> Iterator[None]:
        """A denial said in terms of the folder and the credential used."""
        try:
            yield
        except CredentialError as err:
            what = f"container '{self.container}'"
            raise CredentialError(denied(err, what, self.credential)) from None

    def blob(self, name: str) -> str:
        """The blob name of the folder's file `name`."""
        return self.prefix + name

    async def prepare(self) -> None:
        with self.told():
            status, _ = await self.rest.container_request("HEAD", self.container)
        if status in (401, 403):
            return  # a SAS for blobs alone may not read the container's properties
        if status == 404:
            status, code = await self.rest.container_request("PUT", self.container)
            if status >= 300 and code != "ContainerAlreadyExists":
                raise UsageError(
                    f"cannot create container '{self.container}' at {self.rest.endpoint}: "
                    f"{code or status}"
                )

    async def exists(self, name: str) -> bool:
        with self.told():
            return await self.rest.get_properties(self.container, self.blob(name)) is not None

    async def read_small(self, name: str) -> bytes:
        found = await self._look(name)
        if found is None:
            raise UsageError(f"{self.display(name)} does not exist")
        size, etag = found
        if size == 0:
            return b""
        return await self.rest.get_range(self.container, self.blob(name), 0, size, etag, True)

    async def write_small(self, name: str, data: bytes) -> None:
        md5 = await md5_of(data)
        await self.rest.put_blob(
            self.container, self.blob(name), data, md5, _PLAIN, None, None, None
        )

    async def open_data(self, partial: str) -> _BlobSink:
        return _BlobSink(self, partial)

    async def size(self, name: str) -> int | None:
        found = await self._look(name)
        return None if found is None else found[0]

    async def pieces(self, name: str) -> AsyncIterator[bytes]:
        found = await self._look(name)
        if found is None:
            raise IntegrityError(f"data file {self.display(name)} is missing")
        size, etag = found
        blob = self.blob(name)

        def read(offset: int) -> asyncio.Task[bytes]:
            length = min(BLOCK, size - offset)
            whole = length == size
            return asyncio.ensure_future(
                self.rest.get_range(self.container, blob, offset, length, etag, whole)
            )

        # One range read ahead: the next arrives while this one is parsed and imported.
        pending = read(0) if size else None
        try:
            offset = 0
            while pending is not None:
                following = offset + BLOCK
                ahead = read(following) if following < size else None
                piece = await pending
                pending, offset = ahead, following
                yield piece
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending

    async def _look(self, name: str) -> tuple[int, str | None] | None:
        """The size and ETag of `name` as first seen (None: missing)."""
        if name not in self._seen:
            with self.told():
                listed = await self.rest.get_properties(self.container, self.blob(name))
            if listed is None:
                return None
            self._seen[name] = (listed.size, quoted_etag(listed.etag))
        return self._seen[name]


class _BlobSink:
    """A data file being written: blocks staged on the temporary blob as they fill, a few at
    once, until `finish` knows the final name."""

    def __init__(self, folder: BlobFolder, partial: str) -> None:
        self.folder = folder
        self.rest = folder.rest
        self.partial = folder.blob(partial)
        self.buffer = bytearray()
        self.blocks: list[str] = []
        self.size = 0
        self.sending: list[asyncio.Task[None]] = []

    async def write(self, data: bytes) -> None:
        self.buffer += data
        with self.folder.told():
            while len(self.buffer) >= BLOCK:
                await self._stage(bytes(self.buffer[:BLOCK]))
                del self.buffer[:BLOCK]

    async def finish(self, name: str) -> None:
        try:
            with self.folder.told():
                await self._finish(self.folder.blob(name))
        except BaseException:
            # The export no longer holds this sink: its temporary blob is this one's to delete.
            await self.abort()
            raise

    async def _finish(self, final: str) -> None:
        if not self.blocks:
            # Never left memory: written under its final name at once.
            data = bytes(self.buffer)
            md5 = await md5_of(data)
            await self.rest.put_blob(
                self.folder.container, final, data, md5, _PLAIN, None, None, None
            )
            return
        if self.buffer:
            await self._stage(bytes(self.buffer))
            self.buffer.clear()
        await self._sent()
        container = self.folder.container
        await self.rest.put_block_list(container, self.partial, self.blocks)
        await self._copy(final)
        await self.rest.delete_blob(container, self.partial)

    async def abort(self) -> None:
        for task in self.sending:
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*self.sending, return_exceptions=True)
        if self.blocks:
            with contextlib.suppress(Exception):
                await self.rest.delete_blob(self.folder.container, self.partial)

    async def _stage(self, data: bytes) -> None:
        """Put Block of `data` as the next block, once fewer than the limit are in flight."""
        if len(self.sending) >= _BLOCKS_IN_FLIGHT:
            await self.sending.pop(0)
        block_id = _block_id(len(self.blocks))
        self.blocks.append(block_id)
        self.size += len(data)
        staged = self.rest.put_block(self.folder.container, self.partial, block_id, data)
        self.sending.append(asyncio.ensure_future(staged))

    async def _sent(self) -> None:
        # Kept until all are done: `abort` cancels those still running if one failed.
        await asyncio.gather(*self.sending)
        self.sending = []

    async def _copy(self, final: str) -> None:
        """Copy the committed temporary blob into `final`, server side, range by range."""
        entry = Entry(self.partial, self.partial, self.size)
        source = await self.folder.authority.source(entry)
        headers = source.source_headers()
        slots = asyncio.Semaphore(_COPIES_IN_FLIGHT)
        offsets = range(0, self.size, COPY_RANGE)
        ids = [_block_id(index) for index in range(len(offsets))]

        async def one(block_id: str, offset: int) -> None:
            length = min(COPY_RANGE, self.size - offset)
            async with slots:
                await put_block_from_url(
                    self.rest, self.folder.container, final, block_id, source.url, offset,
                    length, source_headers=headers,
                )  # fmt: skip

        copies: list[Awaitable[None]] = [one(b, o) for b, o in zip(ids, offsets, strict=True)]
        await asyncio.gather(*copies)
        await self.rest.put_block_list(self.folder.container, final, ids)


def _block_id(index: int) -> str:
    # One length for every ID of a blob, as the service requires.
    return f"azxfer-table-{index:08d}"
