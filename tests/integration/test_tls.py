"""https: azxfer verifies servers against the CA store the user's environment names.

A loopback https file server (tests/webfiles.py) with a certificate from a throwaway CA made by
trustme stands in for any https endpoint: the web-source driver and the Blob drivers share one
connection pool, whose TLS context comes from `azxfer.transport.http`. aiohttp is imported with
its own default contexts emptied (see that module), so these tests show that the contexts
azxfer really uses still verify, with SSL_CERT_FILE honoured.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from webfiles import WebServer, serve_files

JSON = ("--output-type", "json")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(tmp_path: Path, ca: trustme.CA) -> Iterator[WebServer]:
    import ssl

    root = tmp_path / "www"
    root.mkdir()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with serve_files(root, context) as server:
        yield server


def test_https_source_trusted_through_ssl_cert_file(tls_server, ca, run_azxfer, tmp_path):
    (tls_server.root / "f.bin").write_bytes(b"over tls" * 1000)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    out = tmp_path / "out"
    out.mkdir()
    result = run_azxfer(
        "copy", f"{tls_server.url}/files/f.bin", out, "--from-to", "WebLocal", *JSON,
        env={"SSL_CERT_FILE": str(bundle)},
    )  # fmt: skip
    result.assert_ok()
    assert (out / "f.bin").read_bytes() == b"over tls" * 1000


def test_untrusted_certificate_is_a_clear_error(tls_server, run_azxfer, tmp_path):
    (tls_server.root / "f.bin").write_bytes(b"x")
    out = tmp_path / "out"
    out.mkdir()
    # The system's CA store does not know the throwaway CA.
    result = run_azxfer(
        "copy", f"{tls_server.url}/files/f.bin", out, "--from-to", "WebLocal",
        env={"SSL_CERT_FILE": None, "SSL_CERT_DIR": None},
    )  # fmt: skip
    assert result.returncode == 1
    assert "certificate" in result.stderr.lower() or "certificate" in result.stdout.lower()
    assert "Traceback" not in result.stderr
    assert not (out / "f.bin").exists()
    assert not [r for r in tls_server.requests if r[0] == "GET"], "no request got through"


@pytest.fixture
def plain_server(tmp_path: Path) -> Iterator[WebServer]:
    root = tmp_path / "www"
    root.mkdir()
    with serve_files(root) as server:
        yield server


def test_https_url_to_a_plain_http_port_says_the_server_did_not_speak_tls(
    plain_server, run_azxfer, tmp_path
):
    (plain_server.root / "f.bin").write_bytes(b"x")
    port = plain_server.url.rsplit(":", 1)[1]
    out = tmp_path / "out"
    out.mkdir()
    web = run_azxfer(
        "copy", f"https://127.0.0.1:{port}/files/f.bin", out, "--from-to", "WebLocal"
    ).assert_usage_error(1)
    blob = run_azxfer(
        "copy", f"https://127.0.0.1:{port}/devstoreaccount1/box/f.bin", out
    ).assert_usage_error(1)
    for result in (web, blob):
        assert "did not speak TLS (is it an http:// endpoint?)" in result.stderr
        assert "certificate" not in result.stderr
    assert not (out / "f.bin").exists()


def test_unreachable_plain_http_web_url_says_it_cannot_connect(run_azxfer, tmp_path):
    import socket

    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "out"
    out.mkdir()
    result = run_azxfer(
        "copy", f"http://127.0.0.1:{port}/f.bin", out, "--from-to", "WebLocal"
    ).assert_usage_error(1)
    assert f"cannot connect to 127.0.0.1:{port}" in result.stderr
    assert "ssl" not in result.stderr.lower()
