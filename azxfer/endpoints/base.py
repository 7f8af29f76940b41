"""The contract every endpoint driver implements, and the plain data it exchanges.

A driver enumerates a selection of entries, looks one up, opens a ranged reader on a source
entry, opens a chunk writer for a destination object, and deletes (`Endpoint`). The engine
owns ordering, hashing, concurrency and memory; a driver only moves bytes for one request at a
time.

What a driver may offer beyond that is a capability, a small Protocol of its own (below
`Endpoint`): being a destination, names its service stores differently, a sorted listing,
zero-copy streaming, URLs another service can read, copies from such URLs, local files.
Callers choose by capability, never by the driver's class; the ones checked at run time (once
per job, never per chunk) are `runtime_checkable`. The capabilities of server-side copies are
in `endpoints.copycaps`, those of bulk jobs (remove, set-properties) in `endpoints.bulkcaps`.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, runtime_checkable

from msgspec import Struct

from azxfer.errors import UsageError
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


# -- capabilities -----------------------------------------------------------------------------


@runtime_checkable
class Destination(Protocol):
    """A location objects can be written to: made ready once, and naming what it receives."""

    def check_writable(self) -> None:
        """Raise LocationError if the location can never be written (nothing is sent)."""

    async def prepare_destination(self, multiple: bool) -> None:
        """Make the location ready for one object, or for `multiple` (a folder, a container)."""

    async def target_for_single(self, source_name: str) -> str:
        """The ref a single source object named `source_name` is written to."""

    def join(self, rel_path: str) -> str:
        """The ref of a '/'-separated path relative to the location."""


class NameRules(Struct, frozen=True):
    """What names a destination's service stores as given: plain data, so the planner builds
    the namer that applies them (`azxfer.plan.namers.namer_for`). Lengths count UTF-16 code
    units; 0 means no limit."""

    separators: str = ""  # characters the service stores as '/' (Blob: '\\')
    forbidden: str = ""  # characters refused in a name (besides control characters)
    no_controls: bool = False  # U+0000-U+001F and U+007F refused
    no_trailing: str = ""  # characters no path component may end with
    case_insensitive: bool = False  # names differing only in case are one name
    max_component: int = 0
    max_path: int = 0


# Azure Files (SMB) names: case-insensitive, case-preserving; the documented limits of the
# File service ("Naming and referencing shares, directories, files, and metadata").
SMB_NAME_RULES = NameRules(
    forbidden='"\\:|<>*?',
    no_controls=True,
    no_trailing=". ",
    case_insensitive=True,
    max_component=255,
    max_path=2048,
)


@runtime_checkable
class DestinationNames(Protocol):
    """A destination whose service cannot store every name as it is given."""

    def name_rules(self) -> NameRules:
        """The rules its names follow (the planner translates and checks names by them)."""


class DestinationEndpoint(Endpoint, Destination, Protocol):
    """A driver that can be a destination."""


def as_destination(endpoint: Endpoint) -> DestinationEndpoint:
    """`endpoint` as a destination (the job's pair of services was checked before, so a driver
    that cannot be written is a usage error here only if that check missed it)."""
    if not isinstance(endpoint, Destination):
        raise UsageError("the destination cannot be written to")
    return endpoint  # type: ignore[return-value]


@runtime_checkable
class Directories(Protocol):
    """A destination with real folders (a local file system, an Azure file share), which a
    job makes as things it moves: an empty source folder arrives empty.

    `make_directory` must be idempotent (an existing folder is success: a resumed job makes
    again the folders its earlier run may have made), make the missing parents of `ref`
    itself (the job makes each folder once, as its listing finds it, and several at a time
    across branches, so a child may come before its parent's request has finished), and
    raise our errors (azxfer.errors), classified, like a writer. A file's writer must not
    rely on the folder entry of its parent having been made first.
    """

    async def make_directory(self, ref: str, entry: Entry, props: WriteProps) -> None:
        """Make the folder at `ref` (as `join` names it) for the source folder `entry`, with
        the properties the planner chose (a share's: its SMB properties)."""


@runtime_checkable
class SettledDirectories(Protocol):
    """A destination whose folders must be given their properties again once the job has
    written their files: writing into a folder moves its last-write time (Azure Files, as
    NTFS does), so a folder made first would not keep its source's."""

    async def settle_directories(self) -> None:
        """Set again the properties of the folders this job made (after all its files)."""


@runtime_checkable
class FolderSource(Protocol):
    """A source that can list its folders as entries (`EntryKind.FOLDER` / `EMPTY_FOLDER`).

    A job sets `lists_folders` before it selects or lists: only then do folders come, each
    before what lies under it, in the order of the listing (sorted listings: as `walk_sort_key`
    orders a folder, as its name followed by '/'). Only recursive selections list folders.
    """

    lists_folders: bool


def sync_key(rel_path: str) -> bytes:
    """The merge key of a relative path: its UTF-8 bytes (undecodable local names keep their
    original bytes through surrogateescape). Bytes compare as Blob storage orders names."""
    try:
        return rel_path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return rel_path.encode("utf-8", "surrogatepass")


def walk_sort_key(name: str, is_dir: bool) -> bytes:
    """How a directory walk must order the entries of one folder so that the walk yields
    relative paths in `sync_key` order: a folder sorts as its name followed by '/' (every path
    under it starts so), a file as its name. Sorting by plain names would put 'a/x' before
    'a-b' and 'a.txt', which Blob storage lists first ('-' and '.' are below '/')."""
    return sync_key(name + "/" if is_dir else name)


# The order of one folder's entries in a walk: (name, is a folder) -> sort key. A walk that
# orders every folder so yields paths in the order of the matching path key (`walk_sort_key`
# for `sync_key`; `plan.sync` has the case-folded pair).
WalkKey = Callable[[str, bool], bytes]


@runtime_checkable
class SortedListing(Protocol):
    """A recursive listing in `sync_key` order, as sync's merge join needs it."""

    def sorted_entries(self, filters: NameFilter) -> AsyncIterator[Entry | Skipped]:
        """Every selected object under the location (NotFoundError: there is no location)."""


@runtime_checkable
class OrderedListing(Protocol):
    """A recursive listing that orders each folder itself, by a key the caller gives (a
    service listed one directory at a time, as Azure Files is): so a sync can merge it in the
    order a case-insensitive destination compares names, not only in `sync_key` order."""

    def ordered_entries(
        self, filters: NameFilter, walk_key: WalkKey
    ) -> AsyncIterator[Entry | Skipped]:
        """As `sorted_entries`, each folder's entries ordered by `walk_key(name, is_dir)`."""


@runtime_checkable
class DirectoryDeletes(Protocol):
    """A destination with real folders that can delete one (a sync's folders the source
    lacks, after their files)."""

    async def delete_directory(self, ref: str) -> bool:
        """Delete the folder at `ref` if it is empty (one already gone is fine); False if
        something is still in it (it stays)."""


@runtime_checkable
class LocalFiles(Protocol):
    """Files of this machine, which sync walks itself (sorted, with the job's hash cache)."""

    path: str  # the folder or file
    pattern: str | None  # a wildcard in the last component


# `write_at(position, piece)`: write a piece of a chunk at its position in the object.
WriteAt = Callable[[int, bytes], Awaitable[None]]


class StreamingReader(Protocol):
    """A reader that hands a range on piece by piece, never holding it whole."""

    async def read_to(self, offset: int, length: int, consume: WriteAt) -> None:
        """Await `consume(position, piece)` for every piece of the range, in order."""


class StoredDigest(Protocol):
    """A reader that learns, from the service's answers, the MD5 it stores for the whole
    object (Azure Files reports it on every read; its listing does not). Looked up by
    getattr, once per file."""

    stored_md5: bytes | None  # None until an answer reported one


class PositionalWriter(Protocol):
    """A writer taking pieces at any position (and so able to read back every chunk)."""

    async def write_at(self, position: int, piece: bytes) -> None:
        """Write `piece` at `position`."""
