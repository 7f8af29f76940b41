"""The journal of a bulk job (remove, set-properties): every selected object is journaled as
a row of the `transfer` table before anything is done to it (its entry, its state), and
marked completed or failed once the service answered; the job row's `enumerated` says the
listing is complete. A resumed job acts on the rows not yet completed, in the same order,
without listing again (or lists again, adding only new rows, when its listing was cut).

Folders (a tree removed from a share or a local disk) are rows too, with their depth in
`props`, so they are removed after every file, deepest first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from azxfer.journal.codec import entry_from_json, entry_to_json
from azxfer.journal.rows import TransferRow, TransferState
from azxfer.journal.store import Journal
from azxfer.models import Entry, EntryKind

_UNFINISHED = TransferState.UNFINISHED
_MARKS = ",".join("?" * len(_UNFINISHED))


def is_folder(entry: Entry) -> bool:
    """Whether an entry is a folder (removed after the files, deepest first)."""
    return entry.kind is not EntryKind.FILE


def folder_depth(rel_path: str) -> int:
    """How deep a folder lies under the location ('' is the location itself: 0)."""
    return rel_path.count("/") + 1 if rel_path else 0


class BulkJournal:
    """The bulk-job records of one job's journal."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.next_id = journal.max_transfer_id() + 1

    def add(self, entry: Entry) -> int:
        """Journal a selected object (pending), its row id; one journaled already is kept as
        it is (and the id returned names no row)."""
        props = {"depth": folder_depth(entry.rel_path)} if is_folder(entry) else {}
        self.journal.add_transfer(
            TransferRow(
                self.next_id, entry.ref, "", entry.ref, entry.size, entry.mtime,
                entry_to_json(entry), props, 0, TransferState.PENDING, None,
            )
        )  # fmt: skip
        self.next_id += 1
        return self.next_id - 1

    def listed(self) -> None:
        """The listing is complete (and its limits passed): a resume need not list again."""
        self.journal.mark_enumerated()

    @property
    def enumerated(self) -> bool:
        """Whether an earlier run journaled the complete listing."""
        return self.journal.job().enumerated

    def unfinished_files(self) -> tuple[int, int]:
        """How many files are still to do, and their bytes (what a resume acts on)."""
        self.journal.flush()
        count, size = self.journal.db.execute(
            f"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM transfer WHERE state IN ({_MARKS}) "
            "AND json_extract(props, '$.depth') IS NULL",
            _UNFINISHED,
        ).fetchone()
        return int(count), int(size)

    def done(self, row_id: int) -> None:
        """The object's operation succeeded."""
        self.journal.set_state(row_id, TransferState.COMPLETED)

    def failed(self, row_id: int, reason: str) -> None:
        """The object's operation failed (a resume tries it again)."""
        self.journal.set_state(row_id, TransferState.FAILED, reason)

    def files(self, page: int) -> Iterator[list[tuple[int, Entry]]]:
        """The unfinished files, in journal order, `page` at a time (read page by page, so
        neither a huge job's rows nor this run's state changes are held)."""
        after = 0
        while True:
            self.journal.flush()
            rows = self.journal.db.execute(
                f"SELECT id, entry FROM transfer WHERE id > ? AND state IN ({_MARKS}) "
                "AND json_extract(props, '$.depth') IS NULL ORDER BY id LIMIT ?",
                (after, *_UNFINISHED, page),
            ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield [(row_id, entry_from_json(json.loads(entry))) for row_id, entry in rows]

    def folders(self) -> list[tuple[int, Entry]]:
        """The unfinished folders, deepest first (a folder goes once what is in it is gone)."""
        self.journal.flush()
        rows = self.journal.db.execute(
            f"SELECT id, entry FROM transfer WHERE state IN ({_MARKS}) "
            "AND json_extract(props, '$.depth') IS NOT NULL "
            "ORDER BY json_extract(props, '$.depth') DESC, rel_path DESC",
            _UNFINISHED,
        ).fetchall()
        return [(row_id, entry_from_json(json.loads(entry))) for row_id, entry in rows]
