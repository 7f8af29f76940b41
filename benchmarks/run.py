"""Side-by-side benchmark of azxfer against AzCopy v10, rclone and a bare-SDK script.

Each workload gets a fresh server: an in-memory Azurite for Blob, the File REST stand-in for
the Azure Files workloads (files_workloads.py). The tools run as subprocesses, alternating
(A B C D A B C D ...) for --reps repetitions, and every run starts from the same state. Each
run is measured (wall time, child CPU user+sys and peak RSS from os.wait4, plus the server's
CPU during the run and the shares of it that the server's main thread ran and waited for a
core) and verified (Blob: file count and total bytes; Files: every path, size and MD5).

Run it through `bash benchmarks/run [options]` (it prepares .venv, node_modules and the peers).
Results: a table on stdout and every raw run in benchmarks/results/bench-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bare_sdk
import files_workloads
import table_workloads
import toolbox_files
import toolbox_workloads
from azure.storage.blob import (
    AccountSasPermissions,
    BlobServiceClient,
    ResourceTypes,
    generate_account_sas,
)
from harness import (
    ACCOUNT,
    AZCOPY,
    CONCURRENCY,
    FULL,
    HERE,
    KEY,
    MANY_FILES,
    PY,
    QUICK,
    ROOT,
    Ctx,
    DataSet,
    Run,
    ServerProcess,
    Step,
    azcopy_cmd,
    free_port,
    local_totals,
    make_data,
    measure,
    rclone_cmd,
    rclone_conf,
    redact,
    tail,
    tool_env,
)

AZURITE = ROOT / "node_modules" / ".bin" / "azurite"
BARE_SDK = HERE / "bare_sdk.py"
RESULTS = HERE / "results"

TOOLS = ["azxfer", "azcopy", "rclone", "sdk"]
# `--baseline DIR` adds the tool "base": azxfer run from another checkout (e.g. a `git worktree`
# of the last commit), so a change can be measured against its baseline in the same
# alternating run. BASELINE is set from the option.
BASELINE: Path | None = None
BLOB_WORKLOADS = [
    "up-small",
    "up-large",
    "down-small",
    "down-large",
    "blob2blob-small",
    "sync-noop",
]
WORKLOADS = [
    *BLOB_WORKLOADS,
    *files_workloads.WORKLOADS,
    *table_workloads.WORKLOADS,
    *toolbox_workloads.WORKLOADS,
    *toolbox_files.WORKLOADS,
]
TOOLBOX = [*toolbox_workloads.WORKLOADS, *toolbox_files.WORKLOADS]
# Workloads that make their own data rather than reading the local trees make_data writes.
OWN_DATA = [*table_workloads.WORKLOADS, *TOOLBOX]
PEERS = ["azcopy", "rclone"]


# --------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------
class Azurite(ServerProcess):
    """A fresh in-memory Azurite in its own process group."""

    name = "azurite"

    def __init__(self, work: Path, env: dict[str, str] | None = None):
        p = free_port(3)
        self.url = f"http://127.0.0.1:{p}/{ACCOUNT}"
        cmd = [
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
        ]
        super().__init__(cmd, p, work / f"azurite-{p}.log", env)
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


# --------------------------------------------------------------------------------------
# Tools × workloads
# --------------------------------------------------------------------------------------
def verify_container(ctx: Ctx, name: str, want: DataSet):
    def check():
        inv = ctx.server.inventory(name)
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


def step_upload(ctx: Ctx, tool: str, data: DataSet, cleanups: list) -> Step:
    ctx.run_no += 1
    dst = f"up-{ctx.run_no:04d}"
    ctx.server.create(dst)  # AzCopy does not create it on Azurite; give every tool the same start
    cleanups.append(lambda: ctx.server.delete(dst))
    src = str(data.path)
    cmd = {
        "azxfer": [str(PY), "-m", "azxfer", "copy", src, ctx.server.container_url(dst), "-r"],
        "base": [str(PY), "-m", "azxfer", "copy", src, ctx.server.container_url(dst), "-r"],
        "azcopy": azcopy_cmd(
            "copy",
            src,
            ctx.server.container_url(dst, sas=True),
            "--recursive",
            "--from-to",
            "LocalBlob",
        ),
        "rclone": rclone_cmd(ctx, "copy", src, f"az:{dst}"),
        "sdk": [str(PY), str(BARE_SDK), "upload", src, ctx.server.url, dst],
    }[tool]
    return cmd, {}, verify_container(ctx, dst, data)


def step_download(ctx: Ctx, tool: str, data: DataSet, seed: str, cleanups: list) -> Step:
    ctx.run_no += 1
    dst = ctx.work / f"down-{ctx.run_no:04d}"
    dst.mkdir()
    if data.files >= MANY_FILES:
        ctx.local_outputs.append(dst)
    else:
        cleanups.append(lambda: shutil.rmtree(dst, ignore_errors=True))
    cmd = {
        "azxfer": [str(PY), "-m", "azxfer", "copy", ctx.server.container_url(seed), str(dst), "-r"],
        "base": [str(PY), "-m", "azxfer", "copy", ctx.server.container_url(seed), str(dst), "-r"],
        "azcopy": azcopy_cmd(
            "copy",
            ctx.server.container_url(seed, sas=True),
            str(dst),
            "--recursive",
            "--from-to",
            "BlobLocal",
        ),
        "rclone": rclone_cmd(ctx, "copy", f"az:{seed}", str(dst)),
        "sdk": [str(PY), str(BARE_SDK), "download", ctx.server.url, seed, str(dst)],
    }[tool]
    return cmd, {}, verify_dir(dst, data)


def step_blob2blob(ctx: Ctx, tool: str, data: DataSet, seed: str, cleanups: list) -> Step:
    ctx.run_no += 1
    dst = f"b2b-{ctx.run_no:04d}"
    ctx.server.create(dst)
    cleanups.append(lambda: ctx.server.delete(dst))
    cmd = {
        "azxfer": [
            str(PY),
            "-m",
            "azxfer",
            "copy",
            ctx.server.container_url(seed),
            ctx.server.container_url(dst),
            "-r",
        ],
        "base": [
            str(PY),
            "-m",
            "azxfer",
            "copy",
            ctx.server.container_url(seed),
            ctx.server.container_url(dst),
            "-r",
        ],
        "azcopy": azcopy_cmd(
            "copy",
            ctx.server.container_url(seed, sas=True),
            ctx.server.container_url(dst, sas=True),
            "--recursive",
            "--from-to",
            "BlobBlob",
        ),
        "rclone": rclone_cmd(ctx, "copy", f"az:{seed}", f"az:{dst}"),
        "sdk": [str(PY), str(BARE_SDK), "copy", ctx.server.url, seed, dst],
    }[tool]
    return cmd, {}, verify_container(ctx, dst, data)


def step_sync(ctx: Ctx, tool: str, data: DataSet, seed: str, cleanups: list) -> Step:
    src = str(data.path)
    azxfer_sync = [str(PY), "-m", "azxfer", "sync", src, ctx.server.container_url(seed)]
    cmd = {
        "azxfer": azxfer_sync,
        "base": azxfer_sync,
        "azcopy": azcopy_cmd(
            "sync",
            src,
            ctx.server.container_url(seed, sas=True),
            "--recursive",
            "--from-to",
            "LocalBlob",
        ),
        "rclone": rclone_cmd(ctx, "sync", src, f"az:{seed}"),
        "sdk": [str(PY), str(BARE_SDK), "sync", src, ctx.server.url, seed],
    }[tool]
    before = ctx.server.inventory(seed)

    def check():
        after = ctx.server.inventory(seed)
        files, size = len(after), sum(s for s, _ in after.values())
        if after != before:
            changed = sum(1 for k in after.keys() | before.keys() if after.get(k) != before.get(k))
            return False, f"not a no-op: {changed} blobs written", files, size
        ok = files == data.files and size == data.bytes
        return ok, "" if ok else f"want {data.files} files/{data.bytes} B", files, size

    return cmd, {}, check


def seed_container(ctx: Ctx, name: str, data: DataSet, mtime_metadata: bool = False) -> None:
    ctx.server.create(name)
    os.environ["AZXFER_KEY"] = KEY
    got = asyncio.run(
        bare_sdk.upload(str(data.path), ctx.server.url, name, mtime_metadata=mtime_metadata)
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


def blob_ctx(work: Path, small: DataSet, large: DataSet) -> Ctx:
    """A fresh Azurite for a Blob workload, and rclone's remote for it."""
    az = Azurite(work)
    return Ctx(az, work, small, large, rclone_conf(work, az.url))


def run_workload(
    name: str,
    tools: list[str],
    reps: int,
    base: Path,
    small: DataSet | None,
    large: DataSet | None,
    timeout: float,
    pause: float,
    warmup: int,
    table_sizes: table_workloads.TableSizes = table_workloads.FULL,
    toolbox_sizes: toolbox_workloads.ToolboxSizes = toolbox_workloads.FULL,
    files_toolbox_sizes: toolbox_files.FilesToolboxSizes = toolbox_files.FULL,
    rclone_files: str = "rclone",
) -> list[Run]:
    work = base / name
    work.mkdir()
    ctx, plan = workload_ctx(
        name, work, small, large, table_sizes, toolbox_sizes, files_toolbox_sizes, rclone_files
    )
    runs: list[Run] = []
    try:
        data, make_step = plan(name, ctx)
        env = tool_env(ctx)
        what = "entities" if name in table_workloads.WORKLOADS else "files"
        if name in toolbox_workloads.WORKLOADS:
            what = "blobs"
        print(
            f"\n== {name}: {data.files} {what}, {data.bytes / 2**20:.1f} MiB; "
            f"{ctx.server.name} on :{ctx.server.port}",
            flush=True,
        )
        # Rounds 1-warmup..0 are not measured: on small-file workloads the first run a fresh
        # emulator serves after seeding cost it up to twice the CPU of later ones, and that
        # always fell on the first tool of the first round (benchmarks/README.md, session 7).
        for rep in range(1 - warmup, reps + 1):
            for tool in round_order(name, tools, rep + warmup - 1):
                cleanups: list[Callable[[], None]] = []
                try:
                    step = make_step(tool, cleanups)
                    if isinstance(step, str):  # the reason this tool cannot run it
                        run = Run(name, tool, rep, "n/a", detail=step)
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
        ctx.server.stop()
        for path in ctx.local_outputs:
            shutil.rmtree(path, ignore_errors=True)
    return runs


def round_order(workload: str, tools: list[str], round_no: int) -> list[str]:
    """The tools' order in round `round_no` (0 = the first, warm-up or not). The toolbox
    workloads rotate it every round (A B C, B C A, C A B, ...): a slow drift within a round
    (Azurite's, or the machine's) then falls on every tool in turn, not always on the last.
    The others keep one order, as every earlier measurement in the README did."""
    if workload not in TOOLBOX:
        return tools
    k = round_no % len(tools)
    return tools[k:] + tools[:k]


def workload_ctx(
    name: str,
    work: Path,
    small: DataSet | None,
    large: DataSet | None,
    table_sizes: table_workloads.TableSizes,
    toolbox_sizes: toolbox_workloads.ToolboxSizes,
    files_toolbox_sizes: toolbox_files.FilesToolboxSizes,
    rclone_files: str,
) -> tuple[Ctx, Callable]:
    """A fresh server for the workload, and the plan function of its service."""
    if name in files_workloads.WORKLOADS:
        assert small is not None and large is not None
        return files_workloads.start(work, small, large), files_workloads.workload_plan
    if name in table_workloads.WORKLOADS:
        ctx = table_workloads.start(Azurite(work), work, table_sizes)
        return ctx, table_workloads.workload_plan
    if name in toolbox_workloads.WORKLOADS:
        ctx = toolbox_workloads.start(lambda: Azurite(work), work, toolbox_sizes)
        return ctx, toolbox_workloads.workload_plan
    if name in toolbox_files.WORKLOADS:
        ctx = toolbox_files.start(work, files_toolbox_sizes, rclone_files)
        return ctx, toolbox_files.workload_plan
    assert small is not None and large is not None
    return blob_ctx(work, small, large), workload_plan


def execute(
    ctx: Ctx, name: str, tool: str, rep: int, step: Step, env: dict[str, str], timeout: float
) -> Run:
    cmd, extra, verify = step
    log = ctx.work / f"{tool}-{rep}-{ctx.run_no:04d}.log"
    emu0, (ran0, waited0) = ctx.server.cpu_seconds(), ctx.server.main_thread()
    # `python -m azxfer` imports the package from its working directory.
    cwd = BASELINE if tool == "base" and BASELINE is not None else ROOT
    m = measure(cmd, {**env, **extra}, log, timeout, cwd)
    emu, (ran1, waited1) = ctx.server.cpu_seconds() - emu0, ctx.server.main_thread()
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
        server=ctx.server.name,
        server_cpu_s=emu,
        server_running=(ran1 - ran0) / m["wall_s"],
        server_waiting=(waited1 - waited0) / m["wall_s"],
        cmd=[redact(a) for a in cmd],
    )
    if m["timed_out"]:
        run.status, run.detail = "timeout", f"killed after {timeout:.0f} s; {tail(log)}"
        return run
    try:
        ok, why, run.files, run.bytes, *entities = verify()
        run.entities = entities[0] if entities else None
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


def describe(run: Run) -> str:
    if run.status == "n/a":
        return f"n/a ({run.detail})"
    s = (
        f"{run.status:7s} wall {fmt(run.wall_s, '7.2f')}s  cpu {fmt(run.cpu_s, '6.2f')}s  "
        f"rss {fmt(run.peak_rss_mb, '6.0f')} MB  "
        f"{run.server} cpu {fmt(run.server_cpu_s, '6.2f')}s  "
        f"its thread ran {percent(run.server_running)}, waited {percent(run.server_waiting)}"
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
            server = next((r.server for r in mine if r.server), "")
            row = {"workload": w, "tool": t, "server": server, "runs": len(mine), "ok": len(ok)}
            if all(r.status == "n/a" for r in mine):
                row["note"] = f"n/a ({mine[0].detail})"
            elif ok:
                row.update(
                    wall_s=statistics.median(r.wall_s for r in ok),
                    cpu_s=statistics.median(r.cpu_s for r in ok),
                    peak_rss_mb=max(r.peak_rss_mb for r in ok),
                    server_cpu_s=statistics.median(r.server_cpu_s for r in ok),
                    server_running=statistics.median(r.server_running for r in ok),
                    server_waiting=statistics.median(r.server_waiting for r in ok),
                    mib_s=statistics.median((r.bytes or 0) / 2**20 / r.wall_s for r in ok),
                )
                if all(r.entities is not None for r in ok):
                    row["entities_s"] = statistics.median(r.entities / r.wall_s for r in ok)
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
        "| MiB/s | entities/s | server | server CPU s | server thread ran / waited (% of wall) "
        "| azxfer ÷ best peer | azxfer ÷ bare SDK | note |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|---|---|",
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
                fmt(r.get("entities_s"), ".0f"),
                r["server"],
                fmt(r["server_cpu_s"], ".2f"),
                f"{percent(r['server_running'])} / {percent(r['server_waiting'])}",
            ]
        else:
            cells = ["—"] * 8
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
        "azure-storage-file-share": out(
            [str(PY), "-c", "import azure.storage.fileshare as f; print(f.__version__)"]
        ),
        "azure-data-tables": out(
            [str(PY), "-c", "import azure.data.tables as t; print(t.__version__)"]
        ),
        "azurite": out([str(AZURITE), "--version"]),
        "file-standin": "git "
        + out(["git", "log", "-1", "--format=%h", "--", "tests/file_standin"]),
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
        f"{QUICK.large_count} × {QUICK.large_bytes >> 20} MiB, "
        f"{table_workloads.QUICK.entities} entities, "
        f"{toolbox_workloads.QUICK.list_blobs} blobs to list, "
        f"{toolbox_workloads.QUICK.bulk_blobs} to remove or set the tier of, "
        f"{toolbox_files.QUICK.list_files} share files to list or remove",
    )
    ap.add_argument(
        "--bulk-blobs",
        type=int,
        help="blobs of remove-blobs and set-tier (a multiple of 1000; default "
        f"{toolbox_workloads.FULL.bulk_blobs}, --quick {toolbox_workloads.QUICK.bulk_blobs}): "
        "Azurite's time per delete grows with the blobs it holds",
    )
    ap.add_argument(
        "--rclone-files",
        default="rclone",
        help="the rclone of files-list and files-remove: one with the azurefiles backend "
        "(rclone >= 1.65; default `rclone` on PATH; without it rclone's rows say n/a)",
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
    table_sizes = table_workloads.QUICK if a.quick else table_workloads.FULL
    toolbox_sizes = toolbox_workloads.QUICK if a.quick else toolbox_workloads.FULL
    files_toolbox_sizes = toolbox_files.QUICK if a.quick else toolbox_files.FULL
    if a.bulk_blobs is not None:
        if a.bulk_blobs <= 0 or a.bulk_blobs % toolbox_workloads.LEAVES:
            raise SystemExit(f"--bulk-blobs: a positive multiple of {toolbox_workloads.LEAVES}")
        toolbox_sizes = dataclasses.replace(toolbox_sizes, bulk_blobs=a.bulk_blobs)

    missing = [str(p) for p in (PY, AZURITE) if not p.exists()]
    if (
        set(workloads) & {*files_workloads.WORKLOADS, *toolbox_files.WORKLOADS}
        and not files_workloads.STANDIN_PACKAGE.exists()
    ):
        missing.append(f"{files_workloads.STANDIN_PACKAGE} (the File REST stand-in)")
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
        small = large = None
        if set(workloads) - set(OWN_DATA):
            print(f"scratch: {base}\ngenerating data…", flush=True)
            small, large = make_data(base, sizes)
        for w in workloads:
            runs += run_workload(
                w,
                tools,
                a.reps,
                base,
                small,
                large,
                a.timeout,
                a.pause,
                a.warmup,
                table_sizes,
                toolbox_sizes,
                files_toolbox_sizes,
                a.rclone_files,
            )
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
                "table_sizes": table_sizes.__dict__,
                "toolbox_sizes": toolbox_sizes.__dict__,
                "files_toolbox_sizes": files_toolbox_sizes.__dict__,
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
