"""The connections of a job's blob endpoints, shared by all of them.

The REST fast path of a job shares one connection pool (`transport.pool`, sized to the job's
concurrency, and shared with the job's other services: see `endpoints.factory`); the storage
SDK's clients, built only for operations the fast path does not
carry, share one aiohttp session. Both, and the retry policy (`transport.sdk_retry`), are
configured once in `BlobConnections`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from azxfer.credentials import Credential
from azxfer.endpoints.blob.early_listing import EarlyListings
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.locations import Location
from azxfer.transport.http import tls_context
from azxfer.transport.pool import HttpPool, Pace
from azxfer.transport.proxy import NO_PROXIES, ProxySettings
from azxfer.transport.retry import RetryPolicy

if TYPE_CHECKING:
    import aiohttp

    # The storage SDK takes a third of a second to import; jobs that never need it (the REST
    # fast path serves listing, reads and writes of block blobs) never import it.
    from azure.core.pipeline.transport import AioHttpTransport
    from azure.storage.blob.aio import BlobServiceClient

MiB = 1024 * 1024


class BlobConnections:
    """The connections, retry policy and service clients shared by a job's blob endpoints."""

    def __init__(
        self,
        concurrency: int,
        on_retry: Callable[[str, int, float, str], None] | None = None,
        tls: bool = True,
        early: EarlyListings | None = None,
        proxies: ProxySettings = NO_PROXIES,
        pool: HttpPool | None = None,
    ) -> None:
        """`tls`: the job may open https connections (see `endpoints.http`); a job that talks
        plain http only (to an emulator) does not pay for loading the CA store. `early`: the
        listings its command line started (see `endpoints.blob.early_listing`). `proxies`: the
        proxies of the job's environment (see `transport.proxy`). `pool`: the job's pool,
        shared with its other services' drivers and closed by its owner; without one, these
        connections make their own and close it."""
        self._on_retry = on_retry
        self._early = early
        self._limit = concurrency + 8
        self._tls = tls
        self.proxies = proxies
        self._owns_pool = pool is None
        self._pool = pool or job_pool(concurrency, tls, proxies)
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
        if self._owns_pool:
            await self._pool.close()


def job_pool(
    concurrency: int, tls: bool, proxies: ProxySettings, pace: Pace | None = None
) -> HttpPool:
    """The REST connection pool of a job of `concurrency` requests in flight (a few more
    connections than that: listings and commits run beside the transfers), under the job's
    bandwidth cap `pace` if it has one."""
    return HttpPool(concurrency + 8, tls_context() if tls else None, proxies=proxies, pace=pace)
