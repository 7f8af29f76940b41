"""The journal of table jobs: export ranges and import batches survive a reopen, and a
table job's record counts its entities."""

from __future__ import annotations

from pathlib import Path

from azxfer.journal.store import Journal
from azxfer.journal.tablerecord import RangeRecord, TableJournal

FILE = {"name": "a_t_0_0_0000ABCD.json", "range": 0, "split": 0, "size": 9, "entities": 3,
        "crc32": "0000ABCD", "schema": None}  # fmt: skip


def test_ranges_batches_and_stamp_survive_a_reopen(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    journal = Journal.create(jobs, "job-1", "export", "https://a/t", "/out", {})
    records = TableJournal(journal)
    assert records.remember("started", "first") == "first"
    records.range_progress(0, RangeRecord([FILE], ("1!a", "1!b"), ("c", "0599"), 3))
    records.range_progress(1, RangeRecord([], None, None, 0))
    records.batch_done("f.json", 4, 100)
    records.batch_done("f.json", 4, 100)  # a batch journaled twice counts once
    records.batch_done("table", 0, 7)
    journal.close()

    again = Journal.open(jobs, "job-1")
    records = TableJournal(again)
    assert records.remember("started", "second") == "first"
    ranges = records.ranges()
    assert ranges[0] == RangeRecord([FILE], ("1!a", "1!b"), ("c", "0599"), 3)
    assert not ranges[0].done and ranges[1].done
    assert records.batches_done("f.json") == {4} and records.batches_done("none") == set()
    assert again.job().counts["entities"] == 3 + 100 + 7
    assert records.summary() == [
        "range 0: 1 file(s), 3 entities, in progress",
        "range 1: 0 file(s), 0 entities, done",
        "f.json: 1 batch(es) confirmed, 100 entities",
        "table: 1 batch(es) confirmed, 7 entities",
    ]
    again.close()


def test_a_copy_job_counts_no_entities(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, "job-2", "copy", "/src", "https://a/c", {})
    assert "entities" not in journal.job().counts
    journal.close()
