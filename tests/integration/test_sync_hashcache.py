"""`azxfer sync --compare-hash md5` and the shared hash cache: unchanged files are never
rehashed, changed ones are, uploads fill the cache, and the cache file is private."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from pathlib import Path

from helpers import blob_contents, tree_contents
from seed import seed_blobs

TREE = {"a.txt": 10, "a-b.txt": 11, "a/x.bin": 12, "a/y/z.txt": 13, "b.csv": 14}
MD5 = ("--compare-hash", "md5", "--output-type", "json")
RACY = 2.1  # the cache trusts a file only once its times are > 2 s older than its hash


def summary(result) -> dict:
    (event,) = result.events_of("sync_summary")
    return event


def cache_file(tmp_path: Path) -> Path:
    return tmp_path.parent / f"{tmp_path.name}-jobs" / "hash-cache.sqlite"


def test_second_md5_sync_rehashes_nothing_and_a_touched_file_is_rehashed(
    tmp_path, make_tree, run_azxfer, container_url, container_client, azurite
):
    src = make_tree(tmp_path / "src", TREE)
    seed_blobs(container_client, tree_contents(src))  # same bytes, uploaded by the SDK
    time.sleep(RACY)
    first = run_azxfer("sync", src, container_url(), *MD5).assert_ok()
    assert summary(first)["copied"] == 0
    assert (summary(first)["hashed"], summary(first)["hashes_cached"]) == (len(TREE), 0)

    second = run_azxfer("sync", src, container_url(), *MD5).assert_ok()
    assert summary(second)["copied"] == 0
    assert (summary(second)["hashed"], summary(second)["hashes_cached"]) == (0, len(TREE))

    touched = src / "a" / "x.bin"
    now = time.time()
    os.utime(touched, (now + 30, now + 30))  # same bytes, new mtime: must be read again
    rewritten = src / "b.csv"  # same size, other bytes: read again, and copied
    rewritten.write_bytes(bytes(14))
    third = run_azxfer("sync", src, container_url(), *MD5).assert_ok()
    assert (summary(third)["hashed"], summary(third)["hashes_cached"]) == (2, len(TREE) - 2)
    done = third.events_of("transfer_done")
    assert [e["source"] for e in done if e["outcome"] == "completed"] == [str(rewritten)]
    assert blob_contents(container_client) == tree_contents(src)

    # the cache: private, and only paths, stat fields and MD5s (no key, no URL)
    path = cache_file(tmp_path)
    for suffix in ("", "-wal", "-shm"):
        p = Path(f"{path}{suffix}")
        if p.exists():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    raw = b"".join(
        Path(f"{path}{s}").read_bytes() for s in ("", "-wal") if Path(f"{path}{s}").exists()
    )
    assert azurite.key.encode() not in raw
    assert b"127.0.0.1" not in raw and b"devstoreaccount1" not in raw
    db = sqlite3.connect(path)
    try:
        paths = {os.fsdecode(p) for (p,) in db.execute("SELECT path FROM md5")}
    finally:
        db.close()
    assert paths == {str(src / rel) for rel in TREE}


def test_uploads_fill_the_cache(tmp_path, make_tree, run_azxfer, container_url):
    src = make_tree(tmp_path / "src", TREE)
    time.sleep(RACY)
    upload = run_azxfer("sync", src, container_url(), "--output-type", "json").assert_ok()
    assert summary(upload)["copied"] == len(TREE)
    assert summary(upload)["hashed"] == 0  # size and time: nothing read to compare
    check = run_azxfer("sync", src, container_url(), *MD5).assert_ok()
    assert summary(check)["copied"] == 0
    assert (summary(check)["hashed"], summary(check)["hashes_cached"]) == (0, len(TREE))


def test_download_md5_sync_caches_local_destination_files(
    tmp_path, run_azxfer, container_url, container_client
):
    data = seed_blobs(container_client, {"d/1.txt": 10, "d/2.txt": 20, "d/3/4.txt": 30})
    dst = tmp_path / "dst"
    run_azxfer("sync", container_url("d"), dst, "--output-type", "json").assert_ok()
    assert tree_contents(dst) == {k[2:]: v for k, v in data.items()}
    time.sleep(RACY)
    first = run_azxfer("sync", container_url("d"), dst, *MD5).assert_ok()
    assert (summary(first)["copied"], summary(first)["hashed"]) == (0, 3)
    second = run_azxfer("sync", container_url("d"), dst, *MD5).assert_ok()
    assert (summary(second)["hashed"], summary(second)["hashes_cached"]) == (0, 3)


def test_text_summary_reports_hashing(tmp_path, make_tree, run_azxfer, container_url):
    src = make_tree(tmp_path / "src", {"f.txt": 5})
    run_azxfer("sync", src, container_url()).assert_ok()
    text = run_azxfer("sync", src, container_url(), "--compare-hash", "md5").assert_ok()
    assert "Sync: 0 copied, 0 deleted, 1 identical, 0 failed; MD5s: " in text.stdout
