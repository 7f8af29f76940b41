"""The contract every endpoint driver implements, and the plain data it exchanges.

A driver enumerates a selection of entries, looks one up, opens a ranged reader on a source
entry, opens a chunk writer for a destination object, and deletes (`Endpoint`). The engine
owns ordering, hashing, concurrency and memory; a driver only moves bytes for one request at a
time.

What a driver may offer beyond that is a capability, a small Protocol of its own (below
`Endpoint`): being a destination, names its service stores differently, a sorted listing,
zero-copy streaming, URLs another service can read, copies from such URLs, local files.
Callers choose by capability, never by the driver's class; the ones checked at run time (once
per job, never per chunk) are `runtime_checkable`.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from msgspec import Struct

from azxfer.errors import AzxferError, UsageError
from azxfer.events import EventSink
from azxfer.models import Chunk, Entry, Planned, Skipped, Transfer, WriteProps


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


# What a bulk remove does with a blob's snapshots: None (a blob that has some fails, as the
# service says), "include" (the blob and its snapshots), "only" (the snapshots; the blob stays).
SnapshotRule = str | None

# The outcome of one object of a bulk operation: None when done, else why not.
BulkOutcome = AzxferError | None


@runtime_checkable
class BatchDeleter(Protocol):
    """A service that deletes many objects in one request (Blob Batch) and knows snapshots.

    Answers one outcome per entry, in order; an object already gone counts as deleted (a resumed
    job deletes again what its killed run may have deleted). One failing fails only itself."""

    batch_size: int  # entries per call that make one request

    async def delete_many(
        self, entries: Sequence[Entry], snapshots: SnapshotRule
    ) -> list[BulkOutcome]:
        """Delete each object of `entries` (with `snapshots`; an entry that is itself a
        snapshot or version is deleted alone)."""


@runtime_checkable
class TierSetter(Protocol):
    """Objects with an access tier that can be changed in place (Set Blob Tier, batched)."""

    batch_size: int

    async def set_tiers(
        self, entries: Sequence[Entry], tier: str, rehydrate: str | None
    ) -> list[BulkOutcome]:
        """Give each entry `tier` (from Archive with `rehydrate` priority, if given)."""


@runtime_checkable
class MetadataSetter(Protocol):
    """Objects whose metadata can be replaced in place (Set Blob Metadata)."""

    async def set_metadata(self, ref: str, metadata: dict[str, str]) -> None:
        """Replace the object's metadata with `metadata` (empty: none)."""


@runtime_checkable
class TagSetter(Protocol):
    """Objects whose index tags can be replaced in place (Set Blob Tags)."""

    async def set_tags(self, ref: str, tags: dict[str, str]) -> None:
        """Replace the object's tags with `tags` (empty: none)."""


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


class CopySource(Struct, frozen=True):
    """An object as another service will read it: `url` carries read authorization, or
    `authorization` does (an Entra ID token, "Bearer ...", for the request's
    x-ms-copy-source-authorization header); both are secrets, never shown, logged or
    journaled. `token_intent` ("backup"): a file share's object read with a token, which the
    service reading it must say it reads with backup semantics (x-ms-file-request-intent)."""

    url: str
    entry: Entry
    authorization: str | None = None
    token_intent: str | None = None

    def source_headers(self) -> dict[str, str]:
        """The headers a From-URL request adds so its service may read the source."""
        headers: dict[str, str] = {}
        if self.authorization:
            headers["x-ms-copy-source-authorization"] = self.authorization
        if self.token_intent:
            headers["x-ms-file-request-intent"] = self.token_intent
        return headers

    def __repr__(self) -> str:
        return f"CopySource({self.entry.key!r})"


@runtime_checkable
class UrlSource(Protocol):
    """A source whose objects another service can read by URL."""

    def url_unreadable(self) -> str | None:
        """None if other services can read this source's URLs, else why not (a notice)."""

    async def copy_source(self, entry: Entry) -> CopySource:
        """`entry` (its snapshot or version included) as a URL with read authorization (in
        the URL, or a token for the copy request's x-ms-copy-source-authorization)."""


@runtime_checkable
class SourceLeases(Protocol):
    """A source that can keep an object from changing while it is copied."""

    def leased(self, entry: Entry) -> AbstractAsyncContextManager[None]:
        """Hold `entry` unchanged by others for the body, then let go."""


@runtime_checkable
class SecurityDescriptors(Protocol):
    """Storage whose files carry security descriptors (SDDL) that it names by its own keys
    (an Azure Files share), so a copy between two of them can carry permissions over."""

    async def permission(self, key: str) -> str:
        """The security descriptor that `key` names here."""

    def carry_permissions_from(self, source: SecurityDescriptors) -> None:
        """Give each file written here the permission its source file has in `source`."""


@runtime_checkable
class SourceTags(Protocol):
    """A source storing index tags with its objects."""

    async def tags(self, entry: Entry) -> dict[str, str]:
        """The tags of `entry`."""


class CopyKind(enum.Enum):
    """How a copy method moves data, as --s2s-mode names it."""

    URL = "url"  # synchronous requests that read the source's URL
    ASYNC = "async"  # the service copies on its own, polled until done


class RequestSlot(Protocol):
    """One of the job's request slots, held for the body of an `async with`."""

    async def __aenter__(self) -> None: ...

    async def __aexit__(self, *exc: object) -> None: ...


class CopyContext(Protocol):
    """What a copy method uses of the job: request slots, stop, events, the chunk journal."""

    requests: RequestSlot
    sink: EventSink
    stop: asyncio.Event
    record_chunk: Callable[[int, Chunk], None]


class CopyRecorder(Protocol):
    """Where a copy method records that its transfer started (the job journal)."""

    def started(self, transfer: Transfer, chunk_size: int) -> None:
        """The transfer starts writing chunks of `chunk_size`."""


# Asked on a 5xx answer how often to try a request in all (None: the retry policy's).
ServerErrorAttempts = Callable[[], int | None]


class CopyMethod(Protocol):
    """One way a destination's service copies an object from a URL."""

    name: str  # as the service's documentation names it (said in notices and errors)
    kind: CopyKind

    async def run(
        self,
        ctx: CopyContext,
        item: Planned,
        block_size: int,
        recorder: CopyRecorder,
        attempts: ServerErrorAttempts,
    ) -> None:
        """Copy `item` (raising NotSupportedError if the service lacks the method,
        CopySourceError if it cannot read the source, Interrupted when the job stops)."""


@runtime_checkable
class UrlTarget(Protocol):
    """A destination whose service can write an object from a URL it reads itself."""

    def copy_methods(
        self, source: UrlSource, item: Planned, block_size: int
    ) -> Sequence[CopyMethod]:
        """The methods that can copy `item` from `source`, best first (none: stream it)."""
