"""The Blob storage driver: one container (and a path in it) as a source or a destination.

Listing, reads and block blob writes go through the REST fast path (`rest`) when the
credential allows it; everything else through the storage SDK, built on first use
(`connections`). Its mixins: the listings (`entries`), server-side copies (`url_copies`),
bulk operations (`bulk`).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from msgspec.structs import replace

from azxfer.credentials import Credential
from azxfer.endpoints.base import NameFilter, NameRules, Selection, SelectionKind
from azxfer.endpoints.blob.bulk import BlobBulkOps
from azxfer.endpoints.blob.entries import BlobEntries
from azxfer.endpoints.blob.errors import BLOB_ERRORS, classify, error_code
from azxfer.endpoints.blob.handles import FastPath, LazyBlob
from azxfer.endpoints.blob.lister import BLOB_LIST_FIELDS, list_blob_items
from azxfer.endpoints.blob.listing import (
    entry_from_listing,
    entry_from_properties,
    one_entry,
)
from azxfer.endpoints.blob.reader import BlobReader
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.endpoints.blob.url_copies import BlobUrlCopies
from azxfer.endpoints.blob.writers import AppendBlobWriter, BlockBlobWriter, PageBlobWriter
from azxfer.endpoints.listing import Listed, ListField
from azxfer.errors import CredentialError, LocationError, NotFoundError
from azxfer.locations import Location
from azxfer.models import (
    BlobProps,
    BlobType,
    Entry,
    Transfer,
    WriteProps,
    blob_props,
    blob_type_to_write,
)
from azxfer.transport.classify import ErrorAnswer, classify_answer

if TYPE_CHECKING:
    # The storage SDK takes a third of a second to import; jobs that never need it (the REST
    # fast path serves listing, reads and writes of block blobs) never import it.
    from azure.storage.blob.aio import BlobClient, BlobServiceClient, ContainerClient

_WILDCARD_CHARS = "*?["
_BLOB_NAME_RULES = NameRules(separators="\\")


class BlobEndpoint(BlobEntries, BlobUrlCopies, BlobBulkOps):
    """A driver for one container (and optional path inside it)."""

    def __init__(
        self,
        location: Location,
        service: Callable[[], BlobServiceClient],
        credential: Credential | None = None,
        job_tag: str = "azx",
        rest: RestBlobClient | None = None,
        include_snapshots: bool = False,
        delimiter: str = "/",
    ) -> None:
        self.location = location
        # What separates virtual directories in this source's names (AzCopy v8's /Delimiter):
        # entries' rel_paths use '/' whatever it is, so filters and local names work as usual.
        self.delimiter = delimiter
        self.credential = credential
        self.job_tag = job_tag
        self.rest = rest
        self.include_snapshots = include_snapshots
        # FolderSource: marker blobs are listed as folders (recursive listings), not skipped.
        self.lists_folders = False
        self._service = service
        self._container: ContainerClient | None = None
        self.where = f"'{location.container}' at {location.endpoint}"
        self._init_url_copies()

    @property
    def container(self) -> ContainerClient:
        """The SDK's client for the container (built on first use)."""
        if self._container is None:
            self._container = self._service().get_container_client(self.location.container)
        return self._container

    def _blob(self, name: str) -> BlobClient:
        return self.container.get_blob_client(name)

    def _blob_factory(self, name: str) -> LazyBlob:
        """The blob's SDK client is built only if an operation needs it (the fast path
        does not, and building one costs about a millisecond)."""
        return LazyBlob(name, lambda: self.container.get_blob_client(name))

    def fast_path(self) -> FastPath | None:
        """The REST client for the hot operations, when the credential allows it."""
        return FastPath(self.rest, self.location.container) if self.rest else None

    def classify(self, exc: BaseException, what: str) -> Exception:
        return classify(exc, what, self.location.endpoint, self.credential, self.where)

    # -- source side -------------------------------------------------------------------------

    async def select(
        self, recursive: bool, filters: NameFilter, follow_symlinks: bool
    ) -> Selection:
        """Resolve the URL: the container, a blob, a virtual directory, a wildcard or a prefix."""
        path, sep = self.location.path, self.delimiter
        if self.location.snapshot or self.location.version_id:
            return await self._select_version(path)
        if any(c in path for c in _WILDCARD_CHARS):
            folder, _, pattern = path.rpartition(sep)
            if any(c in folder for c in _WILDCARD_CHARS):
                raise LocationError("wildcards are allowed only in the last part of a blob path")
            base = f"{folder}{sep}" if folder else ""
            items = self.list_entries(base, recursive, filters, name_pattern=pattern)
            return Selection(SelectionKind.PATTERN, "", items)
        if not path:
            await self._require_listable()
            return Selection(
                SelectionKind.DIRECTORY,
                self.location.container,
                self.list_entries("", recursive, filters),
            )
        if path.endswith(sep):
            await self._require_listable()
            name = path.rstrip(sep).rpartition(sep)[2]
            return Selection(
                SelectionKind.DIRECTORY, name, self.list_entries(path, recursive, filters)
            )
        single = await self.stat(path)
        if single is not None:
            entry = replace(single, rel_path=path.rpartition(sep)[2])
            return Selection(SelectionKind.SINGLE, "", one_entry(entry))
        await self._require_container()
        if await self._has_any(path + sep):
            name = path.rpartition(sep)[2]
            return Selection(
                SelectionKind.DIRECTORY, name, self.list_entries(path + sep, recursive, filters)
            )
        # Neither a blob nor a folder: a name prefix, as AzCopy v8's /Pattern.
        folder = path.rpartition(sep)[0]
        base = f"{folder}{sep}" if folder else ""
        leaf = path[len(base) :]
        return Selection(
            SelectionKind.PATTERN, "", self.list_entries(base, recursive, filters, name_prefix=leaf)
        )

    async def _select_version(self, path: str) -> Selection:
        """A snapshot or version URL names exactly one blob as it was then."""
        location = self.location
        point = BlobProps(snapshot=location.snapshot, version_id=location.version_id)
        wanted = Entry(path, path, 0, service=point)
        found = await self.stat_version(wanted)
        if found is None:
            which = f"snapshot {location.snapshot}" if location.snapshot else "version"
            raise NotFoundError(f"blob '{path}' has no {which} in {self.where}")
        entry = replace(found, rel_path=path.rpartition("/")[2])
        return Selection(SelectionKind.SINGLE, "", one_entry(entry))

    async def _require_listable(self) -> None:
        """Before a selection that is a listing: on the REST path the listing's own first
        answer tells a missing container (`ContainerNotFound`), so no request is spent on
        asking first; the job's first request then reaches the service a round trip sooner."""
        if self.rest is None:
            await self._require_container()

    async def _require_container(self) -> None:
        if self.rest is not None:
            status, _ = await self._container_request("HEAD")
            if status == 404:
                raise NotFoundError(f"container {self.where} does not exist")
            return
        from azure.core.exceptions import HttpResponseError  # the SDK path only (start-up)

        try:
            await self.container.get_container_properties()
        except HttpResponseError as exc:
            if exc.status_code == 403 and error_code(exc) != "AuthenticationFailed":
                return  # a SAS scoped below the container may not read its properties
            raise self.classify(exc, f"container {self.where}") from None
        except Exception as exc:
            raise self.classify(exc, f"container {self.where}") from None

    async def _container_request(self, method: str) -> tuple[int, str]:
        """A container request on the REST path: its status and error code, once a 403 that
        is an authentication failure has been raised (a SAS scoped below the container may be
        refused the container itself but still read and write its blobs)."""
        assert self.rest is not None
        where = f"container {self.where}"
        try:
            status, code = await self.rest.container_request(method, self.location.container)
        except Exception as exc:
            raise self.classify(exc, where) from None
        if (status == 403 and code in ("AuthenticationFailed", "")) or status == 401:
            denied = classify_answer(ErrorAnswer(403, code, where), BLOB_ERRORS)
            raise self.classify(denied, where)
        return (200, "") if status == 403 else (status, code)

    async def _has_any(self, prefix: str) -> bool:
        if self.rest is not None:
            return await self.rest.has_blobs(self.location.container, prefix)
        try:
            async for _ in self.container.list_blobs(name_starts_with=prefix, results_per_page=1):
                return True
        except Exception as exc:
            raise self.classify(exc, f"container {self.where}") from None
        return False

    def list_fields(self) -> frozenset[ListField]:
        """The properties a Blob listing gives (`Lister`)."""
        return BLOB_LIST_FIELDS

    def list_items(
        self, recursive: bool, filters: NameFilter, fields: frozenset[ListField]
    ) -> AsyncIterator[Listed]:
        """What `azxfer list` shows of the location (`Lister`)."""
        return list_blob_items(self, recursive, filters, fields)

    async def stat(self, ref: str) -> Entry | None:
        """The blob named `ref`, or None if it does not exist."""
        if self.rest is not None:
            try:
                listed = await self.rest.get_properties(self.location.container, ref)
            except CredentialError as exc:  # said as a listing's denial is (`denials`)
                raise self.classify(exc, f"blob '{ref}'") from None
            return entry_from_listing(listed, ref) if listed is not None else None
        try:
            props = await self._blob(ref).get_blob_properties()
        except Exception as exc:
            err = self.classify(exc, f"blob '{ref}'")
            if isinstance(err, NotFoundError):
                return None
            raise err from None
        return entry_from_properties(props, ref)

    async def stat_version(self, entry: Entry) -> Entry | None:
        """The snapshot or version of a blob that `entry` names, or None if there is none."""
        point = blob_props(entry)
        blob = self.container.get_blob_client(entry.ref, snapshot=point.snapshot)
        try:
            props = await blob.get_blob_properties(version_id=point.version_id)
        except Exception as exc:
            err = self.classify(exc, f"blob '{entry.ref}'")
            if isinstance(err, NotFoundError):
                return None
            raise err from None
        found = entry_from_properties(props, entry.ref)
        service = replace(blob_props(found), snapshot=point.snapshot, version_id=point.version_id)
        return replace(found, service=service)

    async def open_reader(self, entry: Entry) -> BlobReader:
        """A ranged reader that fails if the blob changes while it is read."""
        if entry.is_point_in_time:
            # Snapshots and versions are read through the SDK, which addresses them.
            snapshot = functools.partial(
                self.container.get_blob_client, entry.ref, snapshot=blob_props(entry).snapshot
            )
            return BlobReader(LazyBlob(entry.ref, snapshot), entry, self.classify, None)
        return BlobReader(self._blob_factory(entry.ref), entry, self.classify, self.fast_path())

    # -- destination side --------------------------------------------------------------------

    def check_writable(self) -> None:
        """Refuse a destination that can never be written (the read-only secondary)."""
        if self.location.read_only:
            raise LocationError("the RA-GRS secondary endpoint is read-only")

    async def prepare_destination(self, multiple: bool) -> None:
        """Create the container if it is missing (tolerating SAS tokens that may not)."""
        self.check_writable()
        if self.rest is not None:
            status, code = await self._container_request("PUT")
            if status >= 300 and status != 409:  # 409: it exists already
                raise self._not_created(status, code)
            return
        from azure.core.exceptions import HttpResponseError, ResourceExistsError

        try:
            await self.container.create_container()
        except ResourceExistsError:
            return
        except HttpResponseError as exc:
            if exc.status_code == 403 and error_code(exc) != "AuthenticationFailed":
                return  # may write blobs without the right to create containers
            raise self.classify(exc, f"container {self.where}") from None
        except Exception as exc:
            raise self.classify(exc, f"container {self.where}") from None

    def _not_created(self, status: int, code: str) -> Exception:
        """Why Create Container failed. A 404 to a PUT of the container itself means the
        endpoint has no such account (an emulator's, or a proxy's): said so, not as '404'."""
        what = f"creating container {self.where}"
        if status == 404:
            return NotFoundError(
                f"{what}: the service knows no account '{self.location.account}' "
                f"({code or status}): check the account name in the URL"
            )
        answer = ErrorAnswer(status, code, what, method="PUT")
        return self.classify(classify_answer(answer, BLOB_ERRORS), what)

    async def target_for_single(self, source_name: str) -> str:
        """The blob name for a single source: inside a folder-like path, else the path itself."""
        path = self.location.path
        if not path or path.endswith("/"):
            return path + source_name
        if await self._has_any(path + "/"):
            return f"{path}/{source_name}"
        return path

    def join(self, rel_path: str) -> str:
        """The blob name for a path relative to the destination prefix."""
        prefix = self.location.path.rstrip("/")
        return f"{prefix}/{rel_path}" if prefix else rel_path

    def name_rules(self) -> NameRules:
        """The Blob service stores every '\\' in a name as '/' (`DestinationNames`)."""
        return _BLOB_NAME_RULES

    async def open_writer(
        self, transfer: Transfer, size: int, props: WriteProps, block_size: int
    ) -> BlockBlobWriter | PageBlobWriter | AppendBlobWriter:
        """A writer for the blob type asked for."""
        blob = self._blob_factory(transfer.dest_ref)
        what = f"blob '{transfer.dest_ref}'"
        blob_type = blob_type_to_write(props)
        sdk_writer: PageBlobWriter | AppendBlobWriter | None = None
        if blob_type is BlobType.PAGE:
            sdk_writer = PageBlobWriter(blob, size, props, what, self.classify)
        elif blob_type is BlobType.APPEND:
            sdk_writer = AppendBlobWriter(blob, size, props, block_size, what, self.classify)
        if sdk_writer is not None:
            sdk_writer.pace = self.rest.rest.pace if self.rest else None
            return sdk_writer
        writer = BlockBlobWriter(
            blob,
            size,
            props,
            block_size,
            what,
            self.classify,
            f"{self.job_tag}-{transfer.id:012d}",
        )
        writer.fast = self.fast_path()
        return writer

    async def delete(self, ref: str) -> None:
        """Delete a blob (and its snapshots)."""
        try:
            await self._blob(ref).delete_blob(delete_snapshots="include")
        except Exception as exc:
            err = self.classify(exc, f"blob '{ref}'")
            if not isinstance(err, NotFoundError):
                raise err from None

    async def close(self) -> None:
        """Clients are closed by BlobConnections."""
