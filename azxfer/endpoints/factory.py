"""Which driver serves a location (local path, web URL, Blob storage or Azure Files), and the
connection state a job's drivers share.

A job makes one `JobConnections` and asks `endpoint_for` for each side's driver; neither it
nor the job names a service. A new service plugs in here only: its case in `endpoint_for`, and
its connection state in `JobConnections`, made on first use and closed in `close`. Every
service's REST requests share the job's one connection pool (`pool`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from azxfer.credentials import Credential
from azxfer.endpoints.blob.connections import BlobConnections, job_pool
from azxfer.endpoints.blob.early_listing import EarlyListings
from azxfer.endpoints.blob.endpoint import BlobEndpoint
from azxfer.endpoints.local.endpoint import LocalEndpoint
from azxfer.locations import Location, Service
from azxfer.transport.http import needs_tls
from azxfer.transport.pool import HttpPool, Pace
from azxfer.transport.proxy import NO_PROXIES, ProxySettings, proxy_settings
from azxfer.transport.retry import RetryPolicy

if TYPE_CHECKING:  # imported when used (start-up is part of every job's time)
    from azxfer.endpoints.files.endpoint import FilesEndpoint
    from azxfer.endpoints.files.rest import FileRestClient
    from azxfer.endpoints.web.endpoint import WebEndpoint

# Told of every request sent again: (what, attempt, wait in seconds, why).
OnRetry = Callable[[str, int, float, str], None]


class JobConnections:
    """The connection state of one job's drivers, for every service: each service's state is
    made when its first driver is, and everything made is closed once, by `close`."""

    def __init__(
        self,
        concurrency: int,
        on_retry: OnRetry | None = None,
        tls: bool = True,
        early: EarlyListings | None = None,
        proxies: ProxySettings = NO_PROXIES,
        pace: Pace | None = None,
    ) -> None:
        """`tls`: the job may open https connections; `early`: the listings its command line
        started; `proxies`: those of the job's environment; `pace`: the job's bandwidth cap,
        applied to the data of every REST request on its pool."""
        self._concurrency = concurrency
        self._on_retry = on_retry
        self._tls = tls
        self._early = early
        self._proxies = proxies
        self._pace = pace
        self._pool: HttpPool | None = None
        self._http: BlobConnections | None = None

    @classmethod
    def for_job(
        cls,
        locations: tuple[Location, ...],
        concurrency: int,
        env: Mapping[str, str],
        on_retry: OnRetry | None = None,
        early: EarlyListings | None = None,
        pace: Pace | None = None,
    ) -> JobConnections:
        """The connections of a job on `locations` in the environment `env` (its proxies):
        a UsageError for an unusable proxy, before anything is opened."""
        tls = needs_tls(*locations)
        return cls(concurrency, on_retry, tls, early, proxy_settings(env), pace)

    @property
    def pace(self) -> Pace | None:
        """The job's bandwidth cap (None: none), for drivers whose data does not go through
        the pool (web sources read through aiohttp)."""
        return self._pace

    @property
    def pool(self) -> HttpPool:
        """The REST connection pool every service's drivers share."""
        if self._pool is None:
            self._pool = job_pool(self._concurrency, self._tls, self._proxies, self._pace)
        return self._pool

    @property
    def http(self) -> BlobConnections:
        """The aiohttp session and SDK clients that Blob and web drivers share."""
        if self._http is None:
            self._http = BlobConnections(
                self._concurrency,
                self._on_retry,
                tls=self._tls,
                early=self._early,
                proxies=self._proxies,
                pool=self.pool,
            )
        return self._http

    def files_rest(self, location: Location, credential: Credential | None) -> FileRestClient:
        """The REST client of a share of Azure Files, on the job's pool."""
        from azxfer.endpoints.files.rest import FileRestClient

        retry = RetryPolicy(on_retry=self._on_retry)
        return FileRestClient(self.pool, location.endpoint, location.container, credential, retry)

    async def close(self) -> None:
        """Close whatever was opened."""
        if self._http is not None:
            await self._http.close()
        if self._pool is not None:
            await self._pool.close()


def endpoint_for(
    location: Location,
    credential: Credential | None,
    connections: JobConnections,
    job_id: str,
    include_snapshots: bool = False,
    source_properties: bool = False,
    delimiter: str = "/",
) -> LocalEndpoint | BlobEndpoint | WebEndpoint | FilesEndpoint:
    """The driver for `location`, tagged with the job (its temporary and staged names).

    `source_properties`: a source's entries should carry every property the service stores
    (content headers, metadata, Content-MD5), as a copy to another service keeps them; an
    Azure Files listing lacks them, so each listed file's properties are then asked too. A
    download needs none of them: its Content-MD5 arrives with the data (`StoredDigest`).
    `delimiter`: the character a Blob source's virtual directories are separated by."""
    if location.is_local:
        return LocalEndpoint(location.local_path, location.pattern, f"azxfer-{job_id[:8]}")
    if location.service is Service.WEB:
        from azxfer.endpoints.web.endpoint import WebEndpoint

        http = connections.http
        return WebEndpoint(
            location,
            http.session,
            http.retry_policy(),
            http.proxies.for_aiohttp(location.web_url),
            connections.pace,
        )
    if location.service is Service.FILE:
        from azxfer.endpoints.files.endpoint import FilesEndpoint

        rest = connections.files_rest(location, credential)
        return FilesEndpoint(location, rest, credential, listed_md5=source_properties)
    http = connections.http
    return BlobEndpoint(
        location,
        http.service(location, credential),
        credential,
        job_id[:8],
        http.rest(location, credential),
        include_snapshots,
        delimiter,
    )
