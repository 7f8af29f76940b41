"""The Blob storage driver: listing, ranged reads, and block/page/append writers.

The REST fast path of a job shares one connection pool (`transport.pool`, sized to the job's
concurrency); the storage SDK's clients, built only for operations the fast path does not
carry, share one aiohttp session. Both, and the retry policy (`transport.sdk_retry`), are
configured once in `BlobConnections`.
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import replace

from azxfer.credentials import Credential
from azxfer.endpoints.base import NameFilter, Selection, SelectionKind
from azxfer.endpoints.blob_errors import classify, error_code
from azxfer.endpoints.blob_rest import ListedBlob, RestBlobClient
from azxfer.endpoints.early_listing import EarlyListings
from azxfer.errors import (
    CredentialError,
    IntegrityError,
    LocationError,
    NotFoundError,
    TransferError,
)
from azxfer.locations import Location
from azxfer.models import BlobType, Chunk, ContentProps, Entry, Skipped, Transfer, WriteProps
from azxfer.transport.http import tls_context
from azxfer.transport.pool import HttpPool
from azxfer.transport.proxy import NO_PROXIES, ProxySettings
from azxfer.transport.retry import RetryPolicy

if TYPE_CHECKING:
    import aiohttp

    # The storage SDK takes a third of a second to import; jobs that never need it (the REST
    # fast path serves listing, reads and writes of block blobs) never import it.
    from azure.core.pipeline.transport import AioHttpTransport
    from azure.storage.blob import ContentSettings
    from azure.storage.blob.aio import BlobClient, BlobServiceClient, ContainerClient

MiB = 1024 * 1024
PAGE = 512
# Put Page and Append Block accept at most 4 MiB per request.
MAX_PAGE_WRITE = 4 * MiB
MAX_APPEND_BLOCK = 4 * MiB
_WILDCARD_CHARS = "*?["


class BlobConnections:
    """The connections, retry policy and service clients shared by a job's blob endpoints."""

    def __init__(
        self,
        concurrency: int,
        on_retry: Callable[[str, int, float, str], None] | None = None,
        tls: bool = True,
        early: EarlyListings | None = None,
        proxies: ProxySettings = NO_PROXIES,
    ) -> None:
        """`tls`: the job may open https connections (see `endpoints.http`); a job that talks
        plain http only (to an emulator) does not pay for loading the CA store. `early`: the
        listings its command line started (see `endpoints.early_listing`). `proxies`: the
        proxies of the job's environment (see `transport.proxy`)."""
        self._on_retry = on_retry
        self._early = early
        self._limit = concurrency + 8
        self._tls = tls
        self.proxies = proxies
        self._pool = HttpPool(self._limit, tls_context() if tls else None, proxies=proxies)
        self._session: aiohttp.ClientSession | None = None
        self._transport: AioHttpTransport | None = None
        self._clients: list[BlobServiceClient] = []

    def service(
        self, location: Location, credential: Credential | None
    ) -> Callable[[], BlobServiceClient]:
        """A maker of the service client for the location's account and credential: the
        client (and the SDK) is built only when an operation needs it."""
        made: list[BlobServiceClient] = []

        def make() -> BlobServiceClient:
            if not made:
                made.append(self._service(location, credential))
            return made[0]

        return make

    def _service(self, location: Location, credential: Credential | None) -> BlobServiceClient:
        session = self.session  # first: it imports aiohttp the safe way (`transport.aio`)
        from azure.storage.blob.aio import BlobServiceClient

        from azxfer.transport.sdk_proxy import ProxiedTransport
        from azxfer.transport.sdk_retry import StorageRetry

        if self._transport is None:
            self._transport = ProxiedTransport(self.proxies, session=session, session_owner=False)
        client = BlobServiceClient(
            account_url=location.endpoint,
            credential=credential.for_sdk() if credential else None,
            transport=self._transport,
            retry_policy=StorageRetry(self._on_retry),
            max_single_put_size=5000 * MiB,
            max_block_size=4000 * MiB,
            max_single_get_size=4000 * MiB,
            connection_timeout=20,
            read_timeout=120,
        )
        self._clients.append(client)
        return client

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session of the SDK's clients and of web sources, made on first use."""
        if self._session is None:
            from azxfer.transport.aio import aiohttp

            connector = aiohttp.TCPConnector(
                limit=self._limit, ttl_dns_cache=300, ssl=tls_context() if self._tls else True
            )
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        return self._session

    def retry_policy(self) -> RetryPolicy:
        """Our retry policy for requests the SDK does not carry, reporting to the job."""
        return RetryPolicy(on_retry=self._on_retry)

    def rest(self, location: Location, credential: Credential | None) -> RestBlobClient | None:
        """The REST fast path for the hot operations."""
        return RestBlobClient(
            self._pool,
            location.endpoint,
            location.account,
            credential,
            RetryPolicy(on_retry=self._on_retry),
            self._early,
        )

    async def close(self) -> None:
        """Close every client, then the shared session and pool."""
        for client in self._clients:
            await client.close()
        if self._session is not None:
            await self._session.close()
        await self._pool.close()


class BlobEndpoint:
    """A driver for one container (and optional path inside it)."""

    def __init__(
        self,
        location: Location,
        service: Callable[[], BlobServiceClient],
        credential: Credential | None = None,
        job_tag: str = "azx",
        rest: RestBlobClient | None = None,
        include_snapshots: bool = False,
    ) -> None:
        self.location = location
        self.credential = credential
        self.job_tag = job_tag
        self.rest = rest
        self.include_snapshots = include_snapshots
        self._service = service
        self._container: ContainerClient | None = None
        self.where = f"'{location.container}' at {location.endpoint}"

    @property
    def container(self) -> ContainerClient:
        """The SDK's client for the container (built on first use)."""
        if self._container is None:
            self._container = self._service().get_container_client(self.location.container)
        return self._container

    def _blob(self, name: str) -> BlobClient:
        return self.container.get_blob_client(name)

    def _blob_factory(self, name: str) -> _LazyBlob:
        """The blob's SDK client is built only if an operation needs it (the fast path
        does not, and building one costs about a millisecond)."""
        return _LazyBlob(name, lambda: self.container.get_blob_client(name))

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
        path = self.location.path
        if self.location.snapshot or self.location.version_id:
            return await self._select_version(path)
        if any(c in path for c in _WILDCARD_CHARS):
            folder, _, pattern = path.rpartition("/")
            if any(c in folder for c in _WILDCARD_CHARS):
                raise LocationError("wildcards are allowed only in the last part of a blob path")
            base = f"{folder}/" if folder else ""
            items = self.list_entries(base, recursive, filters, name_pattern=pattern)
            return Selection(SelectionKind.PATTERN, "", items)
        if not path:
            await self._require_listable()
            return Selection(
                SelectionKind.DIRECTORY,
                self.location.container,
                self.list_entries("", recursive, filters),
            )
        if path.endswith("/"):
            await self._require_listable()
            name = path.rstrip("/").rpartition("/")[2]
            return Selection(
                SelectionKind.DIRECTORY, name, self.list_entries(path, recursive, filters)
            )
        single = await self.stat(path)
        if single is not None:
            entry = replace(single, rel_path=path.rpartition("/")[2])
            return Selection(SelectionKind.SINGLE, "", _one(entry))
        await self._require_container()
        if await self._has_any(path + "/"):
            name = path.rpartition("/")[2]
            return Selection(
                SelectionKind.DIRECTORY, name, self.list_entries(path + "/", recursive, filters)
            )
        # Neither a blob nor a folder: a name prefix, as AzCopy v8's /Pattern.
        folder = path.rpartition("/")[0]
        base = f"{folder}/" if folder else ""
        leaf = path[len(base) :]
        return Selection(
            SelectionKind.PATTERN, "", self.list_entries(base, recursive, filters, name_prefix=leaf)
        )

    async def _select_version(self, path: str) -> Selection:
        """A snapshot or version URL names exactly one blob as it was then."""
        location = self.location
        wanted = Entry(path, path, 0, snapshot=location.snapshot, version_id=location.version_id)
        found = await self.stat_version(wanted)
        if found is None:
            which = f"snapshot {location.snapshot}" if location.snapshot else "version"
            raise NotFoundError(f"blob '{path}' has no {which} in {self.where}")
        entry = replace(found, rel_path=path.rpartition("/")[2])
        return Selection(SelectionKind.SINGLE, "", _one(entry))

    async def _require_listable(self) -> None:
        """Before a selection that is a listing: on the REST path the listing's own first
        answer tells a missing container (`ContainerNotFound`), so no request is spent on
        asking first; the job's first request then reaches the service a round trip sooner."""
        if self.rest is None:
            await self._require_container()

    async def _require_container(self) -> None:
        if self.rest is not None:
            status = await self._container_request("HEAD")
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

    async def _container_request(self, method: str) -> int:
        """A container request on the REST path: its status, once a 403 that is an
        authentication failure has been raised (a SAS scoped below the container may be
        refused the container itself but still read and write its blobs)."""
        assert self.rest is not None
        where = f"container {self.where}"
        try:
            status, code = await self.rest.container_request(method, self.location.container)
        except Exception as exc:
            raise self.classify(exc, where) from None
        if (status == 403 and code in ("AuthenticationFailed", "")) or status == 401:
            raise self.classify(CredentialError(f"access to {where} denied ({code})"), where)
        return 200 if status == 403 else status

    async def _has_any(self, prefix: str) -> bool:
        if self.rest is not None:
            return await self.rest.has_blobs(self.location.container, prefix)
        try:
            async for _ in self.container.list_blobs(name_starts_with=prefix, results_per_page=1):
                return True
        except Exception as exc:
            raise self.classify(exc, f"container {self.where}") from None
        return False

    async def list_entries(
        self,
        base: str,
        recursive: bool,
        filters: NameFilter,
        name_pattern: str | None = None,
        name_prefix: str | None = None,
    ) -> AsyncIterator[Entry | Skipped]:
        """Blobs under `base`, rel_path relative to it, filtered; flat or one level."""
        start = base + (name_prefix or "")
        previous_snapshot = ("", "")  # (blob, second) of the last snapshot listed
        try:
            async for entry, marker in self._listing(start, recursive, len(base)):
                rel = entry.rel_path
                if name_pattern is not None and not fnmatch.fnmatchcase(
                    rel.partition("/")[0], name_pattern
                ):
                    continue
                if rel.partition("/")[2] and name_pattern is not None and not recursive:
                    continue
                if marker or (entry.size == 0 and entry.ref.endswith("/")):
                    continue  # a folder marker; a '/'-ending blob with data is a file
                if filters.accepts(rel, entry.mtime):
                    if entry.snapshot:
                        # Snapshots of a blob list oldest first: one taken in the same second
                        # as the one before it keeps its fraction of a second in its name.
                        second = (entry.ref, entry.snapshot[:19])
                        rel = snapshot_name(rel, entry.snapshot, second == previous_snapshot)
                        previous_snapshot = second
                        entry = replace(entry, rel_path=rel)
                    yield entry
        except Exception as exc:
            raise self.classify(exc, f"listing container {self.where}") from None

    async def _listing(
        self, start: str, recursive: bool, base_length: int
    ) -> AsyncIterator[tuple[Entry, bool]]:
        """(entry, is a folder marker) for blobs under `start`, one level unless recursive;
        each entry's rel_path is its name without the first `base_length` characters."""
        delimiter = None if recursive else "/"
        if self.rest is not None and not self.include_snapshots:
            async for listed in self.rest.list_blobs(self.location.container, start, delimiter):
                marker = listed.size == 0 and listed.metadata.get("hdi_isfolder") == "true"
                yield _entry_from_listing(listed, listed.name[base_length:]), marker
            return
        include = ["metadata", "snapshots"] if self.include_snapshots else ["metadata"]
        if recursive:
            listing = self.container.list_blobs(name_starts_with=start, include=include)
        else:
            listing = self.container.walk_blobs(
                name_starts_with=start, delimiter="/", include=include
            )
        async for props in listing:
            if hasattr(props, "size"):  # not a BlobPrefix (a sub-folder) from walk_blobs
                yield _entry(props, props.name[base_length:]), _is_folder_marker(props)

    async def stat(self, ref: str) -> Entry | None:
        """The blob named `ref`, or None if it does not exist."""
        if self.rest is not None:
            listed = await self.rest.get_properties(self.location.container, ref)
            return _entry_from_listing(listed, ref) if listed is not None else None
        try:
            props = await self._blob(ref).get_blob_properties()
        except Exception as exc:
            err = self.classify(exc, f"blob '{ref}'")
            if isinstance(err, NotFoundError):
                return None
            raise err from None
        return _entry(props, ref)

    async def stat_version(self, entry: Entry) -> Entry | None:
        """The snapshot or version of a blob that `entry` names, or None if there is none."""
        blob = self.container.get_blob_client(entry.ref, snapshot=entry.snapshot)
        try:
            props = await blob.get_blob_properties(version_id=entry.version_id)
        except Exception as exc:
            err = self.classify(exc, f"blob '{entry.ref}'")
            if isinstance(err, NotFoundError):
                return None
            raise err from None
        return replace(
            _entry(props, entry.ref), snapshot=entry.snapshot, version_id=entry.version_id
        )

    async def open_reader(self, entry: Entry) -> BlobReader:
        """A ranged reader that fails if the blob changes while it is read."""
        if entry.snapshot or entry.version_id:
            # Snapshots and versions are read through the SDK, which addresses them.
            snapshot = functools.partial(
                self.container.get_blob_client, entry.ref, snapshot=entry.snapshot
            )
            return BlobReader(_LazyBlob(entry.ref, snapshot), entry, self.classify, None)
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
            status = await self._container_request("PUT")
            if status >= 300 and status != 409:  # 409: it exists already
                raise self.classify(TransferError(f"container {self.where}: {status}"), self.where)
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

    async def open_writer(
        self, transfer: Transfer, size: int, props: WriteProps, block_size: int
    ) -> BlockBlobWriter | PageBlobWriter | AppendBlobWriter:
        """A writer for the blob type asked for."""
        blob = self._blob_factory(transfer.dest_ref)
        what = f"blob '{transfer.dest_ref}'"
        if props.blob_type is BlobType.PAGE:
            return PageBlobWriter(blob, size, props, what, self.classify)
        if props.blob_type is BlobType.APPEND:
            return AppendBlobWriter(blob, size, props, block_size, what, self.classify)
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


class BlobReader:
    """GETs of one blob, each conditional on (or checked against) the ETag seen at
    enumeration."""

    def __init__(
        self,
        blob: _LazyBlob,
        entry: Entry,
        classify_error: Callable[[BaseException, str], Exception],
        fast: FastPath | None = None,
    ) -> None:
        self.blob = blob
        self.entry = entry
        self.classify = classify_error
        self.fast = fast

    async def read(self, offset: int, length: int) -> bytes:
        """`length` bytes at `offset`."""
        if self.fast is not None:
            try:
                return await self.fast.rest.get_range(
                    self.fast.container,
                    self.entry.ref,
                    offset,
                    length,
                    self.entry.etag,
                    self._whole(offset, length),
                )
            except Exception as exc:
                raise self.classify(exc, f"blob '{self.entry.ref}'") from None
        from azure.core import MatchConditions
        from azure.core.exceptions import HttpResponseError

        condition: dict[str, Any] = {}
        if self.entry.etag:
            condition = {"etag": self.entry.etag, "match_condition": MatchConditions.IfNotModified}
        if self.entry.version_id:
            condition["version_id"] = self.entry.version_id
        try:
            stream = await self.blob.client.download_blob(offset=offset, length=length, **condition)
            data = await stream.readall()
        except HttpResponseError as exc:
            if exc.status_code == 412:
                raise IntegrityError(
                    f"blob '{self.entry.ref}' changed during the download"
                ) from None
            raise self.classify(exc, f"blob '{self.entry.ref}'") from None
        except Exception as exc:
            raise self.classify(exc, f"blob '{self.entry.ref}'") from None
        if len(data) != length:
            raise IntegrityError(f"blob '{self.entry.ref}' returned {len(data)} of {length} bytes")
        return data

    async def read_to(
        self, offset: int, length: int, consume: Callable[[int, bytes], Awaitable[None]]
    ) -> None:
        """Bytes [offset, offset+length) handed to `consume(position, piece)` as they arrive
        (the REST path streams them; otherwise the range is read whole first)."""
        if self.fast is None:
            await consume(offset, await self.read(offset, length))
            return
        try:
            await self.fast.rest.get_range_to(
                self.fast.container,
                self.entry.ref,
                offset,
                length,
                self.entry.etag,
                consume,
                self._whole(offset, length),
            )
        except Exception as exc:
            raise self.classify(exc, f"blob '{self.entry.ref}'") from None

    def _whole(self, offset: int, length: int) -> bool:
        """Whether a read covers the entire blob as listed (then its ETag is checked on the
        answer instead of sent as a condition; see `blob_rest._read_headers`)."""
        return offset == 0 and length == self.entry.size and length > 0

    async def finish(self) -> None:
        """Every read was conditional on, or checked against, the ETag: nothing more to check."""

    async def close(self) -> None:
        """Nothing to release."""


class _BlobWriterBase:
    """Shared plumbing: content settings and error classification."""

    sequential = False

    def __init__(
        self,
        blob: _LazyBlob,
        size: int,
        props: WriteProps,
        what: str,
        classify_error: Callable[[BaseException, str], Exception],
    ) -> None:
        self.blob = blob
        self.classify = classify_error
        self.size = size
        self.padded_size = size
        self.props = props
        self.what = what
        self.created = False

    def content_settings(self, md5: bytes | None) -> ContentSettings:
        from azure.storage.blob import ContentSettings

        content = self.props.content
        return ContentSettings(
            content_type=content.content_type,
            content_encoding=content.content_encoding,
            content_language=content.content_language,
            content_disposition=content.content_disposition,
            cache_control=content.cache_control,
            content_md5=bytearray(md5) if md5 is not None else None,
        )

    def fail(self, exc: BaseException) -> Exception:
        return self.classify(exc, self.what)

    async def _set_md5(self, md5: bytes) -> None:
        try:
            await self.blob.client.set_http_headers(content_settings=self.content_settings(md5))
        except Exception as exc:
            raise self.fail(exc) from None

    async def resumable_chunks(self, journaled: tuple[Chunk, ...]) -> set[int]:
        """By default nothing is trusted: the object is written again from zero."""
        return set()

    async def read_back(self, chunk: Chunk) -> bytes | None:
        """Blob data is never read back; the engine re-reads the (local) source instead."""
        return None

    async def suspend(self) -> None:
        """Keep what was written for a resume."""

    async def abort(self) -> None:
        """Delete a partially written page or append blob so it cannot pass for complete."""
        if self.created:
            with contextlib.suppress(Exception):
                await self.blob.client.delete_blob()


class BlockBlobWriter(_BlobWriterBase):
    """Put Blob for one-chunk files; Put Block per chunk + Put Block List otherwise."""

    def __init__(
        self,
        blob: _LazyBlob,
        size: int,
        props: WriteProps,
        block_size: int,
        what: str,
        classify_error: Callable[[BaseException, str], Exception],
        block_prefix: str,
    ) -> None:
        super().__init__(blob, size, props, what, classify_error)
        self.chunk_size = block_size
        self.block_prefix = block_prefix
        self.blocks: dict[int, str] = {}
        self.fast: FastPath | None = None

    def _tier(self) -> dict[str, Any]:
        from azure.storage.blob import StandardBlobTier

        return {"standard_blob_tier": StandardBlobTier(self.props.tier)} if self.props.tier else {}

    def block_id(self, index: int) -> str:
        """Deterministic per job, transfer and index; equal length for every block of a blob."""
        return base64.b64encode(f"{self.block_prefix}-{index:06d}".encode()).decode()

    async def resumable_chunks(self, journaled: tuple[Chunk, ...]) -> set[int]:
        """Chunks whose blocks are at the service (staged or committed) with the right size.

        The service's block list is the authority: a block staged just before a crash, too
        late to be journaled, is found here too.
        """
        try:
            committed, uncommitted = await self.blob.client.get_block_list("all")
        except Exception as exc:
            err = self.fail(exc)
            if isinstance(err, NotFoundError):
                return set()
            raise err from None
        # Committed blocks count too: a crash between Put Block List and the journal's record
        # of it leaves every block committed. Put Block List can name them again.
        staged = {block.id: block.size for block in [*committed, *uncommitted]}
        done = set()
        for index, offset in enumerate(range(0, self.size, self.chunk_size)):
            block_id = self.block_id(index)
            if staged.get(block_id) == min(self.chunk_size, self.size - offset):
                done.add(index)
                self.blocks[index] = block_id
        return done

    async def put_whole(self, data: bytes, md5: bytes) -> None:
        """One Put Blob carrying the content, properties and MD5."""
        if self.fast is not None:
            props = self.props
            try:
                await self.fast.rest.put_blob(
                    self.fast.container,
                    self.blob.name,
                    data,
                    md5,
                    props.content,
                    props.metadata,
                    props.tags,
                    props.tier,
                )
            except Exception as exc:
                raise self.fail(exc) from None
            return
        try:
            await self.blob.client.upload_blob(
                data,
                blob_type="BlockBlob",
                length=len(data),
                overwrite=True,
                content_settings=self.content_settings(md5),
                metadata=self.props.metadata or None,
                tags=self.props.tags or None,
                max_concurrency=1,
                **self._tier(),
            )
        except Exception as exc:
            raise self.fail(exc) from None

    async def write_chunk(self, chunk: Chunk, data: bytes) -> None:
        """Put Block with this chunk's deterministic ID."""
        block_id = self.block_id(chunk.index)
        if self.fast is not None:
            try:
                await self.fast.rest.put_block(self.fast.container, self.blob.name, block_id, data)
            except Exception as exc:
                raise self.fail(exc) from None
            self.blocks[chunk.index] = block_id
            return
        try:
            await self.blob.client.stage_block(block_id, data, length=len(data))
        except Exception as exc:
            raise self.fail(exc) from None
        self.blocks[chunk.index] = block_id

    async def commit(self, md5: bytes) -> None:
        """Put Block List in index order with properties and the whole-file MD5."""
        from azure.storage.blob import BlobBlock

        block_list = [BlobBlock(block_id=self.blocks[i]) for i in sorted(self.blocks)]
        try:
            await self.blob.client.commit_block_list(
                block_list,
                content_settings=self.content_settings(md5),
                metadata=self.props.metadata or None,
                tags=self.props.tags or None,
                **self._tier(),
            )
        except Exception as exc:
            raise self.fail(exc) from None

    async def abort(self) -> None:
        """Uncommitted blocks are discarded by the service after a week; nothing to undo."""


class PageBlobWriter(_BlobWriterBase):
    """Create Page Blob (size rounded up to 512) + Put Page for each non-zero chunk."""

    def __init__(
        self,
        blob: _LazyBlob,
        size: int,
        props: WriteProps,
        what: str,
        classify_error: Callable[[BaseException, str], Exception],
    ) -> None:
        super().__init__(blob, size, props, what, classify_error)
        self.chunk_size = MAX_PAGE_WRITE
        self.padded_size = -(-size // PAGE) * PAGE
        self._zeros = bytes(MAX_PAGE_WRITE)

    async def create(self, md5: bytes | None) -> None:
        if self.created:
            return
        try:
            await self.blob.client.create_page_blob(
                self.padded_size,
                content_settings=self.content_settings(md5),
                metadata=self.props.metadata or None,
                tags=self.props.tags or None,
            )
        except Exception as exc:
            raise self.fail(exc) from None
        self.created = True

    async def resumable_chunks(self, journaled: tuple[Chunk, ...]) -> set[int]:
        """Journaled pages, if the page blob an earlier run created is still there."""
        try:
            props = await self.blob.client.get_blob_properties()
        except Exception:
            return set()
        if props.size != self.padded_size or getattr(props.blob_type, "value", "") != "PageBlob":
            return set()
        self.created = True
        return {c.index for c in journaled}

    async def put_whole(self, data: bytes, md5: bytes) -> None:
        """Create with the MD5 already known, then write the pages."""
        await self.create(md5)
        await self.write_chunk(Chunk(0, 0, len(data)), data)

    async def write_chunk(self, chunk: Chunk, data: bytes) -> None:
        """Put Page, zero-padded to 512 bytes; all-zero chunks are skipped (pages read as 0)."""
        await self.create(None)
        if len(data) % PAGE:
            data = data + bytes(PAGE - len(data) % PAGE)
        if not data or memoryview(data) == memoryview(self._zeros)[: len(data)]:
            return
        try:
            await self.blob.client.upload_page(data, offset=chunk.offset, length=len(data))
        except Exception as exc:
            raise self.fail(exc) from None

    async def commit(self, md5: bytes) -> None:
        """Record the MD5 of the padded content."""
        await self.create(None)
        await self._set_md5(md5)


class AppendBlobWriter(_BlobWriterBase):
    """Create Append Blob + Append Block per chunk, strictly in order."""

    sequential = True

    def __init__(
        self,
        blob: _LazyBlob,
        size: int,
        props: WriteProps,
        block_size: int,
        what: str,
        classify_error: Callable[[BaseException, str], Exception],
    ) -> None:
        super().__init__(blob, size, props, what, classify_error)
        self.chunk_size = min(block_size, MAX_APPEND_BLOCK)

    async def create(self, md5: bytes | None) -> None:
        if self.created:
            return
        try:
            await self.blob.client.create_append_blob(
                content_settings=self.content_settings(md5),
                metadata=self.props.metadata or None,
                tags=self.props.tags or None,
            )
        except Exception as exc:
            raise self.fail(exc) from None
        self.created = True

    async def put_whole(self, data: bytes, md5: bytes) -> None:
        """Create with the MD5 known, then append the data."""
        await self.create(md5)
        await self.write_chunk(Chunk(0, 0, len(data)), data)

    async def write_chunk(self, chunk: Chunk, data: bytes) -> None:
        """Append Block; the engine calls this in chunk order."""
        await self.create(None)
        if not data:
            return
        try:
            await self.blob.client.append_block(data, length=len(data))
        except Exception as exc:
            raise self.fail(exc) from None

    async def suspend(self) -> None:
        """Appends cannot be matched to chunks reliably: discard, and restart on resume."""
        await self.abort()

    async def commit(self, md5: bytes) -> None:
        """Record the MD5 of the whole content."""
        await self.create(None)
        await self._set_md5(md5)


class _LazyBlob:
    """A blob's name, and its SDK client built on first use."""

    __slots__ = ("_client", "_make", "name")

    def __init__(self, name: str, make: Callable[[], BlobClient]) -> None:
        self.name = name
        self._make = make
        self._client: BlobClient | None = None

    @property
    def client(self) -> BlobClient:
        """The SDK client for this blob."""
        if self._client is None:
            self._client = self._make()
        return self._client


class FastPath(Struct, frozen=True):
    """The REST client and container an endpoint's hot operations go through."""

    rest: RestBlobClient
    container: str


def quoted_etag(etag: str | None) -> str | None:
    """ETags in one form: List Blobs gives them bare, Get Blob Properties quoted."""
    if not etag:
        return None
    return etag if etag.startswith('"') else f'"{etag}"'


def _entry_from_listing(listed: ListedBlob, rel: str) -> Entry:
    return Entry(
        ref=listed.name,
        rel_path=rel,
        size=listed.size,
        mtime=listed.last_modified,
        md5=listed.md5,
        etag=quoted_etag(listed.etag),
        blob_type=BlobType(listed.blob_type) if listed.blob_type else None,
        content=listed.content,
        metadata=listed.metadata or None,
        tier=listed.tier,
    )


def _is_folder_marker(props: Any) -> bool:
    metadata = getattr(props, "metadata", None) or {}
    return props.size == 0 and metadata.get("hdi_isfolder") == "true"


def _entry(props: Any, rel: str) -> Entry:
    settings = props.content_settings
    md5 = settings.content_md5
    blob_type = props.blob_type
    return Entry(
        ref=props.name,
        rel_path=rel,
        size=props.size,
        mtime=props.last_modified.timestamp() if props.last_modified else None,
        md5=bytes(md5) if md5 else None,
        etag=quoted_etag(props.etag),
        blob_type=BlobType(getattr(blob_type, "value", blob_type)) if blob_type else None,
        content=ContentProps(
            content_type=settings.content_type,
            content_encoding=settings.content_encoding,
            content_language=settings.content_language,
            content_disposition=settings.content_disposition,
            cache_control=settings.cache_control,
        ),
        metadata=dict(props.metadata) if props.metadata else None,
        # An inferred tier is the account's default: the copy should get its own account's.
        tier=None if getattr(props, "blob_tier_inferred", False) else _tier_name(props.blob_tier),
        snapshot=getattr(props, "snapshot", None) or None,
    )


def _tier_name(tier: Any) -> str | None:
    value = getattr(tier, "value", tier)
    return str(value) if value else None


def snapshot_name(rel_path: str, snapshot: str, precise: bool = False) -> str:
    """AzCopy v8's name for a snapshot copy: `name (YYYY-MM-DD HHMMSS).ext`; `precise` adds
    the fraction of a second (`HHMMSS.fffffff`) to tell apart snapshots of the same second."""
    stamp = snapshot.rstrip("Z") if precise else snapshot[:19]
    stamp = stamp.replace("T", " ").replace(":", "")
    folder, _, leaf = rel_path.rpartition("/")
    stem, dot, ext = leaf.rpartition(".")
    if not stem:  # no extension (or a dot-file): the stamp goes at the end
        stem, dot, ext = leaf, "", ""
    named = f"{stem} ({stamp}){dot}{ext}"
    return f"{folder}/{named}" if folder else named


async def _one(entry: Entry) -> AsyncIterator[Entry | Skipped]:
    yield entry
