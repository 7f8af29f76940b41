"""Jobs survive crashes: `azxfer resume` continues uploads and downloads chunk-exactly.

Crashes are made reproducible with the `AZXFER_TEST_CRASH=KIND:N` hook (the process SIGKILLs
itself). What was really sent is counted by a small HTTP proxy between azxfer and Azurite:
it counts the Put Block / Put Blob / ranged Get Blob requests that succeeded, per blob, so
"already-staged blocks are not sent again" is checked against the wire, not only against
azxfer's own events (a SIGKILLed process's last events may never reach stdout).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import math
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas
from helpers import CliResult, blob_contents, data_for, md5, tree_contents
from seed import seed_blobs

MiB = 1024 * 1024
REPO_ROOT = Path(__file__).resolve().parents[2]
KILLED = -signal.SIGKILL  # subprocess's return code for a process killed by SIGKILL
# 1 MiB blocks and few requests in flight: several chunks per file, reproducible crash points.
FAST = ("--output-type", "json", "--block-size-mb", "1", "--concurrency", "2")

UPLOAD_FILES = {
    "big/a.bin": 3 * MiB + 123,
    "big/b.bin": 4 * MiB + MiB // 2,
    "big/c.bin": 5 * MiB,
    "big/d.bin": 6 * MiB - 7,
    "small/x.txt": 10,
    "small/y.txt": 1000,
    "small/z.bin": 64 * 1024,
}


# --------------------------------------------------------------------------- helpers


class CountingProxy:
    """An HTTP forwarder to Azurite that counts successful data requests per blob name.

    `puts[name]`: Put Block and Put Blob answered 2xx; `gets[name]`: Get Blob answered 2xx.
    A request whose body did not fully arrive (the client was killed) is not forwarded.
    `delay` seconds are spent before forwarding each Put Block / Get Blob (to slow a job).
    """

    def __init__(self, upstream_port: int, delay: float = 0.0) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.puts: Counter[str] = Counter()
        self.gets: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.in_flight = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> bytes | None:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    parts = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(parts)
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                return body if len(body) == length else None

            def _forward(self) -> None:
                with proxy.lock:
                    proxy.in_flight += 1
                try:
                    self._relay()
                except OSError:  # the client went away (it was killed): drop the connection
                    self.close_connection = True
                finally:
                    with proxy.lock:
                        proxy.in_flight -= 1

            def _relay(self) -> None:
                body = self._body()
                if body is None:  # the client died mid-request: nothing reaches the service
                    self.close_connection = True
                    return
                url = urlsplit(self.path)
                parts = url.path.split("/", 3)
                blob = unquote(parts[3]) if len(parts) > 3 and parts[3] else None
                comp = parse_qs(url.query).get("comp", [None])[0]
                is_put = self.command == "PUT" and blob and comp in (None, "block")
                is_put = is_put and (comp == "block" or "x-ms-blob-type" in self.headers)
                is_get = self.command == "GET" and blob and comp is None
                if (is_put or is_get) and proxy.delay:
                    time.sleep(proxy.delay)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "connection", "transfer-encoding", "keep-alive")
                }
                if self.headers.get("Transfer-Encoding"):
                    headers["Content-Length"] = str(len(body))
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                if 200 <= resp.status < 300:
                    with proxy.lock:
                        if is_put:
                            proxy.puts[blob] += 1
                        elif is_get:
                            proxy.gets[blob] += 1
                self.send_response_only(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() in ("transfer-encoding", "connection", "keep-alive"):
                        continue
                    if k.lower() == "content-length" and self.command != "HEAD":
                        continue
                    self.send_header(k, v)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD" and data:
                    self.wfile.write(data)

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _forward

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def snapshot(self, settle: bool = True) -> tuple[Counter[str], Counter[str]]:
        """The counts; with `settle`, once the requests of a client that has exited are
        through (≤ 5 s)."""
        deadline = time.monotonic() + 5
        while settle and self.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        with self.lock:
            return Counter(self.puts), Counter(self.gets)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(azurite):
    p = CountingProxy(azurite.blob_port)
    yield p
    p.close()


@pytest.fixture
def proxied_url(proxy, azurite, container):
    """Like container_url, but through the counting proxy."""

    def url(path: str = "") -> str:
        base = f"http://127.0.0.1:{proxy.port}/{azurite.account}/{container}"
        return f"{base}/{quote(path)}" if path else base

    return url


def job_dir(tmp_path: Path) -> Path:
    """The AZXFER_JOB_DIR that run_azxfer gives this test."""
    return tmp_path.parent / f"{tmp_path.name}-jobs"


def crash(spec: str | None) -> dict[str, str | None]:
    """Env for one run: the crash hook (or none), and stdout unbuffered so events survive."""
    return {"AZXFER_TEST_CRASH": spec, "PYTHONUNBUFFERED": "1"}


def job_id_of(result: CliResult) -> str:
    started = [e for e in result.events() if e.get("event") == "job_started"]
    assert started, f"no job_started event\n{result.describe()}"
    return started[0]["job_id"]


def query(tmp_path: Path, job_id: str, sql: str, args: tuple = ()) -> list[tuple]:
    path = job_dir(tmp_path) / f"{job_id}.azxfer-job"
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql, args).fetchall()


def chunk_counts(tmp_path: Path, job_id: str) -> dict[str, int]:
    """Journaled chunks per transfer, keyed by the transfer's relative path."""
    rows = query(
        tmp_path,
        job_id,
        "SELECT t.rel_path, COUNT(c.idx) FROM transfer t "
        "LEFT JOIN chunk c ON c.transfer_id = t.id GROUP BY t.id",
    )
    return dict(rows)


def transfer_names(result: CliResult, container: str) -> dict[int, str]:
    """transfer_id -> blob name (the destination's for uploads, the source's for downloads)."""
    names = {}
    marker = f"/{container}/"
    for e in result.events_of("transfer_queued"):
        source, dest = e["source"], e["destination"]
        if marker in dest:
            names[e["transfer_id"]] = unquote(dest.split(marker, 1)[1])
        else:
            names[e["transfer_id"]] = source
    return names


def chunks_sent_by_events(result: CliResult, container: str) -> dict[str, int]:
    """Per transfer of one run: progress events minus the chunks that were already present."""
    names = transfer_names(result, container)
    progress = Counter(e["transfer_id"] for e in result.events_of("progress"))
    present = {e["transfer_id"]: e["chunks_present"] for e in result.events_of("transfer_resumed")}
    return {names[t]: progress[t] - present.get(t, 0) for t in names if progress[t]}


def resume_until_done(run_azxfer, job_id: str, crashes: list[str], *extra: str) -> list[CliResult]:
    """Resume with each crash spec in turn (each must kill the run), then once to the end."""
    runs = []
    for spec in crashes:
        r = run_azxfer("resume", job_id, "--output-type", "json", *extra, env=crash(spec))
        assert r.returncode == KILLED, f"crash {spec} did not happen\n{r.describe()}"
        runs.append(r)
    final = run_azxfer("resume", job_id, "--output-type", "json", *extra, env=crash(None))
    final.assert_ok()
    assert final.finished()["status"] == "Completed", final.describe()
    runs.append(final)
    return runs


def nchunks(size: int, block: int = MiB) -> int:
    return max(1, math.ceil(size / block))


def assert_uploaded(container_client, src: Path, prefix: str = "src/") -> None:
    """Every blob equals its source byte for byte, with the whole-file Content-MD5."""
    expected = {prefix + k: v for k, v in tree_contents(src).items()}
    got = blob_contents(container_client)
    assert set(got) == set(expected)
    for name, data in expected.items():
        assert md5(got[name]) == md5(data), f"{name}: content differs"
        props = container_client.get_blob_client(name).get_blob_properties()
        assert bytes(props.content_settings.content_md5 or b"") == md5(data), name


def cli_env(azurite, tmp_path: Path, **extra: str | None) -> dict[str, str]:
    """The environment run_azxfer gives the CLI, for runs started with Popen."""
    env = dict(os.environ)
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    env["AZXFER_SOURCE_KEY"] = azurite.key
    env["AZXFER_DEST_KEY"] = azurite.key
    env["AZXFER_JOB_DIR"] = str(job_dir(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
    )
    env["PYTHONUNBUFFERED"] = "1"
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def interrupt_after_first_progress(
    argv: list[str], env: dict[str, str], cwd: Path, signals: int = 1, on_signal=None
) -> CliResult:
    """Run the CLI, send SIGINT `signals` times once the first progress event is out."""
    full = [sys.executable, "-m", "azxfer", *argv]
    proc = subprocess.Popen(
        full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd
    )
    watchdog = threading.Timer(90, proc.kill)
    watchdog.start()
    try:
        head = []
        for line in proc.stdout:
            head.append(line)
            if '"event": "progress"' in line:
                if on_signal is not None:
                    on_signal()
                for _ in range(signals):
                    proc.send_signal(signal.SIGINT)
                    time.sleep(0.05 if signals > 1 else 0)
                break
        rest, err = proc.communicate(timeout=90)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return CliResult(full, proc.returncode, "".join(head) + rest, err)


def per_run_sends(
    runs: list[CliResult], deltas: list[Counter[str]], container: str, sizes: dict[str, int]
) -> None:
    """In every run, a multi-block file sends at most the chunks not already present."""
    for r, delta in zip(runs, deltas, strict=True):
        names = transfer_names(r, container)
        present = {
            names[e["transfer_id"]]: e["chunks_present"] for e in r.events_of("transfer_resumed")
        }
        for name, size in sizes.items():
            total = nchunks(size)
            assert delta[name] <= total - present.get(name, 0), (
                f"{name}: run {r.argv[3:5]} sent {delta[name]} blocks although "
                f"{present.get(name, 0)} of {total} were already staged\n{r.describe()}"
            )


# --------------------------------------------------------------------------- uploads


UPLOAD_CRASHES = {
    "enumeration": ["enumerated:2"],
    "mid-file": ["chunks:5"],
    "between-files": ["completed:1"],
    "during-commit": ["committed:1"],
    "chained": ["enumerated:3", "chunks:6", "completed:1", "chunks:1"],
}


@pytest.mark.parametrize("crashes", UPLOAD_CRASHES.values(), ids=UPLOAD_CRASHES.keys())
def test_upload_resumes_after_sigkill_without_resending_staged_blocks(
    crashes,
    tmp_path,
    make_tree,
    run_azxfer,
    azurite,
    proxy,
    proxied_url,
    container,
    container_client,
):
    src = make_tree(tmp_path / "src", UPLOAD_FILES)
    sizes = {f"src/{k}": v for k, v in UPLOAD_FILES.items()}
    first = run_azxfer("copy", src, proxied_url(), "-r", *FAST, env=crash(crashes[0]))
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    assert_private(tmp_path, wal=True)
    assert query(tmp_path, job_id, "SELECT status FROM job") == [("Running",)]

    runs, deltas = [first], [proxy.snapshot()[0]]
    for spec in [*crashes[1:], None]:
        before = proxy.snapshot()[0]
        r = run_azxfer("resume", job_id, "--output-type", "json", env=crash(spec))
        deltas.append(proxy.snapshot()[0] - before)
        runs.append(r)
        if spec is not None and r.returncode == 0:
            break  # nothing was left to send at that crash point: the job completed
        if spec is not None:
            assert r.returncode == KILLED, f"crash {spec} did not happen\n{r.describe()}"
    final = runs[-1].assert_ok()
    assert final.finished()["status"] == "Completed", final.describe()
    assert job_id_of(final) == job_id
    assert query(tmp_path, job_id, "SELECT status FROM job") == [("Completed",)]
    killed = len(runs) - 1
    assert_private(tmp_path)
    assert_no_secrets(tmp_path, runs, [azurite.key])

    assert_uploaded(container_client, src)

    # Across all runs: every chunk once, plus at most one in-flight re-send per crash.
    puts = proxy.snapshot()[0]
    for name, size in sizes.items():
        assert puts[name] <= nchunks(size) + killed, (
            f"{name}: {puts[name]} blocks sent for {nchunks(size)} chunks, {killed} crash(es)"
        )
    per_run_sends(runs, deltas, container, sizes)

    # The final run's events tell the same story as the wire.
    by_events = chunks_sent_by_events(final, container)
    resumed = {e["transfer_id"]: e for e in final.events_of("transfer_resumed")}
    for tid, name in transfer_names(final, container).items():
        total = nchunks(sizes[name])
        if total == 1:
            continue
        assert by_events.get(name, 0) == deltas[-1][name], f"{name}: events vs wire"
        present = resumed[tid]["chunks_present"] if tid in resumed else 0
        assert present + deltas[-1][name] == total, f"{name}: present + sent != {total}"
        if tid in resumed:
            step = min(MiB, sizes[name])
            assert 0 < resumed[tid]["bytes_present"] <= present * step


@pytest.mark.parametrize("spec", ["committed:1", "completed:1"])
def test_upload_crash_after_commit_does_not_send_the_file_again(
    spec, tmp_path, make_tree, run_azxfer, proxy, proxied_url, container_client
):
    """Killed after the blob was committed but before the journal said so: the resume must
    not upload the whole file again (its blocks are at the destination, committed)."""
    size = 5 * MiB + 17
    src = make_tree(tmp_path / "src", {"one.bin": size})
    first = run_azxfer("copy", src / "one.bin", proxied_url(), *FAST, env=crash(spec))
    assert first.returncode == KILLED, first.describe()
    assert container_client.get_blob_client("one.bin").get_blob_properties().size == size
    final = run_azxfer("resume", job_id_of(first), "--output-type", "json", env=crash(None))
    final.assert_ok()
    assert_uploaded(container_client, src, prefix="")
    puts = proxy.snapshot()[0]
    assert puts["one.bin"] <= nchunks(size) + 1, (
        f"{puts['one.bin']} blocks sent for a {nchunks(size)}-chunk file over one crash\n"
        f"{final.describe()}"
    )


# --------------------------------------------------------------------------- downloads


PART = re.compile(r"^\.(?P<name>.+)\.azxfer-(?P<job8>[0-9a-f]{8})-(?P<tid>\d+)\.part$")
DOWNLOAD_BLOBS = {"d/a.bin": 3 * MiB + 5, "d/b.bin": 4 * MiB, "d/c.bin": 5 * MiB - 3, "d/s.txt": 99}


def test_download_resumes_into_part_file(
    tmp_path, run_azxfer, proxy, proxied_url, container, container_client
):
    seeded = seed_blobs(container_client, DOWNLOAD_BLOBS)
    dst = tmp_path / "dst"
    dst.mkdir()
    first = run_azxfer(
        "copy", proxied_url(), dst, "-r", "--as-subdir=false", *FAST, env=crash("chunks:4")
    )
    assert first.returncode == KILLED, first.describe()
    check_download_resume(tmp_path, run_azxfer, proxy, container, dst, first, ["chunks:4"], seeded)


def test_download_of_one_blob_resumes_into_part_file(
    tmp_path, run_azxfer, proxy, proxied_url, container, container_client
):
    seeded = seed_blobs(container_client, {"d/c.bin": DOWNLOAD_BLOBS["d/c.bin"]})
    dst = tmp_path / "dst" / "d"
    dst.mkdir(parents=True)
    first = run_azxfer("copy", proxied_url("d/c.bin"), dst, *FAST, env=crash("chunks:2"))
    assert first.returncode == KILLED, first.describe()
    check_download_resume(
        tmp_path, run_azxfer, proxy, container, dst.parent, first, ["chunks:2"], seeded
    )


def check_download_resume(tmp_path, run_azxfer, proxy, container, dst, first, crashes, seeded):
    """Resume (crashing per `crashes[1:]`) to the end; check .part files, data and reads."""
    sizes = {k: len(v) for k, v in seeded.items()}
    job_id = job_id_of(first)
    runs, deltas = [first], [proxy.snapshot()[1]]
    for spec in [*crashes[1:], None]:
        # Nothing unfinished has its final name yet; its bytes wait in this job's .part file.
        states = dict(query(tmp_path, job_id, "SELECT rel_path, state FROM transfer"))
        parts = [p for p in dst.rglob(".*.part")]
        assert parts, "a killed download leaves its partial files"
        for p in parts:
            m = PART.match(p.name)
            assert m, p.name
            assert m["job8"] == job_id[:8]
            assert not (p.parent / m["name"]).exists(), f"{m['name']} exists before completion"
        for rel, size in sizes.items():
            if states.get(rel) != "completed" and nchunks(size) > 1:
                assert not (dst / rel).exists(), f"{rel} has its final name before completion"
        before = proxy.snapshot()[1]
        r = run_azxfer("resume", job_id, "--output-type", "json", env=crash(spec))
        deltas.append(proxy.snapshot()[1] - before)
        runs.append(r)
        if spec is not None:
            assert r.returncode == KILLED, r.describe()
    final = runs[-1].assert_ok()
    assert final.finished()["status"] == "Completed", final.describe()

    contents = tree_contents(dst)
    assert contents == seeded, "no .part file remains and every file is complete"
    assert not list(dst.rglob("*.part"))

    resumed = final.events_of("transfer_resumed")
    assert resumed and all(e["chunks_present"] > 0 for e in resumed), final.describe()
    gets = proxy.snapshot()[1]
    killed = len(runs) - 1
    for name, size in sizes.items():
        # A chunk read but not yet written to the .part file when the process died is read
        # again: up to one per request slot (--concurrency 2) per crash.
        assert gets[name] <= nchunks(size) + 2 * killed, f"{name}: {gets[name]} ranged reads"
    per_run_sends(runs, deltas, container, sizes)
    by_events = chunks_sent_by_events(final, container)
    for name, count in by_events.items():
        assert count == deltas[-1][name], f"{name}: events vs wire"


# --------------------------------------------------------------------------- SAS expiry


def container_sas(azurite, container: str, seconds: float) -> str:
    return generate_container_sas(
        azurite.account,
        container,
        account_key=azurite.key,
        permission=ContainerSasPermissions(read=True, write=True, create=True, list=True, add=True),
        start=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds),
    )


def test_resume_with_fresh_sas_after_the_first_expired(
    tmp_path, make_tree, run_azxfer, azurite, proxied_url, container_client
):
    files = {"e/one.bin": 3 * MiB + 1, "e/two.bin": 4 * MiB - 1, "e/tiny.txt": 12}
    src = make_tree(tmp_path / "e", {k[2:]: v for k, v in files.items()})
    expires = time.time() + 5
    old = container_sas(azurite, container_client.container_name, 5)
    no_key = {"AZXFER_DEST_KEY": None, "AZXFER_SOURCE_KEY": None}
    first = run_azxfer(
        "copy", src, f"{proxied_url()}?{old}", "-r", *FAST, env={**no_key, **crash("chunks:2")}
    )
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    assert_private(tmp_path, wal=True)
    assert_no_secrets(tmp_path, [first], [parse_qs(old)["sig"][0], azurite.key])
    time.sleep(max(0.0, expires - time.time()) + 1.5)

    runs = [first]
    # No SAS at all is refused before any request (exit 2); the expired one fails (exit 1).
    for extra, code in (([], 2), (["--dest-sas", old], 1)):
        r = run_azxfer("resume", job_id, *extra, env=no_key)
        runs.append(r)
        r.assert_exit(code)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, r.describe()
        assert re.search(r"sas|expired|denied|authori[sz]", lines[0], re.I), r.describe()

    new = container_sas(azurite, container_client.container_name, 3600)
    final = run_azxfer("resume", job_id, "--dest-sas", new, "--output-type", "json", env=no_key)
    runs.append(final)
    final.assert_ok()
    assert final.finished()["status"] == "Completed"
    assert_uploaded(container_client, src, prefix="e/")
    secrets = [parse_qs(s)["sig"][0] for s in (old, new)]
    assert_no_secrets(tmp_path, runs, [*secrets, azurite.key])
    assert_private(tmp_path)


def _settled(proxy, quiet: float = 0.5, limit: float = 10.0):
    """The proxy's counts once the requests a killed client left in flight have arrived:
    unchanged for `quiet` seconds (at most `limit` seconds of waiting)."""
    deadline = time.monotonic() + limit
    last = proxy.snapshot()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = proxy.snapshot()
        if now == last:
            return now
        last = now
    return last


def test_resume_without_the_sas_says_so_once_and_leaves_the_job_resumable(
    tmp_path, make_tree, run_azxfer, azurite, proxy, proxied_url, container_client
):
    files = {"s/one.bin": 3 * MiB + 1, "s/two.bin": 2 * MiB - 1, "s/tiny.txt": 12}
    src = make_tree(tmp_path / "s", {k[2:]: v for k, v in files.items()})
    sas = container_sas(azurite, container_client.container_name, 3600)
    no_key = {"AZXFER_DEST_KEY": None, "AZXFER_SOURCE_KEY": None}
    first = run_azxfer(
        "copy", src, f"{proxied_url()}?{sas}", "-r", *FAST, env={**no_key, **crash("chunks:2")}
    )
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    before = _settled(proxy)

    refused = run_azxfer("resume", job_id, "--output-type", "json", env=no_key)
    refused.assert_usage_error(2)
    assert "--dest-sas" in refused.stderr and "never journaled" in refused.stderr
    assert "anonymous" not in refused.stderr
    assert refused.events() == [], "nothing ran"
    assert proxy.snapshot() == before, "no request was sent"

    final = run_azxfer("resume", job_id, "--dest-sas", sas, "--output-type", "json", env=no_key)
    final.assert_ok()
    assert final.finished()["status"] == "Completed"
    assert_uploaded(container_client, src, prefix="s/")
    assert_no_secrets(tmp_path, [first, refused, final], [parse_qs(sas)["sig"][0]])


# --------------------------------------------------------------------------- changed source


@pytest.mark.parametrize("change", ["shrunk", "same-size"])
def test_changed_local_source_restarts_from_zero(
    change, tmp_path, make_tree, run_azxfer, proxy, proxied_url, container_client
):
    old_size = 4 * MiB + 3
    src = make_tree(tmp_path / "src", {"f.bin": old_size})
    path = src / "f.bin"
    first = run_azxfer("copy", path, proxied_url(), *FAST, env=crash("chunks:2"))
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    assert query(tmp_path, job_id, "SELECT COUNT(*) FROM chunk") != [(0,)]

    new_size = {"shrunk": 2 * MiB + 1, "same-size": old_size}[change]
    new = data_for(f"new-{change}", new_size)
    stamp = path.stat().st_mtime
    path.write_bytes(new)
    os.utime(path, (stamp + 10, stamp + 10))
    before = proxy.snapshot()[0]
    final = run_azxfer("resume", job_id, "--output-type", "json")
    final.assert_ok()
    sent = proxy.snapshot()[0] - before

    notices = [e["message"] for e in final.events_of("notice")]
    assert any("changed since the job started" in m and "f.bin" in m for m in notices), notices
    assert not final.events_of("transfer_resumed"), "a changed source restarts from zero"
    blob = container_client.get_blob_client("f.bin")
    assert blob.download_blob().readall() == new
    assert bytes(blob.get_blob_properties().content_settings.content_md5) == md5(new)
    assert sent["f.bin"] == nchunks(new_size)
    assert final.finished()["bytes_transferred"] == new_size


# --------------------------------------------------------------------------- secrets


def assert_no_secrets(tmp_path: Path, runs: list[CliResult], secrets: list[str]) -> None:
    """No journal byte and no output of any run holds a secret (raw or URL-encoded)."""
    needles = set()
    for s in secrets:
        needles |= {s, quote(s, safe=""), unquote(s)}
    files = sorted(job_dir(tmp_path).iterdir())
    assert files, "journals exist"
    for f in files:
        data = f.read_bytes()
        for n in needles:
            assert n.encode() not in data, f"a secret is in {f.name}"
    for r in runs:
        for n in needles:
            assert n not in r.stdout and n not in r.stderr, f"a secret is in the output of {r.argv}"


def assert_private(tmp_path: Path, wal: bool = False) -> None:
    """Every journal file (and its -wal/-shm) is mode 0600; `wal`: the WAL is there."""
    modes = {f.name: f.stat().st_mode & 0o777 for f in job_dir(tmp_path).iterdir()}
    assert any(n.endswith(".azxfer-job") for n in modes), modes
    if wal:
        assert any(n.endswith(".azxfer-job-wal") for n in modes), modes
    assert all(m == 0o600 for m in modes.values()), {n: oct(m) for n, m in modes.items()}


# --------------------------------------------------------------------------- SIGINT


SIGINT_FILES = {"a.bin": 3 * MiB, "b.bin": 3 * MiB + 1, "c.bin": 2 * MiB + 2, "d.txt": 7}


SIGINT_CASES = {"once": (1, ()), "once-small-memory": (1, ("--max-memory", "2M")), "twice": (2, ())}


@pytest.mark.parametrize("signals, extra", SIGINT_CASES.values(), ids=SIGINT_CASES.keys())
def test_sigint_cancels_cleanly_and_resume_completes(
    signals, extra, tmp_path, make_tree, run_azxfer, azurite, proxy, proxied_url, container_client
):
    src = make_tree(tmp_path / "src", SIGINT_FILES)
    proxy.delay = 0.1  # slow enough that the job is mid-flight when the signal lands
    at_signal: list[Counter[str]] = []
    argv = ["copy", str(src), proxied_url(), "-r", *FAST, *extra]
    r = interrupt_after_first_progress(
        argv,
        cli_env(azurite, tmp_path),
        tmp_path,
        signals,
        lambda: at_signal.append(proxy.snapshot(settle=False)[0]),
    )
    assert r.returncode == 130, r.describe()
    assert "Traceback" not in r.stderr, r.describe()
    job_id = job_id_of(r)
    if signals == 1:
        notices = [e["message"] for e in r.events_of("notice")]
        # The hint once, in the error line scripts see, not also as a notice before it.
        assert not any("resume with" in n for n in notices), r.describe()
        hint = f"azxfer: error: interrupted; resume with: azxfer resume {job_id}"
        assert r.stderr.splitlines()[-1] == hint, r.describe()
        assert r.finished()["status"] == "Cancelled"
        assert query(tmp_path, job_id, "SELECT status FROM job") == [("Cancelled",)]
        # Nothing new starts after the signal: only the requests in flight (--concurrency 2,
        # plus one that may have been starting) may still land. Checked after the resume.
        late = sum((proxy.snapshot()[0] - at_signal[0]).values())
        unfinished = query(
            tmp_path, job_id, "SELECT COUNT(*) FROM transfer WHERE state != 'completed'"
        )
        # Chunks journaled for transfers the stop left unfinished: those the resume must find.
        partial = query(
            tmp_path,
            job_id,
            "SELECT COUNT(*) FROM chunk JOIN transfer ON chunk.transfer_id = transfer.id "
            "WHERE transfer.state != 'completed'",
        )

    proxy.delay = 0.0
    final = run_azxfer("resume", job_id, "--output-type", "json").assert_ok()
    assert final.finished()["status"] == "Completed"
    assert_uploaded(container_client, src)
    puts = proxy.snapshot()[0]
    for rel, size in SIGINT_FILES.items():
        name = f"src/{rel}"
        # A graceful stop journals every chunk that landed: nothing is sent twice.
        limit = nchunks(size) + (1 if signals == 2 else 0)
        assert puts[name] <= limit, f"{name}: {puts[name]} sends for {nchunks(size)} chunks"
    if signals == 1:
        assert late <= 3, f"{late} data requests completed after SIGINT\n{r.describe()}"
        assert r.finished()["files_completed"] < len(SIGINT_FILES), r.describe()
        assert unfinished != [(0,)]
        if partial != [(0,)]:
            assert final.events_of("transfer_resumed"), final.describe()
