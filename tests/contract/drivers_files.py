"""The Azure Files driver in the contract suite, against a fresh File REST stand-in: a fresh
share per test, seeded and inspected with the azure-storage-file-share SDK."""

from __future__ import annotations

import uuid
from typing import ClassVar

import pytest
from azure.core.exceptions import ResourceNotFoundError
from seed import seed_share

from azxfer.credentials import Credential
from azxfer.endpoints.blob.connections import job_pool
from azxfer.endpoints.files.endpoint import FilesEndpoint
from azxfer.endpoints.files.rest import FileRestClient
from azxfer.errors import AzxferError, ContainerMissing
from azxfer.locations import Service, parse_location
from azxfer.models import ContentProps, WriteProps
from azxfer.transport.pool import HttpPool
from azxfer.transport.proxy import NO_PROXIES
from azxfer.transport.retry import RetryPolicy

from .harness import DriverHarness

# Characters Azure Files does not allow in a name.
FORBIDDEN = '"\\:|<>*?'


class FilesHarness(DriverHarness):
    """Objects are files of a fresh share; directories are made as the SDK needs them."""

    # A missing share is the job's error (ContainerMissing is a NotFoundError).
    missing_root_error: ClassVar[type[AzxferError]] = ContainerMissing
    case_insensitive: ClassVar[bool] = True
    write_props = WriteProps(
        content=ContentProps(content_type="text/x-contract"),
        metadata={"suite": "contract"},
        mtime=1_000_000.5,
    )

    def __init__(self, request: pytest.FixtureRequest) -> None:
        from azure.storage.fileshare import ShareServiceClient

        standin = request.getfixturevalue("file_standin")
        azurite = request.getfixturevalue("azurite")  # the well-known account and key
        self.account_url = standin.account_url(azurite.account)
        self.credential = Credential("shared_key", azurite.account, key=azurite.key)
        service = ShareServiceClient(
            account_url=self.account_url,
            credential={"account_name": azurite.account, "account_key": azurite.key},
        )
        self.share_name = "s" + uuid.uuid4().hex[:20]
        self.share = service.create_share(self.share_name)
        self.pool: HttpPool | None = None

    async def start(self) -> None:
        self.pool = job_pool(4, False, NO_PROXIES)

    async def stop(self) -> None:
        assert self.pool is not None
        await self.pool.close()

    def _endpoint(self, share: str, path: str = "") -> FilesEndpoint:
        assert self.pool is not None, "start() first"
        location = parse_location(f"{self.account_url}/{share}", Service.FILE)
        location = location._replace(path=path)
        rest = FileRestClient(self.pool, location.endpoint, share, self.credential, RetryPolicy())
        return FilesEndpoint(location, rest, self.credential, listed_md5=True)

    async def root(self) -> FilesEndpoint:
        return self._endpoint(self.share_name)

    async def single(self, name: str) -> FilesEndpoint:
        return self._endpoint(self.share_name, name)

    async def missing_root(self) -> FilesEndpoint:
        return self._endpoint("missing" + uuid.uuid4().hex[:20])

    def ref(self, name: str) -> str:
        return name

    def put(self, name: str, data: bytes) -> None:
        forbidden = sorted(set(name) & set(FORBIDDEN))
        if forbidden:  # the suite's shared tree has names only other services can store
            pytest.skip(f"Azure Files forbids {' '.join(forbidden)} in names ({name!r})")
        # With its MD5, as azxfer's writer stores it.
        seed_share(self.share, {name: data}, content_md5=True)

    def remove(self, name: str) -> None:
        self.share.get_file_client(name).delete_file()

    def get(self, name: str) -> bytes | None:
        try:
            return self.share.get_file_client(name).download_file().readall()
        except ResourceNotFoundError:
            return None

    def names(self) -> set[str]:
        return set(self._walk(""))

    def _walk(self, folder: str) -> list[str]:
        found = []
        for item in self.share.get_directory_client(folder).list_directories_and_files():
            path = f"{folder}/{item['name']}" if folder else item["name"]
            found.extend(self._walk(path) if item["is_directory"] else [path])
        return found
