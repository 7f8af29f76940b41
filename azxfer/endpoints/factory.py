"""Which driver serves a location: local path, web URL or Blob storage."""

from __future__ import annotations

from azxfer.credentials import Credential
from azxfer.endpoints.blob import BlobConnections, BlobEndpoint
from azxfer.endpoints.local import LocalEndpoint
from azxfer.endpoints.web import WebEndpoint
from azxfer.locations import Location
from azxfer.models import Service

AnyEndpoint = LocalEndpoint | BlobEndpoint | WebEndpoint


def endpoint_for(
    location: Location,
    credential: Credential | None,
    connections: BlobConnections,
    job_id: str,
    include_snapshots: bool = False,
) -> AnyEndpoint:
    """The driver for `location`, tagged with the job (its temporary and staged names)."""
    if location.is_local:
        return LocalEndpoint(location.local_path, location.pattern, f"azxfer-{job_id[:8]}")
    if location.service is Service.WEB:
        return WebEndpoint(location, connections.session, connections.retry_policy())
    return BlobEndpoint(
        location,
        connections.service(location, credential),
        credential,
        job_id[:8],
        connections.rest(location, credential),
        include_snapshots,
    )
