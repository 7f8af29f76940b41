"""Listing a container's blobs as a job's entries: one level or recursive, through the REST
fast path or the SDK (snapshots), with wildcards and name prefixes, folder markers skipped or
listed as folders in walk order, and snapshots named apart; and the sorted listing sync merges.

A mixin of `BlobEndpoint`, apart from it because listing is the source side's biggest task;
`azxfer list` shows what it lists through `lister`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from msgspec.structs import replace

from azxfer.endpoints.base import NameFilter
from azxfer.endpoints.blob.listing import (
    FolderOrder,
    entry_from_listing,
    entry_from_properties,
    folder_from_marker,
    is_folder_marker,
    slashed,
    snapshot_name,
)
from azxfer.locations import Location
from azxfer.models import Entry, Skipped, blob_props

if TYPE_CHECKING:
    from azure.storage.blob.aio import ContainerClient

    from azxfer.endpoints.blob.rest import RestBlobClient


class BlobEntries:
    """Mixed into `BlobEndpoint`: the listings its selections and sync read."""

    location: Location
    delimiter: str
    rest: RestBlobClient | None
    include_snapshots: bool
    lists_folders: bool
    where: str

    if TYPE_CHECKING:

        @property
        def container(self) -> ContainerClient: ...

        def classify(self, exc: BaseException, what: str) -> Exception: ...

    async def list_entries(
        self,
        base: str,
        recursive: bool,
        filters: NameFilter,
        name_pattern: str | None = None,
        name_prefix: str | None = None,
    ) -> AsyncIterator[Entry | Skipped]:
        """Blobs under `base`, rel_path relative to it, filtered; flat or one level. Marker
        blobs are skipped, or, if the job asked for folders, listed as folders in walk order
        (`FolderOrder`)."""
        start = base + (name_prefix or "")
        previous_snapshot = ("", "")  # (blob, second) of the last snapshot listed
        folders = FolderOrder() if self.lists_folders and recursive else None
        try:
            async for entry, marker in self._listing(start, recursive, len(base)):
                rel = entry.rel_path
                if name_pattern is not None and not fnmatch.fnmatchcase(
                    rel.partition("/")[0], name_pattern
                ):
                    continue
                if rel.partition("/")[2] and name_pattern is not None and not recursive:
                    continue
                if marker or (entry.size == 0 and entry.ref.endswith(("/", self.delimiter))):
                    # A folder marker; a '/'-ending blob with data is a file.
                    folder_rel = rel.rstrip("/")  # '' is the listed folder itself
                    if folders is not None and folder_rel and filters.may_descend(folder_rel):
                        folders.hold(folder_from_marker(entry))
                    continue
                if filters.accepts(rel, entry.mtime):
                    snapshot = blob_props(entry).snapshot
                    if snapshot:
                        # Snapshots of a blob list oldest first: one taken in the same second
                        # as the one before it keeps its fraction of a second in its name.
                        second = (entry.ref, snapshot[:19])
                        rel = snapshot_name(rel, snapshot, second == previous_snapshot)
                        previous_snapshot = second
                        entry = replace(entry, rel_path=rel)
                    if folders is not None and folders.held:
                        for folder in folders.before(entry):
                            yield folder
                    yield entry
            for folder in folders.rest() if folders is not None else ():
                yield folder
        except Exception as exc:
            raise self.classify(exc, f"listing container {self.where}") from None

    def sorted_entries(self, filters: NameFilter) -> AsyncIterator[Entry | Skipped]:
        """Every blob under the path, recursively, in name order (which is sync_key order)."""
        prefix = self.location.path.rstrip("/")
        return self.list_entries(f"{prefix}/" if prefix else "", True, filters)

    async def _listing(
        self, start: str, recursive: bool, base_length: int
    ) -> AsyncIterator[tuple[Entry, bool]]:
        """(entry, is a folder marker) for blobs under `start`, one level unless recursive;
        each entry's rel_path is its name without the first `base_length` characters, with
        '/' for the delimiter."""
        delimiter = None if recursive else self.delimiter
        sep = self.delimiter
        if self.rest is not None and not self.include_snapshots:
            async for listed in self.rest.list_blobs(self.location.container, start, delimiter):
                marker = listed.size == 0 and listed.metadata.get("hdi_isfolder") == "true"
                yield entry_from_listing(listed, slashed(listed.name[base_length:], sep)), marker
            return
        include = ["metadata", "snapshots"] if self.include_snapshots else ["metadata"]
        if recursive:
            listing = self.container.list_blobs(name_starts_with=start, include=include)
        else:
            listing = self.container.walk_blobs(
                name_starts_with=start, delimiter=sep, include=include
            )
        async for props in listing:
            if hasattr(props, "size"):  # not a BlobPrefix (a sub-folder) from walk_blobs
                yield (
                    entry_from_properties(props, slashed(props.name[base_length:], sep)),
                    is_folder_marker(props),
                )
