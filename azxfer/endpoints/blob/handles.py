"""How a blob endpoint's readers and writers reach a blob: its SDK client, built on first use,
and the REST fast path's client with the container."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from msgspec import Struct

from azxfer.endpoints.blob.rest import RestBlobClient

if TYPE_CHECKING:  # the SDK is imported only when an operation needs it (see `connections`)
    from azure.storage.blob.aio import BlobClient


class LazyBlob:
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
