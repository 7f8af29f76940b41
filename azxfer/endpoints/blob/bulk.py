"""What Blob storage offers bulk operations (`azxfer remove`, `azxfer set-properties`):
deletes with a snapshot rule and tier changes, both batched (`batch`), and metadata and tag
changes, one request each, and blobs looked up by name (`NamedPaths`). A mixin of
`BlobEndpoint`, on its REST client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from azxfer.credentials import Credential
from azxfer.endpoints.base import NameFilter
from azxfer.endpoints.blob.batch import (
    BATCH_LIMIT,
    Answer,
    BatchRefused,
    BlobBatch,
    SubRequest,
    error_message,
    outcome,
)
from azxfer.endpoints.blob.errors import classify
from azxfer.endpoints.blob.requests import blob_path
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.endpoints.bulkcaps import BulkOutcome, SnapshotRule
from azxfer.endpoints.lookup import Named
from azxfer.errors import AzxferError, CredentialError
from azxfer.locations import Location
from azxfer.models import Entry, Skipped, blob_props
from azxfer.transport.rest import ALL_BUT_BUSY


def _marker(entry: Entry) -> bool:
    """A folder's marker blob, which a listing never selects as an object."""
    return entry.size == 0 and (entry.metadata or {}).get("hdi_isfolder") == "true"


def _point_in_time(entry: Entry) -> dict[str, str]:
    """The query naming the snapshot or version `entry` is ({} for the blob itself)."""
    props = blob_props(entry)
    if props.snapshot:
        return {"snapshot": props.snapshot}
    return {"versionid": props.version_id} if props.version_id else {}


class BlobBulkOps:
    """BatchDeleter, TierSetter, MetadataSetter, TagSetter and NamedPaths for one container."""

    location: Location
    rest: RestBlobClient | None
    credential: Credential | None
    batch_size = BATCH_LIMIT
    # Set once the service refused a batch: the job's next ones would be refused too.
    _batch_refused = False

    if TYPE_CHECKING:  # BlobEndpoint's

        def join(self, rel_path: str) -> str: ...
        async def stat(self, ref: str) -> Entry | None: ...
        def list_entries(
            self, base: str, recursive: bool, filters: NameFilter
        ) -> AsyncIterator[Entry | Skipped]: ...

    async def look_up(self, rel_path: str) -> Named:
        """The blob `rel_path` names (Get Blob Properties; never a folder's marker blob); a
        virtual directory of that name may be there too, beside it (NamedPaths)."""
        entry = await self.stat(self.join(rel_path))
        return Named(None if entry is None or _marker(entry) else entry, folder=True)

    def named_folder(self, rel_path: str, filters: NameFilter) -> AsyncIterator[Entry | Skipped]:
        """The blobs under virtual directory `rel_path`, listed by its prefix (NamedPaths)."""
        return self.list_entries(self.join(rel_path) + "/", True, filters)

    async def delete_many(
        self, entries: Sequence[Entry], snapshots: SnapshotRule
    ) -> list[BulkOutcome]:
        """Delete Blob for each entry (x-ms-delete-snapshots: `snapshots`, if given); an entry
        that is a snapshot or a version is deleted alone (its query names it)."""
        headers = {"x-ms-delete-snapshots": snapshots} if snapshots else {}
        requests = []
        for entry in entries:
            point = _point_in_time(entry)
            requests.append(SubRequest("DELETE", entry.ref, point, {} if point else headers))
        return await self._run(requests, gone_is_done=True)

    async def set_tiers(
        self, entries: Sequence[Entry], tier: str, rehydrate: str | None
    ) -> list[BulkOutcome]:
        """Set Blob Tier for each entry; the rehydrate priority goes with blobs listed in
        Archive (the only ones it applies to)."""
        requests = []
        for entry in entries:
            headers = {"x-ms-access-tier": tier}
            if rehydrate and blob_props(entry).tier == "Archive":
                headers["x-ms-rehydrate-priority"] = rehydrate
            requests.append(SubRequest("PUT", entry.ref, {"comp": "tier"}, headers))
        return await self._run(requests, gone_is_done=False)

    async def set_metadata(self, ref: str, metadata: dict[str, str]) -> None:
        """Set Blob Metadata: the blob's metadata becomes `metadata` (empty: none)."""
        headers = {f"x-ms-meta-{name}": value for name, value in metadata.items()}
        await self._send(SubRequest("PUT", ref, {"comp": "metadata"}, headers), None)

    async def set_tags(self, ref: str, tags: dict[str, str]) -> None:
        """Set Blob Tags: the blob's tags become `tags` (empty: none)."""
        tag_set = "".join(
            f"<Tag><Key>{escape(key)}</Key><Value>{escape(value)}</Value></Tag>"
            for key, value in tags.items()
        )
        body = f'<?xml version="1.0" encoding="utf-8"?><Tags><TagSet>{tag_set}</TagSet></Tags>'
        headers = {"Content-Type": "application/xml; charset=utf-8"}
        await self._send(SubRequest("PUT", ref, {"comp": "tags"}, headers), body.encode())

    # -- sending -----------------------------------------------------------------------------

    def _client(self) -> RestBlobClient:
        if self.rest is None:  # every credential has a REST client; a guard for the type
            raise AzxferError("bulk operations need the REST client of the container")
        return self.rest

    def _parent(self) -> str:
        return f"'{self.location.container}' at {self.location.endpoint}"

    async def _run(self, requests: list[SubRequest], gone_is_done: bool) -> list[BulkOutcome]:
        """Each request's outcome: in one batch where the service takes it, else one by one."""
        parent = self._parent()
        if len(requests) > 1 and not self._batch_refused:
            batch = BlobBatch(self._client(), self.location.container)
            try:
                answers = await batch.submit(requests)
            except BatchRefused:
                self._batch_refused = True
            else:
                return [
                    self._outcome(request, answer, parent, gone_is_done)
                    for request, answer in zip(requests, answers, strict=True)
                ]
        singles = (self._single(request, gone_is_done) for request in requests)
        return list(await asyncio.gather(*singles))

    async def _single(self, request: SubRequest, gone_is_done: bool) -> BulkOutcome:
        try:
            answer = await self._answer(request, None)
        except AzxferError as exc:
            return exc
        return self._outcome(request, answer, self._parent(), gone_is_done)

    async def _send(self, request: SubRequest, body: bytes | None) -> None:
        err = self._outcome(request, await self._answer(request, body), self._parent(), False)
        if err is not None:
            raise err

    def _outcome(
        self, request: SubRequest, answer: Answer, parent: str, gone_is_done: bool
    ) -> AzxferError | None:
        """The request's outcome; a denial says which credential was used and why."""
        what = f"blob '{request.name}'"
        err = outcome(answer, what, parent, gone_is_done, request.method)
        if isinstance(err, CredentialError):
            return classify(err, what, credential=self.credential)
        return err

    async def _answer(self, request: SubRequest, body: bytes | None) -> Answer:
        client = self._client()
        container = self.location.container
        status, headers, payload = await client.rest.send(
            request.method,
            blob_path(container, request.name),
            request.query,
            request.headers,
            body,
            f"blob '{request.name}'",
            parent=container,
            keep=ALL_BUT_BUSY,
        )
        message = error_message(payload.decode("utf-8", "replace")) if status >= 300 else ""
        return Answer(status, headers.get("x-ms-error-code", ""), message)
