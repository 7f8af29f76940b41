"""Which mover a job's transfers go through: server side or streamed through this machine."""

from __future__ import annotations

from azxfer.endpoints.base import Endpoint
from azxfer.endpoints.copycaps import UrlSource, UrlTarget
from azxfer.engine.job import Mover, StreamMover
from azxfer.options import ServerCopySettings


def mover_for(source: Endpoint, dest: Endpoint, settings: ServerCopySettings) -> Mover:
    """Copies into a destination that can copy from the source's URLs go server side where
    they can; the rest stream."""
    stream = StreamMover(source, dest)
    if not (isinstance(source, UrlSource) and isinstance(dest, UrlTarget)):
        return stream
    # Imported only by jobs that may copy server side: start-up is part of every job's time.
    from azxfer.engine.server_copy import ServerSideMover

    return ServerSideMover(source, dest, settings, stream)
