"""What a driver provides to take part in the contract suite, and the helpers the tests share."""

from __future__ import annotations

import asyncio
import enum
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from azxfer.endpoints.base import Destination, Endpoint, SortedListing, Writer
from azxfer.endpoints.copycaps import UrlSource, UrlTarget
from azxfer.errors import AzxferError, NotFoundError
from azxfer.models import Chunk, Entry, Skipped, Transfer, WriteProps
from azxfer.plan.filters import EntryFilter, FilterSpec

# Small chunks give multi-chunk objects without big data (the suite must stay fast).
CHUNK = 64 * 1024
NO_FILTER = EntryFilter(FilterSpec())


class Can(enum.StrEnum):
    """A part of the contract a driver claims, or offers as a capability Protocol of
    endpoints.base / endpoints.copycaps (`OFFERED`); a test that needs one it lacks is skipped."""

    LIST = "list"  # select() of a folder-like root enumerates it, recursively or one level
    # Offered (SortedListing): recursive listings, select()'s and sorted_entries(), come in
    # sync_key order (sync's merge).
    LIST_SORTED = "list_sorted"
    DESTINATION = "destination"  # offered (Destination): prepared, names what it receives
    URL_SOURCE = "url_source"  # offered (UrlSource): URLs another service can read
    URL_TARGET = "url_target"  # offered (UrlTarget): copies from another service's URLs
    STAT = "stat"  # stat(ref) gives the object's entry, None if there is none
    MD5 = "md5"  # stat and listings report the MD5 the service stores with an object
    READ = "read"  # ranged reads
    # A read running past the end gives the tail or fails at once, not after retries (the
    # engine never asks for one; the REST path and Web retry such a short answer).
    BOUNDED_READ = "bounded_read"
    DETECT_CHANGE = "detect_change"  # a source rewritten while read fails (IntegrityError)
    WRITE = "write"  # chunk writers: chunks, commit, abort, put_whole
    ATOMIC_COMMIT = "atomic_commit"  # nothing new shows under the final name before commit
    WRITE_MD5 = "write_md5"  # the MD5 given to commit/put_whole is stored with the object
    WRITE_CONTENT = "write_content"  # WriteProps' content type and metadata are stored
    WRITE_MTIME = "write_mtime"  # WriteProps.mtime becomes the object's modification time
    RESUME = "resume"  # chunks written before suspend() are found again by a new writer
    DELETE = "delete"  # delete(ref) removes an object; deleting a missing one is no error


# The capabilities a driver's class shows by implementing a Protocol: derived, never claimed.
OFFERED: dict[Can, type] = {
    Can.LIST_SORTED: SortedListing,
    Can.DESTINATION: Destination,
    Can.URL_SOURCE: UrlSource,
    Can.URL_TARGET: UrlTarget,
}


def offers(endpoint_type: type, protocol: type) -> bool:
    """Whether `endpoint_type` has every method of the capability Protocol `protocol` (as
    isinstance checks an instance of it: test_capabilities checks they agree)."""
    members = {name for name in vars(protocol) if not name.startswith("_")}
    return all(callable(getattr(endpoint_type, name, None)) for name in members)


def offered(endpoint_type: type) -> frozenset[Can]:
    """The capabilities `endpoint_type` offers by its Protocols."""
    return frozenset(can for can, protocol in OFFERED.items() if offers(endpoint_type, protocol))


def requires(*capabilities: Can) -> pytest.MarkDecorator:
    """Mark a test as needing these capabilities (see conftest: skipped without them)."""
    return pytest.mark.requires(*capabilities)


class DriverHarness(ABC):
    """One driver bound to a fresh, empty root of its service, plus the service's own means
    of seeding and inspecting objects (never the driver under test)."""

    # What select() raises for a root that does not exist (base.py allows these two).
    missing_root_error: ClassVar[type[AzxferError]] = NotFoundError
    # What a writer made by this harness is asked to create.
    write_props: WriteProps = WriteProps()
    # The service takes 'B' and 'b' for one name (Azure Files): trees hold only one of them.
    case_insensitive: ClassVar[bool] = False
    # What its registration claims (set by the `driver` fixture).
    capabilities: frozenset[Can] = frozenset()
    endpoint_type: type = object  # the driver's class (set by the `driver` fixture)

    async def start(self) -> None:
        """Open connections; runs inside the test's event loop (nothing to open here)."""
        return None

    async def stop(self) -> None:
        """Close what start() opened (nothing here)."""
        return None

    @abstractmethod
    async def root(self) -> Endpoint:
        """An endpoint bound to the fresh root (a folder, a container)."""

    @abstractmethod
    async def single(self, name: str) -> Endpoint:
        """An endpoint bound to the one object `name` (which may not exist)."""

    @abstractmethod
    async def missing_root(self) -> Endpoint:
        """An endpoint bound to a root that does not exist."""

    @abstractmethod
    def ref(self, name: str) -> str:
        """How the driver addresses object `name` ('/'-separated, relative to the root)."""

    @abstractmethod
    def put(self, name: str, data: bytes) -> None:
        """Create or replace object `name` by the service's own means."""

    @abstractmethod
    def get(self, name: str) -> bytes | None:
        """The bytes of object `name` by the service's own means, None if it is absent."""

    @abstractmethod
    def remove(self, name: str) -> None:
        """Delete object `name` by the service's own means."""

    def names(self) -> set[str]:
        """Every object under the root (temporary ones included), by the service's means."""
        raise NotImplementedError(f"{type(self).__name__} cannot list its root")


@dataclass(frozen=True)
class Driver:
    """One registered driver: its test id, how to make its harness, what it claims, and its
    endpoint class (which tells what it offers)."""

    id: str
    factory: Callable[[pytest.FixtureRequest], DriverHarness]
    claims: frozenset[Can]
    endpoint: type

    @property
    def capabilities(self) -> frozenset[Can]:
        """What it claims and what its class offers."""
        assert not self.claims & OFFERED.keys(), "offered capabilities are derived"
        return self.claims | offered(self.endpoint)


def drive(harness: DriverHarness, body: Callable[[DriverHarness], Awaitable[Any]]) -> Any:
    """Run `body(harness)` in a fresh event loop between the harness's start and stop."""

    async def main() -> Any:
        await harness.start()
        try:
            return await body(harness)
        finally:
            await harness.stop()

    return asyncio.run(main())


async def listed(
    endpoint: Endpoint, recursive: bool = True, filters: EntryFilter = NO_FILTER
) -> list[Entry | Skipped]:
    """Everything the endpoint's selection yields, in its order."""
    selection = await endpoint.select(recursive, filters, False)
    return [item async for item in selection.items]


async def read_all(endpoint: Endpoint, entry: Entry, piece: int = CHUNK) -> bytes:
    """The entry's bytes read in `piece`-sized ranges, then finish() and close()."""
    reader = await endpoint.open_reader(entry)
    try:
        parts = [
            await reader.read(offset, min(piece, entry.size - offset))
            for offset in range(0, entry.size, piece)
        ]
        await reader.finish()
    finally:
        await reader.close()
    return b"".join(parts)


async def writer_for(
    harness: DriverHarness, name: str, size: int, transfer_id: int = 1, chunk: int = CHUNK
) -> Writer:
    """A writer from the harness's root endpoint creating object `name` of `size` bytes."""
    endpoint = await harness.root()
    source = Entry(ref=f"source/{name}", rel_path=name, size=size)
    transfer = Transfer(transfer_id, source, harness.ref(name), name)
    return await endpoint.open_writer(transfer, size, harness.write_props, chunk)


def chunks_of(size: int, chunk_size: int) -> list[Chunk]:
    """The chunks of an object of `size` bytes, as the engine cuts them."""
    return [
        Chunk(index, offset, min(chunk_size, size - offset))
        for index, offset in enumerate(range(0, size, chunk_size))
    ]


def stored(writer: Writer, data: bytes) -> bytes:
    """What an object written with `writer` holds: the data, then any padding (page blobs)."""
    return data + bytes(writer.padded_size - len(data))


def md5(data: bytes) -> bytes:
    """The MD5 digest of `data`."""
    return hashlib.md5(data).digest()
