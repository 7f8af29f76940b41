"""The contract every endpoint driver implements, and the plain data it exchanges.

A driver enumerates a selection of entries, looks one up, opens a ranged reader on a source
entry, opens a chunk writer for a destination object, and deletes. The engine owns ordering,
hashing, concurrency and memory; a driver only moves bytes for one request at a time.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import Protocol

from msgspec import Struct

from azxfer.models import Chunk, Entry, Skipped, Transfer, WriteProps


class NameFilter(Protocol):
    """Which listed names take part in a job (the planner's filters, applied while listing)."""

    def accepts(self, rel_path: str, mtime: float | None) -> bool:
        """Whether the entry at `rel_path`, last modified at `mtime`, is selected."""

    def may_descend(self, rel_dir: str) -> bool:
        """Whether anything under directory `rel_dir` could be selected."""


class SelectionKind(enum.Enum):
    """How a source location selected its entries; decides destination naming."""

    SINGLE = "single"  # one object: named after itself or the destination
    DIRECTORY = "directory"  # a folder/container/virtual directory: as-subdir applies
    PATTERN = "pattern"  # a wildcard or name prefix: names relative to its parent folder


class Selection(Struct):
    """What a source location selects: its kind, the folder name for as-subdir, the items."""

    kind: SelectionKind
    root_name: str
    items: AsyncIterator[Entry | Skipped]


class Reader(Protocol):
    """Ranged reads of one source entry."""

    async def read(self, offset: int, length: int) -> bytes:
        """Exactly `length` bytes at `offset` (fewer only at the end of the object)."""

    async def finish(self) -> None:
        """Raise IntegrityError if the source changed while it was read."""

    async def close(self) -> None:
        """Release resources; safe to call twice."""


class Writer(Protocol):
    """Writes one destination object in chunks and makes it visible only on commit."""

    chunk_size: int
    sequential: bool
    padded_size: int

    async def put_whole(self, data: bytes, md5: bytes) -> None:
        """Write and commit an object that fits in one chunk."""

    async def write_chunk(self, chunk: Chunk, data: bytes) -> None:
        """Write one chunk; chunks may arrive in any order unless `sequential`."""

    async def commit(self, md5: bytes) -> None:
        """Make the object visible under its final name with this MD5 recorded."""

    async def abort(self) -> None:
        """Discard what was written; never raises."""

    async def suspend(self) -> None:
        """Stop writing but keep what was written, for a later resume; never raises."""

    async def resumable_chunks(self, journaled: tuple[Chunk, ...]) -> set[int]:
        """Indices of chunks already at the destination (from the journal or the service)."""

    async def read_back(self, chunk: Chunk) -> bytes | None:
        """The bytes of a chunk already written, if they can be read locally, else None."""


class Endpoint(Protocol):
    """A driver bound to one location and credential."""

    async def select(
        self, recursive: bool, filters: NameFilter, follow_symlinks: bool
    ) -> Selection:
        """Resolve the location into a selection (raises NotFoundError / LocationError)."""

    async def stat(self, ref: str) -> Entry | None:
        """The entry at `ref`, or None if there is none."""

    async def open_reader(self, entry: Entry) -> Reader:
        """A ranged reader of `entry`."""

    async def open_writer(
        self, transfer: Transfer, size: int, props: WriteProps, block_size: int
    ) -> Writer:
        """A writer creating `transfer.dest_ref` of `size` bytes."""

    async def delete(self, ref: str) -> None:
        """Delete the object at `ref`."""

    async def close(self) -> None:
        """Release connections."""
