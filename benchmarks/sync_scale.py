"""`azxfer sync` at scale: a local tree of N small files (default 200,000) onto a fresh Azurite.

Steps, each one `azxfer sync SRC URL` measured through `_launch.py` (wall time, CPU and the
peak RSS of that child from os.wait4, as benchmarks/run.py does):

1. `seed`        — the first sync into an empty container (uploads all N files);
2. `noop`        — the same sync again: nothing to copy;
3. `changed-1pct`— after rewriting 1 % of the files (new content, new size);
4. `md5-cold`    — `--compare-hash md5` with the hash cache deleted first: every file is read
                   and hashed (and the MD5s stored in the cache);
5. `md5-warm`    — the same again: every MD5 comes from the hash cache, no file is read.

Each step checks the summary line azxfer prints (copied / identical counts); a step whose
counts are wrong is marked invalid. Results: a table on stdout and JSON in
benchmarks/results/sync-scale-<UTC timestamp>.json.

    .venv/bin/python benchmarks/sync_scale.py [--files N] [--steps seed,noop,...] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as bench  # noqa: E402  (Azurite, measure, paths and the emulator key)

STEPS = ["seed", "noop", "changed-1pct", "md5-cold", "md5-warm"]
SUMMARY = re.compile(r"Sync: (\d+) copied, (\d+) deleted, (\d+) identical, (\d+) failed")
FILES_PER_DIR = 100
DIRS_PER_TOP = 10


class Emulator(bench.Azurite):
    """run.py's fresh in-memory Azurite, started with --disableTelemetry (it makes no outside
    connections then) and a larger Node heap (200,000 blobs take > 1 GB of it)."""

    def __init__(self, work: Path, heap_mb: int = 8192) -> None:
        super().__init__(work, env=dict(os.environ, NODE_OPTIONS=f"--max-old-space-size={heap_mb}"))


def make_tree(root: Path, files: int) -> None:
    """top-NNNN/sub-N/f-NN.txt: 100 files per folder, 10 folders per top folder, a few bytes
    each (os.open/os.write: no buffered file objects)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    folder = None
    for i in range(files):
        top, sub = divmod(i // FILES_PER_DIR, DIRS_PER_TOP)
        if i % FILES_PER_DIR == 0:
            folder = root / f"top-{top:04d}" / f"sub-{sub}"
            folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(f"{folder}/f-{i % FILES_PER_DIR:02d}.txt", flags, 0o644)
        try:
            os.write(fd, b"%d\n" % i)
        finally:
            os.close(fd)


def change_one_percent(root: Path, files: int) -> int:
    """Rewrite every 100th file with longer content (its size changes); returns how many."""
    changed = 0
    for i in range(0, files, 100):
        top, sub = divmod(i // FILES_PER_DIR, DIRS_PER_TOP)
        path = root / f"top-{top:04d}" / f"sub-{sub}" / f"f-{i % FILES_PER_DIR:02d}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, b"%d changed\n" % i)
        finally:
            os.close(fd)
        changed += 1
    return changed


def folder_bytes(path: Path) -> int:
    """Bytes of the files directly in `path` (journals, hash cache and their WAL files)."""
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file()) if path.is_dir() else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--files", type=int, default=200_000, help="files in the tree (200000)")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"subset of {','.join(STEPS)}")
    ap.add_argument("--timeout", type=float, default=7200, help="seconds per step (7200)")
    ap.add_argument("--workdir", type=Path, help="scratch parent (default: the temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--output", type=Path, help="results JSON (default benchmarks/results/…)")
    a = ap.parse_args(argv)
    steps = [s for s in a.steps.split(",") if s]
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise SystemExit(f"unknown steps: {', '.join(sorted(unknown))}")
    for needed in (bench.PY, bench.AZURITE):
        if not needed.exists():
            raise SystemExit(f"missing {needed}: run `bash scripts/dev-env` first")

    base = Path(tempfile.mkdtemp(prefix="azxfer-sync-scale-", dir=a.workdir))
    src, jobs = base / "src", base / "jobs"
    started = dt.datetime.now(dt.UTC)
    results: list[dict] = []
    az = None
    try:
        print(f"scratch: {base}\ncreating {a.files} files…", flush=True)
        t0 = time.perf_counter()
        make_tree(src, a.files)
        made = time.perf_counter() - t0
        print(f"  {made:.1f} s", flush=True)
        az = Emulator(base)
        az.create("sync")
        url = az.container_url("sync")
        env = dict(os.environ)
        env.update(
            {
                "AZXFER_DEST_KEY": bench.KEY,
                "AZXFER_JOB_DIR": str(jobs),
                "PYTHONPATH": str(bench.ROOT),
            }
        )
        env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
        changed = a.files // 100 if a.files % 100 == 0 else len(range(0, a.files, 100))
        for step in STEPS:
            if step not in steps:
                continue
            extra: list[str] = []
            expect_copied = 0
            if step == "seed":
                expect_copied = a.files
            elif step == "changed-1pct":
                changed = change_one_percent(src, a.files)
                expect_copied = changed
            elif step.startswith("md5"):
                extra = ["--compare-hash", "md5"]
                if step == "md5-cold":
                    for suffix in ("", "-wal", "-shm"):
                        (jobs / f"hash-cache.sqlite{suffix}").unlink(missing_ok=True)
            cmd = [str(bench.PY), "-m", "azxfer", "sync", str(src), url, *extra]
            log = base / f"{step}.log"
            cpu_before = az.cpu_seconds()
            jobs_before = folder_bytes(jobs)
            print(f"{step}: {' '.join(cmd[2:])}", flush=True)
            m = bench.measure(cmd, env, log, a.timeout)
            m["emulator_cpu_s"] = az.cpu_seconds() - cpu_before
            text = log.read_text(errors="replace")
            found = SUMMARY.findall(text)
            hashed = re.findall(r"(\d+) hashed, (\d+) from the cache", text)
            copied, _deleted, identical, failed = map(int, found[-1]) if found else (-1,) * 4
            ok = (
                m["exit_code"] == 0
                and copied == expect_copied
                and identical == a.files - expect_copied
                and failed == 0
            )
            status = "ok" if ok else ("timeout" if m.get("timed_out") else "invalid")
            row = {
                "step": step,
                "status": status,
                "files": a.files,
                "copied": copied,
                "identical": identical,
                "failed": failed,
                "hashed": int(hashed[-1][0]) if hashed else None,
                "hashes_cached": int(hashed[-1][1]) if hashed else None,
                "expected_copied": expect_copied,
                "job_dir_mb": round(folder_bytes(jobs) / 2**20, 1),
                "job_dir_growth_mb": round((folder_bytes(jobs) - jobs_before) / 2**20, 1),
                "emulator_rss_mb": round(az.rss_mb(), 1),
                **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in m.items()},
            }
            if status != "ok":
                row["detail"] = bench.tail(log)
            results.append(row)
            print(
                f"  {status}: wall {m['wall_s']:.1f} s, CPU {m.get('cpu_s') or 0:.1f} s, "
                f"peak RSS {m.get('peak_rss_mb') or 0:.0f} MB, copied {copied}, "
                f"identical {identical}, hashed {row['hashed']}",
                flush=True,
            )
            if step == "seed" and ok:
                blobs = len(az.inventory("sync"))
                row["blobs_after"] = blobs
                if blobs != a.files:
                    row["status"] = "invalid"
                    row["detail"] = f"{blobs} blobs after the seed, not {a.files}"
                    print(f"  {row['detail']}", flush=True)
    finally:
        if az is not None:
            az.stop()
        if not a.keep:
            shutil.rmtree(base, ignore_errors=True)

    table = render(results)
    print(f"\n{table}\n")
    bench.RESULTS.mkdir(exist_ok=True)
    out = a.output or bench.RESULTS / f"sync-scale-{started:%Y%m%d-%H%M%S}.json"
    out.write_text(
        json.dumps(
            {
                "started": started.isoformat(),
                "finished": dt.datetime.now(dt.UTC).isoformat(),
                "command": "benchmarks/sync_scale.py " + " ".join(sys.argv[1:]),
                "files": a.files,
                "tree_seconds": round(made, 1),
                "versions": bench.versions(),
                "steps": results,
                "table_markdown": table,
            },
            indent=2,
        )
    )
    print(f"results: {out}")
    return 0 if all(r["status"] == "ok" for r in results) else 1


def render(rows: list[dict]) -> str:
    head = (
        "| step | status | wall s | CPU s | peak RSS MB | copied | identical | MD5s hashed "
        "| MD5s from cache | job dir +MB | emulator CPU s |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:

        def num(key: str, spec: str = ".1f", row: dict = r) -> str:
            value = row.get(key)
            return "—" if value is None else format(value, spec)

        lines.append(
            f"| {r['step']} | {r['status']} | {num('wall_s')} | {num('cpu_s')} | "
            f"{num('peak_rss_mb', '.0f')} | {r['copied']} | {r['identical']} | "
            f"{num('hashed', 'd')} | {num('hashes_cached', 'd')} | {num('job_dir_growth_mb')} | "
            f"{num('emulator_cpu_s')} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
