"""`azxfer jobs show` of a bulk job (remove, set-properties): each row names one object, as
AzCopy's job show does for a remove; no 'a -> a' rows, no header ending in '-> '."""

from __future__ import annotations

import pytest
from seed import seed_blobs

NAMES = ("d/a.txt", "d/b.txt")


@pytest.mark.parametrize(
    "command",
    [("set-properties", "--metadata", "k=v"), ("remove", "--force")],
    ids=["set-properties", "remove"],
)
def test_a_bulk_jobs_rows_name_one_object_each(
    command, run_azxfer, container_client, container_url
):
    seed_blobs(container_client, dict.fromkeys(NAMES, 1))
    url = container_url()
    verb, *options = command
    done = run_azxfer(verb, url, "-r", *options).assert_ok()
    job_id = done.stdout.split()[1].rstrip(":")
    shown = run_azxfer("jobs", "show", job_id).assert_ok()
    header, *rest = shown.stdout.splitlines()
    assert header == f"Job {job_id}: {verb} {url}", shown.describe()
    rows = [line.split() for line in rest[2:]]  # after the Started and counts lines
    assert len(rows) == len(NAMES), shown.describe()
    assert all(len(row) == 3 and row[1] == "completed" for row in rows), shown.describe()
    assert sorted(row[2] for row in rows) == [*NAMES], shown.describe()
    assert "->" not in shown.stdout, shown.describe()
