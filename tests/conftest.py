"""Shared test harness: an in-memory Azurite per xdist worker and a runner for the real CLI.

Fixtures
--------
azurite         session-scoped; one emulator per worker, on free loopback ports.
blob_service    a sync BlobServiceClient for the main emulator account.
container       a fresh container per test (deleted afterwards); yields its name.
container_url   callable: container_url(path="") -> "http://127.0.0.1:P/devstoreaccount1/<c>[/path]".
run_azxfer      callable: run_azxfer(*args, env=None, input=None, timeout=300) -> CliResult.
make_tree       callable: make_tree(root, {"rel/path": b"bytes" | size}) -> root.
file_standin    a fresh, empty File REST stand-in (tests/file_standin) for one test.
entra_ca        session-scoped trustme CA shared by entra_azurite and entra_standin.
entra_azurite   session-scoped Azurite over https with `--oauth basic`, its certificate from
                entra_ca (tokens only; `.blob_endpoint` is https).
entra_standin   a started Entra ID stand-in (tests/entra_standin) for one test, its https
                certificate from entra_ca; SSL_CERT_FILE and REQUESTS_CA_BUNDLE point at the CA
                for the test, so in-process credentials and SDK clients trust both servers
                (pass `entra_standin.tls_env()` to subprocesses).
fake_az         a signed-out fake `az` first on PATH for one test (`fake_az.login(upn)`).
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sdk_clients
from entra_standin import EntraStandIn, FakeAz
from file_standin import FileStandIn
from helpers import CliResult
from helpers import make_tree as _make_tree
from seed import fresh_share, temporary_container

REPO_ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = REPO_ROOT / "node_modules" / ".bin" / "azurite"

WELL_KNOWN_ACCOUNT = "devstoreaccount1"
WELL_KNOWN_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
ACCT2_NAME = "acct2"
ACCT2_KEY = base64.b64encode(b"azxfer-tests-second-account-key-0123456789abcdef").decode()

STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Azurite:
    host: str
    blob_port: int
    queue_port: int
    table_port: int
    account: str
    key: str
    acct2: str
    acct2_key: str
    pid: int
    scheme: str = "http"

    @property
    def blob_endpoint(self) -> str:
        return f"{self.scheme}://{self.host}:{self.blob_port}/{self.account}"

    @property
    def acct2_endpoint(self) -> str:
        return f"{self.scheme}://{self.host}:{self.blob_port}/{self.acct2}"

    @property
    def table_endpoint(self) -> str:
        return f"{self.scheme}://{self.host}:{self.table_port}/{self.account}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol={self.scheme};AccountName={self.account};"
            f"AccountKey={self.key};BlobEndpoint={self.blob_endpoint};"
        )

    @property
    def acct2_connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol={self.scheme};AccountName={self.acct2};"
            f"AccountKey={self.acct2_key};BlobEndpoint={self.acct2_endpoint};"
        )


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@contextlib.contextmanager
def start_azurite(workdir: Path, *extra: str, scheme: str = "http") -> Iterator[Azurite]:
    """An in-memory Azurite on free loopback ports, with `extra` arguments; stopped after."""
    if not AZURITE_BIN.exists():
        pytest.fail(
            f"Azurite not found at {AZURITE_BIN}: run `bash scripts/test` "
            "(it installs node_modules) before running the integration tests",
            pytrace=False,
        )
    blob_port, queue_port, table_port = _free_ports(3)
    env = dict(os.environ)
    env["AZURITE_ACCOUNTS"] = f"{WELL_KNOWN_ACCOUNT}:{WELL_KNOWN_KEY};{ACCT2_NAME}:{ACCT2_KEY}"
    log = open(workdir / "azurite.out", "wb")  # noqa: SIM115 - closed in teardown
    cmd = [
        str(AZURITE_BIN),
        "--silent",
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",  # else shutdown waits on a telemetry flush
        "--blobHost", "127.0.0.1", "--blobPort", str(blob_port),
        "--queueHost", "127.0.0.1", "--queuePort", str(queue_port),
        "--tableHost", "127.0.0.1", "--tablePort", str(table_port),
        *extra,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not (_port_open(blob_port) and _port_open(table_port)):
            if proc.poll() is not None:
                log.flush()
                out = (workdir / "azurite.out").read_text(errors="replace")[-2000:]
                pytest.fail(f"Azurite exited early ({proc.returncode}): {out}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"Azurite did not listen on {blob_port} within 30 s", pytrace=False)
            time.sleep(0.1)
        yield Azurite(
            host="127.0.0.1",
            blob_port=blob_port,
            queue_port=queue_port,
            table_port=table_port,
            account=WELL_KNOWN_ACCOUNT,
            key=WELL_KNOWN_KEY,
            acct2=ACCT2_NAME,
            acct2_key=ACCT2_KEY,
            pid=proc.pid,
            scheme=scheme,
        )
    finally:
        _stop(proc)
        log.close()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    with start_azurite(tmp_path_factory.mktemp("azurite")) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def blob_service(azurite: Azurite):
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(azurite.connection_string)
    yield client
    client.close()


@pytest.fixture
def container(blob_service) -> Iterator[str]:
    with temporary_container(blob_service) as client:
        yield client.container_name


@pytest.fixture
def container_client(blob_service, container):
    return blob_service.get_container_client(container)


@pytest.fixture
def container_url(azurite: Azurite, container: str) -> Callable[..., str]:
    def url(path: str = "") -> str:
        base = f"{azurite.blob_endpoint}/{container}"
        return f"{base}/{path}" if path else base

    return url


@pytest.fixture
def run_azxfer(azurite: Azurite, tmp_path: Path) -> Callable[..., CliResult]:
    """Run the real CLI as `python -m azxfer ARGS...` (never through a shell)."""

    def run(
        *args: str | os.PathLike,
        env: dict[str, str | None] | None = None,
        input: str | bytes | None = None,
        timeout: float = 300,
        cwd: str | os.PathLike | None = None,
    ) -> CliResult:
        full_env = dict(os.environ)
        full_env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
        full_env["AZXFER_SOURCE_KEY"] = azurite.key
        full_env["AZXFER_DEST_KEY"] = azurite.key
        # Journals go to this test's folder, never to the user's state directory.
        full_env["AZXFER_JOB_DIR"] = str(tmp_path.parent / f"{tmp_path.name}-jobs")
        full_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
        )
        for k, v in (env or {}).items():
            if v is None:
                full_env.pop(k, None)
            else:
                full_env[k] = v
        argv = [sys.executable, "-m", "azxfer", *(str(a) for a in args)]
        text_input = input.decode() if isinstance(input, bytes) else input
        proc = subprocess.run(
            argv,
            input=text_input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            text=True,
            env=full_env,
            cwd=str(cwd) if cwd is not None else str(tmp_path),
            timeout=timeout,
        )
        return CliResult(argv, proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def make_tree() -> Callable[..., Path]:
    return _make_tree


@pytest.fixture
def file_standin() -> Iterator[FileStandIn]:
    """A started, empty File stand-in (the well-known account), stopped after the test.

    The test fails if a handler raised an unexpected exception (`standin.errors`).
    """
    with FileStandIn() as standin:
        yield standin
        assert not standin.errors, standin.errors


@pytest.fixture(scope="session")
def entra_ca():
    import trustme

    return trustme.CA()


@pytest.fixture(scope="session")
def entra_azurite(tmp_path_factory: pytest.TempPathFactory, entra_ca) -> Iterator[Azurite]:
    """Azurite over https accepting Entra ID tokens (it checks aud, iss and times)."""
    workdir = tmp_path_factory.mktemp("azurite-entra")
    cert = entra_ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(workdir / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(workdir / "cert.pem"))
    args = ("--oauth", "basic", "--cert", "cert.pem", "--key", "key.pem")
    with start_azurite(workdir, *args, scheme="https") as emulator:
        yield emulator


@pytest.fixture
def entra_standin(entra_ca, monkeypatch: pytest.MonkeyPatch) -> Iterator[EntraStandIn]:
    """A started Entra ID stand-in trusted by this test's process; it fails the test if a
    handler raised an unexpected exception (`standin.errors`)."""
    with EntraStandIn(ca=entra_ca) as standin:
        for name, value in standin.tls_env().items():
            monkeypatch.setenv(name, value)
        yield standin
        assert not standin.errors, standin.errors


@pytest.fixture
def fake_az(entra_standin: EntraStandIn, tmp_path: Path, monkeypatch) -> FakeAz:
    az = FakeAz(tmp_path / "fake-az-bin", entra_standin)
    monkeypatch.setenv("PATH", az.path_env()["PATH"])
    return az


# -- a fresh share on the File stand-in (the Files tests' common fixtures; a test module may
# define its own variant of any of them, e.g. with a quota) ------------------------------------


@pytest.fixture
def share_service(file_standin, azurite):
    return sdk_clients.share_service(file_standin, azurite)


@pytest.fixture
def share(share_service) -> Iterator[str]:
    """A fresh share's name."""
    yield fresh_share(share_service).share_name


@pytest.fixture
def share_url(file_standin, azurite, share) -> Callable[..., str]:
    """The share's URL, or a path's in it (no credential: tests give the key)."""

    def url(path: str = "") -> str:
        base = f"{file_standin.account_url(azurite.account)}/{share}"
        return f"{base}/{path}" if path else base

    return url


@pytest.fixture
def share_client(share_service, share):
    return share_service.get_share_client(share)
