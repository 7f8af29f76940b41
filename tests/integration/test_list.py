"""`azxfer list` on Azurite through the real CLI: one level and recursive, prefixes, wildcards,
virtual directories, properties and metadata, JSON, filters, errors, a closed pipe, and a
listing that streams in bounded memory."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient
from conftest import start_azurite
from faultproxy import FaultProxy
from seed import seed_blobs

TREE = {
    "a.txt": 10,
    "b.csv": 2000,
    "logs/2024-01.log": 100,
    "logs/2024-02.log": 200,
    "logs/2025-01.log": 300,
    "logs/deep/x.log": 5,
    "pics/p.png": 7,
}


@pytest.fixture
def seeded(container_client):
    return seed_blobs(container_client, TREE)


def lines(result) -> list[str]:
    return result.stdout.splitlines()


def names(result) -> list[str]:
    return [line.split("\t")[0] for line in lines(result)]


def test_one_level_shows_virtual_directories(run_azxfer, container_url, seeded):
    result = run_azxfer("list", container_url()).assert_ok()
    assert names(result) == ["a.txt", "b.csv", "logs/", "pics/"]
    assert lines(result)[1] == "b.csv\t2.0 KiB"
    assert lines(result)[2] == "logs/\t-"
    assert result.stderr.strip() == "Files: 2; directories: 2; total size: 2.0 KiB"


def test_recursive_lists_every_blob(run_azxfer, container_url, seeded):
    result = run_azxfer("list", container_url(), "-r", "--machine-readable").assert_ok()
    assert names(result) == sorted(TREE)
    assert "logs/deep/x.log\t5" in lines(result)
    total = sum(TREE.values())
    assert result.stderr.strip() == f"Files: {len(TREE)}; directories: 0; total size: {total}"


def test_virtual_directory_and_its_subdirectory(run_azxfer, container_url, seeded):
    for url in (container_url("logs"), container_url("logs/")):
        result = run_azxfer("list", url).assert_ok()
        assert names(result) == ["2024-01.log", "2024-02.log", "2025-01.log", "deep/"]


def test_prefix_lists_names_starting_with_it(run_azxfer, container_url, seeded):
    result = run_azxfer("list", container_url("logs/2024-"), "--machine-readable").assert_ok()
    assert lines(result) == ["2024-01.log\t100", "2024-02.log\t200"]


def test_wildcard(run_azxfer, container_url, seeded):
    result = run_azxfer("list", container_url("logs/*-01.log")).assert_ok()
    assert names(result) == ["2024-01.log", "2025-01.log"]
    result = run_azxfer("list", container_url("*.csv")).assert_ok()
    assert names(result) == ["b.csv"]


def test_single_blob_lists_itself(run_azxfer, container_url, seeded):
    result = run_azxfer("list", container_url("logs/2024-01.log"), "--machine-readable")
    assert lines(result.assert_ok()) == ["2024-01.log\t100"]


def test_properties_by_name_any_case(run_azxfer, container_url, container_client):
    from azure.storage.blob import ContentSettings

    seed_blobs(
        container_client,
        {"doc.txt": b"hello"},
        content_settings=ContentSettings(content_type="text/plain", content_encoding="gzip"),
        metadata={"owner": "ana", "team": "x"},
    )
    props = (
        "lastmodifiedtime;BLOBTYPE;BlobAccessTier;ContentType;ContentEncoding;ContentMD5;"
        "LeaseState;LeaseStatus;Metadata"
    )
    result = run_azxfer("list", container_url(), "--properties", props).assert_ok()
    fields = lines(result)[0].split("\t")
    assert fields[:2] == ["doc.txt", "5 B"]
    shown = dict(field.split("=", 1) for field in fields[2:])
    assert shown["BlobType"] == "BlockBlob"
    assert shown["ContentType"] == "text/plain"
    assert shown["ContentEncoding"] == "gzip"
    assert shown["ContentMD5"] == "XUFAKrxLKna5cZ2REBfFkg=="
    assert shown["LeaseState"] == "available"
    assert shown["LeaseStatus"] == "unlocked"
    assert shown["Metadata"] in ("owner=ana;team=x", "team=x;owner=ana")
    assert shown["LastModifiedTime"].endswith("Z") and shown["LastModifiedTime"][:2] == "20"
    # properties come in the order asked
    assert [f.split("=")[0] for f in fields[2:]][:2] == ["LastModifiedTime", "BlobType"]


def test_json_entries_and_summary(run_azxfer, container_url, seeded, container_client):
    container_client.get_blob_client("a.txt").set_blob_metadata({"k": "v"})
    result = run_azxfer(
        "list", container_url(), "--output-type", "json", "--properties", "Metadata;ContentMD5"
    ).assert_ok()
    events = result.events()
    assert [e["event"] for e in events] == ["list_entry"] * 4 + ["list_summary"]
    first = events[0]
    assert first["name"] == "a.txt" and first["size"] == 10 and first["type"] == "file"
    assert first["metadata"] == {"k": "v"} and first["content_md5"]
    assert events[2] == {"event": "list_entry", "name": "logs", "size": 0, "type": "directory"}
    assert events[-1] == {"event": "list_summary", "files": 2, "directories": 2, "bytes": 2010}
    assert result.stderr == ""


def test_running_tally_on_stdout(run_azxfer, container_url, seeded):
    result = run_azxfer("list", container_url("pics/"), "--running-tally").assert_ok()
    assert lines(result) == ["p.png\t7 B", "Files: 1; directories: 0; total size: 7 B"]


def test_filters(run_azxfer, container_url, seeded):
    result = run_azxfer("list", container_url(), "-r", "--include-pattern", "*.log")
    assert names(result.assert_ok()) == [n for n in sorted(TREE) if n.endswith(".log")]
    result = run_azxfer(
        "list", container_url(), "-r", "--exclude-pattern", "*.log;*.png", "--exclude-path", "x"
    )
    assert names(result.assert_ok()) == ["a.txt", "b.csv"]
    result = run_azxfer("list", container_url(), "-r", "--include-before", "2001-01-01T00:00:00Z")
    assert names(result.assert_ok()) == []
    result = run_azxfer("list", container_url(), "-r", "--include-after", "2001-01-01T00:00:00Z")
    assert names(result.assert_ok()) == sorted(TREE)


def test_folder_markers_are_directories(run_azxfer, container_url, container_client):
    seed_blobs(container_client, {"d": b""}, metadata={"hdi_isfolder": "true"})
    seed_blobs(container_client, {"d/f.txt": b"abc", "e/": b""})
    result = run_azxfer("list", container_url(), "--properties", "Metadata").assert_ok()
    assert names(result) == ["d/", "e/"]  # the marker and its virtual directory: once
    result = run_azxfer("list", container_url(), "-r", "--properties", "Metadata").assert_ok()
    assert names(result) == ["d/", "d/f.txt", "e/"]
    # Without metadata (not asked for, so not requested) a marker is the empty blob it is;
    # a name ending in '/' still tells a directory.
    result = run_azxfer("list", container_url(), "-r").assert_ok()
    assert names(result) == ["d", "d/f.txt", "e/"]


@pytest.mark.parametrize(
    "args, message",
    [
        (("--properties", "LastModifiedTime;Bogus"), "unknown property 'Bogus'"),
        (("--properties", "LastWriteTime"), "does not give LastWriteTime"),
        (("--include-after", "yesterday"), "--include-after"),
    ],
)
def test_bad_options_one_line_before_any_request(run_azxfer, azurite, container, args, message):
    with FaultProxy(azurite.blob_port) as proxy:
        url = proxy.url(azurite.account, container)
        result = run_azxfer("list", url, *args).assert_usage_error()
        assert message in result.stderr
        if "unknown" in message:
            assert "valid: LastModifiedTime, VersionId" in result.stderr
        assert proxy.requests == []


def test_missing_container(run_azxfer, azurite):
    result = run_azxfer("list", f"{azurite.blob_endpoint}/nosuchcontainer").assert_usage_error(1)
    assert "nosuchcontainer" in result.stderr and "does not exist" in result.stderr


def test_no_credential_on_private_container(run_azxfer, container_url, seeded):
    env = {"AZXFER_SOURCE_KEY": None, "AZXFER_AUTO_LOGIN_TYPE": None}
    result = run_azxfer("list", container_url(), env=env).assert_usage_error(1)
    assert "anonymous" in result.stderr.lower() or "credential" in result.stderr.lower()


def test_sas_is_never_printed(run_azxfer, container_url, seeded, container_client):
    from datetime import UTC, datetime, timedelta

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    from azxfer.credentials import AZURITE_KEY

    sas = generate_container_sas(
        container_client.account_name,
        container_client.container_name,
        account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    env = {"AZXFER_SOURCE_KEY": None}
    result = run_azxfer("list", container_url() + "?" + sas, env=env).assert_ok()
    assert names(result) == ["a.txt", "b.csv", "logs/", "pics/"]
    # A list-only SAS cannot read a blob's properties: a path is still listed (a prefix).
    result = run_azxfer("list", container_url("logs/2024") + "?" + sas, env=env).assert_ok()
    assert names(result) == ["2024-01.log", "2024-02.log"]
    result = run_azxfer("list", container_url("logs") + "?" + sas, env=env).assert_ok()
    assert names(result) == ["2024-01.log", "2024-02.log", "2025-01.log", "deep/"]
    bad_sas = sas.replace("sig=", "sig=A")
    bad = run_azxfer("list", container_url("nosuch/x") + "?" + bad_sas, env=env)
    bad.assert_usage_error(1)
    signature = sas.split("sig=")[1].split("&")[0]
    assert signature not in bad.stdout + bad.stderr


def test_metadata_is_asked_only_when_shown(run_azxfer, azurite, container, seeded):
    with FaultProxy(azurite.blob_port) as proxy:
        url = proxy.url(azurite.account, container)
        run_azxfer("list", url, "-r").assert_ok()
        listings = [r.query for r in proxy.requests if "comp=list" in r.query]
        assert listings and not any("include=" in q for q in listings)
        proxy.reset_log()
        run_azxfer("list", url, "-r", "--properties", "metadata").assert_ok()
        listings = [r.query for r in proxy.requests if "comp=list" in r.query]
        assert listings and all("include=metadata" in q for q in listings)


def test_head_pipe_exits_quietly(azurite, container_url, container_client, tmp_path: Path):
    # 150 names of 900 characters: more than a pipe holds (64 KiB), so the listing is
    # certainly still writing when head has gone (a short listing may end first, and then
    # rightly prints its closing line).
    pad = "n" * 895
    seed_blobs(container_client, {f"f{i:04d}{pad}": b"x" for i in range(150)})
    env = dict(os.environ, AZXFER_SOURCE_KEY=azurite.key, PYTHONPATH=str(_repo()))
    env["AZXFER_JOB_DIR"] = str(tmp_path / "jobs")
    command = f"{sys.executable} -m azxfer list '{container_url()}' -r | head -3"
    shell = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, env=env
    )
    assert shell.stdout.splitlines() == [f"f000{i}{pad}\t1 B" for i in range(3)]
    assert shell.stderr == "", shell.stderr
    assert shell.returncode == 0


# -- streaming --------------------------------------------------------------------------------


def _repo() -> Path:
    return Path(__file__).resolve().parents[2]


async def _seed_many(azurite, container: str, names: list[str]) -> None:
    """Empty blobs, put 64 at a time through azxfer's REST path (Azurite answers it faster
    than the SDK can ask)."""
    from azxfer.credentials import Credential
    from azxfer.endpoints.blob.rest import RestBlobClient
    from azxfer.models import ContentProps
    from azxfer.transport.pool import HttpPool
    from azxfer.transport.retry import RetryPolicy

    pool = HttpPool(64, None)
    credential = Credential("shared_key", azurite.account, key=azurite.key)
    rest = RestBlobClient(pool, azurite.blob_endpoint, azurite.account, credential, RetryPolicy())
    empty_md5 = hashlib.md5(b"").digest()
    slots = asyncio.Semaphore(64)

    async def put(name: str) -> None:
        async with slots:
            await rest.put_blob(container, name, b"", empty_md5, ContentProps(), None, None, None)

    try:
        await asyncio.gather(*(put(name) for name in names))
    finally:
        await pool.close()


def _peak_rss_kib(argv: list[str], env: dict[str, str]) -> tuple[int, int]:
    """(lines printed, peak RSS in KiB) of a listing run as the only child of a fresh process."""
    probe = (
        "import resource, subprocess, sys\n"
        "proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, check=True)\n"
        "print(proc.stdout.count(b'\\n'), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=env, check=True
    )
    count, rss = done.stdout.split()
    return int(count), int(rss)


def test_listing_streams_in_bounded_memory(tmp_path):
    """25,000 blobs list in the memory of 18,000: both listings reach the largest pages
    (5,000 entries) with as large a page fetched meanwhile, and nothing collects the listing
    (collecting 7,000 more entries with names of 900 characters would cost over 6 MB).

    On an Azurite of its own: Azurite's in-memory store slows every later request of the
    shared one by the blobs it holds (deleted containers included)."""
    (tmp_path / "azurite").mkdir()
    with start_azurite(tmp_path / "azurite") as azurite:
        _list_many_in_bounded_memory(azurite, tmp_path)


def _list_many_in_bounded_memory(azurite, tmp_path) -> None:
    container = "many"
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(container)
    pad = "n" * 890
    names = [f"big/{pad}a{i:05d}" for i in range(18_000)]
    names += [f"big/{pad}b{i:05d}" for i in range(7_000)]
    asyncio.run(_seed_many(azurite, container, names))
    env = dict(os.environ, AZXFER_SOURCE_KEY=azurite.key, PYTHONPATH=str(_repo()))
    env["AZXFER_JOB_DIR"] = str(tmp_path / "jobs")
    base = f"{azurite.blob_endpoint}/{container}"
    run = [sys.executable, "-m", "azxfer", "list", "--machine-readable"]
    small_lines, small_rss = _peak_rss_kib([*run, f"{base}/big/{pad}a"], env)
    large_lines, large_rss = _peak_rss_kib([*run, f"{base}/big/"], env)
    assert (small_lines, large_lines) == (18_000, 25_000)
    assert large_rss - small_rss < 3 * 1024, (small_rss, large_rss)


def test_first_entries_print_before_the_listing_ends(azurite, container, tmp_path):
    asyncio.run(_seed_many(azurite, container, [f"p/{i:05d}" for i in range(1_200)]))
    with FaultProxy(azurite.blob_port) as proxy:
        # Every page after the first (250 entries) waits 2 seconds.
        proxy.rule("delay", query="marker=", delay=2.0, times=10, same_request=False)
        env = dict(os.environ, AZXFER_SOURCE_KEY=azurite.key, PYTHONPATH=str(_repo()))
        env["AZXFER_JOB_DIR"] = str(tmp_path / "jobs")
        url = proxy.url(azurite.account, container, "p/")
        argv = [sys.executable, "-m", "azxfer", "list", url, "--output-type", "json"]
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, text=True)
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        first_at = time.monotonic() - started
        rest = proc.stdout.read().splitlines()
        ended_at = time.monotonic() - started
        assert proc.wait() == 0
    assert first["event"] == "list_entry"
    assert len(rest) == 1_200  # the other entries and the summary
    assert json.loads(rest[-1])["files"] == 1_200
    # Pages of 250, 500 and 1,000: two of them waited 2 s each, after the first was printed.
    assert ended_at - first_at > 3.0, (first_at, ended_at)


def test_local_folder_same_shape(run_azxfer, tmp_path: Path):
    root = tmp_path / "data"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a.txt").write_bytes(b"abc")
    (root / "sub" / "b.txt").write_bytes(b"x" * 1500)
    result = run_azxfer("list", root).assert_ok()
    assert lines(result) == ["a.txt\t3 B", "empty/\t-", "sub/\t-"]
    result = run_azxfer("list", root, "-r", "--machine-readable", "--output-type", "json")
    entries = [(e["name"], e["type"], e["size"]) for e in result.assert_ok().events()[:-1]]
    assert entries == [
        ("a.txt", "file", 3),
        ("empty", "directory", 0),
        ("sub", "directory", 0),
        ("sub/b.txt", "file", 1500),
        ("sub/deeper", "directory", 0),
    ]
    assert result.events()[-1]["bytes"] == 1503
    result = run_azxfer("list", root / "*.txt", "--properties", "LastModifiedTime").assert_ok()
    assert lines(result)[0].startswith("a.txt\t3 B\tLastModifiedTime=20")
    run_azxfer("list", tmp_path / "nope").assert_usage_error()


def test_local_name_that_is_not_utf8(run_azxfer, tmp_path: Path):
    root = tmp_path / "odd"
    root.mkdir()
    with open(os.fsencode(root) + b"/\xffx.txt", "wb") as handle:
        handle.write(b"a")
    result = run_azxfer("list", root, "--output-type", "json").assert_ok()
    assert result.events()[0]["name"] == "\udcffx.txt"  # escaped: the line is valid JSON
    raw = subprocess.run(
        [sys.executable, "-m", "azxfer", "list", str(root)],
        capture_output=True,
        env=dict(os.environ, PYTHONPATH=str(_repo())),
        check=True,
    )
    assert raw.stdout == b"\xffx.txt\t1 B\n"  # text: the name's own bytes, as ls prints it
