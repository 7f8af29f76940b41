"""A plain web object (any http(s) URL that is not a storage account) as a copy source.

A loopback aiohttp file server (tests/webfiles.py) stands in for the web. Web servers on IP
addresses look like emulators, so these tests name the service with --from-to
WebBlob/WebLocal.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from blob_standin import BlobStandIn, blob_standin_fixture  # noqa: F401  (the fixture)
from helpers import data_for
from seed import temporary_container
from webfiles import SIGNATURE, WebServer, serve_files

MiB = 1024 * 1024
JSON = ("--output-type", "json")


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[WebServer]:
    root = tmp_path / "www"
    root.mkdir()
    with serve_files(root) as server:
        yield server


@pytest.fixture
def dest(blob_service) -> Iterator:
    with temporary_container(blob_service, "w") as client:
        yield client


def test_web_file_downloads_in_ranged_chunks(web_server, run_azxfer, tmp_path):
    data = data_for("web", 3 * MiB + 5)
    (web_server.root / "big.bin").write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    result = run_azxfer(
        "copy", f"{web_server.url}/files/big.bin", out, "--from-to", "WebLocal",
        "--block-size-mb", "1", *JSON,
    )  # fmt: skip
    result.assert_ok()
    assert (out / "big.bin").read_bytes() == data
    ranges = [r for m, _p, r in web_server.requests if m == "GET"]
    assert len(ranges) == 4 and all(r.startswith("bytes=") for r in ranges), ranges


def test_presigned_query_is_never_shown_or_journaled(web_server, run_azxfer, tmp_path):
    (web_server.root / "f.txt").write_bytes(b"presigned")
    out = tmp_path / "out"
    out.mkdir()
    url = f"{web_server.url}/private/f.txt?X-Amz-Expires=60&X-Amz-Signature={SIGNATURE}"
    result = run_azxfer(
        "copy", url, out, "--from-to", "WebLocal", "--log-file", tmp_path / "log.txt",
        "--log-level", "DEBUG", *JSON,
    )  # fmt: skip
    result.assert_ok()
    assert (out / "f.txt").read_bytes() == b"presigned"
    assert SIGNATURE not in result.stdout + result.stderr
    assert SIGNATURE not in (tmp_path / "log.txt").read_text()
    jobs = tmp_path.parent / f"{tmp_path.name}-jobs"
    for path in jobs.rglob("*"):
        if path.is_file():
            assert SIGNATURE.encode() not in path.read_bytes(), path


def test_web_to_blob_on_azurite_streams_when_the_service_cannot_reach_it(
    web_server, azurite, dest, run_azxfer
):
    data = data_for("w2b", 2 * MiB + 1)
    (web_server.root / "w.bin").write_bytes(data)
    target = f"{azurite.blob_endpoint}/{dest.container_name}"
    result = run_azxfer(
        "copy", f"{web_server.url}/files/w.bin", target, "--from-to", "WebBlob",
        "--block-size-mb", "1", *JSON,
    )  # fmt: skip
    result.assert_ok()
    assert dest.download_blob("w.bin").readall() == data
    messages = [e["message"] for e in result.events_of("notice")]
    assert any("through this machine" in m for m in messages), messages


def test_web_to_blob_is_server_side_where_the_service_supports_it(
    web_server, azurite, blob_standin, dest, run_azxfer
):
    data = data_for("ss", 300_000)
    (web_server.root / "s.bin").write_bytes(data)
    source = f"{web_server.url}/private/s.bin?X-Amz-Signature={SIGNATURE}"
    target = f"{blob_standin.account_url(azurite.account)}/{dest.container_name}"
    result = run_azxfer("copy", source, target, "--from-to", "WebBlob", *JSON)
    result.assert_ok()
    assert dest.download_blob("s.bin").readall() == data
    (put,) = blob_standin.requests_of("PutBlobFromURL")
    assert put.headers["x-ms-copy-source"] == source
    # azxfer itself only looked the object up; the service read the data.
    gets = [r for r in web_server.requests if r[0] == "GET"]
    assert len(gets) == 1, web_server.requests


def test_missing_web_file_is_a_clear_error(web_server, run_azxfer, tmp_path):
    result = run_azxfer(
        "copy", f"{web_server.url}/files/nope.bin", tmp_path, "--from-to", "WebLocal"
    )
    assert result.returncode == 1
    assert "not found" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "extra",
    [("--dest-type", "Web"), ("--move", "--source-type", "Web")],
    ids=["web-destination", "move-from-web"],
)
def test_web_urls_are_sources_only(extra, web_server, run_azxfer, tmp_path):
    (web_server.root / "f.txt").write_bytes(b"x")
    if extra[0] == "--dest-type":
        args = (tmp_path, f"{web_server.url}/files/g.txt", *extra)
    else:
        args = (f"{web_server.url}/files/f.txt", tmp_path, *extra)
    result = run_azxfer("copy", *args)
    result.assert_usage_error(2)
