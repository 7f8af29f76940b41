"""Jobs journaled before the Blob fields moved into `BlobProps` still resume.

Older journals kept the blob type, tier, snapshot and version id at the top level of each
transfer's entry JSON, and the blob type, tier and tags at the top level of its props JSON.
These tests crash a job, rewrite its rows into that layout (as the earlier code wrote them),
and resume it: the blob type and the snapshot must survive.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from helpers import CliResult, data_for

MiB = 1024 * 1024
KILLED = -signal.SIGKILL
FAST = ("--output-type", "json", "--block-size-mb", "1", "--concurrency", "1")


def crash(spec: str | None) -> dict[str, str | None]:
    return {"AZXFER_TEST_CRASH": spec, "PYTHONUNBUFFERED": "1"}


def job_id_of(result: CliResult) -> str:
    started = [e for e in result.events() if e.get("event") == "job_started"]
    assert started, f"no job_started event\n{result.describe()}"
    return started[0]["job_id"]


def old_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry's JSON as journaled before BlobProps: Blob fields at the top level."""
    blob = entry.pop("service", None) or {}
    blob.pop("type", None)
    entry["blob_type"] = blob.pop("blob_type", None)
    return entry | blob  # tier, snapshot, version_id: only if set, as before


def old_props(props: dict[str, Any]) -> dict[str, Any]:
    """Write properties' JSON as journaled before BlobProps."""
    blob = props.pop("service", None) or {}
    return props | {
        "blob_type": blob.get("blob_type", "BlockBlob"),
        "tags": blob.get("tags"),
        "tier": blob.get("tier"),
    }


def rewrite_to_old_layout(tmp_path: Path, job_id: str) -> int:
    """Rewrite every transfer row of the job as the earlier code wrote it; how many."""
    path = tmp_path.parent / f"{tmp_path.name}-jobs" / f"{job_id}.azxfer-job"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        rows = db.execute("SELECT id, entry, props FROM transfer").fetchall()
        for tid, entry, props in rows:
            db.execute(
                "UPDATE transfer SET entry = ?, props = ? WHERE id = ?",
                (
                    json.dumps(old_entry(json.loads(entry))),
                    json.dumps(old_props(json.loads(props))),
                    tid,
                ),
            )
    return len(rows)


def test_append_blob_upload_resumes_from_an_old_journal(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    size = 5 * MiB + 3
    src = make_tree(tmp_path / "src", {"log.txt": size})
    first = run_azxfer(
        "copy",
        src / "log.txt",
        container_url("log.txt"),
        "--blob-type",
        "AppendBlob",
        *FAST,
        env=crash("chunks:2"),
    )
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    assert rewrite_to_old_layout(tmp_path, job_id) == 1

    final = run_azxfer("resume", job_id, "--output-type", "json", env=crash(None)).assert_ok()
    assert final.finished()["status"] == "Completed", final.describe()
    blob = container_client.get_blob_client("log.txt")
    assert blob.get_blob_properties().blob_type == "AppendBlob"
    assert blob.download_blob().readall() == data_for("log.txt", size)


def test_snapshot_download_resumes_from_an_old_journal(
    tmp_path, run_azxfer, container_url, container_client
):
    size = 4 * MiB + 1
    blob = container_client.get_blob_client("d/snap.bin")
    blob.upload_blob(data_for("then", size))
    snapshot = blob.create_snapshot()["snapshot"]
    blob.upload_blob(data_for("now", size + 10), overwrite=True)
    dst = tmp_path / "dst"
    dst.mkdir()
    source = f"{container_url('d/snap.bin')}?snapshot={quote(snapshot)}"
    first = run_azxfer("copy", source, dst, *FAST, env=crash("chunks:2"))
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    assert rewrite_to_old_layout(tmp_path, job_id) == 1

    final = run_azxfer("resume", job_id, "--output-type", "json", env=crash(None)).assert_ok()
    assert final.finished()["status"] == "Completed", final.describe()
    assert final.events_of("transfer_resumed"), final.describe()
    assert (dst / "snap.bin").read_bytes() == data_for("then", size)
