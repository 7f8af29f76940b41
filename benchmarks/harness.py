"""What every workload of the side-by-side benchmark shares, whichever service it targets.

Paths and tools, the deterministic test data (with a manifest of sizes and MD5s), a server
process measured from /proc (Azurite for Blob, the File REST stand-in for Files), one measured
run of a tool (through _launch.py) and its record, and the scratch context of a workload.
run.py drives Blob workloads and the report; files_workloads.py adds the Azure Files ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# A worktree without its own .venv runs with the interpreter that runs the benchmark.
PY = ROOT / ".venv" / "bin" / "python" if (ROOT / ".venv").exists() else Path(sys.executable)
LAUNCH = HERE / "_launch.py"

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONCURRENCY = 32  # requests in flight for every tool (azxfer's and AzCopy's default on 2 cores)

_AZCOPY_IN_NODE_MODULES = "node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64"


def find_azcopy() -> Path:
    """The pinned AzCopy binary: the project's own node_modules (the root package.json pins it
    for the File stand-in's interoperability tests) or benchmarks/node_modules (installed by
    benchmarks/setup); the first one that is executable, else where benchmarks/setup puts it."""
    candidates = [ROOT / _AZCOPY_IN_NODE_MODULES, HERE / _AZCOPY_IN_NODE_MODULES]
    for path in candidates:
        if path.exists() and os.access(path, os.X_OK):
            return path
    return candidates[1]


AZCOPY = find_azcopy()

# A downloaded tree of at least this many files is kept until the workload ends (Ctx).
MANY_FILES = 100


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
    # '/'-separated path below `path` -> (size, MD5 hex): what a verified copy must hold.
    manifest: dict[str, tuple[int, str]] = field(default_factory=dict, repr=False)


def make_data(work: Path, sizes: Sizes) -> tuple[DataSet, DataSet]:
    """Deterministic source trees: small/dNN/fNNN.bin and large/big-N.bin. All mtimes are set
    one day in the past, so a blob written afterwards is 'newer' for sync-style comparisons."""
    past = int(time.time()) - 86400
    small = DataSet(work / "src-small", sizes.small_files, sizes.small_files * sizes.small_bytes)
    for d in range(sizes.dirs):
        sub = small.path / f"d{d:02d}"
        sub.mkdir(parents=True)
        for f in range(sizes.files_per_dir):
            p = sub / f"f{f:03d}.bin"
            data = random.Random(f"{d}/{f}").randbytes(sizes.small_bytes)
            p.write_bytes(data)
            os.utime(p, (past, past))
            small.manifest[f"d{d:02d}/{p.name}"] = (len(data), hashlib.md5(data).hexdigest())
    large = DataSet(work / "src-large", sizes.large_count, sizes.large_count * sizes.large_bytes)
    large.path.mkdir()
    for i in range(sizes.large_count):
        p = large.path / f"big-{i}.bin"
        rng, md5 = random.Random(f"large-{i}"), hashlib.md5()
        with open(p, "wb") as f:
            left = sizes.large_bytes
            while left:
                n = min(left, 1 << 20)
                block = rng.randbytes(n)
                f.write(block)
                md5.update(block)
                left -= n
        os.utime(p, (past, past))
        large.manifest[p.name] = (sizes.large_bytes, md5.hexdigest())
    return small, large


def local_totals(root: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _d, names in os.walk(root):
        for n in names:
            files += 1
            size += os.path.getsize(os.path.join(dirpath, n))
    return files, size


def md5_of_file(path: Path) -> str:
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            md5.update(block)
    return md5.hexdigest()


def local_manifest(root: Path) -> dict[str, tuple[int, str]]:
    """'/'-separated path -> (size, MD5 hex) of every file under root."""
    out = {}
    for dirpath, _d, names in os.walk(root):
        for n in names:
            path = Path(dirpath) / n
            out[path.relative_to(root).as_posix()] = (path.stat().st_size, md5_of_file(path))
    return out


def compare_manifest(
    got: dict[str, tuple[int, str]], want: DataSet, subdir: str
) -> tuple[bool, str, int, int]:
    """Verify a copied tree against the source's manifest: the same paths, sizes and MD5s,
    either at the destination's root or under one folder `subdir` (where a tool that places a
    folder source under its own name puts it, as AzCopy and azxfer do by default)."""
    prefix = f"{subdir}/"
    if got and all(name.startswith(prefix) for name in got):
        got = {name[len(prefix) :]: v for name, v in got.items()}
    files, size = len(got), sum(s for s, _ in got.values())
    if got == want.manifest:
        return True, "", files, size
    missing = want.manifest.keys() - got.keys()
    extra = got.keys() - want.manifest.keys()
    wrong = sorted(k for k in got.keys() & want.manifest.keys() if got[k] != want.manifest[k])
    why = f"want {want.files} files/{want.bytes} B: {len(missing)} missing, {len(extra)} extra"
    why += f", {len(wrong)} with other size or MD5"
    for label, names in (("missing", missing), ("extra", extra), ("differs", wrong)):
        if names:
            why += f"; first {label}: {sorted(names)[0]}"
    return False, why, files, size


# --------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------
def free_port(consecutive: int = 1) -> int:
    """A free loopback port P such that P .. P+consecutive-1 are all free."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p > 65535 - consecutive:
            continue
        try:
            for q in range(p, p + consecutive):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", q))
            return p
        except OSError:
            continue
    raise RuntimeError(f"no {consecutive} consecutive free ports")


class ServerProcess:
    """A local storage server in its own process group, measured from /proc: the CPU it
    spends and how its main thread (where its event loop runs) was scheduled."""

    name = "server"

    def __init__(self, cmd: list[str], port: int, log: Path, env: dict[str, str] | None = None):
        self.port = port
        self.log = open(log, "wb")  # noqa: SIM115  (closed in stop)
        self.proc = subprocess.Popen(
            cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                self.log.close()
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}: {tail(log, 400)}"
                )
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not start within 60 s")
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """user+sys CPU of the server process so far (from /proc)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def main_thread(self) -> tuple[float, float]:
        """Seconds the server's main thread (the one its event loop runs on) has spent on a
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
    # The server the tool talked to: "azurite" (Blob) or "file-standin" (Files), and the CPU
    # seconds it spent during the run. (Results before the Files workloads called these
    # fields emulator_*; they were Azurite's.)
    server: str = ""
    server_cpu_s: float | None = None
    # Shares of the wall time the server's main thread ran, and waited for a core:
    # what is left of 100 % is the time it had nothing to do.
    server_running: float | None = None
    server_waiting: float | None = None
    files: int | None = None
    bytes: int | None = None
    # Table workloads: the entities the destination was verified to hold.
    entities: int | None = None
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


def redact(arg: str) -> str:
    return arg.split("?", 1)[0] + "?<SAS>" if "sig=" in arg else arg


def azcopy_cmd(*args: str) -> list[str]:
    return [str(AZCOPY), *args, "--log-level", "ERROR"]


def azxfer_cmd(*args: str) -> list[str]:
    return [str(PY), "-m", "azxfer", *args]


def rclone_conf(work: Path, blob_url: str) -> Path:
    """rclone's remote `az:` for an Azurite Blob endpoint (the emulator's account and key)."""
    conf = work / "rclone.conf"
    conf.write_text(
        "[az]\ntype = azureblob\n"
        f"account = {ACCOUNT}\nkey = {KEY}\nuse_emulator = true\n"
        f"endpoint = {blob_url}\n"
    )
    return conf


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


def stdout_to(path: Path) -> list[str]:
    """The prefix of a step's command that makes _launch.py send the tool's stdout to `path`
    (its stderr still goes to the run's log): for tools whose output is what is verified."""
    return ["--stdout", str(path)]


# --------------------------------------------------------------------------------------
# A workload's scratch state
# --------------------------------------------------------------------------------------
@dataclass
class Ctx:
    server: Any  # run.Azurite or files_workloads.FileStandIn
    work: Path
    small: DataSet
    large: DataSet
    rclone_conf: Path | None = None
    run_no: int = 0
    # Local trees of many files the runs wrote, deleted when the workload ends, not after each
    # run: on this VM's ext4 (no journal) a file created within ~30 s of thousands of deletions
    # in the same block group makes the allocator scan past every recently deleted inode
    # (`recently_deleted` in perf), which cost the next run 20-40 % of its CPU, whichever tool
    # it was. A tree of a few large files is still deleted at once: it frees few inodes, and
    # kept, its gigabytes of dirty pages would be written back during the later runs. The
    # server's containers / shares are deleted after each run.
    local_outputs: list[Path] = field(default_factory=list)

    def next_run(self) -> int:
        self.run_no += 1
        return self.run_no


# (ok, why, files, bytes), or for a Table workload (ok, why, files, bytes, entities).
Verify = Callable[[], tuple[bool, str, int, int] | tuple[bool, str, int, int, int]]
# A step is: (cmd, env_extra, verify), or the reason the tool cannot run the workload.
Step = tuple[list[str], dict[str, str], Verify]


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
    # A caller's connection string would change what the tools talk to: its FileEndpoint makes
    # azxfer read a path-style URL on that host as Files, and its key would be used instead.
    for k in (
        "AZXFER_CONCURRENCY",
        "RCLONE_CONFIG",
        "PYTHONDONTWRITEBYTECODE",
        "AZURE_STORAGE_CONNECTION_STRING",
    ):
        env.pop(k, None)
    return env
