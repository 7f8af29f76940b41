"""Server-side copies: the destination's service reads the source by URL, and falling back.

For each object the destination lists the methods its service can copy it with, best first
(`UrlTarget.copy_methods`; Blob storage's are `endpoints.blob.copy_methods`); --s2s-mode keeps
those of its kind, and streaming through this machine comes last (`auto` and `client`). This
mover walks them:

When the service answers that a method is not implemented (Azurite does for several), that
method is dropped for the rest of the job, said once, and the object goes on down the ladder.
A method that has not yet worked in the job and fails with 5xx is tried briefly, then the
object goes on down the ladder, and a few such failures drop it too (see
`engine.copy_methods`). When the service cannot read the source (CannotVerifyCopySource: it is
not reachable from there), that object is streamed instead.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Sequence

from msgspec.structs import replace

from azxfer.endpoints.copycaps import (
    CopyContext,
    CopyKind,
    CopyMethod,
    CopyRecorder,
    ServerErrorAttempts,
    SourceLeases,
    SourceTags,
    UrlSource,
    UrlTarget,
)
from azxfer.engine.copy_methods import UNPROVEN_FAILURES, MethodTrust
from azxfer.engine.job import Recorder, StreamMover
from azxfer.engine.transfer import TransferContext
from azxfer.errors import CopySourceError, NotSupportedError, ServerError
from azxfer.events import Notice
from azxfer.models import Planned, blob_props
from azxfer.options import S2SMode, ServerCopySettings

log = logging.getLogger("azxfer.s2s")

# The kinds of server-side method each --s2s-mode allows.
_KINDS = {
    S2SMode.AUTO: (CopyKind.URL, CopyKind.ASYNC),
    S2SMode.URL: (CopyKind.URL,),
    S2SMode.ASYNC: (CopyKind.ASYNC,),
    S2SMode.CLIENT: (),
}


class StreamThrough:
    """The last resort, as a method: reading and writing through this machine."""

    name = "client-side streaming"
    kind = None

    def __init__(self, stream: StreamMover) -> None:
        self.stream = stream

    async def run(
        self,
        ctx: CopyContext,
        item: Planned,
        block_size: int,
        recorder: CopyRecorder,
        attempts: ServerErrorAttempts | None = None,
    ) -> None:
        """Stream `item` (the retry policy's attempts throughout)."""
        await self.stream.move(ctx, item, block_size, recorder)  # type: ignore[arg-type]


class ServerSideMover:
    """Copies objects into a destination whose service reads them from the source's URLs."""

    def __init__(
        self,
        source: UrlSource,
        dest: UrlTarget,
        settings: ServerCopySettings,
        stream: StreamMover,
    ) -> None:
        self.source = source
        self.dest = dest
        self.settings = settings
        self.client = StreamThrough(stream)
        self.leases = source if settings.lease_source and isinstance(source, SourceLeases) else None
        self.tags = source if settings.preserve_tags and isinstance(source, SourceTags) else None
        self.kinds = _KINDS[settings.mode]
        self.streams = settings.mode in (S2SMode.AUTO, S2SMode.CLIENT)
        self.unreadable = source.url_unreadable()
        self.unsupported: set[str] = set()
        self.trust = MethodTrust()
        self._warned_unreadable = False
        self._warned_source = False

    async def move(
        self, ctx: TransferContext, item: Planned, block_size: int, recorder: Recorder
    ) -> None:
        """Copy one object, holding a lease on the source if asked to."""
        source = item.transfer.source
        lease = self.leases.leased(source) if self.leases else contextlib.nullcontext()
        async with lease:
            planned = blob_props(item.props)
            if self.tags is not None and not planned.tags:
                tags = await self.tags.tags(source)
                service = replace(planned, tags=tags or None)
                item = replace(item, props=replace(item.props, service=service))
            await self._down_the_ladder(ctx, item, block_size, recorder)

    def _methods(self, ctx: TransferContext, item: Planned, block_size: int) -> list[CopyMethod]:
        """The methods for `item` that --s2s-mode allows, best first."""
        methods: list[CopyMethod] = []
        if self.unreadable is not None:
            if not self._warned_unreadable:
                self._warned_unreadable = True
                ctx.sink.emit(Notice("info", self.unreadable))
        elif self.kinds:
            offered: Sequence[CopyMethod] = self.dest.copy_methods(self.source, item, block_size)
            methods = [m for m in offered if m.kind in self.kinds]
        if self.streams:
            methods.append(self.client)  # type: ignore[arg-type]
        return methods

    async def _down_the_ladder(
        self, ctx: TransferContext, item: Planned, block_size: int, recorder: Recorder
    ) -> None:
        methods = self._methods(ctx, item, block_size)
        tried: list[CopyMethod] = []
        fault: ServerError | None = None
        for index, method in enumerate(methods):
            name = method.name
            if name in self.unsupported:
                continue
            tried.append(method)
            below = any(m.name not in self.unsupported for m in methods[index + 1 :])
            attempts = functools.partial(self.trust.attempts, name, below)
            try:
                await method.run(ctx, item, block_size, recorder, attempts)
                self.trust.succeeded(name)
                return
            except NotSupportedError as exc:
                self._drop(ctx, name, f"does not support {name}", exc)
            except ServerError as exc:
                if exc.attempts is None and attempts() is None:
                    raise  # retried in full, as a method that worked (or the last resort)
                fault = exc
                self._distrust(ctx, name, exc)
            except CopySourceError as exc:
                if self.client not in methods or method is self.client:
                    raise
                self._say_streamed(ctx, item, exc)
                await self.client.run(ctx, item, block_size, recorder)
                return
        if fault is not None:  # the methods below it were dropped meanwhile
            raise fault
        names = ", ".join(m.name for m in tried or methods) or "none"
        raise NotSupportedError(
            f"'{item.transfer.source.ref}': the service supports no copy method that "
            f"--s2s-mode {self.settings.mode.value} allows (tried: {names})"
        )

    def _say_streamed(self, ctx: TransferContext, item: Planned, exc: CopySourceError) -> None:
        """Say once per job that objects the service cannot read go through this machine (a
        source it cannot reach fails every object alike: one line, not one per object)."""
        ref = item.transfer.source.ref
        if self._warned_source:
            log.info("%s: copying '%s' through this machine", exc, ref)
            return
        self._warned_source = True
        ctx.sink.emit(
            Notice(
                "warning",
                f"{exc}: copying '{ref}' through this machine, and so any other object the "
                "service cannot read",
            )
        )

    def _distrust(self, ctx: TransferContext, method: str, exc: ServerError) -> None:
        """An unproven method failed an object with 5xx: the object goes on down the ladder,
        and after a few such objects the method is dropped."""
        log.info("%s has not worked in this job and failed (%s): trying the next", method, exc)
        if self.trust.failed(method):
            why = (
                f"answered {exc.status} to {method} for {UNPROVEN_FAILURES} blobs and it "
                "has not worked in this job"
            )
            self._drop(ctx, method, why, exc)

    def _drop(self, ctx: TransferContext, method: str, why: str, exc: Exception) -> None:
        if method in self.unsupported:
            return
        self.unsupported.add(method)
        log.info("%s is not usable here (%s); not using it again in this job", method, exc)
        ctx.sink.emit(
            Notice(
                "info",
                f"the destination service {why}: using the next copy method for the rest of "
                "the job",
            )
        )
