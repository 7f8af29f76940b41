"""`azxfer copy URL LOCAL`: naming, selection, integrity, name translation."""

from __future__ import annotations

import datetime as dt
import http.client
import os
import time
from urllib.parse import urlsplit

import pytest
from azure.storage.blob import (
    BlobBlock,
    ContainerSasPermissions,
    ContentSettings,
    generate_container_sas,
)
from faultproxy import FaultProxy
from helpers import data_for, md5, tree_contents
from seed import seed_blobs

# --------------------------------------------------------------------------- naming


def test_blob_into_existing_directory_keeps_base_name(
    tmp_path, run_azxfer, container_url, container_client
):
    seed_blobs(container_client, {"x/y.txt": b"why\n"})
    run_azxfer("copy", container_url("x/y.txt"), tmp_path).assert_ok()
    assert (tmp_path / "y.txt").read_bytes() == b"why\n"
    assert not (tmp_path / "x").exists()


def test_blob_to_new_path_uses_it_as_file_name(
    tmp_path, run_azxfer, container_url, container_client
):
    seed_blobs(container_client, {"x/y.txt": b"why\n"})
    run_azxfer("copy", container_url("x/y.txt"), tmp_path / "renamed.dat").assert_ok()
    assert tree_contents(tmp_path) == {"renamed.dat": b"why\n"}


BLOBS = {"a.txt": 11, "d/b.txt": 22, "d/e/c.txt": 33, "f/g.bin": 44}


def test_container_recursive_goes_under_container_name(
    tmp_path, run_azxfer, container, container_url, container_client
):
    seeded = seed_blobs(container_client, BLOBS)
    run_azxfer("copy", container_url(), tmp_path, "-r").assert_ok()
    assert tree_contents(tmp_path) == {f"{container}/{k}": v for k, v in seeded.items()}


def test_container_recursive_as_subdir_false(tmp_path, run_azxfer, container_url, container_client):
    seeded = seed_blobs(container_client, BLOBS)
    run_azxfer("copy", container_url(), tmp_path, "-r", "--as-subdir=false").assert_ok()
    assert tree_contents(tmp_path) == seeded


@pytest.mark.parametrize("path", ["d", "d/"])
def test_virtual_directory_recursive(path, tmp_path, run_azxfer, container_url, container_client):
    seeded = seed_blobs(container_client, BLOBS)
    run_azxfer("copy", container_url(path), tmp_path, "-r").assert_ok()
    assert tree_contents(tmp_path) == {
        "d/b.txt": seeded["d/b.txt"],
        "d/e/c.txt": seeded["d/e/c.txt"],
    }


@pytest.mark.parametrize("path", ["d", "d/"])
def test_virtual_directory_without_recursive_takes_direct_children_only(
    path, tmp_path, run_azxfer, container_url, container_client
):
    seeded = seed_blobs(container_client, BLOBS)
    run_azxfer("copy", container_url(path), tmp_path).assert_ok()
    assert tree_contents(tmp_path) == {"d/b.txt": seeded["d/b.txt"]}


def test_v8_prefix_pattern_example(tmp_path, run_azxfer, container_url, container_client):
    """AzCopy v8 /Pattern:a: the prefix applies to the whole blob name."""
    seeded = seed_blobs(
        container_client,
        {"abc.txt": 1, "abc1.txt": 2, "abc2.txt": 3, "vd1/a.txt": 4, "xyz.txt": 5},
    )
    run_azxfer("copy", container_url("a"), tmp_path, "-r").assert_ok()
    assert tree_contents(tmp_path) == {k: seeded[k] for k in ("abc.txt", "abc1.txt", "abc2.txt")}


def test_v8_prefix_pattern_example_without_recursive(
    tmp_path, run_azxfer, container_url, container_client
):
    seeded = seed_blobs(
        container_client,
        {"abc.txt": 1, "abc1.txt": 2, "abc2.txt": 3, "vd1/a.txt": 4, "xyz.txt": 5},
    )
    run_azxfer("copy", container_url("a"), tmp_path).assert_ok()
    assert tree_contents(tmp_path) == {k: seeded[k] for k in ("abc.txt", "abc1.txt", "abc2.txt")}


def test_wildcard_in_blob_path(tmp_path, run_azxfer, container_url, container_client):
    seeded = seed_blobs(
        container_client,
        {"logs/a.gz": 1, "logs/b.gz": 2, "logs/c.txt": 3, "other/d.gz": 4, "e.gz": 5},
    )
    run_azxfer("copy", container_url("logs/*.gz"), tmp_path).assert_ok()
    assert tree_contents(tmp_path) == {"a.gz": seeded["logs/a.gz"], "b.gz": seeded["logs/b.gz"]}


@pytest.mark.parametrize("path", ["", "/sub/"])
def test_missing_container_is_one_error_line_naming_it(path, tmp_path, run_azxfer, azurite):
    dst = tmp_path / "out"
    dst.mkdir()
    result = run_azxfer("copy", f"{azurite.blob_endpoint}/nosuchcontainer42{path}", dst, "-r")
    result.assert_usage_error(1)
    assert (
        f"container 'nosuchcontainer42' at {azurite.blob_endpoint} does not exist" in result.stderr
    )
    assert list(dst.iterdir()) == []


@pytest.mark.parametrize("path", ["", "d/"])
def test_a_listed_download_asks_nothing_before_its_listing(
    path, tmp_path, run_azxfer, azurite, container, container_client
):
    """The listing answers whether the container exists: no Get Container Properties is
    spent before it (the job's first request reaches the service a round trip sooner)."""
    seeded = seed_blobs(container_client, BLOBS)
    with FaultProxy(azurite.blob_port) as proxy:
        source = proxy.url(azurite.account, container, path)
        run_azxfer("copy", source, tmp_path, "-r", "--as-subdir=false").assert_ok()
        seen = list(proxy.requests)
    assert tree_contents(tmp_path) == {
        k.removeprefix(path): v for k, v in seeded.items() if k.startswith(path)
    }
    container_requests = [r for r in seen if "restype=container" in r.query]
    assert container_requests and all("comp=list" in r.query for r in container_requests)
    assert seen[0].method == "GET" and "comp=list" in seen[0].query


# --------------------------------------------------------------------------- integrity


def _corrupt(container_client, name: str, data: bytes, stale: bytes) -> None:
    """Blob whose bytes are `data` but whose Content-MD5 is md5(stale)."""
    container_client.upload_blob(name, data, overwrite=True)
    container_client.get_blob_client(name).set_http_headers(
        ContentSettings(content_type="application/octet-stream", content_md5=bytearray(md5(stale)))
    )


def _no_md5(container_client, name: str, data: bytes) -> None:
    container_client.upload_blob(name, data, overwrite=True)
    container_client.get_blob_client(name).set_http_headers(
        ContentSettings(content_type="application/octet-stream")
    )
    assert (
        container_client.get_blob_client(name).get_blob_properties().content_settings.content_md5
        is None
    )


@pytest.mark.parametrize("mode", [None, "FailIfDifferent", "FailIfDifferentOrMissing"])
def test_corrupted_blob_fails_and_leaves_no_file(
    mode, tmp_path, run_azxfer, container_url, container_client
):
    _corrupt(container_client, "bad.bin", b"changed bytes", b"original bytes")
    args = ["--check-md5", mode] if mode else []
    dst = tmp_path / "out"
    dst.mkdir()
    result = run_azxfer("copy", container_url("bad.bin"), dst, "--output-type", "json", *args)
    result.assert_exit(1)
    assert not (dst / "bad.bin").exists()
    done = result.finished()
    assert done["files_failed"] == 1
    assert done["status"] in ("CompletedWithErrors", "Failed")
    assert [f["name"] for f in done["failed"]] and "bad.bin" in done["failed"][0]["name"]


def test_corrupted_blob_among_good_ones_fails_only_itself(
    tmp_path, run_azxfer, container_url, container_client
):
    seeded = seed_blobs(container_client, {"good1.txt": 100, "good2.txt": 200})
    _corrupt(container_client, "bad.txt", b"changed", b"original")
    result = run_azxfer(
        "copy", container_url(), tmp_path, "-r", "--as-subdir=false", "--output-type", "json"
    )
    result.assert_exit(1)
    assert tree_contents(tmp_path) == seeded
    done = result.finished()
    assert (done["files_completed"], done["files_failed"]) == (2, 1)
    assert done["status"] == "CompletedWithErrors"


@pytest.mark.parametrize("mode", ["NoCheck", "LogOnly"])
def test_corrupted_blob_downloads_when_not_enforced(
    mode, tmp_path, run_azxfer, container_url, container_client
):
    _corrupt(container_client, "bad.bin", b"changed bytes", b"original bytes")
    run_azxfer("copy", container_url("bad.bin"), tmp_path, "--check-md5", mode).assert_ok()
    assert (tmp_path / "bad.bin").read_bytes() == b"changed bytes"


@pytest.mark.parametrize(
    ("mode", "ok"),
    [
        ("NoCheck", True),
        ("LogOnly", True),
        ("FailIfDifferent", True),
        ("FailIfDifferentOrMissing", False),
    ],
)
def test_blob_without_md5(mode, ok, tmp_path, run_azxfer, container_url, container_client):
    _no_md5(container_client, "plain.bin", b"no digest here")
    result = run_azxfer("copy", container_url("plain.bin"), tmp_path, "--check-md5", mode)
    if ok:
        result.assert_ok()
        assert (tmp_path / "plain.bin").read_bytes() == b"no digest here"
    else:
        result.assert_exit(1)
        assert not (tmp_path / "plain.bin").exists()


def test_failed_download_does_not_replace_existing_file(
    tmp_path, run_azxfer, container_url, container_client
):
    _corrupt(container_client, "bad.bin", b"changed bytes", b"original bytes")
    (tmp_path / "bad.bin").write_bytes(b"precious")
    run_azxfer("copy", container_url("bad.bin"), tmp_path).assert_exit(1)
    assert (tmp_path / "bad.bin").read_bytes() == b"precious"


def test_multi_block_blob_download_verifies(tmp_path, run_azxfer, container_url, container_client):
    data = data_for("mb", 3 * 1024 * 1024 + 17)
    blob = container_client.get_blob_client("mb.bin")
    step = 1024 * 1024
    ids = []
    for n, off in enumerate(range(0, len(data), step)):
        ids.append(BlobBlock(f"{n:08d}"))
        blob.stage_block(ids[-1].id, data[off : off + step])
    blob.commit_block_list(ids)  # Put Block List: the service stores no whole-blob MD5
    container_client.get_blob_client("mb.bin").set_http_headers(
        ContentSettings(content_md5=bytearray(md5(data)))
    )
    run_azxfer("copy", container_url("mb.bin"), tmp_path, "--block-size-mb", "1").assert_ok()
    assert (tmp_path / "mb.bin").read_bytes() == data


# --------------------------------------------------------------------------- name translation


def test_blob_and_directory_with_same_name_conflict(
    tmp_path, run_azxfer, container_url, container_client
):
    seed_blobs(container_client, {"a": b"file a", "a/b": b"file a/b"})
    result = run_azxfer(
        "copy", container_url(), tmp_path, "-r", "--as-subdir=false", "--output-type", "json"
    )
    result.assert_ok()
    assert tree_contents(tmp_path) == {"a": b"file a", "a (1)/b": b"file a/b"}
    notices = result.events_of("notice")
    assert any("a/b" in n.get("message", "") for n in notices), result.describe()
    assert result.finished()["files_completed"] == 2


def _put_raw(azurite, container: str, name: str, data: bytes) -> None:
    """Create a blob whose name has dot segments (the SDK's HTTP stack would normalise them)."""
    sas = generate_container_sas(
        azurite.account,
        container,
        account_key=azurite.key,
        permission=ContainerSasPermissions(read=True, write=True, create=True),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    endpoint = urlsplit(azurite.blob_endpoint)
    conn = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=10)
    try:
        conn.request(
            "PUT",
            f"{endpoint.path}/{container}/{name}?{sas}",
            body=data,
            headers={"x-ms-blob-type": "BlockBlob", "x-ms-version": "2021-08-06"},
        )
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 201, resp.status
    finally:
        conn.close()


def test_dot_segments_are_translated_and_reported(
    tmp_path, azurite, container, run_azxfer, container_url, container_client
):
    _put_raw(azurite, container, "d/../e.txt", b"dotdot")
    _put_raw(azurite, container, "f/./g.txt", b"dot")
    seed_blobs(container_client, {"plain.txt": b"plain"})
    assert {b.name for b in container_client.list_blobs()} == {
        "d/../e.txt",
        "f/./g.txt",
        "plain.txt",
    }
    out = tmp_path / "out"
    out.mkdir()
    result = run_azxfer(
        "copy", container_url(), out, "-r", "--as-subdir=false", "--output-type", "json"
    )
    result.assert_ok()
    assert tree_contents(out) == {
        "d/%2E%2E/e.txt": b"dotdot",
        "f/%2E/g.txt": b"dot",
        "plain.txt": b"plain",
    }
    assert not (tmp_path / "e.txt").exists()
    messages = " ".join(n.get("message", "") for n in result.events_of("notice"))
    assert "d/../e.txt" in messages and "f/./g.txt" in messages, result.describe()


# --------------------------------------------------------------------------- times


def test_preserve_last_modified_time(tmp_path, run_azxfer, container_url, container_client):
    seed_blobs(container_client, {"t.txt": b"time"})
    lm = container_client.get_blob_client("t.txt").get_blob_properties().last_modified
    # make "now" distinguishable from the blob's last-modified time
    time.sleep(max(0.0, lm.timestamp() + 1.5 - time.time()))
    run_azxfer(
        "copy", container_url("t.txt"), tmp_path, "--preserve-last-modified-time"
    ).assert_ok()
    assert abs(os.stat(tmp_path / "t.txt").st_mtime - lm.timestamp()) < 0.5


# --------------------------------------------------------------------------- changed source


@pytest.mark.parametrize("size", [5, 300 * 1024], ids=["read-whole", "streamed"])
def test_a_blob_rewritten_after_listing_is_refused_when_read_whole(
    size, azurite, container, container_client, container_url
):
    """A blob read in one piece is asked for without a range or If-Match; the answer's ETag
    must still match the listing's, or the read fails as a condition would have."""
    import asyncio

    from azxfer.credentials import Credential
    from azxfer.endpoints.factory import JobConnections, endpoint_for
    from azxfer.errors import IntegrityError
    from azxfer.locations import parse_location
    from azxfer.plan.filters import EntryFilter, FilterSpec

    container_client.upload_blob("f.bin", b"a" * size)
    credential = Credential("shared_key", azurite.account, key=azurite.key)

    async def main() -> tuple[bytes, bytes | None]:
        connections = JobConnections(4, tls=False)
        try:
            blob = endpoint_for(parse_location(container_url()), credential, connections, "j1234")
            [entry] = [e async for e in blob.list_entries("", True, EntryFilter(FilterSpec()))]
            pieces: list[bytes] = []

            async def consume(position: int, piece: bytes) -> None:
                pieces.append(piece)

            async def read() -> None:
                if size > 1024:
                    await reader.read_to(0, size, consume)
                else:
                    pieces.append(await reader.read(0, size))

            reader = await blob.open_reader(entry)
            await read()
            unchanged = b"".join(pieces)
            container_client.upload_blob("f.bin", b"b" * size, overwrite=True)
            try:
                await read()
            except IntegrityError as exc:
                return unchanged, str(exc).encode()
            return unchanged, None
        finally:
            await connections.close()

    unchanged, refused = asyncio.run(main())
    assert unchanged == b"a" * size
    assert refused == b"blob 'f.bin' changed during the transfer"


def test_a_blob_ending_in_slash_with_data_is_saved_escaped_and_markers_become_folders(
    tmp_path, run_azxfer, container_url, container_client
):
    seed_blobs(container_client, {"d/": b"data in a slash name", "d/f.txt": b"f", "e/": b""})
    container_client.upload_blob("m/", b"", metadata={"hdi_isfolder": "true"})
    out = tmp_path / "out"
    result = run_azxfer(
        "copy", container_url(), out, "-r", "--as-subdir=false", "--output-type", "json"
    )
    result.assert_ok()
    assert tree_contents(out) == {"d%2F": b"data in a slash name", "d/f.txt": b"f"}
    # The zero-byte 'e/' and the marker 'm/' are folders, not files: empty ones arrive empty.
    assert os.listdir(out / "e") == [] and os.listdir(out / "m") == []
    finished = result.finished()
    assert (finished["files_total"], finished["files_completed"]) == (2, 2), result.describe()
    assert finished["folders_completed"] == 2, result.describe()
    messages = [n.get("message", "") for n in result.events_of("notice")]
    assert any("'d/' saved as 'd%2F'" in m for m in messages), result.describe()
