"""Journaled table jobs: `azxfer export` and `azxfer import` killed with SIGKILL at reproducible
points (the AZXFER_TEST_CRASH hook: `exported:N` after the Nth data file is journaled,
`imported:N` after the Nth confirmed batch), then finished by `azxfer resume`: none lost, none
twice. Through the real CLI against Azurite."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from urllib.parse import unquote

import pytest
import test_tables
from azure.data.tables import TableServiceClient
from seed import seed_table
from test_tables import fresh, only_manifest, table_contents

pytestmark = pytest.mark.timeout(600)

# The fixtures of test_tables.
tables = test_tables.tables
table_url = test_tables.table_url

BLOB = bytes(range(256)) * 240  # 60 KiB: 600 of them make a range past --split-size 32


def crash(spec: str | None) -> dict[str, str | None]:
    """The crash hook for one run (or none), stdout unbuffered so events survive the kill."""
    return {"AZXFER_TEST_CRASH": spec, "PYTHONUNBUFFERED": "1"}


def _paged_table(service: TableServiceClient) -> str:
    """Three ranges under --pkrs b#d: 'a' (1,200 small entities: two pages), 'c' (600 of
    60 KiB, ~36 MiB: split under --split-size 32) and 'e' (1,100 small: two pages)."""
    name = fresh()
    rows = [
        *({"PartitionKey": "a", "RowKey": f"{r:05d}", "n": r} for r in range(1200)),
        *({"PartitionKey": "c", "RowKey": f"{r:04d}", "b": BLOB} for r in range(600)),
        *({"PartitionKey": "e", "RowKey": f"{r:05d}", "s": "x" * r} for r in range(1100)),
    ]
    seed_table(service, name, rows, batch=50)
    return name


def _small_table(service: TableServiceClient, count: int) -> str:
    """`count` entities over 7 partitions (batches of one partition each)."""
    name = fresh()
    rows = [{"PartitionKey": f"p{r % 7}", "RowKey": f"{r:06d}", "n": r, "t": "v" * (r % 50)}
            for r in range(count)]  # fmt: skip
    seed_table(
        service, name, sorted(rows, key=lambda e: (e["PartitionKey"], e["RowKey"])), batch=50
    )
    return name


def _job_id(result) -> str:
    started = result.events_of("job_started")
    assert started, result.describe()
    return started[0]["job_id"]


def _killed(result) -> None:
    assert result.returncode == -signal.SIGKILL, result.describe()


def _file_keys(folder: Path) -> list[tuple[str, str]]:
    """The keys of every entity of the manifest's data files, in file order (JSON payload)."""
    manifest = json.loads(only_manifest(folder).read_text())
    keys = []
    for item in manifest["files"]:
        for line in (folder / item["name"]).read_bytes().splitlines():
            entity = json.loads(line)
            keys.append((entity["PartitionKey"], entity["RowKey"]))
    assert manifest["totals"]["entities"] == len(keys)
    return keys


def _resume(run_azxfer, job_id: str, spec: str | None):
    return run_azxfer("resume", job_id, "--output-type", "json", env=crash(spec))


def test_export_killed_mid_way_resumes_to_exactly_the_tables_entities(
    run_azxfer, tables, table_url, tmp_path
):
    source = _paged_table(tables)
    folder = tmp_path / "export"
    options = ("--pkrs", "b#d", "--split-size", "32", "--output-type", "json")
    # One range at a time: killed after range 0's file and the first split of range 1 (a
    # split in the middle of a page) are journaled.
    first = run_azxfer(
        "export", table_url(source), folder, *options, "--concurrency", "1",
        env=crash("exported:2"),
    )  # fmt: skip
    _killed(first)
    job_id = _job_id(first)
    assert not list(folder.glob("*.manifest"))
    kept = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")}
    assert len(kept) == 2
    # What a kill in the middle of writing the next split leaves behind.
    stem = min(kept).rsplit("_", 3)[0]
    (folder / f"{stem}_1_1.partial").write_bytes(b'{"PartitionKey":"c","RowKey":"0599"}\n')

    # Killed again once range 1's last file is journaled (range 2 not started).
    again = _resume(run_azxfer, job_id, "exported:1")
    _killed(again)
    assert len(list(folder.glob("*.json"))) == 3
    final = _resume(run_azxfer, job_id, None)
    final.assert_ok()
    assert final.finished()["status"] == "Completed"

    keys = _file_keys(folder)
    assert len(keys) == len(set(keys)), "an entity was exported twice"
    assert set(keys) == set(table_contents(tables, source))
    manifest = json.loads(only_manifest(folder).read_text())
    listed = {item["name"] for item in manifest["files"]}
    assert {p.name for p in folder.iterdir()} == listed | {only_manifest(folder).name}
    # The first run's completed files were kept, not written again.
    for name, mtime in kept.items():
        assert name in listed and (folder / name).stat().st_mtime_ns == mtime
    splits = sorted((item["range"], item["split"]) for item in manifest["files"])
    assert splits == [(0, 0), (1, 0), (1, 1), (2, 0)]

    # The files import into a table equal to the source, entity by entity.
    dest = fresh()
    run_azxfer(
        "import", folder, table_url(dest), "--manifest", only_manifest(folder).name
    ).assert_ok()
    assert table_contents(tables, dest) == table_contents(tables, source)

    listing = run_azxfer("jobs", "list").assert_ok().stdout
    line = next(row for row in listing.splitlines() if row.startswith(job_id))
    assert " export " in line and "Completed" in line and f"{len(keys)} entities" in line
    shown = run_azxfer("jobs", "show", job_id).assert_ok().stdout
    assert f"Job {job_id}: export" in shown and "Status: Completed" in shown
    assert "Enumerated" not in shown and f"{len(keys)} entities" in shown
    assert "range 1: 2 file(s), 600 entities, done" in shown

    finished = run_azxfer("resume", job_id).assert_ok()
    assert "already finished" in finished.stdout


@pytest.mark.parametrize("operation", ["InsertOrSkip", "InsertOrReplace", "InsertOrMerge"])
def test_import_killed_mid_way_resumes_to_exactly_the_files_entities(
    run_azxfer, tables, table_url, tmp_path, operation
):
    source = _small_table(tables, 3000)
    folder = tmp_path / "export"
    run_azxfer("export", table_url(source), folder).assert_ok()
    manifest = only_manifest(folder).name
    dest = fresh()
    first = run_azxfer(
        "import", folder, table_url(dest), "--manifest", manifest, "--output-type", "json",
        "--entity-operation", operation, "--concurrency", "4", env=crash("imported:8"),
    )  # fmt: skip
    _killed(first)
    job_id = _job_id(first)
    landed = len(table_contents(tables, dest))
    assert 8 <= landed < 3000  # eight batches confirmed, not all

    final = _resume(run_azxfer, job_id, None)
    final.assert_ok()
    (done,) = final.events_of("entities_done")
    # The eight journaled batches were not sent again; a batch that landed unjournaled was,
    # harmlessly: InsertOrSkip counts its entities as skipped.
    assert done["entities_total"] < 3000 and done["entities_failed"] == 0
    if operation == "InsertOrSkip":
        assert done["entities_written"] + done["entities_skipped"] == done["entities_total"]
        assert done["entities_written"] == 3000 - landed
    assert table_contents(tables, dest) == table_contents(tables, source)

    listing = run_azxfer("jobs", "list").assert_ok().stdout
    line = next(row for row in listing.splitlines() if row.startswith(job_id))
    assert " import " in line and "3000 entities" in line
    finished = run_azxfer("resume", job_id).assert_ok()
    assert "already finished" in finished.stdout


def test_table_to_table_import_resumes(run_azxfer, tables, table_url):
    source = _small_table(tables, 1500)
    dest = fresh()
    first = run_azxfer(
        "import", table_url(source), table_url(dest), "--output-type", "json",
        "--concurrency", "2", env=crash("imported:3"),
    )  # fmt: skip
    _killed(first)
    final = _resume(run_azxfer, _job_id(first), None)
    final.assert_ok()
    assert final.events_of("entities_done")[0]["entities_total"] < 1500
    assert table_contents(tables, dest) == table_contents(tables, source)


def test_resume_of_a_sas_export_asks_for_the_sas(run_azxfer, tables, table_url, tmp_path):
    from datetime import UTC, datetime, timedelta

    from azure.core.credentials import AzureNamedKeyCredential
    from azure.data.tables import TableSasPermissions, generate_table_sas

    source = _small_table(tables, 1200)
    credential = tables.credential
    assert isinstance(credential, AzureNamedKeyCredential)
    sas = generate_table_sas(
        credential, source, permission=TableSasPermissions(read=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )  # fmt: skip
    folder = tmp_path / "export"
    no_key = {"AZXFER_SOURCE_KEY": None, "AZXFER_DEST_KEY": None}
    first = run_azxfer(
        "export", f"{table_url(source)}?{sas}", folder, "--pkrs", "p3", "--concurrency", "1",
        "--output-type", "json", env={**no_key, **crash("exported:1")},
    )  # fmt: skip
    _killed(first)
    job_id = _job_id(first)
    refused = run_azxfer("resume", job_id, env=no_key)
    refused.assert_usage_error()
    assert "--source-sas" in refused.stderr
    signature = sas.split("sig=")[1].split("&")[0]
    forms = {signature.encode(), unquote(signature).encode()}
    journal_files = list(Path(f"{tmp_path}-jobs").glob(f"{job_id}*"))
    assert journal_files
    assert not any(form in path.read_bytes() for form in forms for path in journal_files)
    final = run_azxfer("resume", job_id, "--source-sas", sas, "--output-type", "json", env=no_key)
    final.assert_ok()
    keys = _file_keys(folder)
    assert sorted(keys) == sorted(table_contents(tables, source))
