"""Which driver serves a location: local path, web URL or Blob storage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from azxfer.credentials import Credential
from azxfer.endpoints.blob.connections import BlobConnections
from azxfer.endpoints.blob.endpoint import BlobEndpoint
from azxfer.endpoints.local.endpoint import LocalEndpoint
from azxfer.locations import Location, Service

if TYPE_CHECKING:  # imported when a web source is used (start-up is part of every job's time)
    from azxfer.endpoints.web.endpoint import WebEndpoint


def endpoint_for(
    location: Location,
    credential: Credential | None,
    connections: BlobConnections,
    job_id: str,
    include_snapshots: bool = False,
) -> LocalEndpoint | BlobEndpoint | WebEndpoint:
    """The driver for `location`, tagged with the job (its temporary and staged names)."""
    if location.is_local:
        return LocalEndpoint(location.local_path, location.pattern, f"azxfer-{job_id[:8]}")
    if location.service is Service.WEB:
        from azxfer.endpoints.web.endpoint import WebEndpoint

        return WebEndpoint(
            location,
            connections.session,
            connections.retry_policy(),
            connections.proxies.for_aiohttp(location.web_url),
        )
    return BlobEndpoint(
        location,
        connections.service(location, credential),
        credential,
        job_id[:8],
        connections.rest(location, credential),
        include_snapshots,
    )
