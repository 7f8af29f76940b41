"""The Blob driver in the contract suite, against the session's Azurite: a fresh container
per test, seeded and inspected with the storage SDK."""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import ResourceNotFoundError
from msgspec.structs import replace

from azxfer.credentials import Credential
from azxfer.endpoints.blob.connections import BlobConnections
from azxfer.endpoints.blob.endpoint import BlobEndpoint
from azxfer.locations import parse_location
from azxfer.models import BlobProps, BlobType, ContentProps, WriteProps

from .harness import DriverHarness

BLOCK_PROPS = WriteProps(
    content=ContentProps(content_type="text/x-contract"), metadata={"suite": "contract"}
)


class BlobHarness(DriverHarness):
    """`rest`: through the REST fast path (as with a key or SAS), else the SDK's clients only
    (as with an Entra ID token). `write_props` picks the blob type writers create."""

    def __init__(
        self, request: pytest.FixtureRequest, rest: bool = True, props: WriteProps = BLOCK_PROPS
    ) -> None:
        azurite = request.getfixturevalue("azurite")
        self.client = request.getfixturevalue("container_client")
        self.endpoint_url = azurite.blob_endpoint
        self.credential = Credential("shared_key", azurite.account, key=azurite.key)
        self.rest = rest
        self.write_props = props
        self.connections: BlobConnections | None = None

    async def start(self) -> None:
        self.connections = BlobConnections(4, tls=False)

    async def stop(self) -> None:
        assert self.connections is not None
        await self.connections.close()

    def _endpoint(self, container: str, path: str = "") -> BlobEndpoint:
        assert self.connections is not None, "start() first"
        location = parse_location(f"{self.endpoint_url}/{container}")._replace(path=path)
        rest = self.connections.rest(location, self.credential) if self.rest else None
        service = self.connections.service(location, self.credential)
        return BlobEndpoint(location, service, self.credential, "c0ffee00", rest)

    async def root(self) -> BlobEndpoint:
        return self._endpoint(self.client.container_name)

    async def single(self, name: str) -> BlobEndpoint:
        return self._endpoint(self.client.container_name, name)

    async def missing_root(self) -> BlobEndpoint:
        return self._endpoint("missing" + uuid.uuid4().hex[:20])

    def ref(self, name: str) -> str:
        return name

    def put(self, name: str, data: bytes) -> None:
        self.client.upload_blob(name, data, overwrite=True)

    def remove(self, name: str) -> None:
        self.client.delete_blob(name)

    def get(self, name: str) -> bytes | None:
        try:
            return self.client.download_blob(name).readall()
        except ResourceNotFoundError:
            return None

    def names(self) -> set[str]:
        return {blob.name for blob in self.client.list_blobs()}


def blob_sdk(request: pytest.FixtureRequest) -> BlobHarness:
    """The SDK path, for credentials the fast path cannot sign with."""
    return BlobHarness(request, rest=False)


def append_blob(request: pytest.FixtureRequest) -> BlobHarness:
    """Writers create append blobs (sequential chunks)."""
    return BlobHarness(
        request, props=replace(BLOCK_PROPS, service=BlobProps(blob_type=BlobType.APPEND))
    )


def page_blob(request: pytest.FixtureRequest) -> BlobHarness:
    """Writers create page blobs (sizes padded to 512 bytes)."""
    return BlobHarness(
        request, props=replace(BLOCK_PROPS, service=BlobProps(blob_type=BlobType.PAGE))
    )
