"""Typed events the engine emits and the sink protocol that receives them.

The engine never prints: everything a user sees is rendered from these by a reporter. Each
event maps to one NDJSON object (`to_json`), whose `"event"` field is the class's `kind`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from msgspec import Struct
from msgspec.structs import asdict


class Event(Struct, frozen=True):
    """Base of every event."""

    kind: ClassVar[str] = "event"

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON-ready dict with an `event` discriminator first."""
        return {"event": self.kind, **asdict(self)}


class JobStarted(Event, frozen=True):
    """A job began; source and destination are already redacted."""

    kind: ClassVar[str] = "job_started"
    job_id: str
    command: str
    source: str
    destination: str
    dry_run: bool
    # Which credential each remote side uses, as `Credential.describe()` says (no secret).
    source_credential: str = ""
    dest_credential: str = ""


class TransferQueued(Event, frozen=True):
    """Enumeration found one more item to transfer."""

    kind: ClassVar[str] = "transfer_queued"
    transfer_id: int
    source: str
    destination: str
    size: int


class EnumerationDone(Event, frozen=True):
    """Enumeration finished: totals are final from here on."""

    kind: ClassVar[str] = "enumeration_done"
    files: int
    bytes: int


class ListingProgress(Event, frozen=True):
    """A bulk job acting while it lists: objects listed (selected) so far and their bytes.
    Said once per page of actions started before the listing ended (not per object)."""

    kind: ClassVar[str] = "listing_progress"
    files: int
    bytes: int


class Progress(Event, frozen=True):
    """Bytes moved for a transfer since the last Progress (negative when a retry rewinds)."""

    kind: ClassVar[str] = "progress"
    transfer_id: int
    bytes: int


class TransferResumed(Event, frozen=True):
    """A resumed transfer found chunks already at the destination; they are not sent again."""

    kind: ClassVar[str] = "transfer_resumed"
    transfer_id: int
    chunks_present: int
    bytes_present: int


# The reason a sync skips a file its destination already has (a reporter counts these apart).
IDENTICAL = "identical"


class TransferDone(Event, frozen=True):
    """A transfer ended: outcome is completed, skipped or failed; reason says why if not plain."""

    kind: ClassVar[str] = "transfer_done"
    transfer_id: int
    source: str
    destination: str
    outcome: str
    size: int
    reason: str | None = None


class FolderDone(Event, frozen=True):
    """A folder was made at the destination (or written as a marker blob): outcome completed;
    or not made: skipped (a destination without folders) or failed, with the reason. A dry
    run reports the folders it would make with outcome "planned". Folders are never counted
    as files."""

    kind: ClassVar[str] = "folder_done"
    source: str
    destination: str
    outcome: str
    reason: str | None = None


class Retrying(Event, frozen=True):
    """A request failed transiently and will be sent again after `wait_seconds`."""

    kind: ClassVar[str] = "retry"
    what: str
    attempt: int
    wait_seconds: float
    reason: str


class Notice(Event, frozen=True):
    """Something the user should know that is not an error of one transfer (a rename, a skip)."""

    kind: ClassVar[str] = "notice"
    level: str
    message: str


class JobFinished(Event, frozen=True):
    """The job ended; counts and status are final."""

    kind: ClassVar[str] = "job_finished"
    job_id: str
    status: str
    files_total: int
    files_completed: int
    files_skipped: int
    files_failed: int
    # Not done because the job stopped: total = completed + skipped + failed + interrupted.
    files_interrupted: int
    bytes_transferred: int
    elapsed_seconds: float
    failed: list[dict[str, str]]
    # Folders, apart from files: made (or written as marker blobs), not made, failed.
    folders_completed: int = 0
    folders_skipped: int = 0
    folders_failed: int = 0
    # The run's bandwidth cap (--cap-mbps) in megabits per second; None: uncapped.
    cap_mbps: float | None = None


class EntitiesProgress(Event, frozen=True):
    """A table job read (export) or settled (import) this many more entities, of this many
    bytes of data-file lines, since the last EntitiesProgress."""

    kind: ClassVar[str] = "entities_progress"
    entities: int
    bytes: int


class EntitiesDone(Event, frozen=True):
    """A table job's entity counts, final, just before JobFinished (whose files are the data
    files): read (export) or found in the files (import), written, skipped (InsertOrSkip
    found them present), failed."""

    kind: ClassVar[str] = "entities_done"
    entities_total: int
    entities_written: int
    entities_skipped: int
    entities_failed: int
    entities_per_second: float


class SourceFolderRemoved(Event, frozen=True):
    """A source folder a move emptied was removed (or, in a dry run, would be); outcome
    "failed" with the reason if removing it failed."""

    kind: ClassVar[str] = "source_folder_removed"
    source: str
    dry_run: bool
    outcome: str = "completed"
    reason: str | None = None


class ListEntry(Event, frozen=True):
    """One file or directory `azxfer list` found. `properties` (those asked for, under
    snake_case keys such as `last_modified_time`, `content_md5`) are written as fields of the
    object itself; `metadata` is present only when asked for."""

    kind: ClassVar[str] = "list_entry"
    name: str
    size: int
    type: str  # "file" or "directory"
    properties: dict[str, str] | None = None
    metadata: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        """The entry with its properties flattened into it."""
        record: dict[str, Any] = {
            "event": self.kind,
            "name": self.name,
            "size": self.size,
            "type": self.type,
        }
        if self.properties:
            record.update(self.properties)
        if self.metadata is not None:
            record["metadata"] = self.metadata
        return record


class ListSummary(Event, frozen=True):
    """What `azxfer list` found in all: files, directories and the files' bytes."""

    kind: ClassVar[str] = "list_summary"
    files: int
    directories: int
    bytes: int


class ListEntity(Event, frozen=True):
    """One entity a table's `azxfer list` found: its keys, and its Timestamp when asked for
    (--properties LastModifiedTime)."""

    kind: ClassVar[str] = "list_entity"
    partition_key: str
    row_key: str
    last_modified_time: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The entity's keys (and time, when asked for)."""
        record: dict[str, Any] = {
            "event": self.kind,
            "partition_key": self.partition_key,
            "row_key": self.row_key,
        }
        if self.last_modified_time is not None:
            record["last_modified_time"] = self.last_modified_time
        return record


class TableListSummary(Event, frozen=True):
    """What a Table listing found: `counted` is "tables" (a service's) or "entities" (a
    table's); written as a list_summary with that one count."""

    kind: ClassVar[str] = "list_summary"
    counted: str
    count: int

    def to_json(self) -> dict[str, Any]:
        """{"event": "list_summary", "tables": N} or {..., "entities": N}."""
        return {"event": self.kind, self.counted: self.count}


class PropertiesSet(Event, frozen=True):
    """set-properties changed an object's properties (`changes`: "tier=Cool", "metadata",
    "tags"), or in a dry run would; outcome "failed" with the reason if the service refused."""

    kind: ClassVar[str] = "properties_set"
    target: str
    changes: list[str]
    dry_run: bool
    outcome: str = "completed"
    reason: str | None = None


class BulkSummary(Event, frozen=True):
    """The counts of a bulk job (remove, set-properties), just before JobFinished: objects
    done (removed, or changed) and their bytes, failed, and folders removed and kept (still
    holding something); a dry run counts what it would do."""

    kind: ClassVar[str] = "bulk_summary"
    operation: str
    dry_run: bool
    done: int
    bytes: int
    failed: int
    folders_removed: int = 0
    folders_kept: int = 0


class EventSink(Protocol):
    """Receives events; must be cheap and must not raise."""

    def emit(self, event: Event) -> None:
        """Handle one event."""


class NullSink:
    """An EventSink that drops everything."""

    def emit(self, event: Event) -> None:
        """Drop the event."""


class CollectingSink:
    """An EventSink that keeps every event in order (for tests and library callers)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        """Keep the event."""
        self.events.append(event)
