"""Running a job: schedule planned transfers concurrently, record outcomes, emit events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from azxfer.endpoints.base import Endpoint
from azxfer.engine.budget import MemoryBudget
from azxfer.engine.folders import FolderRuns, is_folder
from azxfer.engine.transfer import (
    Interrupted,
    RequestSlots,
    TransferContext,
    Verifier,
    move_bytes,
)
from azxfer.errors import (
    AzxferError,
    ContainerMissing,
    CredentialError,
    DestinationFull,
    UnreachableError,
)
from azxfer.events import EnumerationDone, EventSink, TransferDone, TransferQueued
from azxfer.models import Chunk, JobTotals, Outcome, Planned, Transfer, blob_props
from azxfer.options import block_size_for, check_block_count

log = logging.getLogger("azxfer.engine")

# Planned transfers read ahead of those started, as rclone's --max-backlog (10,000 by
# default): a few MB of plan at most, and a job of fewer files knows its totals early.
BACKLOG = 10_000

# Errors after which no further transfer can succeed: stop scheduling instead of failing each.
_FATAL = (CredentialError, UnreachableError, ContainerMissing, DestinationFull)


class Recorder(Protocol):
    """Where the runner records each step (the job journal); every method must be cheap."""

    def planned(self, item: Planned) -> None:
        """A transfer was planned (before it starts)."""

    def started(self, transfer: Transfer, chunk_size: int) -> None:
        """A transfer starts moving data."""

    def chunk(self, transfer_id: int, chunk: Chunk) -> None:
        """A chunk reached the destination."""

    def committed(self, transfer_id: int) -> None:
        """The destination object was committed."""

    def finished(self, transfer: Transfer, outcome: Outcome, reason: str | None) -> None:
        """A transfer ended."""

    def interrupted(self, transfer: Transfer) -> None:
        """A transfer stopped part-way because the job is stopping."""

    def enumeration_done(self) -> None:
        """The plan is complete."""


class NullRecorder:
    """A Recorder that keeps nothing."""

    def planned(self, item: Planned) -> None:
        """Nothing."""

    def started(self, transfer: Transfer, chunk_size: int) -> None:
        """Nothing."""

    def chunk(self, transfer_id: int, chunk: Chunk) -> None:
        """Nothing."""

    def committed(self, transfer_id: int) -> None:
        """Nothing."""

    def finished(self, transfer: Transfer, outcome: Outcome, reason: str | None) -> None:
        """Nothing."""

    def interrupted(self, transfer: Transfer) -> None:
        """Nothing."""

    def enumeration_done(self) -> None:
        """Nothing."""


AfterTransfer = Callable[[Transfer], Awaitable[None]]


class Mover(Protocol):
    """Moves one planned transfer to its destination and commits it."""

    async def move(
        self, ctx: TransferContext, item: Planned, block_size: int, recorder: Recorder
    ) -> None:
        """Move it (raising Interrupted when the job stops, AzxferError when it fails)."""


class StreamMover:
    """Reads the source and writes the destination through this machine, chunk by chunk."""

    def __init__(self, source: Endpoint, dest: Endpoint) -> None:
        self.source = source
        self.dest = dest

    async def move(
        self, ctx: TransferContext, item: Planned, block_size: int, recorder: Recorder
    ) -> None:
        """Open a reader and a writer and move the bytes between them."""
        transfer = item.transfer
        reader = await self.source.open_reader(transfer.source)
        try:
            writer = await self.dest.open_writer(
                transfer, transfer.source.size, item.props, block_size
            )
            recorder.started(transfer, writer.chunk_size)
            await move_bytes(ctx, transfer, reader, writer, item.resume)
        finally:
            await reader.close()


class JobRunner:
    """Moves planned transfers with a global cap on requests, memory and files in flight."""

    def __init__(
        self,
        source: Endpoint,
        dest: Endpoint,
        sink: EventSink,
        concurrency: int,
        max_memory: int,
        block_size: int | None,
        verify: Verifier,
        after_transfer: AfterTransfer | None = None,
        recorder: Recorder | None = None,
        wants_md5: Callable[[Transfer, bool], bool] | None = None,
        mover: Mover | None = None,
    ) -> None:
        self.mover: Mover = mover or StreamMover(source, dest)
        self.sink = sink
        self.block_size = block_size
        self.after_transfer = after_transfer
        self.recorder: Recorder = recorder or NullRecorder()
        self.ctx = TransferContext(
            RequestSlots(concurrency),
            MemoryBudget(max_memory),
            sink,
            verify,
            self.recorder.chunk,
            wants_md5=wants_md5 or (lambda _transfer, _learns: True),
        )
        # Enough files in flight to keep every request slot busy with small files.
        self.max_active = max(2 * concurrency, 16)
        self.backlog = BACKLOG
        self.totals = JobTotals()
        self.fatal: AzxferError | None = None
        self.folders = FolderRuns(
            dest, sink, self.totals, self.ctx.requests, concurrency, _FATAL, self._stop_on
        )

    def stop(self) -> None:
        """Stop scheduling: no new transfer or chunk starts; in-flight chunks finish."""
        self.ctx.stop.set()

    @property
    def stopping(self) -> bool:
        """Whether stop() was called."""
        return self.ctx.stop.is_set()

    async def run(self, plan: AsyncIterator[Planned]) -> JobTotals:
        """Consume the plan, transferring as it streams in; returns the totals.

        The plan is read ahead of the transfers by up to `backlog` items, so the totals (and
        an ETA) are known early for most jobs while memory stays bounded for any size.
        """
        backlog = _Backlog(self.backlog)
        lister = asyncio.create_task(self._list(plan, backlog))
        slots = asyncio.Semaphore(self.max_active)
        tasks: set[asyncio.Task[None]] = set()
        try:
            while (item := await backlog.get()) is not None:
                if self.fatal is not None or self.stopping:
                    self._left_for_resume(item.transfer)
                    continue
                await slots.acquire()
                task = asyncio.create_task(self._one(item))
                tasks.add(task)
                task.add_done_callback(lambda t: (tasks.discard(t), slots.release()))
            await lister  # its failure (a listing error) is the job's
            if tasks:
                await asyncio.gather(*tasks)
            if self.fatal is None and not self.stopping:
                await self.folders.settle()
        except BaseException:
            lister.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(lister, *tasks, return_exceptions=True)
            raise
        if self.fatal is not None:
            raise self.fatal
        return self.totals

    async def _list(self, plan: AsyncIterator[Planned], backlog: _Backlog) -> None:
        """Count and journal each planned transfer, settle those planning decided, and hand
        the rest to `run`; the end (or the stop) of the listing ends the backlog. Folders are
        made here, as they come (see `engine.folders`): the enumeration is journaled as done
        only once every one is made."""
        try:
            async for item in plan:
                if self.fatal is not None or self.stopping:
                    return
                if is_folder(item):
                    await self.folders.add(item)
                    continue
                self._queued(item.transfer)
                if item.resume is None:
                    self.recorder.planned(item)
                if item.skip_reason is not None:
                    self._done(item.transfer, Outcome.SKIPPED, item.skip_reason)
                elif item.fail_reason is not None:
                    self._done(item.transfer, Outcome.FAILED, item.fail_reason)
                else:
                    await backlog.put(item)
            if await self.folders.finish() and self.fatal is None:
                self.recorder.enumeration_done()
            self.sink.emit(EnumerationDone(self.totals.files_total, self.totals.bytes_total))
        finally:
            backlog.close()
            await self.folders.cancel()

    def _stop_on(self, exc: AzxferError) -> None:
        """A folder met a failure no transfer can get past: it is the job's error."""
        if self.fatal is None:
            self.fatal = exc
            self.stop()

    def _left_for_resume(self, transfer: Transfer) -> None:
        """A transfer planned but not started when the job stopped: it stays pending in the
        journal, and is counted (and reported) as interrupted."""
        self.totals.files_interrupted += 1
        self.sink.emit(transfer_done(transfer, Outcome.INTERRUPTED, "interrupted (resumable)"))

    def _queued(self, transfer: Transfer) -> None:
        self.totals.files_total += 1
        self.totals.bytes_total += transfer.source.size
        self.sink.emit(
            TransferQueued(
                transfer.id, transfer.source.ref, transfer.dest_display, transfer.source.size
            )
        )

    async def _one(self, item: Planned) -> None:
        transfer = item.transfer
        size = transfer.source.size
        if self.stopping:
            self._interrupted(transfer)
            return
        try:
            block = item.chunk_size or block_size_for(size, self.block_size)
            # Refused before any request: the service would reject block 50,001 after hours.
            check_block_count(size, block, blob_props(item.props).blob_type)
            await self.mover.move(self.ctx, item, block, self.recorder)
            self.recorder.committed(transfer.id)
            if self.after_transfer is not None:
                await self.after_transfer(transfer)
        except Interrupted:
            self._interrupted(transfer)
            return
        except AzxferError as exc:
            if isinstance(exc, _FATAL):
                self._fatal(transfer, exc)
                return
            self._done(transfer, Outcome.FAILED, str(exc))
            return
        except Exception as exc:
            log.exception("unexpected failure of %s", transfer.source.ref)
            self._done(transfer, Outcome.FAILED, f"{type(exc).__name__}: {exc}")
            return
        self.totals.bytes_done += size
        self._done(transfer, Outcome.COMPLETED, None)

    def _fatal(self, transfer: Transfer, exc: AzxferError) -> None:
        """A failure no transfer can get past: the first one fails its transfer and stops the
        job (it becomes the job's error); the transfers in flight that meet it too are left
        for a resume rather than each reported as one more failure."""
        if self.fatal is not None:
            self._interrupted(transfer)
            return
        self.fatal = exc
        self.stop()
        self._done(transfer, Outcome.FAILED, str(exc))

    def _interrupted(self, transfer: Transfer) -> None:
        """A transfer stopped part-way: the journal keeps it resumable from its chunks."""
        self.recorder.interrupted(transfer)
        self._left_for_resume(transfer)

    def _done(self, transfer: Transfer, outcome: Outcome, reason: str | None) -> None:
        totals = self.totals
        if outcome is Outcome.COMPLETED:
            totals.files_completed += 1
        elif outcome is Outcome.SKIPPED:
            totals.files_skipped += 1
        else:
            totals.files_failed += 1
            totals.failed.append((transfer.source.ref, reason or ""))
            log.warning("failed: %s: %s", transfer.source.ref, reason)
        self.recorder.finished(transfer, outcome, reason)
        self.sink.emit(transfer_done(transfer, outcome, reason))


class _Backlog:
    """A bounded FIFO of planned transfers between the listing and the scheduler; `None`
    from `get` means the listing ended (or stopped)."""

    def __init__(self, limit: int) -> None:
        self._items: asyncio.Queue[Planned | None] = asyncio.Queue()
        self._room = asyncio.Semaphore(limit)

    async def put(self, item: Planned) -> None:
        """Add an item, waiting while the backlog is full."""
        await self._room.acquire()
        self._items.put_nowait(item)

    def close(self) -> None:
        """No more items will come."""
        self._items.put_nowait(None)

    async def get(self) -> Planned | None:
        """The next item, or None once the listing has ended and every item was taken."""
        item = await self._items.get()
        if item is not None:
            self._room.release()
        return item


def transfer_done(transfer: Transfer, outcome: Outcome, reason: str) -> TransferDone:
    """The event that says how `transfer` ended (a run, a dry run, a stop)."""
    return TransferDone(
        transfer.id,
        transfer.source.ref,
        transfer.dest_display,
        outcome.value,
        transfer.source.size,
        reason,
    )
