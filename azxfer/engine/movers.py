"""Which mover a job's transfers go through: server side or streamed through this machine."""

from __future__ import annotations

from azxfer.endpoints.base import Endpoint
from azxfer.endpoints.blob.endpoint import BlobEndpoint
from azxfer.endpoints.local.endpoint import LocalEndpoint
from azxfer.engine.job import Mover, StreamMover
from azxfer.options import ServerCopySettings


def mover_for(source: Endpoint, dest: Endpoint, settings: ServerCopySettings) -> Mover:
    """Copies into Blob storage from a URL go server side where they can; the rest stream."""
    stream = StreamMover(source, dest)
    if not isinstance(dest, BlobEndpoint) or isinstance(source, LocalEndpoint):
        return stream
    # Imported only by jobs that may copy server side (the web driver imports aiohttp):
    # start-up is part of every job's time.
    from azxfer.endpoints.web.endpoint import WebEndpoint
    from azxfer.engine.server_copy import ServerSideMover

    if isinstance(source, BlobEndpoint | WebEndpoint):
        return ServerSideMover(source, dest, settings, stream)
    return stream
