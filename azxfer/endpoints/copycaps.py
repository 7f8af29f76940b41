"""The server-side copy contract: a source readable by URL, a destination that copies from one.

A copy between services moves no bytes through this machine: the source hands out an
authorized URL (`UrlSource` → `CopySource`), the destination offers the service requests that
read it (`UrlTarget` → `CopyMethod`), and the engine runs them with its request slots, stop
event and journal (`CopyContext`, `CopyRecorder`). What a source may add to such a copy
(leases, tags, security descriptors) is here too. Apart from `endpoints.base` because only
server-side copies use it.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from msgspec import Struct

from azxfer.events import EventSink
from azxfer.models import Chunk, Entry, Planned, Transfer


class CopySource(Struct, frozen=True):
    """An object as another service will read it: `url` carries read authorization, or
    `authorization` does (an Entra ID token, "Bearer ...", for the request's
    x-ms-copy-source-authorization header); both are secrets, never shown, logged or
    journaled. `token_intent` ("backup"): a file share's object read with a token, which the
    service reading it must say it reads with backup semantics (x-ms-file-request-intent)."""

    url: str
    entry: Entry
    authorization: str | None = None
    token_intent: str | None = None

    def source_headers(self) -> dict[str, str]:
        """The headers a From-URL request adds so its service may read the source."""
        headers: dict[str, str] = {}
        if self.authorization:
            headers["x-ms-copy-source-authorization"] = self.authorization
        if self.token_intent:
            headers["x-ms-file-request-intent"] = self.token_intent
        return headers

    def __repr__(self) -> str:
        return f"CopySource({self.entry.key!r})"


@runtime_checkable
class UrlSource(Protocol):
    """A source whose objects another service can read by URL."""

    def url_unreadable(self) -> str | None:
        """None if other services can read this source's URLs, else why not (a notice)."""

    async def copy_source(self, entry: Entry) -> CopySource:
        """`entry` (its snapshot or version included) as a URL with read authorization (in
        the URL, or a token for the copy request's x-ms-copy-source-authorization)."""


@runtime_checkable
class SourceLeases(Protocol):
    """A source that can keep an object from changing while it is copied."""

    def leased(self, entry: Entry) -> AbstractAsyncContextManager[None]:
        """Hold `entry` unchanged by others for the body, then let go."""


@runtime_checkable
class SecurityDescriptors(Protocol):
    """Storage whose files carry security descriptors (SDDL) that it names by its own keys
    (an Azure Files share), so a copy between two of them can carry permissions over."""

    async def permission(self, key: str) -> str:
        """The security descriptor that `key` names here."""

    def carry_permissions_from(self, source: SecurityDescriptors) -> None:
        """Give each file written here the permission its source file has in `source`."""


@runtime_checkable
class SourceTags(Protocol):
    """A source storing index tags with its objects."""

    async def tags(self, entry: Entry) -> dict[str, str]:
        """The tags of `entry`."""


class CopyKind(enum.Enum):
    """How a copy method moves data, as --s2s-mode names it."""

    URL = "url"  # synchronous requests that read the source's URL
    ASYNC = "async"  # the service copies on its own, polled until done


class RequestSlot(Protocol):
    """One of the job's request slots, held for the body of an `async with`."""

    async def __aenter__(self) -> None: ...

    async def __aexit__(self, *exc: object) -> None: ...


class CopyContext(Protocol):
    """What a copy method uses of the job: request slots, stop, events, the chunk journal."""

    requests: RequestSlot
    sink: EventSink
    stop: asyncio.Event
    record_chunk: Callable[[int, Chunk], None]


class CopyRecorder(Protocol):
    """Where a copy method records that its transfer started (the job journal)."""

    def started(self, transfer: Transfer, chunk_size: int) -> None:
        """The transfer starts writing chunks of `chunk_size`."""


# Asked on a 5xx answer how often to try a request in all (None: the retry policy's).
ServerErrorAttempts = Callable[[], int | None]


class CopyMethod(Protocol):
    """One way a destination's service copies an object from a URL."""

    name: str  # as the service's documentation names it (said in notices and errors)
    kind: CopyKind

    async def run(
        self,
        ctx: CopyContext,
        item: Planned,
        block_size: int,
        recorder: CopyRecorder,
        attempts: ServerErrorAttempts,
    ) -> None:
        """Copy `item` (raising NotSupportedError if the service lacks the method,
        CopySourceError if it cannot read the source, Interrupted when the job stops)."""


@runtime_checkable
class UrlTarget(Protocol):
    """A destination whose service can write an object from a URL it reads itself."""

    def copy_methods(
        self, source: UrlSource, item: Planned, block_size: int
    ) -> Sequence[CopyMethod]:
        """The methods that can copy `item` from `source`, best first (none: stream it)."""
