"""The engine's view of the journal: record each step of each transfer before moving on."""

from __future__ import annotations

from azxfer.journal.codec import entry_to_json, props_to_json
from azxfer.journal.rows import TransferRow, TransferState
from azxfer.journal.store import Journal
from azxfer.models import Chunk, Outcome, Planned, Transfer

_STATE = {
    Outcome.COMPLETED: TransferState.COMPLETED,
    Outcome.SKIPPED: TransferState.SKIPPED,
    Outcome.FAILED: TransferState.FAILED,
}


class JournalRecorder:
    """Implements the runner's Recorder protocol on a Journal."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def planned(self, item: Planned) -> None:
        """Journal a planned transfer before it is started."""
        transfer = item.transfer
        state = TransferState.PENDING
        if item.skip_reason is not None:
            state = TransferState.SKIPPED
        elif item.fail_reason is not None:
            state = TransferState.FAILED
        self.journal.add_transfer(
            TransferRow(
                transfer.id,
                transfer.source.key,
                transfer.dest_ref,
                transfer.dest_display,
                transfer.source.size,
                transfer.source.mtime,
                entry_to_json(transfer.source),
                props_to_json(item.props),
                0,
                state,
                item.skip_reason or item.fail_reason,
            )
        )

    def started(self, transfer: Transfer, chunk_size: int) -> None:
        """A transfer begins moving data in chunks of `chunk_size`. One that fits in a single
        request is not recorded: it has no chunks to resume, and a resume redoes it whole
        whether it is pending or active."""
        if transfer.source.size > chunk_size:
            self.journal.start_transfer(transfer.id, chunk_size)

    def chunk(self, transfer_id: int, chunk: Chunk) -> None:
        """A chunk reached the destination."""
        self.journal.chunk_done(transfer_id, chunk)

    def restarted(self, transfer_id: int) -> None:
        """A transfer starts over from zero; its chunk records no longer apply."""
        self.journal.forget_chunks(transfer_id)

    def committed(self, transfer_id: int) -> None:
        """The destination object was committed (the journal is updated just after)."""
        self.journal.crash.tick("committed")

    def finished(self, transfer: Transfer, outcome: Outcome, reason: str | None) -> None:
        """A transfer reached a final outcome."""
        self.journal.set_state(transfer.id, _STATE[outcome], reason)

    def interrupted(self, transfer: Transfer) -> None:
        """A transfer was stopped part-way; it stays resumable."""
        self.journal.set_state(transfer.id, TransferState.ACTIVE, "interrupted")

    def enumeration_done(self) -> None:
        """Every source entry has been journaled."""
        self.journal.mark_enumerated()
