"""A service's copy method bound to what runs it for one source: the `CopyMethod` the
server-side ladder (`engine.server_copy`) walks, for any destination service.

Each destination service lists its methods by a key of its own (Blob: its `Method` enum;
Azure Files: the method's name) and runs them all in one object per source (its `runner`);
this binds one key to that runner under the name and kind the ladder reports.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from azxfer.endpoints.copycaps import CopyContext, CopyKind, CopyRecorder, ServerErrorAttempts
from azxfer.models import Planned

Key = TypeVar("Key")
KeyIn = TypeVar("KeyIn", contravariant=True)


class MethodRunner(Protocol[KeyIn]):
    """Runs any of a destination's copy methods, named by its key, for one source."""

    async def run(
        self,
        key: KeyIn,
        ctx: CopyContext,
        item: Planned,
        block_size: int,
        recorder: CopyRecorder,
        attempts: ServerErrorAttempts,
    ) -> None: ...


class BoundCopyMethod(Generic[Key]):
    """One copy method (`key`) of a destination, for the objects of one source."""

    __slots__ = ("_runner", "key", "kind", "name")

    def __init__(self, key: Key, name: str, kind: CopyKind, runner: MethodRunner[Key]) -> None:
        self.key = key
        self.name = name
        self.kind = kind
        self._runner = runner

    async def run(
        self,
        ctx: CopyContext,
        item: Planned,
        block_size: int,
        recorder: CopyRecorder,
        attempts: ServerErrorAttempts,
    ) -> None:
        """Open the destination's writer and copy `item` into it by this method."""
        await self._runner.run(self.key, ctx, item, block_size, recorder, attempts)
