"""Plain data shared by every layer: entries, transfers and their outcomes.

Plain data types across azxfer are msgspec Structs, used as frozen, slotted dataclasses would
be: the classes are made in C, where creating 49 dataclasses cost 55-70 ms of every start
(benchmarks/README.md, session 6). The few that the command line builds before it starts the
early listings (`Service`, `Location`, `Credential`, `Origin`, `CommandShape`) are enums and
NamedTuples instead: importing msgspec pulls in typing_extensions, inspect, uuid and decimal,
~25 ms that the listing need not wait for (session 10).
"""

from __future__ import annotations

import enum
import os

from msgspec import Struct, field


class BlobType(enum.Enum):
    """Azure blob types; values are the service's spellings."""

    BLOCK = "BlockBlob"
    PAGE = "PageBlob"
    APPEND = "AppendBlob"


PAGE_BLOB_EXTENSIONS = (".vhd", ".vhdx")


def type_for_name(name: str) -> BlobType:
    """The blob type a name gets when none is asked for: page blob for a disk image."""
    is_disk = os.path.splitext(name)[1].lower() in PAGE_BLOB_EXTENSIONS
    return BlobType.PAGE if is_disk else BlobType.BLOCK


class ContentProps(Struct, frozen=True):
    """HTTP content properties carried by a blob (None: not set)."""

    content_type: str | None = None
    content_encoding: str | None = None
    content_language: str | None = None
    content_disposition: str | None = None
    cache_control: str | None = None


class BlobProps(Struct, frozen=True, tag="blob", omit_defaults=True):
    """What only Blob Storage knows of an object: its type, tier and tags, and, for an entry,
    which snapshot or version of the blob it is (None: not set, or not known).

    One variant of the service properties `Entry` and `WriteProps` carry opaquely: the engine
    and the journal pass them through; the planner, the Blob package and the server-side copy
    ladder read them (through `blob_props`, which is safe for any variant). It is tagged so
    the journal stores it as `{"type": "blob", ...}` and the next variant (Azure Files' SMB
    properties) decodes through the same union.
    """

    blob_type: BlobType | None = None
    tier: str | None = None
    tags: dict[str, str] | None = None
    snapshot: str | None = None
    version_id: str | None = None


class FileProps(Struct, frozen=True, tag="file", omit_defaults=True):
    """What only Azure Files knows of a file: its SMB properties, as the service writes them
    (None: not known). Times are kept as the service's own ISO 8601 text with 100 ns ticks
    ("2024-05-01T10:00:00.1234567Z"), which a float of seconds cannot hold exactly, so a
    share-to-share copy can set them again unchanged; `attributes` is the service's
    '|'-separated list ("ReadOnly|Archive"); `permission_key` names the file's security
    descriptor in its share (Get/Create Permission)."""

    attributes: str | None = None
    creation_time: str | None = None
    last_write_time: str | None = None
    change_time: str | None = None
    permission_key: str | None = None


# The union of every service's properties; a new service adds its tagged Struct here.
ServiceProps = BlobProps | FileProps

NO_FILE_PROPS = FileProps()

NO_BLOB_PROPS = BlobProps()


def blob_props(item: Entry | WriteProps) -> BlobProps:
    """The Blob properties an entry or a write carries (all None where it carries none)."""
    service = item.service
    return service if isinstance(service, BlobProps) else NO_BLOB_PROPS


def file_props(item: Entry | WriteProps) -> FileProps:
    """The Files properties an entry or a write carries (all None where it carries none)."""
    service = item.service
    return service if isinstance(service, FileProps) else NO_FILE_PROPS


def blob_type_to_write(props: WriteProps) -> BlobType:
    """The blob type a writer creates: a block blob unless the Blob properties say otherwise."""
    return blob_props(props).blob_type or BlobType.BLOCK


class EntryKind(enum.Enum):
    """What an entry is: a file (an object with data), or a folder.

    A folder is listed only when the job asked its source for folders (see
    `endpoints.base.FolderSource`); it carries no data, and is counted apart from files.
    `EMPTY_FOLDER` is one nothing selected lies under, which a destination without folders
    (Blob storage) would lose: the job reports it, or writes a marker blob for it. `FOLDER` is
    one with selected entries under it (they imply it anywhere), or whose contents the source
    cannot tell while listing (a Blob marker).
    """

    FILE = "file"
    FOLDER = "folder"
    EMPTY_FOLDER = "empty_folder"


# The metadata that marks a zero-byte blob as a folder (AzCopy's and Hadoop's convention):
# written with --include-directory-stub, read back as a folder.
FOLDER_MARKER_METADATA = {"hdi_isfolder": "true"}


class Entry(Struct, frozen=True):
    """One object found by enumerating a source or looked up at a destination.

    `ref` is how its driver addresses it (an absolute local path, a blob name); `rel_path` is
    its '/'-separated path relative to the enumeration root, which the planner maps to the
    destination. `kind` says whether it is a file or a folder (a folder's `size` is 0 and its
    `rel_path` has no trailing '/'); only jobs that ask for folders ever see one.
    """

    ref: str
    rel_path: str
    size: int
    mtime: float | None = None
    md5: bytes | None = None
    etag: str | None = None
    content: ContentProps | None = None
    metadata: dict[str, str] | None = None
    service: ServiceProps | None = None
    kind: EntryKind = EntryKind.FILE

    @property
    def is_folder(self) -> bool:
        """Whether the entry is a folder (empty or not)."""
        return self.kind is not EntryKind.FILE

    @property
    def is_point_in_time(self) -> bool:
        """Whether the entry is a snapshot or version: immutable, addressed by its base name
        (`ref`) plus the snapshot or version id."""
        point = blob_props(self)
        return bool(point.snapshot or point.version_id)

    @property
    def key(self) -> str:
        """What identifies the entry within its job: the ref, plus the snapshot or version."""
        point = blob_props(self)
        if point.snapshot:
            return f"{self.ref}?snapshot={point.snapshot}"
        if point.version_id:
            return f"{self.ref}?versionid={point.version_id}"
        return self.ref


class Outcome(enum.Enum):
    """What became of one transfer."""

    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"
    # Not done because the job stopped (Ctrl-C, or a failure no transfer can get past); the
    # journal keeps it for a resume.
    INTERRUPTED = "interrupted"


class Transfer(Struct, frozen=True):
    """One file/object to move. `id` is its sequence number in the job (the journal's key)."""

    id: int
    source: Entry
    dest_ref: str
    dest_display: str
    rename_reason: str | None = None


class WriteProps(Struct, frozen=True):
    """Properties a writer sets on the object it creates (`service`: the destination service's
    own, None where it has none to set)."""

    content: ContentProps = ContentProps()
    metadata: dict[str, str] | None = None
    mtime: float | None = None
    service: ServiceProps | None = None


class Chunk(Struct, frozen=True):
    """One range of a transfer; `index` is stable for a given transfer and chunk size."""

    index: int
    offset: int
    length: int


class JobTotals(Struct):
    """Counters a job accumulates; the summary is built from them."""

    files_total: int = 0
    files_completed: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    files_interrupted: int = 0
    bytes_total: int = 0
    bytes_done: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    # Folders, counted apart from files: made (or written as marker blobs), not made (a
    # destination without folders), or failed. Folders a sync finds present are not counted.
    folders_completed: int = 0
    folders_skipped: int = 0
    folders_failed: int = 0


class Skipped(Struct, frozen=True):
    """An item enumeration found but will not transfer (symlink, special file, marker)."""

    ref: str
    rel_path: str
    reason: str


class Planned(Struct, frozen=True):
    """A transfer the planner decided on.

    `skip_reason` set means it will not be moved. `fail_reason` set means it must not be
    moved and counts as failed (planning found that another source has its destination).
    `resume` is None for a fresh transfer, else the chunks an earlier run of the job
    journaled as done (possibly none).
    """

    transfer: Transfer
    props: WriteProps
    skip_reason: str | None = None
    resume: tuple[Chunk, ...] | None = None
    chunk_size: int = 0
    fail_reason: str | None = None
