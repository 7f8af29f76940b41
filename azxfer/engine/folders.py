"""Folders as things a job moves: made at the destination as the listing finds them.

A folder carries no data, so it needs no chunk state and is never journaled: the runner makes
each one (or writes its marker blob) while the listing goes on, several at a time across
branches, and marks the enumeration done in the journal only once every folder of the job is
made. A job stopped before that is resumed by enumerating again, which makes the folders once
more (making one twice is harmless: `Directories.make_directory` is idempotent, a marker blob
is overwritten). Folders are counted apart from files (`JobTotals.folders_*`) and reported as
`FolderDone` events; the folders a destination without folders does not get are said once per
job, by reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Callable

from azxfer.endpoints.base import Directories, Endpoint, FolderSource, SettledDirectories
from azxfer.engine.transfer import RequestSlots
from azxfer.errors import AzxferError
from azxfer.events import EventSink, FolderDone, Notice
from azxfer.models import EntryKind, JobTotals, Outcome, Planned

log = logging.getLogger("azxfer.engine")

_EMPTY_MD5 = hashlib.md5(b"", usedforsecurity=False).digest()


def is_folder(item: Planned) -> bool:
    """Whether a planned item is a folder (not a file transfer)."""
    return item.transfer.source.kind is not EntryKind.FILE


def ask_for_folders(source: Endpoint, recursive: bool) -> bool:
    """Ask a source that can list its folders for them, in a recursive job (whether it will
    list them): a destination with folders makes them, one without reports the empty ones
    or writes marker blobs for them."""
    if recursive and isinstance(source, FolderSource):
        source.lists_folders = True
        return True
    return False


class FolderRuns:
    """Makes the folders of one job at its destination, at most `limit` at a time, each once.

    `on_fatal` is told of an error after which nothing can succeed (the job stops).
    """

    def __init__(
        self,
        dest: Endpoint,
        sink: EventSink,
        totals: JobTotals,
        requests: RequestSlots,
        limit: int,
        fatal: tuple[type[AzxferError], ...],
        on_fatal: Callable[[AzxferError], None],
    ) -> None:
        self.dest = dest
        self.sink = sink
        self.totals = totals
        self.requests = requests
        self.room = asyncio.Semaphore(limit)
        self.fatal = fatal
        self.on_fatal = on_fatal
        self.made: set[str] = set()  # destination refs asked for in this job
        self.tasks: set[asyncio.Task[None]] = set()
        self.skips: Counter[str] = Counter()

    async def add(self, item: Planned) -> None:
        """Start making the folder `item` plans (waiting while `limit` are being made), or
        count it as skipped."""
        transfer = item.transfer
        if item.skip_reason is not None:
            self.totals.folders_skipped += 1
            self.skips[item.skip_reason] += 1
            self._report(item, Outcome.SKIPPED, item.skip_reason)
            return
        if transfer.dest_ref in self.made:
            return
        self.made.add(transfer.dest_ref)
        await self.room.acquire()
        task = asyncio.create_task(self._make(item))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def finish(self) -> bool:
        """Wait for the folders being made and say what was skipped; True if every folder
        was made."""
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        report_skips(self.sink, self.skips)
        return not self.totals.folders_failed

    async def settle(self) -> None:
        """After every file of the job: give the folders made their properties again, where
        writing files into them moved those (`SettledDirectories`). A failure is the job's."""
        if self.made and isinstance(self.dest, SettledDirectories):
            await self.dest.settle_directories()

    async def cancel(self) -> None:
        """Stop making folders (the job is ending abnormally)."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _make(self, item: Planned) -> None:
        transfer = item.transfer
        try:
            async with self.requests:
                if isinstance(self.dest, Directories):
                    await self.dest.make_directory(transfer.dest_ref, transfer.source, item.props)
                else:  # a marker blob: a zero-byte object with the folder metadata
                    writer = await self.dest.open_writer(transfer, 0, item.props, 0)
                    await writer.put_whole(b"", _EMPTY_MD5)
        except AzxferError as exc:
            self.totals.folders_failed += 1
            log.warning("failed: folder %s: %s", transfer.source.ref, exc)
            self._report(item, Outcome.FAILED, str(exc))
            if isinstance(exc, self.fatal):
                self.on_fatal(exc)
            return
        finally:
            self.room.release()
        self.totals.folders_completed += 1
        self._report(item, Outcome.COMPLETED, None)

    def _report(self, item: Planned, outcome: Outcome, reason: str | None) -> None:
        transfer = item.transfer
        self.sink.emit(
            FolderDone(transfer.source.ref, transfer.dest_display, outcome.value, reason)
        )


def report_skips(sink: EventSink, skips: Counter[str]) -> None:
    """One notice per reason folders were not made: 'N empty folders not copied: why'."""
    for reason, count in skips.items():
        noun = "folder" if count == 1 else "folders"
        sink.emit(Notice("warning", f"{count} empty {noun} not copied: {reason}"))


def dry_run_folder(item: Planned, totals: JobTotals, sink: EventSink, skips: Counter[str]) -> None:
    """Report a folder a dry run would make ("planned") or skip; nothing is made."""
    transfer = item.transfer
    reason = item.skip_reason
    if reason is not None:
        totals.folders_skipped += 1
        skips[reason] += 1
    outcome = Outcome.SKIPPED.value if reason is not None else "planned"
    sink.emit(FolderDone(transfer.source.ref, transfer.dest_display, outcome, reason))
