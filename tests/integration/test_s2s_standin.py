"""Blob → blob copies at the HTTP level, through the blob stand-in (tests/blob_standin.py).

Both the source and the destination URL given to azxfer point at the stand-in, so every
request azxfer sends is recorded there; the stand-in implements what Azurite lacks (Put Blob
From URL, Append Block From URL, Put Page From URL, a pending Copy Blob) and forwards the
rest. The stand-in reads copy sources straight from Azurite, so a recorded Get Blob is one
azxfer sent itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from azure.storage.blob import ContainerSasPermissions, ContentSettings, generate_container_sas
from blob_standin import BlobStandIn, blob_standin_fixture  # noqa: F401  (the fixture)
from helpers import CliResult, data_for
from seed import temporary_container

MiB = 1024 * 1024
JSON = ("--output-type", "json")
REPO_ROOT = Path(__file__).resolve().parents[2]
FROM_URL_OPS = {
    "PutBlobFromURL",
    "CopyBlobFromURL",
    "PutBlockFromURL",
    "AppendBlockFromURL",
    "PutPageFromURL",
}


@pytest.fixture
def dest(blob_service) -> Iterator:
    """A second, empty container in the main account (a ContainerClient)."""
    with temporary_container(blob_service, "d") as client:
        yield client


def via(standin: BlobStandIn, azurite, container: str, path: str = "") -> str:
    base = f"{standin.account_url(azurite.account)}/{container}"
    return f"{base}/{path}" if path else base


def contents(container_client) -> dict[str, bytes]:
    return {
        b.name: container_client.download_blob(b.name).readall()
        for b in container_client.list_blobs()
    }


def notices(result: CliResult, text: str) -> list[str]:
    return [e["message"] for e in result.events_of("notice") if text in e["message"]]


def assert_all_completed(result: CliResult, count: int) -> None:
    result.assert_ok()
    finished = result.finished()
    assert finished["status"] == "Completed", result.describe()
    assert finished["files_completed"] == count, result.describe()
    assert [e["outcome"] for e in result.events_of("transfer_done")] == ["completed"] * count


def blob_of(path: str) -> str:
    """The blob name of a recorded raw path /account/container/blob."""
    return unquote(path.split("/", 3)[3])


def ops_by_blob(standin: BlobStandIn, container: str, *ops: str) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for rec in standin.requests_of(*ops):
        if rec.path.split("/")[2] == container:
            out[blob_of(rec.path)].append(rec)
    return out


def data_gets(standin: BlobStandIn) -> list[str]:
    return [r.path for r in standin.requests_of("GetBlob")]


# --------------------------------------------------------------------------- Put Blob From URL


SMALL = {
    "a.txt": (b"hello, a", ContentSettings(
        content_type="text/x-a", content_encoding="identity", content_language="fr",
        content_disposition="inline", cache_control="max-age=60",
    ), {"origin": "a", "two": "2"}),
    "dir/b c.bin": (data_for("b", 3000), ContentSettings(content_type="application/x-b"), None),
    "empty.txt": (b"", ContentSettings(content_type="text/plain"), {"e": "1"}),
}  # fmt: skip


@pytest.mark.parametrize("auth", ["account-key", "source-sas"])
def test_small_blobs_use_one_put_blob_from_url_each(
    auth, azurite, blob_standin, container, container_client, dest, run_azxfer
):
    for name, (data, settings, metadata) in SMALL.items():
        container_client.upload_blob(name, data, content_settings=settings, metadata=metadata)
    listed = {n: container_client.get_blob_client(n).get_blob_properties() for n in SMALL}
    assert all(p.content_settings.content_md5 for p in listed.values())
    source, env, user_sas = via(blob_standin, azurite, container), None, None
    if auth == "source-sas":
        user_sas = generate_container_sas(
            azurite.account, container, account_key=azurite.key,
            permission=ContainerSasPermissions(read=True, list=True),
            expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        )  # fmt: skip
        source, env = f"{source}?{user_sas}", {"AZXFER_SOURCE_KEY": None}
    result = run_azxfer(
        "copy", source, via(blob_standin, azurite, dest.container_name), "-r",
        "--as-subdir=false", *JSON, env=env,
    )  # fmt: skip
    assert_all_completed(result, len(SMALL))
    assert not result.events_of("notice"), result.describe()
    assert contents(dest) == {n: d for n, (d, _, _) in SMALL.items()}

    puts = ops_by_blob(blob_standin, dest.container_name, "PutBlobFromURL")
    assert {n: len(r) for n, r in puts.items()} == dict.fromkeys(SMALL, 1)
    assert {r.op for r in blob_standin.requests} & FROM_URL_OPS == {"PutBlobFromURL"}
    assert not blob_standin.requests_of("CopyBlob", "CopyBlobFromURL", "PutBlob", "PutBlock")
    assert data_gets(blob_standin) == [], "azxfer read blob data itself"
    sigs = set()
    for name, (data, settings, metadata) in SMALL.items():
        (rec,) = puts[name]
        assert rec.status == 201 and rec.body_length == 0
        copy_source = urlsplit(rec.headers["x-ms-copy-source"])
        assert copy_source.netloc == urlsplit(blob_standin.endpoint).netloc
        assert copy_source.path == f"/{azurite.account}/{container}/{quote(name)}"
        query = parse_qs(copy_source.query)
        assert query["sig"][0] and query["sp"] == ["rl" if user_sas else "r"], query.keys()
        sigs.add(query["sig"][0])
        assert rec.headers["x-ms-source-if-match"] == listed[name].etag
        # Content-MD5 is carried over: sent as ours, not taken from the source's properties
        md5 = base64.b64encode(listed[name].content_settings.content_md5).decode()
        assert rec.headers.get("x-ms-blob-content-md5") == md5, name
        assert rec.headers.get("x-ms-copy-source-blob-properties") == "false", name
        assert rec.headers["x-ms-blob-type"] == "BlockBlob"
        expected = {
            "x-ms-blob-content-type": settings.content_type,
            "x-ms-blob-content-encoding": settings.content_encoding,
            "x-ms-blob-content-language": settings.content_language,
            "x-ms-blob-content-disposition": settings.content_disposition,
            "x-ms-blob-cache-control": settings.cache_control,
        }
        for header, value in expected.items():
            assert rec.headers.get(header) == value, (name, header)
        meta = {
            k.removeprefix("x-ms-meta-"): v
            for k, v in rec.headers.items()
            if k.startswith("x-ms-meta-")
        }
        assert meta == (metadata or {}), name
        got = dest.get_blob_client(name).get_blob_properties()
        assert got.metadata == (metadata or {}) and got.content_settings.content_type == (
            settings.content_type
        )
        assert bytes(got.content_settings.content_md5) == hashlib.md5(data).digest(), name
    if user_sas:  # the service reads with the source's own SAS
        assert sigs == {parse_qs(user_sas)["sig"][0]}
    else:  # one read-only container SAS minted from the key, for the whole job
        assert len(sigs) == 1 and "sr=c" in puts["a.txt"][0].headers["x-ms-copy-source"]


# --------------------------------------------------------------------------- append, page


def test_append_blob_is_copied_by_ordered_source_ranges(
    azurite, blob_standin, container, container_client, dest, run_azxfer
):
    """4.5 MiB with the default 8 MiB block size: two appends, the first capped at 4 MiB."""
    blob = container_client.get_blob_client("app.log")
    blob.create_append_blob()
    data = data_for("append", 4 * MiB + MiB // 2)
    for offset in range(0, len(data), MiB):
        blob.append_block(data[offset : offset + MiB])
    result = run_azxfer(
        "copy", via(blob_standin, azurite, container, "app.log"),
        via(blob_standin, azurite, dest.container_name, "app.log"), *JSON,
    )  # fmt: skip
    assert_all_completed(result, 1)
    copied = dest.get_blob_client("app.log")
    assert copied.get_blob_properties().blob_type == "AppendBlob"
    assert copied.download_blob().readall() == data

    appends = blob_standin.requests_of("AppendBlockFromURL")
    ranges = [r.headers["x-ms-source-range"] for r in appends]
    assert ranges == [f"bytes=0-{4 * MiB - 1}", f"bytes={4 * MiB}-{len(data) - 1}"]
    assert all(r.status == 201 and r.body_length == 0 for r in appends)
    assert all(blob_of(r.path) == "app.log" for r in appends)
    assert all("sig=" in r.headers["x-ms-copy-source"] for r in appends)
    assert not blob_standin.requests_of("AppendBlock", "CopyBlob") and not data_gets(blob_standin)


def test_sparse_page_blob_copies_only_written_ranges(
    azurite, blob_standin, container, container_client, dest, run_azxfer
):
    disk = container_client.get_blob_client("disk.vhd")
    disk.create_page_blob(4 * MiB)
    written = [(0, 512), (MiB, 8192), (3 * MiB, 64 * 1024)]
    for offset, length in written:
        disk.upload_page(data_for(f"p{offset}", length), offset=offset, length=length)
    result = run_azxfer(
        "copy", via(blob_standin, azurite, container),
        via(blob_standin, azurite, dest.container_name), "-r", "--as-subdir=false", *JSON,
    )  # fmt: skip
    assert_all_completed(result, 1)
    copied = dest.get_blob_client("disk.vhd")
    props = copied.get_blob_properties()
    assert props.blob_type == "PageBlob" and props.size == 4 * MiB
    assert copied.download_blob().readall() == disk.download_blob().readall()
    got_ranges = [(r.start, r.end) for r in copied.list_page_ranges()]
    assert got_ranges == [(o, o + n - 1) for o, n in written]

    pages = blob_standin.requests_of("PutPageFromURL")
    expected = [f"bytes={o}-{o + n - 1}" for o, n in written]
    assert sorted(r.headers["x-ms-range"] for r in pages) == sorted(expected)
    assert all(r.headers["x-ms-range"] == r.headers["x-ms-source-range"] for r in pages)
    assert all(r.status == 201 and r.headers["x-ms-page-write"] == "update" for r in pages)
    assert not blob_standin.requests_of("PutPage", "CopyBlob") and not data_gets(blob_standin)
    # progress still accounts for the never-written pages
    moved = sum(e["bytes"] for e in result.events_of("progress"))
    assert moved == 4 * MiB, result.describe()


# --------------------------------------------------------------------------- the ladder


LADDER_SOURCES = {"a.txt": 100, "b.txt": 2000, "big.bin": 3 * MiB}


@pytest.fixture
def ladder_source(container_client) -> dict[str, bytes]:
    seeded = {n: data_for(n, size) for n, size in LADDER_SOURCES.items()}
    for name, data in seeded.items():
        container_client.upload_blob(name, data)
    return seeded


def _copy(run_azxfer, standin, azurite, container, dest, *flags) -> CliResult:
    return run_azxfer(
        "copy", via(standin, azurite, container), via(standin, azurite, dest.container_name),
        "-r", "--as-subdir=false", "--block-size-mb", "1", *flags, *JSON,
    )  # fmt: skip


def test_without_put_blob_from_url_small_blobs_use_copy_blob_from_url(
    azurite, blob_standin, container, container_client, dest, ladder_source, run_azxfer
):
    blob_standin.not_implemented = {"PutBlobFromURL"}
    result = _copy(run_azxfer, blob_standin, azurite, container, dest)
    assert_all_completed(result, 3)
    assert len(notices(result, "does not support Put Blob From URL")) == 1, result.describe()
    assert len(result.events_of("notice")) == 1, result.describe()
    assert contents(dest) == ladder_source

    refused = ops_by_blob(blob_standin, dest.container_name, "PutBlobFromURL")
    assert all(len(r) == 1 and r[0].status == 501 for r in refused.values())
    assert set(refused) <= {"a.txt", "b.txt"}
    synced = ops_by_blob(blob_standin, dest.container_name, "CopyBlobFromURL")
    assert set(synced) == {"a.txt", "b.txt"}
    for name, (rec,) in synced.items():
        assert rec.headers["x-ms-requires-sync"].lower() == "true", name
        assert urlsplit(rec.headers["x-ms-copy-source"]).path.endswith(f"/{container}/{name}")
        assert "sig=" in rec.headers["x-ms-copy-source"] and rec.status == 202
        etag = container_client.get_blob_client(name).get_blob_properties().etag
        assert rec.headers["x-ms-source-if-match"] == etag, name
    blocks = ops_by_blob(blob_standin, dest.container_name, "PutBlockFromURL")
    assert set(blocks) == {"big.bin"} and len(blocks["big.bin"]) == 3
    assert sorted(r.headers["x-ms-source-range"] for r in blocks["big.bin"]) == [
        f"bytes={i * MiB}-{(i + 1) * MiB - 1}" for i in range(3)
    ]
    assert not blob_standin.requests_of("CopyBlob") and not data_gets(blob_standin)


def test_without_any_synchronous_api_the_job_still_succeeds(
    azurite, blob_standin, container, dest, ladder_source, run_azxfer
):
    blob_standin.not_implemented = {"PutBlobFromURL", "CopyBlobFromURL", "PutBlockFromURL"}
    result = _copy(run_azxfer, blob_standin, azurite, container, dest)
    assert_all_completed(result, 3)
    for api in ("Put Blob From URL", "Copy Blob From URL", "Put Block From URL"):
        assert len(notices(result, f"does not support {api}:")) == 1, result.describe()
    assert contents(dest) == ladder_source
    # the next rung: the asynchronous Copy Blob (Azurite completes it at once)
    copies = ops_by_blob(blob_standin, dest.container_name, "CopyBlob")
    assert {n: [r.status for r in recs] for n, recs in copies.items()} == {
        n: [202] for n in LADDER_SOURCES
    }
    assert all("x-ms-requires-sync" not in r.headers for r in blob_standin.requests_of("CopyBlob"))
    assert not data_gets(blob_standin)


def test_url_mode_fails_clearly_when_no_from_url_api_is_implemented(
    azurite, blob_standin, container, dest, ladder_source, run_azxfer
):
    blob_standin.not_implemented = set(FROM_URL_OPS)
    result = _copy(run_azxfer, blob_standin, azurite, container, dest, "--s2s-mode", "url")
    result.assert_exit(1)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("azxfer: error: "), result.describe()
    finished = result.finished()
    assert finished["files_failed"] == 3 and finished["files_completed"] == 0
    for done in result.events_of("transfer_done"):
        assert "supports no copy method that --s2s-mode url allows" in done["reason"], done
    assert contents(dest) == {}
    assert not blob_standin.requests_of("CopyBlob", "PutBlob", "PutBlock")
    assert not data_gets(blob_standin)


# --------------------------------------------------------------------------- pending Copy Blob


def test_pending_async_copy_is_polled_to_completion(
    azurite, blob_standin, container, container_client, dest, run_azxfer
):
    seeded = {"one.bin": data_for("one", 300_000), "two.txt": data_for("two", 3000)}
    for name, data in seeded.items():
        container_client.upload_blob(name, data)
    blob_standin.pending_polls = 3
    result = _copy(run_azxfer, blob_standin, azurite, container, dest, "--s2s-mode", "async")
    assert_all_completed(result, 2)
    assert contents(dest) == seeded

    names = {e["transfer_id"]: e["source"] for e in result.events_of("transfer_queued")}
    moved: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    for event in result.events_of("progress"):
        moved[names[event["transfer_id"]]] += event["bytes"]
        steps[names[event["transfer_id"]]] += 1
    assert moved == {n: len(d) for n, d in seeded.items()}, result.describe()
    assert all(steps[n] >= 3 for n in seeded), steps  # progress shown while pending
    polls = ops_by_blob(blob_standin, dest.container_name, "GetBlobProperties")
    assert all(len(polls[n]) >= 4 for n in seeded), {n: len(p) for n, p in polls.items()}
    assert {c.status for c in blob_standin.copies()} == {"success"}
    assert len(blob_standin.copies()) == 2


def _popen(argv: list[str], azurite, tmp_path: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    env["AZXFER_SOURCE_KEY"] = azurite.key
    env["AZXFER_DEST_KEY"] = azurite.key
    env["AZXFER_JOB_DIR"] = str(tmp_path.parent / f"{tmp_path.name}-jobs")  # as run_azxfer
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
    )
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, cwd=tmp_path,
    )  # fmt: skip


def test_ctrl_c_aborts_every_pending_copy_and_resume_completes(
    azurite, blob_standin, container, container_client, dest, run_azxfer, tmp_path
):
    seeded = {f"m{i}.bin": data_for(f"m{i}", 2000 + i) for i in range(4)}
    for name, data in seeded.items():
        container_client.upload_blob(name, data)
    blob_standin.pending_polls = 1
    blob_standin.hold_pending = True
    argv = [
        sys.executable, "-m", "azxfer", "copy", via(blob_standin, azurite, container),
        via(blob_standin, azurite, dest.container_name), "-r", "--as-subdir=false",
        "--s2s-mode", "async", *JSON,
    ]  # fmt: skip
    proc = _popen(argv, azurite, tmp_path)
    try:
        deadline = time.monotonic() + 30
        while len(blob_standin.pending_copies()) < len(seeded):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the copies never all started"
            time.sleep(0.02)
        started = set(blob_standin.pending_copies())
        time.sleep(0.3)  # let it poll
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    result = CliResult(argv, proc.returncode, out, err)
    result.assert_exit(130)
    assert result.finished()["status"] == "Cancelled", result.describe()
    assert blob_standin.pending_copies() == []
    assert set(blob_standin.aborted_copies()) == started
    aborted = [
        e["message"]
        for e in result.events_of("notice")
        if e["level"] == "warning" and "aborted the server-side copy" in e["message"]
    ]
    assert len(aborted) == len(seeded), result.describe()
    assert all("left zero-length until the job is resumed" in m for m in aborted)
    assert {m.split(f"/{dest.container_name}/")[1].split(":")[0] for m in aborted} == set(seeded)
    assert {b.name: b.size for b in dest.list_blobs()} == dict.fromkeys(seeded, 0)

    blob_standin.hold_pending = False
    job_id = result.events_of("job_started")[0]["job_id"]
    resumed = run_azxfer("resume", job_id, *JSON)
    assert_all_completed(resumed, len(seeded))
    assert contents(dest) == seeded
