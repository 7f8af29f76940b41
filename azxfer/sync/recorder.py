"""What a sync writes to the job journal."""

from __future__ import annotations

from azxfer.journal.recorder import JournalRecorder
from azxfer.models import Outcome, Planned, Transfer
from azxfer.plan.sync import IDENTICAL


class SyncRecorder(JournalRecorder):
    """The journal recorder, minus identical files: a no-op sync of a large tree would
    otherwise write (and later prune) one row per file on every run. A resumed sync finds
    them identical again from the listings, so nothing is lost."""

    def planned(self, item: Planned) -> None:
        """Journal a planned transfer, unless it is an identical file's skip."""
        if item.skip_reason == IDENTICAL:
            return
        super().planned(item)

    def finished(self, transfer: Transfer, outcome: Outcome, reason: str | None) -> None:
        """Journal a transfer's outcome, unless it is an identical file's skip."""
        if outcome is Outcome.SKIPPED and reason == IDENTICAL:
            return
        super().finished(transfer, outcome, reason)
