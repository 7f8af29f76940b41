"""`azxfer.transport.http`: aiohttp's default SSL contexts are emptied, ours verifies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from azxfer.locations import parse_location
from azxfer.transport.http import needs_tls

REPO = Path(__file__).resolve().parents[2]
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
EMULATOR = "http://127.0.0.1:10000/devstoreaccount1"


def run_python(code: str, **env: str | None) -> str:
    full = {k: v for k, v in os.environ.items() if k not in env}
    full.update({k: v for k, v in env.items() if v is not None})
    full["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_aiohttp_defaults_trust_nothing_and_the_environment_is_restored() -> None:
    code = (
        "import os; from azxfer.transport.http import import_aiohttp; import_aiohttp();"
        "import aiohttp.connector as c;"
        "print(c._SSL_CONTEXT_VERIFIED.cert_store_stats()['x509_ca'],"
        " os.environ.get('SSL_CERT_FILE'), os.environ.get('SSL_CERT_DIR'))"
    )
    out = run_python(code, SSL_CERT_FILE="/some/bundle.pem", SSL_CERT_DIR=None)
    assert out == "0 /some/bundle.pem None"


@pytest.mark.skipif(not os.path.exists(BUNDLE), reason="no system CA bundle here")
def test_tls_context_loads_the_bundle_ssl_cert_file_names() -> None:
    code = (
        "from azxfer.transport.http import tls_context;"
        "print(tls_context().cert_store_stats()['x509_ca'])"
    )
    assert int(run_python(code, SSL_CERT_FILE=BUNDLE, SSL_CERT_DIR="/nonexistent")) > 10
    assert run_python(code, SSL_CERT_FILE=os.devnull, SSL_CERT_DIR="/nonexistent") == "0"


@pytest.mark.parametrize(
    ("locations", "expected"),
    [
        (["/tmp/x", "https://acct.blob.core.windows.net/cont"], True),
        (["http://127.0.0.1:10000/devstoreaccount1/cont", "/tmp/x"], False),
        (
            [
                f"{EMULATOR}/aaa",
                f"{EMULATOR}/bbb",
            ],
            False,
        ),
        (["HTTPS://acct.blob.core.windows.net/cont", "/tmp/x"], True),
    ],
)
def test_needs_tls(locations: list[str], expected: bool) -> None:
    assert needs_tls(*(parse_location(text) for text in locations)) is expected


def test_a_web_source_needs_tls_even_over_http() -> None:
    web = parse_location("http://example.com/file.bin", allow_web=True)
    assert needs_tls(web, parse_location("/tmp/x"))


def test_blob_jobs_do_not_import_aiohttp_or_the_sdk() -> None:
    """The REST fast path carries blob jobs on azxfer's own pool: aiohttp (0.15 s) and the
    storage SDK are imported only by the operations that need them."""
    code = (
        "import sys, azxfer.cli.main, azxfer.endpoints.factory, azxfer.endpoints.blob.endpoint,"
        " azxfer.endpoints.blob.connections, azxfer.endpoints.blob.rest,"
        " azxfer.endpoints.blob.copy_rest, azxfer.endpoints.blob.copy, azxfer.syncjob,"
        " azxfer.client;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'azure')))"
    )
    assert run_python(code) == "[]"


def test_an_upload_job_does_not_import_the_web_driver_or_aiohttp(tmp_path: Path) -> None:
    """Choosing the mover of a local → blob job needs neither the web driver nor aiohttp."""
    code = (
        "import sys;"
        "from azxfer.endpoints.factory import JobConnections, endpoint_for;"
        "from azxfer.engine.movers import mover_for;"
        "from azxfer.locations import parse_location;"
        "from azxfer.options import ServerCopySettings;"
        f"c = JobConnections(4, tls=False);"
        f"src = endpoint_for(parse_location({str(tmp_path)!r}), None, c, 'job-1234');"
        f"dst = endpoint_for(parse_location('{EMULATOR}/cont'), None, c, 'job-1234');"
        "mover_for(src, dst, ServerCopySettings());"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiohttp'"
        " or m.startswith('azxfer.endpoints.web')))"
    )
    assert run_python(code) == "[]"
