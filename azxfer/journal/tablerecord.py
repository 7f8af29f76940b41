"""The journal of a table job (export or import): plain data only, so a resumed run can
continue where a killed one stopped.

An export journals, per partition-key range, its completed data files (as the manifest will
list them) and where the page after the last of them starts; an import journals, per source
(a data file, or the source table), the index of each batch the service confirmed.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct

from azxfer.journal.store import Journal

_ENCODER = msgspec.json.Encoder()


class RangeRecord(Struct, frozen=True):
    """An export range as journaled: its completed data files (the manifest's entries, as
    plain dictionaries), the point after them (where the page it falls in starts, None: the
    range's first page; and the keys of the last entity before it, None: done), and the
    entities its files hold."""

    files: list[dict[str, Any]]
    page: tuple[str, str] | None
    last: tuple[str, str] | None
    entities: int

    @property
    def done(self) -> bool:
        """Whether every entity of the range is in its files."""
        return self.last is None


class TableJournal:
    """The table-job records of one job's journal."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def remember(self, key: str, value: str) -> str:
        """The value a first run recorded under `key`, or `value` (recorded now)."""
        db = self.journal.db
        db.execute("INSERT OR IGNORE INTO table_run VALUES (?, ?)", (key, value))
        return db.execute("SELECT value FROM table_run WHERE key = ?", (key,)).fetchone()[0]

    def range_progress(self, index: int, record: RangeRecord) -> None:
        """Journal a range's completed files and continuation (committed at once: a data file
        is complete on disk before this, and a resume must not write its entities again)."""
        page = record.page or (None, None)
        last = record.last or (None, None)
        files = _ENCODER.encode(record.files).decode()
        self.journal._queue(
            "INSERT OR REPLACE INTO table_range VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (index, files, *page, *last, record.done, record.entities),
        )
        self.journal.flush()
        self.journal.crash.tick("exported")

    def ranges(self) -> dict[int, RangeRecord]:
        """Every range journaled so far, by index."""
        self.journal.flush()
        rows = self.journal.db.execute(
            "SELECT idx, files, page_pk, page_rk, last_pk, last_rk, entities FROM table_range"
        )
        return {
            idx: RangeRecord(
                msgspec.json.decode(files),
                None if page_pk is None else (page_pk, page_rk),
                None if last_pk is None else (last_pk, last_rk),
                count,
            )
            for idx, files, page_pk, page_rk, last_pk, last_rk, count in rows
        }

    def batch_done(self, source: str, index: int, entities: int) -> None:
        """Journal a batch the service confirmed (committed within FLUSH_SECONDS, at once when
        the crash hook counts it: a batch confirmed but not yet journaled is only sent again,
        which its operation makes harmless)."""
        self.journal._queue(
            "INSERT OR IGNORE INTO table_batch VALUES (?, ?, ?)", (source, index, entities)
        )
        self.journal._tick("imported")

    def batches_done(self, source: str) -> set[int]:
        """Indexes of the batches of `source` journaled as confirmed."""
        self.journal.flush()
        rows = self.journal.db.execute("SELECT idx FROM table_batch WHERE source = ?", (source,))
        return {idx for (idx,) in rows}

    def summary(self) -> list[str]:
        """Lines for `jobs show`: each range's files and state, each source's batches."""
        self.journal.flush()
        db = self.journal.db
        lines = [
            f"range {idx}: {len(msgspec.json.decode(files))} file(s), {count} entities, "
            + ("done" if done else "in progress")
            for idx, files, done, count in db.execute(
                "SELECT idx, files, done, entities FROM table_range ORDER BY idx"
            )
        ]
        lines += [
            f"{source}: {batches} batch(es) confirmed, {count} entities"
            for source, batches, count in db.execute(
                "SELECT source, COUNT(*), SUM(entities) FROM table_batch GROUP BY source "
                "ORDER BY source"
            )
        ]
        return lines
