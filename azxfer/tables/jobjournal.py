"""A table job's journal as its export or import uses it: the journal's plain records
(azxfer/journal/tablerecord.py) turned into where each range starts and which batches are
done, and back. Inert when the job keeps no journal (a dry run)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from azxfer.journal.crash import CrashHook
from azxfer.journal.store import Journal
from azxfer.journal.tablerecord import RangeRecord, TableJournal
from azxfer.tables.export import RangePoint, RangeStart
from azxfer.tables.manifest import DataFile


class TableJobJournal:
    """The journal of one run of a table job, or none (every record then a no-op)."""

    def __init__(self, journal: Journal | None = None, resumed: bool = False) -> None:
        self.journal = journal
        self.records = TableJournal(journal) if journal is not None else None
        self.resumed = resumed
        self.ranges: dict[int, RangeRecord] = {}

    @classmethod
    def open(
        cls, job_dir: Path, job_id: str, resume: bool, env: Mapping[str, str],
        created: tuple[str, str, str, dict[str, Any]],
    ) -> TableJobJournal:  # fmt: skip
        """The journal of `job_id` in `job_dir`: a resumed job's, else a new one recording
        `created` (command, source, destination, options without secrets)."""
        crash = CrashHook.from_env(env)
        if resume:
            return cls(Journal.open(job_dir, job_id, crash, lock=True), resumed=True)
        return cls(Journal.create(job_dir, job_id, *created, crash))

    def discard(self) -> None:
        """A job refused before it did anything leaves no journal; a resumed one keeps its
        own, marked Failed."""
        if self.journal is None:
            return
        if self.resumed:
            self.close("Failed")
            return
        path = self.journal.path
        self.journal.close()
        self.journal = self.records = None
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def close(self, status: str) -> None:
        """Record the job's final status and close."""
        if self.journal is not None:
            self.journal.set_status(status)
            self.journal.close()
            self.journal = self.records = None

    @property
    def kept(self) -> bool:
        """Whether this run is journaled."""
        return self.journal is not None

    def remember(self, key: str, value: str) -> str:
        """What a first run of this job recorded under `key`, else `value`."""
        return value if self.records is None else self.records.remember(key, value)

    def load_ranges(self) -> None:
        """Read the export ranges earlier runs journaled (once, before the ranges start)."""
        self.ranges = {} if self.records is None else self.records.ranges()

    def range_start(self, index: int) -> RangeStart | None:
        """Where range `index` starts, after what earlier runs journaled; None if done."""
        record = self.ranges.get(index)
        if record is None:
            return RangeStart()
        if record.last is None:
            return None
        return RangeStart(self.range_files(index), RangePoint(record.page, record.last))

    def range_files(self, index: int) -> list[DataFile]:
        """The data files of range `index` earlier runs completed."""
        record = self.ranges.get(index)
        return [] if record is None else [msgspec.convert(f, DataFile) for f in record.files]

    def file_done(self, index: int, files: list[DataFile], after: RangePoint | None) -> None:
        """Journal a range's completed data files and the point after them (None: done)."""
        if self.records is not None:
            entities = sum(item.entities for item in files)
            plain = [msgspec.to_builtins(item) for item in files]
            page, last = (after.page, after.last) if after is not None else (None, None)
            self.records.range_progress(index, RangeRecord(plain, page, last, entities))

    def batch_done(self, source: str, index: int, entities: int) -> None:
        """Journal a batch the service confirmed."""
        if self.records is not None:
            self.records.batch_done(source, index, entities)

    def batches_done(self, source: str) -> set[int]:
        """The batches of `source` earlier runs of this job had confirmed."""
        return set() if self.records is None else self.records.batches_done(source)
