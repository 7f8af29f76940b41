"""Jobs behind an HTTP proxy: HTTP_PROXY / HTTPS_PROXY / NO_PROXY, through the real CLI.

tests/httpproxy.py stands in for the corporate proxy (squid and the like): Azurite and the web
file server are reached by addresses and names only the proxy knows, so a request that went
around the proxy fails instead of passing unnoticed. The https (CONNECT) side is tested against
a TLS server in tests/unit/test_http_pool.py; Azurite here speaks plain http, so its requests go
to the proxy as absolute-form requests, as HTTP_PROXY asks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import data_for
from httpproxy import HttpProxy
from webfiles import serve_files

from azxfer.early import start_listings

# TEST-NET-1 (RFC 5737): an address that is not this machine's, yet path-style as the emulator's
# URLs are; only the proxy knows it means Azurite.
NAME = "192.0.2.10"
PASSWORD = "pr0xy-s3cret"


@pytest.fixture
def proxy(azurite):
    with HttpProxy({NAME: azurite.blob_port}, f"builder:{PASSWORD}") as running:
        yield running


def _proxied_url(azurite, container: str, path: str = "") -> str:
    base = f"http://{NAME}:{azurite.blob_port}/{azurite.account}/{container}"
    return f"{base}/{path}" if path else base


def _env(proxy: HttpProxy, credentials: str = f"builder:{PASSWORD}") -> dict[str, str | None]:
    return {"HTTP_PROXY": f"http://{credentials}@127.0.0.1:{proxy.port}", "http_proxy": None}


def _single_line_error(result) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_upload_and_download_go_through_the_proxy_and_its_password_is_never_shown(
    azurite, proxy, container, container_client, make_tree, run_azxfer, tmp_path
):
    files = {"a.bin": 1000, "sub/b.bin": 300_000, "sub/deeper/c.txt": 10}
    src = make_tree(tmp_path / "src", files)
    url = _proxied_url(azurite, container)
    up = run_azxfer("copy", src, url, "-r", "--as-subdir=false", env=_env(proxy))
    up.assert_ok()
    assert sorted(b.name for b in container_client.list_blobs()) == sorted(files)
    down_dir = tmp_path / "down"
    down_dir.mkdir()
    down = run_azxfer("copy", url, down_dir, "-r", "--as-subdir=false", env=_env(proxy))
    down.assert_ok()
    for name, size in files.items():
        assert (down_dir / name).read_bytes() == data_for(name, size)
    methods = proxy.methods()
    assert methods.count("PUT") >= len(files) and methods.count("GET") >= len(files)
    assert all(seen.target.startswith(f"http://{NAME}:") for seen in proxy.seen)
    journals = Path(f"{tmp_path.parent}/{tmp_path.name}-jobs")
    for text in (up.stdout, up.stderr, down.stdout, down.stderr):
        assert PASSWORD not in text
    for journal in journals.rglob("*"):
        if journal.is_file():
            assert PASSWORD.encode() not in journal.read_bytes()


def test_the_sdk_path_goes_through_the_proxy_too(
    azurite, proxy, container, container_client, make_tree, run_azxfer, tmp_path
):
    # Append blobs are written by the storage SDK (aiohttp), not by azxfer's own pool.
    src = make_tree(tmp_path / "src", {"log.txt": 5000})
    url = _proxied_url(azurite, container)
    run_azxfer("copy", src / "log.txt", url, "--blob-type", "append", env=_env(proxy)).assert_ok()
    assert container_client.download_blob("log.txt").readall() == data_for("log.txt", 5000)
    assert any("comp=appendblock" in seen.target for seen in proxy.seen)


def test_a_web_source_goes_through_the_proxy(tmp_path, run_azxfer):
    root = tmp_path / "www"
    root.mkdir()
    (root / "page.bin").write_bytes(b"from behind the proxy" * 500)
    with serve_files(root) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with HttpProxy({"files-behind-proxy": port}) as proxy:
            out = tmp_path / "out"
            out.mkdir()
            result = run_azxfer(
                "copy", f"http://files-behind-proxy:{port}/files/page.bin", out,
                "--from-to", "WebLocal", env={"HTTP_PROXY": proxy.url},
            )  # fmt: skip
            result.assert_ok()
    assert (out / "page.bin").read_bytes() == b"from behind the proxy" * 500
    assert {seen.method for seen in proxy.seen} >= {"HEAD", "GET"}


def test_a_proxy_that_wants_other_credentials_is_a_clear_error(
    azurite, proxy, container, make_tree, run_azxfer, tmp_path
):
    src = make_tree(tmp_path / "src", {"a.bin": 10})
    url = _proxied_url(azurite, container)
    result = run_azxfer("copy", src, url, "-r", env=_env(proxy, "builder:wrong-pass"))
    line = _single_line_error(result)
    assert f"the proxy at 127.0.0.1:{proxy.port} refused to connect to {NAME}:" in line
    assert ": 407; give its user and password in the proxy URL" in line
    assert "wrong-pass" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("socks5://127.0.0.1:1080", "only http:// proxies are supported, not socks5://"),
        ("http://user:hunter2@127.0.0.1:nope", "not a proxy URL: http://127.0.0.1:nope"),
    ],
)
def test_an_unusable_proxy_variable_is_a_usage_error(
    value, says, container_url, make_tree, run_azxfer, tmp_path
):
    src = make_tree(tmp_path / "src", {"a.bin": 10})
    result = run_azxfer("copy", src, container_url(), "-r", env={"HTTP_PROXY": value})
    assert result.returncode == 2
    assert says in _single_line_error(result)
    assert "hunter2" not in result.stderr


def test_loopback_and_no_proxy_are_reached_directly(
    azurite, container_url, container_client, make_tree, run_azxfer, tmp_path
):
    dead_proxy = "http://127.0.0.1:9"  # nothing listens: any request sent there would fail
    src = make_tree(tmp_path / "src", {"a.bin": 10})
    env = {"HTTP_PROXY": dead_proxy, "NO_PROXY": "example.invalid"}
    run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false", env=env).assert_ok()
    assert [b.name for b in container_client.list_blobs()] == ["a.bin"]


def test_no_listing_starts_early_for_a_location_behind_a_proxy(azurite) -> None:
    url = f"http://{NAME}:{azurite.blob_port}/{azurite.account}/early"
    key = {"AZXFER_SOURCE_KEY": azurite.key}
    proxied = start_listings("copy", url, "out", True, {}, {**key, "HTTP_PROXY": "http://p:1"})
    assert proxied._listings == []
    direct = start_listings("copy", url, "out", True, {}, key)
    assert len(direct._listings) == 1  # its thread cannot connect, silently (a daemon)
