"""`azxfer resume` of a sync: a sync killed mid-way (AZXFER_TEST_CRASH) is completed by
`azxfer resume ID` in the same journal, sending only the chunks that had not reached the
destination, skipping what was finished, and deciding deletes anew with every safety rail.

What was really sent is counted on the wire by test_resume's CountingProxy.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest
from helpers import blob_contents, blob_names, md5, tree_contents
from seed import seed_blobs
from test_resume import KILLED, CountingProxy, crash, job_id_of, nchunks

MiB = 1024 * 1024
FAST = ("--output-type", "json", "--block-size-mb", "1", "--concurrency", "2")
FILES = {
    "big/a.bin": 3 * MiB + 123,
    "big/b.bin": 4 * MiB + MiB // 2,
    "small/x.txt": 10,
    "small/y.txt": 1000,
}
FINISHED = ("Completed", "CompletedWithSkipped")  # identical files count as skipped
DELETES = ("--delete-destination", "true", "--max-delete", "100%")


def summary(result) -> dict:
    (event,) = result.events_of("sync_summary")
    return event


def job_dir(tmp_path: Path) -> Path:
    return tmp_path.parent / f"{tmp_path.name}-jobs"


def query(tmp_path: Path, job_id: str, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(job_dir(tmp_path) / f"{job_id}.azxfer-job")) as db:
        return db.execute(sql).fetchall()


@pytest.fixture
def proxy(azurite):
    p = CountingProxy(azurite.blob_port)
    yield p
    p.close()


@pytest.fixture
def proxied_url(proxy, azurite, container):
    def url(path: str = "") -> str:
        base = f"http://127.0.0.1:{proxy.port}/{azurite.account}/{container}"
        return f"{base}/{quote(path)}" if path else base

    return url


@pytest.mark.parametrize("spec", ["chunks:3", "committed:1", "completed:2"])
def test_killed_upload_sync_is_completed_by_resume(
    spec, tmp_path, make_tree, run_azxfer, proxy, proxied_url, container_client, azurite
):
    src = make_tree(tmp_path / "src", FILES)
    seed_blobs(container_client, {"stale/old.txt": 5, "small/x.txt": 3})
    first = run_azxfer("sync", src, proxied_url(), *FAST, *DELETES, env=crash(spec))
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    assert "stale/old.txt" in blob_names(container_client)  # deletes come after every copy
    assert query(tmp_path, job_id, "SELECT command, status FROM job") == [("sync", "Running")]
    sent_before = proxy.snapshot()[0]

    resumed = run_azxfer("resume", job_id, "--output-type", "json", env=crash(None)).assert_ok()
    assert job_id_of(resumed) == job_id
    assert resumed.finished()["status"] in FINISHED, resumed.describe()
    sent = proxy.snapshot()[0] - sent_before

    # final state: the source, byte for byte with whole-file Content-MD5s; the extra is gone
    expected = tree_contents(src)
    assert blob_contents(container_client) == expected
    for name, data in expected.items():
        props = container_client.get_blob_client(name).get_blob_properties()
        assert bytes(props.content_settings.content_md5 or b"") == md5(data), name
    done = summary(resumed)
    assert done["deleted"] == 1 and done["deletes_done"] and done["failed"] == 0
    assert done["copied"] + done["skipped_identical"] == len(FILES)

    # only missing chunks were sent: per file, the resumed run sent total − present blocks
    names = {
        e["transfer_id"]: e["destination"].rsplit(f"/{container_client.container_name}/", 1)[1]
        for e in resumed.events_of("transfer_queued")
    }
    present = {
        names[e["transfer_id"]]: e["chunks_present"] for e in resumed.events_of("transfer_resumed")
    }
    copied = {
        names[e["transfer_id"]] for e in resumed.events_of("transfer_done")
        if e["outcome"] == "completed"
    }  # fmt: skip
    for name, size in FILES.items():
        if name not in copied:
            assert sent[name] == 0, f"{name}: identical, yet {sent[name]} blocks sent"
            continue
        assert sent[name] == nchunks(size) - present.get(name, 0), (name, sent, present)
    # across both runs at most one block per multi-block file was sent twice (in flight)
    total = proxy.snapshot()[0]
    for name, size in FILES.items():
        if size > MiB:
            assert total[name] <= nchunks(size) + 1, (name, total)
    if spec == "chunks:3":
        assert present, f"no transfer continued where it stopped\n{resumed.describe()}"
        assert sum(present.values()) >= 2

    # the journal ends finished; resuming again has nothing to do
    unfinished = query(
        tmp_path, job_id, "SELECT COUNT(*) FROM transfer WHERE state IN ('pending','active')"
    )
    assert unfinished == [(0,)]
    assert query(tmp_path, job_id, "SELECT status FROM job")[0][0] in FINISHED
    again = run_azxfer("resume", job_id).assert_ok()
    assert "already finished" in again.stdout


def test_resume_restarts_a_file_that_changed_and_keeps_the_delete_rails(
    tmp_path, make_tree, run_azxfer, proxied_url, container_client
):
    src = make_tree(tmp_path / "src", FILES)
    seed_blobs(container_client, {f"extra/{i}": 1 for i in range(3)})
    first = run_azxfer(
        "sync", src, proxied_url(), *FAST, "--delete-destination", "true", "--max-delete", "1",
        env=crash("chunks:2"),
    )  # fmt: skip
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    (src / "big" / "a.bin").write_bytes(b"rewritten" * (MiB // 3))  # another size now
    resumed = run_azxfer("resume", job_id, "--output-type", "json", env=crash(None))
    # the copies complete, then --max-delete 1 (journaled with the job) refuses 3 deletes
    resumed.assert_usage_error(1)
    assert "refusing to delete 3 of" in resumed.stderr
    assert blob_names(container_client) >= {f"extra/{i}" for i in range(3)}
    contents = blob_contents(container_client)
    assert {k: v for k, v in contents.items() if not k.startswith("extra/")} == tree_contents(src)
    # a.bin was part-way (its first chunks journaled) when the job died: it starts over
    notices = [e["message"] for e in resumed.events_of("notice")]
    assert any("a.bin" in m and "changed since the job started" in m for m in notices), notices
    resumed_ids = {e["transfer_id"] for e in resumed.events_of("transfer_resumed")}
    a_ids = {
        e["transfer_id"] for e in resumed.events_of("transfer_queued")
        if e["source"].endswith("a.bin")
    }  # fmt: skip
    assert a_ids and not resumed_ids & a_ids
    assert query(tmp_path, job_id, "SELECT status FROM job") == [("Failed",)]


def test_killed_download_sync_is_completed_by_resume(
    tmp_path, run_azxfer, azurite, container, container_client
):
    blobs = seed_blobs(container_client, {"d/big.bin": 3 * MiB + 5, "d/s.txt": 7})
    url = f"{azurite.blob_endpoint}/{container}/d"
    dst = tmp_path / "dst"
    first = run_azxfer("sync", url, dst, *FAST, env=crash("chunks:2"))
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    resumed = run_azxfer("resume", job_id, "--output-type", "json").assert_ok()
    assert tree_contents(dst) == {k[2:]: v for k, v in blobs.items()}
    resumed_big = [e for e in resumed.events_of("transfer_resumed")]
    assert resumed_big and resumed_big[0]["chunks_present"] >= 1, resumed.describe()
    assert not [p for p in dst.rglob("*") if p.name.endswith(".part")]
