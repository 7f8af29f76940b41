"""Blob → blob copies against Azurite through the real CLI (issue #4).

Azurite answers 501 to Put Blob From URL, Append Block From URL and Put Page From URL, and
completes Copy Blob at once, so here the ladder goes: small block blobs → Copy Blob From URL
(the synchronous Copy Blob), larger ones → Put Block From URL + Put Block List, append and
page blobs → Copy Blob. A pass-through FaultProxy (no rules) records what azxfer itself sends
when a test must show that no blob data came through this machine (Azurite reads copy
sources itself: no Get Blob of a source shows there unless azxfer sent it). The stand-in
(tests/blob_standin.py) holds a Copy Blob pending where a test needs "during the copy".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import pytest
from azure.storage.blob import (
    BlobServiceClient,
    ContainerSasPermissions,
    ContentSettings,
    StandardBlobTier,
    generate_container_sas,
)
from blob_standin import BlobStandIn, blob_standin_fixture  # noqa: F401  (the fixture)
from faultproxy import FaultProxy
from helpers import CliResult, data_for
from seed import seed_blobs, temporary_container

MiB = 1024 * 1024
JSON = ("--output-type", "json")
REPO_ROOT = Path(__file__).resolve().parents[2]
NO_PUT_BLOB_FROM_URL = "does not support Put Blob From URL"
THROUGH_THIS_MACHINE = "through this machine"


# --------------------------------------------------------------------------- fixtures/helpers


@pytest.fixture
def dest(blob_service) -> Iterator:
    """A second, empty container in the main account (a ContainerClient)."""
    with temporary_container(blob_service, "d") as client:
        yield client


@pytest.fixture
def acct2_dest(azurite) -> Iterator:
    """An empty container in the second emulator account (a ContainerClient)."""
    service = BlobServiceClient.from_connection_string(azurite.acct2_connection_string)
    with temporary_container(service, "x") as client:
        yield client
    service.close()


@pytest.fixture
def recorder(azurite) -> Iterator[FaultProxy]:
    """A pass-through proxy (no rules) that records every request azxfer sends."""
    with FaultProxy(azurite.blob_port) as proxy:
        yield proxy


def url_of(azurite, container: str, path: str = "", account: str | None = None) -> str:
    base = f"{azurite.blob_endpoint}/{container}"
    if account is not None:
        base = f"http://{azurite.host}:{azurite.blob_port}/{account}/{container}"
    return f"{base}/{path}" if path else base


def contents(container_client, prefix: str = "") -> dict[str, bytes]:
    """name (without `prefix`) → bytes, for every blob under `prefix`."""
    return {
        b.name[len(prefix) :]: container_client.download_blob(b.name).readall()
        for b in container_client.list_blobs(name_starts_with=prefix or None)
    }


def notices(result: CliResult, text: str) -> list[str]:
    return [e["message"] for e in result.events_of("notice") if text in e["message"]]


def assert_all_completed(result: CliResult, count: int) -> None:
    result.assert_ok()
    finished = result.finished()
    assert finished["status"] == "Completed", result.describe()
    assert finished["files_completed"] == count, result.describe()
    outcomes = [e["outcome"] for e in result.events_of("transfer_done")]
    assert outcomes == ["completed"] * count, result.describe()
    assert not notices(result, THROUGH_THIS_MACHINE), result.describe()


def source_data_reads(proxy: FaultProxy, account: str, container: str) -> list[str]:
    """GETs of blob data (not listings) in `container` that azxfer sent."""
    prefix = f"/{account}/{container}/"
    return [r.path for r in proxy.requests if r.method == "GET" and r.path.startswith(prefix)]


def md5_of(container_client, name: str) -> bytes | None:
    value = container_client.get_blob_client(name).get_blob_properties().content_settings
    return bytes(value.content_md5) if value.content_md5 else None


def cli_env(azurite, tmp_path: Path) -> dict[str, str]:
    """The environment run_azxfer gives the CLI (same job folder), for Popen runs."""
    env = dict(os.environ)
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    env["AZXFER_SOURCE_KEY"] = azurite.key
    env["AZXFER_DEST_KEY"] = azurite.key
    env["AZXFER_JOB_DIR"] = str(tmp_path.parent / f"{tmp_path.name}-jobs")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


def wait_for(condition, what: str, proc: subprocess.Popen | None = None, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"azxfer exited ({proc.returncode}) before {what}\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def lenient_events(stdout: str) -> list[dict]:
    """NDJSON lines of a run that may have been killed mid-line."""
    out = []
    for line in stdout.splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            out.append(json.loads(line))
    return out


# --------------------------------------------------------------------------- container → container


TREE = {
    "a.txt": 10,
    "empty.txt": 0,
    "dir/spaced name.txt": 700,
    "dir/ünï cödé.bin": 3000,
    "deep/x/y/z.json": 64,
    "big/five.bin": 5 * MiB,
}


def test_container_copy_is_server_side_with_one_fallback_notice(
    azurite, recorder, container, container_client, dest, run_azxfer
):
    """A recursive container copy (with a 5-block blob): every blob equal, the 501 to Put Blob
    From URL said once, and azxfer never read a byte of blob data itself."""
    seeded = {name: data_for(name, size) for name, size in TREE.items()}
    seed_blobs(container_client, seeded)
    acct = azurite.account
    result = run_azxfer(
        "copy", recorder.url(acct, container), recorder.url(acct, dest.container_name),
        "-r", "--block-size-mb", "1", *JSON,
    )  # fmt: skip
    assert_all_completed(result, len(TREE))
    assert len(notices(result, NO_PUT_BLOB_FROM_URL)) == 1, result.describe()

    # the source container's name is the sub-folder (--as-subdir defaults to true)
    assert contents(dest, f"{container}/") == seeded
    assert source_data_reads(recorder, acct, container) == [], "blob data went through azxfer"
    # small blobs were copied by the service (Copy Blob From URL), the big one block by block
    # (Put Block From URL: no request to the destination carries a body it read)
    small = dest.get_blob_client(f"{container}/a.txt").get_blob_properties()
    assert small.copy.status == "success" and f"/{container}/a.txt" in small.copy.source
    committed, uncommitted = dest.get_blob_client(f"{container}/big/five.bin").get_block_list()
    assert [b.size for b in committed] == [MiB] * 5 and not uncommitted
    src_md5 = md5_of(container_client, "big/five.bin")
    assert src_md5 == hashlib.md5(seeded["big/five.bin"]).digest()
    assert md5_of(dest, f"{container}/big/five.bin") == src_md5


@pytest.mark.parametrize("auth", ["account-keys", "source-sas"])
def test_cross_account_copy(auth, azurite, container, container_client, acct2_dest, run_azxfer):
    """devstoreaccount1 → acct2: the service reads the source with a SAS minted from the
    source's key, or with the SAS given in the source URL."""
    seeded = {"s.txt": data_for("s", 900), "m/big.bin": data_for("big", 3 * MiB + 5)}
    seed_blobs(container_client, seeded)
    env: dict[str, str | None] = {"AZXFER_DEST_KEY": azurite.acct2_key}
    source = url_of(azurite, container)
    if auth == "source-sas":
        sas = generate_container_sas(
            azurite.account, container, account_key=azurite.key,
            permission=ContainerSasPermissions(read=True, list=True),
            expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        )  # fmt: skip
        source = f"{source}?{sas}"
        env["AZXFER_SOURCE_KEY"] = None
    destination = url_of(azurite, acct2_dest.container_name, account=azurite.acct2)
    result = run_azxfer(
        "copy", source, destination, "-r", "--as-subdir=false", "--block-size-mb", "1", *JSON,
        env=env,
    )  # fmt: skip
    assert_all_completed(result, 2)
    assert contents(acct2_dest) == seeded
    assert acct2_dest.get_blob_client("s.txt").get_blob_properties().copy.status == "success"
    assert len(acct2_dest.get_blob_client("m/big.bin").get_block_list()[0]) == 4


def test_append_and_sparse_page_blobs_keep_their_type(
    azurite, container, container_client, dest, run_azxfer
):
    """Append and page sources become append and page copies (by Copy Blob on Azurite, after
    one notice for each From-URL API it lacks); the page copy keeps the page ranges."""
    log = container_client.get_blob_client("logs/app.log")
    log.create_append_blob()
    lines = [f"line {i}\n".encode() * (i + 1) for i in range(5)]
    for line in lines:
        log.append_block(line)
    disk = container_client.get_blob_client("disks/sparse.vhd")
    disk.create_page_blob(4 * MiB)
    for offset, length in ((0, 512), (MiB, 8192), (3 * MiB, 64 * 1024)):
        disk.upload_page(data_for(f"page{offset}", length), offset=offset, length=length)

    result = run_azxfer(
        "copy", url_of(azurite, container), url_of(azurite, dest.container_name), "-r",
        "--as-subdir=false", *JSON,
    )  # fmt: skip
    assert_all_completed(result, 2)
    assert len(notices(result, "does not support Append Block From URL")) == 1, result.describe()
    assert len(notices(result, "does not support Put Page From URL")) == 1, result.describe()

    copied_log = dest.get_blob_client("logs/app.log")
    assert copied_log.get_blob_properties().blob_type == "AppendBlob"
    assert copied_log.download_blob().readall() == b"".join(lines)
    copied_disk = dest.get_blob_client("disks/sparse.vhd")
    props = copied_disk.get_blob_properties()
    assert props.blob_type == "PageBlob" and props.size == 4 * MiB
    assert copied_disk.download_blob().readall() == disk.download_blob().readall()
    source_ranges = [(r.start, r.end, r.cleared) for r in disk.list_page_ranges()]
    assert [(r.start, r.end, r.cleared) for r in copied_disk.list_page_ranges()] == source_ranges
    assert len(source_ranges) == 3


# --------------------------------------------------------------------------- properties


SOURCE_SETTINGS = ContentSettings(
    content_type="text/x-test",
    content_encoding="identity",
    content_language="fr",
    content_disposition="attachment; filename=report.txt",
    cache_control="max-age=60",
)
SOURCE_METADATA = {"origin": "source", "k2": "v2"}


@pytest.fixture
def with_properties(container_client) -> dict[str, bytes]:
    """A small blob (copied in one request) and a 3-block blob, both with every property."""
    seeded = {"small.txt": data_for("small", 2000), "big.bin": data_for("big", 3 * MiB)}
    seed_blobs(container_client, seeded, content_settings=SOURCE_SETTINGS, metadata=SOURCE_METADATA)
    return seeded


def _settings(container_client, name: str) -> tuple:
    props = container_client.get_blob_client(name).get_blob_properties()
    cs = props.content_settings
    content = (
        cs.content_type, cs.content_encoding, cs.content_language, cs.content_disposition,
        cs.cache_control,
    )  # fmt: skip
    return content, props.metadata, bytes(cs.content_md5 or b"")


def test_properties_metadata_and_md5_preserved_dropped_or_overridden(
    azurite, container, container_client, with_properties, blob_service, run_azxfer
):
    expected_content = (
        "text/x-test", "identity", "fr", "attachment; filename=report.txt", "max-age=60",
    )  # fmt: skip
    runs = {
        "keep": (),
        "drop": ("--s2s-preserve-properties=false",),
        "override": ("--content-type", "x/y"),
    }
    targets = {}
    for label, flags in runs.items():
        target = blob_service.create_container("p" + uuid.uuid4().hex[:20])
        targets[label] = target
        result = run_azxfer(
            "copy", url_of(azurite, container), url_of(azurite, target.container_name), "-r",
            "--as-subdir=false", "--block-size-mb", "1", *flags, *JSON,
        )  # fmt: skip
        assert_all_completed(result, 2)
    try:
        for name, data in with_properties.items():
            md5 = hashlib.md5(data).digest()
            assert _settings(container_client, name) == (expected_content, SOURCE_METADATA, md5)
            assert contents(targets["keep"])[name] == data
            assert _settings(targets["keep"], name) == (expected_content, SOURCE_METADATA, md5)

            content, metadata, got_md5 = _settings(targets["drop"], name)
            assert content[1:] == (None, None, None, None), name
            assert content[0] != "text/x-test" and metadata == {} and got_md5 == md5, name

            content, metadata, got_md5 = _settings(targets["override"], name)
            assert content == ("x/y", *expected_content[1:]), name
            assert metadata == SOURCE_METADATA and got_md5 == md5, name
    finally:
        for target in targets.values():
            with contextlib.suppress(Exception):
                target.delete_container()


def test_single_blob_keeps_properties_md5_and_metadata_names_as_written(
    azurite, container, container_client, dest, run_azxfer
):
    """A source named by its URL is described by Get Blob Properties, not by a listing:
    everything it carries reaches the copy the same way, metadata names in their own case."""
    metadata = {"MixedCase": "v1", "lower": "v2"}
    expected_content = (
        "text/x-test", "identity", "fr", "attachment; filename=report.txt", "max-age=60",
    )  # fmt: skip
    seeded = {"one.txt": data_for("one", 2000), "two.bin": data_for("two", 3 * MiB)}
    for name, data in seeded.items():
        container_client.upload_blob(
            name, data, content_settings=SOURCE_SETTINGS, metadata=metadata
        )
        result = run_azxfer(
            "copy", url_of(azurite, container, name),
            url_of(azurite, dest.container_name, name), "--block-size-mb", "1", *JSON,
        )  # fmt: skip
        assert_all_completed(result, 1)
        assert dest.download_blob(name).readall() == data
        assert _settings(dest, name) == (expected_content, metadata, hashlib.md5(data).digest())


def test_access_tier_preserved_or_not(azurite, container, container_client, dest, run_azxfer):
    """Cool single-blob sources (one small, one multi-block): Cool copies by default; the
    default tier with false; no index tags without --s2s-preserve-blob-tags."""
    data = {"cool.bin": data_for("cool", 3 * MiB), "cool.txt": data_for("cool.txt", 300)}
    for name, blob in data.items():
        container_client.upload_blob(
            name, blob, standard_blob_tier=StandardBlobTier.COOL, tags={"team": "blue"}
        )
    runs = (
        ("cool.bin", "kept.bin", ()),
        ("cool.txt", "kept.txt", ()),
        ("cool.bin", "default.bin", ("--s2s-preserve-access-tier=false",)),
    )
    for source, target, flags in runs:
        result = run_azxfer(
            "copy", url_of(azurite, container, source),
            url_of(azurite, dest.container_name, target), "--block-size-mb", "1", *flags, *JSON,
        )  # fmt: skip
        assert_all_completed(result, 1)
    for name in ("kept.bin", "kept.txt"):
        kept = dest.get_blob_client(name)
        assert kept.get_blob_properties().blob_tier == "Cool", name
        assert kept.get_blob_tags() == {}, name
    assert dest.download_blob("kept.bin").readall() == data["cool.bin"]
    assert dest.download_blob("kept.txt").readall() == data["cool.txt"]
    # checked on the multi-block copy: Azurite's Copy Blob From URL (small blobs) carries the
    # source's tier whatever is asked
    default = dest.get_blob_client("default.bin").get_blob_properties()
    assert default.blob_tier == "Hot" and default.blob_tier_inferred


def test_blob_tags_copied_when_asked(azurite, container, container_client, dest, run_azxfer):
    tags = {"small.txt": {"team": "blue", "env": "test"}, "big.bin": {"team": "red"}}
    sizes = {"small.txt": 100, "big.bin": 3 * MiB}
    for name, size in sizes.items():
        container_client.upload_blob(name, data_for(name, size), tags=tags[name])
    result = run_azxfer(
        "copy", url_of(azurite, container), url_of(azurite, dest.container_name), "-r",
        "--as-subdir=false", "--block-size-mb", "1", "--s2s-preserve-blob-tags", *JSON,
    )  # fmt: skip
    assert_all_completed(result, 2)
    for name in sizes:
        assert dest.get_blob_client(name).get_blob_tags() == tags[name], name


def test_container_copy_preserves_access_tier(
    azurite, container, container_client, dest, run_azxfer
):
    container_client.upload_blob(
        "cool.bin", data_for("cool", 2 * MiB), standard_blob_tier=StandardBlobTier.COOL
    )
    result = run_azxfer(
        "copy", url_of(azurite, container), url_of(azurite, dest.container_name), "-r",
        "--as-subdir=false", "--block-size-mb", "1", *JSON,
    )  # fmt: skip
    assert_all_completed(result, 1)
    assert dest.get_blob_client("cool.bin").get_blob_properties().blob_tier == "Cool"


# --------------------------------------------------------------------------- overwrite


def test_overwrite_modes(azurite, container, container_client, dest, run_azxfer):
    dest.upload_blob("older.txt", b"dest, older than the source")
    time.sleep(1.1)  # Last-Modified has one-second resolution
    container_client.upload_blob("older.txt", b"source: older")
    container_client.upload_blob("newer.txt", b"source: newer")
    # written after the source (in the same second at worst): not older than it
    dest.upload_blob("newer.txt", b"dest, not older than the source")
    args = (url_of(azurite, container), url_of(azurite, dest.container_name), "-r",
            "--as-subdir=false", *JSON)  # fmt: skip
    before = contents(dest)

    skipped = run_azxfer("copy", *args, "--overwrite", "false").assert_ok()
    assert skipped.finished()["files_skipped"] == 2 and contents(dest) == before

    newer = run_azxfer("copy", *args, "--overwrite", "ifSourceNewer").assert_ok()
    assert (newer.finished()["files_completed"], newer.finished()["files_skipped"]) == (1, 1)
    assert contents(dest) == {"older.txt": b"source: older", "newer.txt": before["newer.txt"]}

    replaced = run_azxfer("copy", *args)
    assert_all_completed(replaced, 2)
    assert contents(dest) == contents(container_client)


# --------------------------------------------------------------------------- snapshots


def expected_snapshot_name(rel: str, snapshot: str) -> str:
    stamp = dt.datetime.strptime(snapshot[:19], "%Y-%m-%dT%H:%M:%S").strftime("%Y-%m-%d %H%M%S")
    stem, ext = os.path.splitext(rel)
    return f"{stem} ({stamp}){ext}"


@pytest.fixture
def snapshotted(container_client) -> tuple:
    """dir/file.txt with two snapshots (in different seconds): v1, v2; the base holds v3."""
    blob = container_client.get_blob_client("dir/file.txt")
    blob.upload_blob(b"version 1")
    first = blob.create_snapshot()["snapshot"]
    time.sleep(1.05)  # snapshot names have one-second resolution
    blob.upload_blob(b"version 2, longer", overwrite=True)
    second = blob.create_snapshot()["snapshot"]
    blob.upload_blob(b"version 3", overwrite=True)
    assert first[:19] != second[:19]
    return blob, first, second


def test_include_snapshots_copies_each_snapshot_as_its_own_blob(
    azurite, container, dest, snapshotted, run_azxfer
):
    _, first, second = snapshotted
    result = run_azxfer(
        "copy", url_of(azurite, container), url_of(azurite, dest.container_name), "-r",
        "--as-subdir=false", "--include-snapshots", *JSON,
    )  # fmt: skip
    assert_all_completed(result, 3)
    assert contents(dest) == {
        "dir/file.txt": b"version 3",
        expected_snapshot_name("dir/file.txt", first): b"version 1",
        expected_snapshot_name("dir/file.txt", second): b"version 2, longer",
    }


def test_snapshot_url_source_and_restoring_the_base_blob(
    azurite, container, dest, snapshotted, run_azxfer
):
    blob, first, _ = snapshotted
    snapshot_url = f"{url_of(azurite, container, 'dir/file.txt')}?snapshot={quote(first)}"
    result = run_azxfer(
        "copy", snapshot_url, url_of(azurite, dest.container_name, "restored.txt"), *JSON
    )
    assert_all_completed(result, 1)
    assert contents(dest) == {"restored.txt": b"version 1"}

    # a snapshot copied over its own base blob restores it
    result = run_azxfer("copy", snapshot_url, url_of(azurite, container, "dir/file.txt"), *JSON)
    assert_all_completed(result, 1)
    assert blob.download_blob().readall() == b"version 1"
    assert blob.get_blob_properties().size == len(b"version 1")


def test_snapshots_within_one_second_are_all_kept(
    azurite, container, container_client, dest, run_azxfer
):
    blob = container_client.get_blob_client("f.txt")
    for _attempt in range(5):
        blob.upload_blob(b"one", overwrite=True)
        first = blob.create_snapshot()["snapshot"]
        blob.upload_blob(b"two", overwrite=True)
        second = blob.create_snapshot()["snapshot"]
        if first[:19] == second[:19]:
            break
        blob.delete_blob(delete_snapshots="only")
    else:
        pytest.skip("could not take two snapshots within one second")
    blob.upload_blob(b"base", overwrite=True)
    result = run_azxfer(
        "copy", url_of(azurite, container), url_of(azurite, dest.container_name), "-r",
        "--as-subdir=false", "--include-snapshots", *JSON,
    )  # fmt: skip
    # every snapshot is at the destination, or the job says it could not keep one
    kept = sorted(contents(dest).values())
    assert kept == [b"base", b"one", b"two"] or result.returncode != 0, result.describe()


# --------------------------------------------------------------------------- --lease-source


def test_lease_source_holds_a_lease_during_the_copy_and_releases_it(
    azurite, blob_standin, container, container_client, dest, tmp_path
):
    """The stand-in holds the Copy Blob pending: the source must be leased meanwhile, and
    free once the job is done."""
    data = data_for("leased", 5000)
    container_client.upload_blob("leased.bin", data)
    source = container_client.get_blob_client("leased.bin")
    blob_standin.pending_polls = 1
    blob_standin.hold_pending = True
    via = blob_standin.account_url(azurite.account)
    argv = [
        sys.executable, "-m", "azxfer", "copy", f"{via}/{container}",
        f"{via}/{dest.container_name}", "-r", "--as-subdir=false", "--s2s-mode", "async",
        "--lease-source", *JSON,
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=cli_env(azurite, tmp_path), cwd=tmp_path,
    )  # fmt: skip
    try:
        wait_for(lambda: blob_standin.pending_copies(), "the copy to start", proc)
        during = source.get_blob_properties().lease
        blob_standin.hold_pending = False  # the next poll completes the copy
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    result = CliResult(argv, proc.returncode, out, err)
    assert (during.state, during.status) == ("leased", "locked"), result.describe()
    assert_all_completed(result, 1)
    after = source.get_blob_properties().lease
    assert (after.state, after.status) == ("available", "unlocked")
    assert dest.download_blob("leased.bin").readall() == data
    assert blob_standin.requests_of("LeaseBlob"), "no lease request was sent"


# --------------------------------------------------------------------------- --s2s-mode


def test_client_mode_streams_through_this_machine(
    azurite, recorder, container, container_client, dest, run_azxfer
):
    seeded = {"s.txt": data_for("s", 1000), "big.bin": data_for("b", 3 * MiB + 3)}
    seed_blobs(container_client, seeded)
    acct = azurite.account
    result = run_azxfer(
        "copy", recorder.url(acct, container), recorder.url(acct, dest.container_name), "-r",
        "--as-subdir=false", "--block-size-mb", "1", "--s2s-mode", "client", *JSON,
    )  # fmt: skip
    assert_all_completed(result, 2)
    assert not notices(result, "does not support"), result.describe()
    assert contents(dest) == seeded
    reads = source_data_reads(recorder, acct, container)
    assert {p.rsplit("/", 1)[1] for p in reads} == set(seeded)
    assert all(dest.get_blob_client(n).get_blob_properties().copy.id is None for n in seeded)


def test_async_mode_uses_copy_blob(
    azurite, container, container_client, with_properties, dest, run_azxfer
):
    """Copy Blob carries the source's properties; an override is set on the copy after."""
    result = run_azxfer(
        "copy", url_of(azurite, container), url_of(azurite, dest.container_name), "-r",
        "--as-subdir=false", "--block-size-mb", "1", "--s2s-mode", "async",
        "--content-language", "de", *JSON,
    )  # fmt: skip
    assert_all_completed(result, 2)
    assert not notices(result, "does not support"), result.describe()
    assert contents(dest) == with_properties
    for name, data in with_properties.items():
        props = dest.get_blob_client(name).get_blob_properties()
        assert props.copy.status == "success" and f"/{container}/{name}" in props.copy.source
        content, metadata, md5 = _settings(dest, name)
        assert content == ("text/x-test", "identity", "de", "attachment; filename=report.txt",
                           "max-age=60"), name  # fmt: skip
        assert metadata == SOURCE_METADATA and md5 == hashlib.md5(data).digest(), name


def _one_failure(result: CliResult) -> str:
    result.assert_exit(1)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("azxfer: error: "), result.describe()
    (done,) = result.events_of("transfer_done")
    assert done["outcome"] == "failed", result.describe()
    return done["reason"]


def test_destination_of_another_blob_type_is_a_clear_error(
    azurite, container, container_client, dest, run_azxfer
):
    """Put Block From URL onto a page blob: the service refuses (InvalidBlobType)."""
    container_client.upload_blob("x.bin", data_for("x", 2 * MiB))
    dest.get_blob_client("x.bin").create_page_blob(1024)
    result = run_azxfer(
        "copy", url_of(azurite, container, "x.bin"), url_of(azurite, dest.container_name, "x.bin"),
        "--block-size-mb", "1", *JSON,
    )  # fmt: skip
    reason = _one_failure(result)
    assert "exists as another blob type" in reason and "\n" not in reason, reason
    assert dest.get_blob_client("x.bin").get_blob_properties().blob_type == "PageBlob"


def test_async_copy_onto_a_page_blob_is_a_clear_error(
    azurite, container, container_client, dest, run_azxfer
):
    container_client.upload_blob("x.bin", data_for("x", 2000))
    dest.get_blob_client("x.bin").create_page_blob(1024)
    result = run_azxfer(
        "copy", url_of(azurite, container), url_of(azurite, dest.container_name), "-r",
        "--as-subdir=false", "--s2s-mode", "async", *JSON,
    )  # fmt: skip
    assert dest.get_blob_client("x.bin").get_blob_properties().blob_type == "PageBlob"
    assert "exists as another blob type" in _one_failure(result)


@pytest.mark.parametrize(
    "flags",
    [("--s2s-mode", "async"), ("--include-snapshots",)],
    ids=["s2s-mode-async", "include-snapshots"],
)
def test_blob_to_blob_flags_refused_for_a_local_source(
    flags, azurite, container, run_azxfer, tmp_path
):
    local = tmp_path / "f.txt"
    local.write_bytes(b"local")
    result = run_azxfer("copy", local, url_of(azurite, container), *flags)
    result.assert_usage_error(2)
    assert flags[0] in result.stderr


# --------------------------------------------------------------------------- secrets


def _forms(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    forms |= {f.replace("%2F", "%2f").replace("%2B", "%2b").replace("%3D", "%3d") for f in forms}
    return {f for f in forms if len(f) >= 16}


def test_minted_sas_never_written_anywhere(
    azurite, blob_standin, container, container_client, dest, run_azxfer, tmp_path
):
    """The stand-in records the x-ms-copy-source URLs, so the minted signatures are known:
    none may appear in stdout, stderr, the DEBUG log or the journal. One job sends all three
    kinds of request that carry one: Copy Blob From URL (small blobs: Put Blob From URL is
    refused), Put Block From URL (the big blob) and Copy Blob (the append blob: Append Block
    From URL is refused)."""
    seed_blobs(container_client, {"s.txt": 500, "big.bin": 2 * MiB + 1})
    log_blob = container_client.get_blob_client("app.log")
    log_blob.create_append_blob()
    log_blob.append_block(b"appended\n" * 100)
    blob_standin.not_implemented = {"PutBlobFromURL", "AppendBlockFromURL"}
    via = blob_standin.account_url(azurite.account)
    log = tmp_path / "debug.log"
    result = run_azxfer(
        "copy", f"{via}/{container}", f"{via}/{dest.container_name}", "-r",
        "--block-size-mb", "1", "--log-file", log, "--log-level", "DEBUG", *JSON,
    )  # fmt: skip
    assert_all_completed(result, 3)
    carried = [r for r in blob_standin.requests if "x-ms-copy-source" in r.headers]
    assert {r.op for r in carried} >= {"CopyBlobFromURL", "PutBlockFromURL", "CopyBlob"}
    sigs = {parse_qs(urlsplit(r.headers["x-ms-copy-source"]).query)["sig"][0] for r in carried}
    assert sigs and all(len(s) > 20 for s in sigs)
    secrets = {f"minted sig {i}": _forms(s) for i, s in enumerate(sigs)}
    secrets["account key"] = _forms(azurite.key)

    written = {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    written["log"] = log.read_bytes()
    assert b"DEBUG" in written["log"], "the log holds no DEBUG records"
    jobs = tmp_path.parent / f"{tmp_path.name}-jobs"
    journal = [p for p in jobs.rglob("*") if p.is_file()]
    assert journal, "no journal written"
    for path in journal:
        written[str(path)] = path.read_bytes()
    hits = [
        f"{label} in {where}"
        for where, data in written.items()
        for label, forms in secrets.items()
        if any(form.encode() in data for form in forms)
    ]
    assert hits == []


# --------------------------------------------------------------------------- resume


def test_interrupted_block_copy_resumes_without_restaging(
    azurite, recorder, container, container_client, dest, run_azxfer
):
    data = data_for("resumed", 5 * MiB)
    container_client.upload_blob("r.bin", data)
    acct = azurite.account
    crash = {"AZXFER_TEST_CRASH": "chunks:2", "PYTHONUNBUFFERED": "1"}
    first = run_azxfer(
        "copy", recorder.url(acct, container, "r.bin"),
        recorder.url(acct, dest.container_name, "r.bin"), "--block-size-mb", "1",
        "--concurrency", "1", *JSON, env=crash,
    )  # fmt: skip
    assert first.returncode == -signal.SIGKILL, first.describe()
    (started,) = [e for e in lenient_events(first.stdout) if e.get("event") == "job_started"]
    staged = dest.get_blob_client("r.bin").get_block_list("all")[1]
    assert len(staged) >= 2 and all(b.size == MiB for b in staged)

    recorder.reset_log()
    final = run_azxfer("resume", started["job_id"], *JSON)
    assert_all_completed(final, 1)
    (resumed,) = final.events_of("transfer_resumed")
    present = resumed["chunks_present"]
    assert present >= 2 and resumed["bytes_present"] == present * MiB, final.describe()
    sent = [r for r in recorder.requests if r.method == "PUT" and "comp=block&" in r.query]
    assert len(sent) == 5 - present, f"{len(sent)} blocks staged again for {5 - present} missing"
    assert not source_data_reads(recorder, acct, container)
    blob = dest.get_blob_client("r.bin")
    assert blob.download_blob().readall() == data
    assert len(blob.get_block_list()[0]) == 5
    assert md5_of(dest, "r.bin") == hashlib.md5(data).digest()
