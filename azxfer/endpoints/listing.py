"""What `azxfer list` asks of a driver: a listing of files AND directories, each with the
properties asked for by name, streamed as the service answers (`Lister`).

A copy's listing (`Endpoint.select`) yields only what it moves, with the fields a transfer
needs; this one yields what a person browsing wants to see, and asks the service only for the
properties requested (`ListField`), so a plain listing costs no more than a copy's.
"""

from __future__ import annotations

import enum
import time
from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from msgspec import Struct

from azxfer.endpoints.base import NameFilter


class ListField(enum.Enum):
    """A property `--properties` may name; values are AzCopy's spellings (and the keys of the
    text output)."""

    LAST_MODIFIED = "LastModifiedTime"
    VERSION_ID = "VersionId"
    BLOB_TYPE = "BlobType"
    ACCESS_TIER = "BlobAccessTier"
    CONTENT_TYPE = "ContentType"
    CONTENT_ENCODING = "ContentEncoding"
    CONTENT_MD5 = "ContentMD5"
    LEASE_STATE = "LeaseState"
    LEASE_DURATION = "LeaseDuration"
    LEASE_STATUS = "LeaseStatus"
    ARCHIVE_STATUS = "ArchiveStatus"
    METADATA = "Metadata"
    ETAG = "ETag"
    CREATION_TIME = "CreationTime"
    LAST_WRITE_TIME = "LastWriteTime"
    CHANGE_TIME = "ChangeTime"
    ATTRIBUTES = "Attributes"


class Listed(Struct, frozen=True):
    """One file or directory of a listing. `name` is '/'-separated and relative to the listed
    location (a directory's without a trailing '/'); `properties` holds the fields asked for
    that the service gave, as text, by `ListField` value; `metadata` is set only when asked."""

    name: str
    size: int
    is_directory: bool = False
    properties: dict[str, str] | None = None
    metadata: dict[str, str] | None = None


@runtime_checkable
class Lister(Protocol):
    """A driver that can list its location for `azxfer list`."""

    def list_fields(self) -> frozenset[ListField]:
        """The properties its listings can give."""

    def list_items(
        self, recursive: bool, filters: NameFilter, fields: frozenset[ListField]
    ) -> AsyncIterator[Listed]:
        """The location's files (and directories: one level, or every one if `recursive`),
        filtered as a copy's listing is (patterns and times select files; paths select
        directories too), in the order the service lists them. A location that names one
        file lists that file. NotFoundError / LocationError if there is no such location."""


def iso_time(seconds: float) -> str:
    """POSIX seconds as ISO 8601 UTC to the second ('2024-05-01T10:00:00Z')."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
