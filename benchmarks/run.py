"""Side-by-side benchmark of azxfer against AzCopy v10, rclone and a bare-SDK script.

Each workload gets a fresh in-memory Azurite; the tools run as subprocesses, alternating
(A B C D A B C D ...) for --reps repetitions, and every run starts from the same state. Each
run is measured (wall time, child CPU user+sys and peak RSS from os.wait4, plus the emulator's
CPU during the run and the shares of it that the emulator's JavaScript thread ran and waited
for a core) and verified (file count and total bytes at the destination).

Run it through `bash benchmarks/run [options]` (it prepares .venv, node_modules and the peers).
Results: a table on stdout and every raw run in benchmarks/results/bench-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = ROOT / ".venv" / "bin" / "python"
AZURITE = ROOT / "node_modules" / ".bin" / "azurite"
AZCOPY = HERE / "node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64"
BARE_SDK = HERE / "bare_sdk.py"
LAUNCH = HERE / "_launch.py"
RESULTS = HERE / "results"

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONCURRENCY = 32  # requests in flight for every tool (azxfer's and AzCopy's default on 2 cores)

TOOLS = ["azxfer", "azcopy", "rclone", "sdk"]
# `--baseline DIR` adds the tool "base": azxfer run from another checkout (e.g. a `git worktree`
# of the last commit), so a change can be measured against its baseline in the same
# alternating run. BASELINE is set from the option.
BASELINE: Path | None = None
WORKLOADS = ["up-small", "up-large", "down-small", "down-large", "blob2blob-small", "sync-noop"]
PEERS = ["azcopy", "rclone"]

sys.path.insert(0, str(HERE))
import bare_sdk  # noqa: E402  (seeding uses the same code as the baseline, untimed)
from azure.storage.blob import (  # noqa: E402
    AccountSasPermissions,
    BlobServiceClient,
    ResourceTypes,
    generate_account_sas,
)


# --------------------------------------------------------------------------------------
# Test data
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sizes:
    dirs: int
    files_per_dir: int
    small_bytes: int
    large_count: int
    large_bytes: int

    @property
    def small_files(self) -> int:
        return self.dirs * self.files_per_dir


FULL = Sizes(dirs=20, files_per_dir=100, small_bytes=4096, large_count=2, large_bytes=256 << 20)
QUICK = Sizes(dirs=10, files_per_dir=20, small_bytes=4096, large_count=2, large_bytes=16 << 20)


@dataclass
class DataSet:
    path: Path
    files: int
    bytes: int


def make_data(work: Path, sizes: Sizes) -> tuple[DataSet, DataSet]:
    """Deterministic source trees: small/dNN/fNNN.bin and large/big-N.bin. All mtimes are set
    one day in the past, so a blob written afterwards is 'newer' for sync-style comparisons."""
    past = int(time.time()) - 86400
    small = work / "src-small"
    for d in range(sizes.dirs):
        sub = small / f"d{d:02d}"
        sub.mkdir(parents=True)
        for f in range(sizes.files_per_dir):
            p = sub / f"f{f:03d}.bin"
            p.write_bytes(random.Random(f"{d}/{f}").randbytes(sizes.small_bytes))
            os.utime(p, (past, past))
    large = work / "src-large"
    large.mkdir()
    for i in range(sizes.large_count):
        p = large / f"big-{i}.bin"
        rng = random.Random(f"large-{i}")
        with open(p, "wb") as f:
            left = sizes.large_bytes
            while left:
                n = min(left, 1 << 20)
                f.write(rng.randbytes(n))
                left -= n
        os.utime(p, (past, past))
    return (
        DataSet(small, sizes.small_files, sizes.small_files * sizes.small_bytes),
        DataSet(large, sizes.large_count, sizes.large_count * sizes.large_bytes),
    )


# --------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------
def free_port_triple() -> int:
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p > 65000:
            continue
        try:
            for q in (p, p + 1, p + 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", q))
            return p
        except OSError:
            continue
    raise RuntimeError("no three consecutive free ports")


class Azurite:
    """A fresh in-memory Azurite in its own process group."""

    def __init__(self, work: Path):
        self.port = free_port_triple()
        self.url = f"http://127.0.0.1:{self.port}/{ACCOUNT}"
        self.log = open(work / f"azurite-{self.port}.log", "wb")  # noqa: SIM115  (closed in stop)
        p = self.port
        self.proc = subprocess.Popen(
            [
                str(AZURITE),
                "--silent",
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry",
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(p),
                "--queuePort",
                str(p + 1),
                "--tablePort",
                str(p + 2),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"azurite exited with {self.proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", p), 0.5):
                break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("azurite did not start within 60 s")
            time.sleep(0.1)
        self.svc = BlobServiceClient(
            self.url, credential={"account_name": ACCOUNT, "account_key": KEY}
        )
        self.sas = generate_account_sas(
            ACCOUNT,
            KEY,
            ResourceTypes(service=True, container=True, object=True),
            AccountSasPermissions(
                read=True,
                write=True,
                delete=True,
                list=True,
                add=True,
                create=True,
                update=True,
                tag=True,
            ),
            expiry=dt.datetime.now(dt.UTC) + dt.timedelta(days=2),
        )

    def cpu_seconds(self) -> float:
        """user+sys CPU of the emulator's node process so far (from /proc)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def main_thread(self) -> tuple[float, float]:
        """Seconds the emulator's main thread (the one its JavaScript runs on) has spent on a
        core, and runnable but waiting for one (`/proc/PID/task/PID/schedstat`); NaN if the
        kernel does not keep scheduler statistics."""
        try:
            on_cpu, waiting = (
                Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/schedstat")
                .read_text()
                .split()[:2]
            )
            return int(on_cpu) / 1e9, int(waiting) / 1e9
        except (OSError, ValueError):
            return float("nan"), float("nan")

    def rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def container_url(self, name: str, sas: bool = False) -> str:
        return f"{self.url}/{name}" + (f"?{self.sas}" if sas else "")

    def create(self, name: str) -> None:
        self.svc.create_container(name)

    def delete(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.svc.delete_container(name)

    def inventory(self, name: str) -> dict[str, tuple[int, str]]:
        """{blob name: (size, etag)}; raises if the container does not exist."""
        return {b.name: (b.size, b.etag) for b in self.svc.get_container_client(name).list_blobs()}

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.log.close()


# --------------------------------------------------------------------------------------
# One measured run
# --------------------------------------------------------------------------------------
@dataclass
class Run:
    workload: str
    tool: str
    rep: int
    status: str  # ok | failed | invalid | timeout | n/a
    wall_s: float | None = None
    cpu_s: float | None = None
    user_s: float | None = None
    sys_s: float | None = None
    peak_rss_mb: float | None = None
    exit_code: int | None = None
    emulator_cpu_s: float | None = None
    # Shares of the wall time the emulator's JavaScript thread ran, and waited for a core:
    # what is left of 100 % is the time it had nothing to do.
    emulator_running: float | None = None
    emulator_waiting: float | None = None
    files: int | None = None
    bytes: int | None = None
    detail: str = ""
    cmd: list[str] = field(default_factory=list)


def measure(
    cmd: list[str], env: dict[str, str], log: Path, timeout: float, cwd: Path = ROOT
) -> dict:
    """Run cmd through _launch.py; return wall, CPU (user, sys) and peak RSS of that child
    (os.wait4 in the launcher). On timeout the whole process group is killed."""
    result = log.with_suffix(".rusage.json")
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [str(PY), "-I", "-S", str(LAUNCH), str(result), *cmd],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            proc.wait(timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if timed_out or not result.exists():
        return {
            "wall_s": time.perf_counter() - t0,
            "user_s": None,
            "sys_s": None,
            "cpu_s": None,
            "peak_rss_mb": None,
            "exit_code": proc.returncode,
            "timed_out": timed_out,
        }
    m = json.loads(result.read_text())
    m["cpu_s"] = m["user_s"] + m["sys_s"]
    m["timed_out"] = False
    return m


def tail(path: Path, n: int = 600) -> str:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return ""
    return " ".join(text[-n:].split())


def local_totals(root: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _d, names in os.walk(root):
        for n in names:
            files += 1
            size += os.path.getsize(os.path.join(dirpath, n))
    return files, size


# --------------------------------------------------------------------------------------
# Tools × workloads
# --------------------------------------------------------------------------------------
@dataclass
class Ctx:
    az: Azurite
    work: Path
    small: DataSet
    large: DataSet
    rclone_conf: Path
    run_no: int = 0
    # Local trees of many files the runs wrote, deleted when the workload ends, not after each
    # run: on this VM's ext4 (no journal) a file created within ~30 s of thousands of deletions
    # in the same block group makes the allocator scan past every recently deleted inode
    # (`recently_deleted` in perf), which cost the next run 20-40 % of its CPU, whichever tool
    # it was. A tree of a few large files is still deleted at once: it frees few inodes, and
    # kept, its gigabytes of dirty pages would be written back during the later runs. The
    # emulator's containers are deleted after each run.
    local_outputs: list[Path] = field(default_factory=list)


# A downloaded tree of at least this many files is kept until the workload ends (Ctx).
MANY_FILES = 100

# A step is: prepare() -> (cmd, env_extra, verify) or None for "not implemented".
Step = tuple[list[str], dict[str, str], Callable[[], tuple[bool, str, int, int]]]


def tool_env(ctx: Ctx) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AZXFER_SOURCE_KEY": KEY,
            "AZXFER_DEST_KEY": KEY,
            "AZXFER_KEY": KEY,
            # Keep azxfer's job journals in the scratch dir, not the user's state dir.
            "AZXFER_JOB_DIR": str(ctx.work / "azxfer-jobs"),
            "AZCOPY_LOG_LOCATION": str(ctx.work / "azcopy-logs"),
            "AZCOPY_JOB_PLAN_LOCATION": str(ctx.work / "azcopy-plans"),
            "AZCOPY_CONCURRENCY_VALUE": str(CONCURRENCY),
            "AZCOPY_DISABLE_SYSLOG": "true",
        }
    )
    for k in ("AZXFER_CONCURRENCY", "RCLONE_CONFIG", "PYTHONDONTWRITEBYTECODE"):
        env.pop(k, None)
    return env


def rclone_cmd(ctx: Ctx, *args: str) -> list[str]:
    return [
        "rclone",
        "--config",
        str(ctx.rclone_conf),
        *args,
        "--transfers",
        str(CONCURRENCY),
        "--checkers",
        str(CONCURRENCY),
        "--azureblob-chunk-size",
        "8M",
        "--azureblob-upload-concurrency",
        "16",
    ]


def azcopy_cmd(*args: str) -> list[str]:
    return [str(AZCOPY), *args, "--log-level", "ERROR"]


def verify_container(ctx: Ctx, name: str, want: DataSet):
    def check():
        inv = ctx.az.inventory(name)
        files, size = len(inv), sum(s for s, _ in inv.values())
        ok = files == want.files and size == want.bytes
        return ok, "" if ok else f"want {want.files} files/{want.bytes} B", files, size

    return check


def verify_dir(path: Path, want: DataSet):
    def check():
        files, size = local_totals(path)
        ok = files == want.files and size == want.bytes
        return ok, "" if ok else f"want {want.files} files/{want.bytes} B", files, size

    return check


def step_upload(ctx: Ctx, tool: str, data: DataSet, cleanups: list) -> Step | None:
    ctx.run_no += 1
    dst = f"up-{ctx.run_no:04d}"
    ctx.az.create(dst)  # AzCopy does not create it on Azurite; give every tool the same start
    cleanups.append(lambda: ctx.az.delete(dst))
    src = str(data.path)
    cmd = {
        "azxfer": [str(PY), "-m", "azxfer", "copy", src, ctx.az.container_url(dst), "-r"],
        "base": [str(PY), "-m", "azxfer", "copy", src, ctx.az.container_url(dst), "-r"],
        "azcopy": azcopy_cmd(
            "copy",
            src,
            ctx.az.container_url(dst, sas=True),
            "--recursive",
            "--from-to",
            "LocalBlob",
        ),
        "rclone": rclone_cmd(ctx, "copy", src, f"az:{dst}"),
        "sdk": [str(PY), str(BARE_SDK), "upload", src, ctx.az.url, dst],
    }[tool]
    return cmd, {}, verify_container(ctx, dst, data)


def step_download(ctx: Ctx, tool: str, data: DataSet, seed: str, cleanups: list) -> Step | None:
    ctx.run_no += 1
    dst = ctx.work / f"down-{ctx.run_no:04d}"
    dst.mkdir()
    if data.files >= MANY_FILES:
        ctx.local_outputs.append(dst)
    else:
        cleanups.append(lambda: shutil.rmtree(dst, ignore_errors=True))
    cmd = {
        "azxfer": [str(PY), "-m", "azxfer", "copy", ctx.az.container_url(seed), str(dst), "-r"],
        "base": [str(PY), "-m", "azxfer", "copy", ctx.az.container_url(seed), str(dst), "-r"],
        "azcopy": azcopy_cmd(
            "copy",
            ctx.az.container_url(seed, sas=True),
            str(dst),
            "--recursive",
            "--from-to",
            "BlobLocal",
        ),
        "rclone": rclone_cmd(ctx, "copy", f"az:{seed}", str(dst)),
        "sdk": [str(PY), str(BARE_SDK), "download", ctx.az.url, seed, str(dst)],
    }[tool]
    return cmd, {}, verify_dir(dst, data)


def step_blob2blob(ctx: Ctx, tool: str, data: DataSet, seed: str, cleanups: list) -> Step | None:
    ctx.run_no += 1
    dst = f"b2b-{ctx.run_no:04d}"
    ctx.az.create(dst)
    cleanups.append(lambda: ctx.az.delete(dst))
    cmd = {
        "azxfer": [
            str(PY),
            "-m",
            "azxfer",
            "copy",
            ctx.az.container_url(seed),
            ctx.az.container_url(dst),
            "-r",
        ],
        "base": [
            str(PY),
            "-m",
            "azxfer",
            "copy",
            ctx.az.container_url(seed),
            ctx.az.container_url(dst),
            "-r",
        ],
        "azcopy": azcopy_cmd(
            "copy",
            ctx.az.container_url(seed, sas=True),
            ctx.az.container_url(dst, sas=True),
            "--recursive",
            "--from-to",
            "BlobBlob",
        ),
        "rclone": rclone_cmd(ctx, "copy", f"az:{seed}", f"az:{dst}"),
        "sdk": [str(PY), str(BARE_SDK), "copy", ctx.az.url, seed, dst],
    }[tool]
    return cmd, {}, verify_container(ctx, dst, data)


def step_sync(ctx: Ctx, tool: str, data: DataSet, seed: str, cleanups: list) -> Step | None:
    src = str(data.path)
    azxfer_sync = [str(PY), "-m", "azxfer", "sync", src, ctx.az.container_url(seed)]
    cmd = {
        "azxfer": azxfer_sync,
        "base": azxfer_sync,
        "azcopy": azcopy_cmd(
            "sync",
            src,
            ctx.az.container_url(seed, sas=True),
            "--recursive",
            "--from-to",
            "LocalBlob",
        ),
        "rclone": rclone_cmd(ctx, "sync", src, f"az:{seed}"),
        "sdk": [str(PY), str(BARE_SDK), "sync", src, ctx.az.url, seed],
    }[tool]
    before = ctx.az.inventory(seed)

    def check():
        after = ctx.az.inventory(seed)
        files, size = len(after), sum(s for s, _ in after.values())
        if after != before:
            changed = sum(1 for k in after.keys() | before.keys() if after.get(k) != before.get(k))
            return False, f"not a no-op: {changed} blobs written", files, size
        ok = files == data.files and size == data.bytes
        return ok, "" if ok else f"want {data.files} files/{data.bytes} B", files, size

    return cmd, {}, check


def seed_container(ctx: Ctx, name: str, data: DataSet, mtime_metadata: bool = False) -> None:
    import asyncio

    ctx.az.create(name)
    os.environ["AZXFER_KEY"] = KEY
    got = asyncio.run(
        bare_sdk.upload(str(data.path), ctx.az.url, name, mtime_metadata=mtime_metadata)
    )
    if got != {"files": data.files, "bytes": data.bytes}:
        raise RuntimeError(f"seeding {name}: {got}")


def workload_plan(name: str, ctx: Ctx):
    """(dataset, make_step(tool, cleanups)) for a workload, after seeding what it needs."""
    if name == "up-small":
        return ctx.small, lambda t, c: step_upload(ctx, t, ctx.small, c)
    if name == "up-large":
        return ctx.large, lambda t, c: step_upload(ctx, t, ctx.large, c)
    if name == "down-small":
        seed_container(ctx, "seed", ctx.small)
        return ctx.small, lambda t, c: step_download(ctx, t, ctx.small, "seed", c)
    if name == "down-large":
        seed_container(ctx, "seed", ctx.large)
        return ctx.large, lambda t, c: step_download(ctx, t, ctx.large, "seed", c)
    if name == "blob2blob-small":
        seed_container(ctx, "seed", ctx.small)
        return ctx.small, lambda t, c: step_blob2blob(ctx, t, ctx.small, "seed", c)
    if name == "sync-noop":
        # Blob names relative to the source root, rclone's 'mtime' metadata = the file's mtime,
        # Last-Modified newer than the files: up to date by every tool's rule.
        seed_container(ctx, "seed", ctx.small, mtime_metadata=True)
        return ctx.small, lambda t, c: step_sync(ctx, t, ctx.small, "seed", c)
    raise ValueError(name)


def run_workload(
    name: str,
    tools: list[str],
    reps: int,
    base: Path,
    small: DataSet,
    large: DataSet,
    timeout: float,
    pause: float,
    warmup: int,
) -> list[Run]:
    work = base / name
    work.mkdir()
    az = Azurite(work)
    runs: list[Run] = []
    ctx: Ctx | None = None
    try:
        conf = work / "rclone.conf"
        conf.write_text(
            "[az]\ntype = azureblob\n"
            f"account = {ACCOUNT}\nkey = {KEY}\nuse_emulator = true\n"
            f"endpoint = {az.url}\n"
        )
        ctx = Ctx(az, work, small, large, conf)
        data, make_step = workload_plan(name, ctx)
        env = tool_env(ctx)
        print(
            f"\n== {name}: {data.files} files, {data.bytes / 2**20:.1f} MiB; azurite on :{az.port}",
            flush=True,
        )
        # Rounds 1-warmup..0 are not measured: on small-file workloads the first run a fresh
        # emulator serves after seeding cost it up to twice the CPU of later ones, and that
        # always fell on the first tool of the first round (benchmarks/README.md, session 7).
        for rep in range(1 - warmup, reps + 1):
            for tool in tools:
                cleanups: list[Callable[[], None]] = []
                try:
                    step = make_step(tool, cleanups)
                    if step is None:
                        run = Run(name, tool, rep, "n/a", detail="not implemented")
                    else:
                        run = execute(ctx, name, tool, rep, step, env, timeout)
                finally:
                    for c in cleanups:
                        c()
                label = f"rep {rep}" if rep > 0 else "warm-up"
                print(f"  {label} {tool:7s} {describe(run)}", flush=True)
                if rep > 0:
                    runs.append(run)
                if pause:
                    time.sleep(pause)
    finally:
        az.stop()
        for path in ctx.local_outputs if ctx is not None else ():
            shutil.rmtree(path, ignore_errors=True)
    return runs


def execute(
    ctx: Ctx, name: str, tool: str, rep: int, step: Step, env: dict[str, str], timeout: float
) -> Run:
    cmd, extra, verify = step
    log = ctx.work / f"{tool}-{rep}-{ctx.run_no:04d}.log"
    emu0, (ran0, waited0) = ctx.az.cpu_seconds(), ctx.az.main_thread()
    # `python -m azxfer` imports the package from its working directory.
    cwd = BASELINE if tool == "base" and BASELINE is not None else ROOT
    m = measure(cmd, {**env, **extra}, log, timeout, cwd)
    emu, (ran1, waited1) = ctx.az.cpu_seconds() - emu0, ctx.az.main_thread()
    run = Run(
        name,
        tool,
        rep,
        "ok",
        wall_s=m["wall_s"],
        cpu_s=m["cpu_s"],
        user_s=m["user_s"],
        sys_s=m["sys_s"],
        peak_rss_mb=m["peak_rss_mb"],
        exit_code=m["exit_code"],
        emulator_cpu_s=emu,
        emulator_running=(ran1 - ran0) / m["wall_s"],
        emulator_waiting=(waited1 - waited0) / m["wall_s"],
        cmd=[redact(a) for a in cmd],
    )
    if m["timed_out"]:
        run.status, run.detail = "timeout", f"killed after {timeout:.0f} s; {tail(log)}"
        return run
    try:
        ok, why, run.files, run.bytes = verify()
    except Exception as e:  # a missing container etc.
        ok, why = False, f"verification failed: {e.__class__.__name__}: {str(e)[:200]}"
    if m["exit_code"] != 0:
        why = azcopy_error(ctx.work) if tool == "azcopy" else ""
        run.status, run.detail = "failed", f"exit {m['exit_code']}: {why or tail(log)}"
    elif not ok:
        run.status, run.detail = "invalid", why
    return run


def azcopy_error(work: Path) -> str:
    """The first ERR line (and the line after it) of AzCopy's newest job log."""
    logs = sorted((work / "azcopy-logs").glob("*.log"), key=lambda p: p.stat().st_mtime)
    logs = [p for p in logs if not p.name.endswith("-scanning.log")]
    if not logs:
        return ""
    lines = logs[-1].read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if "ERR:" in line or "FAILED" in line:
            return " ".join(" ".join(lines[i : i + 2]).split())[:500]
    return ""


def redact(arg: str) -> str:
    return arg.split("?", 1)[0] + "?<SAS>" if "sig=" in arg else arg


def describe(run: Run) -> str:
    if run.status == "n/a":
        return "n/a (not implemented)"
    s = (
        f"{run.status:7s} wall {fmt(run.wall_s, '7.2f')}s  cpu {fmt(run.cpu_s, '6.2f')}s  "
        f"rss {fmt(run.peak_rss_mb, '6.0f')} MB  "
        f"emulator cpu {fmt(run.emulator_cpu_s, '6.2f')}s  "
        f"its thread ran {percent(run.emulator_running)}, waited {percent(run.emulator_waiting)}"
    )
    if run.status != "ok":
        s += f"\n      {run.detail[:400]}"
    return s


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------
def summarize(runs: list[Run], workloads: list[str], tools: list[str]) -> list[dict]:
    rows = []
    for w in workloads:
        for t in tools:
            mine = [r for r in runs if r.workload == w and r.tool == t]
            if not mine:
                continue
            ok = [r for r in mine if r.status == "ok"]
            row = {"workload": w, "tool": t, "runs": len(mine), "ok": len(ok)}
            if all(r.status == "n/a" for r in mine):
                row["note"] = "n/a (not implemented)"
            elif ok:
                row.update(
                    wall_s=statistics.median(r.wall_s for r in ok),
                    cpu_s=statistics.median(r.cpu_s for r in ok),
                    peak_rss_mb=max(r.peak_rss_mb for r in ok),
                    emulator_cpu_s=statistics.median(r.emulator_cpu_s for r in ok),
                    emulator_running=statistics.median(r.emulator_running for r in ok),
                    emulator_waiting=statistics.median(r.emulator_waiting for r in ok),
                    mib_s=statistics.median((r.bytes or 0) / 2**20 / r.wall_s for r in ok),
                )
                bad = [r for r in mine if r.status != "ok"]
                if bad:
                    row["note"] = f"{len(bad)} run(s) {bad[0].status}"
            else:
                row["note"] = f"all runs {mine[0].status} (see below)"
            rows.append(row)
    return rows


def ratios(rows: list[dict], workloads: list[str], tool: str = "azxfer") -> dict[str, dict]:
    out = {}
    for w in workloads:
        by = {r["tool"]: r for r in rows if r["workload"] == w and "wall_s" in r}
        if tool not in by:
            continue
        peers = [(by[p]["wall_s"], p) for p in PEERS if p in by]
        entry = {}
        if peers:
            best, who = min(peers)
            entry["vs_best_peer"] = {"peer": who, "ratio": by[tool]["wall_s"] / best}
        if "sdk" in by:
            entry["vs_sdk"] = {"ratio": by[tool]["wall_s"] / by["sdk"]["wall_s"]}
        out[w] = entry
    return out


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def percent(share: float | None) -> str:
    return "—" if share is None or math.isnan(share) else f"{100 * share:.0f} %"


def render(rows: list[dict], rat: dict[str, dict], base_rat: dict[str, dict] | None = None) -> str:
    lines = [
        "| workload | tool | ok/runs | wall s (median) | CPU s (median) | peak RSS MB (max) "
        "| MiB/s | emulator CPU s | emulator thread ran / waited (% of wall) "
        "| azxfer ÷ best peer | azxfer ÷ bare SDK | note |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        ratio_peer = ratio_sdk = ""
        if r["tool"] in ("azxfer", "base"):
            e = (rat if r["tool"] == "azxfer" else base_rat or {}).get(r["workload"], {})
            if "vs_best_peer" in e:
                ratio_peer = f"{e['vs_best_peer']['ratio']:.2f}× ({e['vs_best_peer']['peer']})"
            if "vs_sdk" in e:
                ratio_sdk = f"{e['vs_sdk']['ratio']:.2f}×"
        if "wall_s" in r:
            cells = [
                fmt(r["wall_s"], ".2f"),
                fmt(r["cpu_s"], ".2f"),
                fmt(r["peak_rss_mb"], ".0f"),
                fmt(r["mib_s"], ".1f"),
                fmt(r["emulator_cpu_s"], ".2f"),
                f"{percent(r['emulator_running'])} / {percent(r['emulator_waiting'])}",
            ]
        else:
            cells = ["—"] * 6
        lines.append(
            f"| {r['workload']} | {r['tool']} | {r['ok']}/{r['runs']} | "
            + " | ".join(cells)
            + f" | {ratio_peer} | {ratio_sdk} | {r.get('note', '')} |"
        )
    return "\n".join(lines)


def failures(runs: list[Run]) -> str:
    """One line per distinct (workload, tool, status) that was not ok, with the first reason."""
    seen, out = set(), []
    for r in runs:
        if r.status in ("ok", "n/a") or (r.workload, r.tool, r.status) in seen:
            continue
        seen.add((r.workload, r.tool, r.status))
        n = sum(1 for x in runs if (x.workload, x.tool, x.status) == (r.workload, r.tool, r.status))
        out.append(f"- {r.workload} / {r.tool}: {n} run(s) {r.status} — {r.detail[:300]}")
    return "\n".join(out)


def versions() -> dict[str, str]:
    def out(cmd):
        try:
            return (
                subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=ROOT)
                .stdout.strip()
                .splitlines()[0]
            )
        except Exception as e:
            return f"unavailable ({e.__class__.__name__})"

    git = out(["git", "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "azxfer"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return {
        "azxfer": f"git {git}{' + uncommitted changes in azxfer/' if dirty else ''}",
        "azcopy": out([str(AZCOPY), "--version"]),
        "rclone": out(["rclone", "version"]),
        "azure-storage-blob": out(
            [str(PY), "-c", "import azure.storage.blob as b; print(b.__version__)"]
        ),
        "azurite": out([str(AZURITE), "--version"]),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
    }


def parse_list(text: str, allowed: list[str], what: str) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in items if s not in allowed]
    if bad:
        raise SystemExit(f"unknown {what}: {', '.join(bad)} (choose from {', '.join(allowed)})")
    return items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Side-by-side benchmark: azxfer vs AzCopy v10, rclone and a bare-SDK script "
        "on fresh in-memory Azurite emulators."
    )
    ap.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help=f"comma-separated subset of {','.join(WORKLOADS)}",
    )
    ap.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help=f"comma-separated subset of {','.join(TOOLS)} (run in this order)",
    )
    ap.add_argument("--reps", type=int, default=3, help="repetitions per tool (default 3)")
    ap.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="unmeasured rounds of every tool before the repetitions (default 1)",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke-test sizes: {QUICK.small_files} small files, "
        f"{QUICK.large_count} × {QUICK.large_bytes >> 20} MiB",
    )
    ap.add_argument("--timeout", type=float, default=900, help="seconds per run (default 900)")
    ap.add_argument(
        "--pause",
        type=float,
        default=1.0,
        help="seconds to sleep between runs, so the emulator settles (default 1)",
    )
    ap.add_argument("--workdir", type=Path, help="scratch directory (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory and logs")
    ap.add_argument("--output", type=Path, help="results JSON (default benchmarks/results/…)")
    ap.add_argument(
        "--baseline",
        type=Path,
        help="another azxfer checkout (sharing this .venv) to run as tool 'base', e.g. "
        "`git worktree add /tmp/base HEAD`; 'base' is added to --tools after 'azxfer'",
    )
    a = ap.parse_args(argv)
    workloads = parse_list(a.workloads, WORKLOADS, "workload")
    tools = parse_list(a.tools, TOOLS, "tool")
    if a.baseline is not None:
        global BASELINE
        BASELINE = a.baseline.resolve()
        if not (BASELINE / "azxfer" / "__main__.py").exists():
            raise SystemExit(f"--baseline: no azxfer package in {BASELINE}")
        where = tools.index("azxfer") + 1 if "azxfer" in tools else 0
        tools.insert(where, "base")
    sizes = QUICK if a.quick else FULL

    missing = [str(p) for p in (PY, AZURITE) if not p.exists()]
    if "azcopy" in tools and not AZCOPY.exists():
        missing.append(str(AZCOPY))
    if "rclone" in tools and not shutil.which("rclone"):
        missing.append("rclone")
    if missing:
        raise SystemExit(
            f"missing: {', '.join(missing)} — run `bash benchmarks/run` "
            "(or bash scripts/dev-env && bash benchmarks/setup)"
        )

    # Byte-compile azxfer as an installed package would be: with PYTHONDONTWRITEBYTECODE set
    # (as in some shells and containers), every run would compile it from source again.
    for checkout in [ROOT, *([BASELINE] if BASELINE else [])]:
        subprocess.run([str(PY), "-m", "compileall", "-q", str(checkout / "azxfer")], check=True)
    base = Path(tempfile.mkdtemp(prefix="azxfer-bench-", dir=a.workdir))
    started = dt.datetime.now(dt.UTC)
    runs: list[Run] = []
    try:
        print(f"scratch: {base}\ngenerating data…", flush=True)
        small, large = make_data(base, sizes)
        for w in workloads:
            runs += run_workload(w, tools, a.reps, base, small, large, a.timeout, a.pause, a.warmup)
    finally:
        if not a.keep:
            shutil.rmtree(base, ignore_errors=True)

    rows = summarize(runs, workloads, tools)
    rat = ratios(rows, workloads)
    base_rat = ratios(rows, workloads, "base") if BASELINE is not None else None
    table = render(rows, rat, base_rat)
    command = "bash benchmarks/run " + " ".join(argv if argv is not None else sys.argv[1:])
    fails = failures(runs)
    print(f"\n{started:%Y-%m-%d} `{command.strip()}`\n\n{table}\n")
    if fails:
        print(f"Runs that were not ok:\n{fails}\n")
    RESULTS.mkdir(exist_ok=True)
    out = a.output or RESULTS / f"bench-{started:%Y%m%d-%H%M%S}{'-quick' if a.quick else ''}.json"
    out.write_text(
        json.dumps(
            {
                "started": started.isoformat(),
                "finished": dt.datetime.now(dt.UTC).isoformat(),
                "command": command.strip(),
                "sizes": sizes.__dict__,
                "reps": a.reps,
                "concurrency": CONCURRENCY,
                "versions": versions(),
                "summary": rows,
                "ratios": rat,
                "baseline": str(BASELINE) if BASELINE is not None else None,
                "baseline_ratios": base_rat,
                "table_markdown": table,
                "failures": fails,
                "runs": [r.__dict__ for r in runs],
            },
            indent=2,
        )
    )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
