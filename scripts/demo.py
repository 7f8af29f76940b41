#!/usr/bin/env python3
"""End-to-end demo of azxfer against a local Azurite blob emulator.

1. starts Azurite (node_modules/.bin/azurite, in memory) on free loopback ports;
2. writes a sample folder: a 3-level tree of small text files, a few 1-3 MiB binary
   files, one ~20 MiB file and an empty file;
3. uploads it with `azxfer copy SAMPLE http://127.0.0.1:PORT/devstoreaccount1/demo
   --recursive`, then downloads the container again with `azxfer copy URL DOWNLOAD
   --recursive`, showing the CLI's own progress display;
4. compares every file byte for byte;
5. always stops the emulator and removes its temp folders, also on Ctrl-C or error.

Run it through scripts/demo, which prepares .venv and node_modules first.
Exit status: 0 verified identical, 1 a step failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AZURITE = ROOT / "node_modules" / ".bin" / "azurite"
ACCOUNT = "devstoreaccount1"
# Azurite's well-known development account key (public, documented by Microsoft; the
# same as EMULATOR_ACCOUNT_KEY in node_modules/azurite/dist/src/common/utils/constants.js).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
CONTAINER = "demo"
MARKER = "AZXFER-DEMO-ROOT.txt"  # a top-level sample file; finds the tree after download
STARTUP_TIMEOUT = 30.0
MIB = 1024 * 1024


class DemoError(Exception):
    """A step failed; the message is the one-line reason shown to the user."""


def say(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr, flush=True)


# --- the emulator -----------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """`count` distinct free TCP ports on 127.0.0.1 (held open together while choosing)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


class Azurite:
    """The emulator as a child in its own process group, so it can be killed whole."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.blob_port, self.queue_port, self.table_port = free_ports(3)
        self.log_path = workdir / "azurite.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def container_url(self) -> str:
        return f"http://127.0.0.1:{self.blob_port}/{ACCOUNT}/{CONTAINER}"

    def start(self) -> None:
        if not os.access(AZURITE, os.X_OK):
            raise DemoError(f"{AZURITE} not found: run 'npm ci' (scripts/dev-env does)")
        argv = [
            str(AZURITE),
            "--silent",
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--loose",
            "--blobHost", "127.0.0.1",
            "--blobPort", str(self.blob_port),
            "--queuePort", str(self.queue_port),
            "--tablePort", str(self.table_port),
        ]  # fmt: skip
        say(f"starting Azurite on 127.0.0.1:{self.blob_port} (blob)")
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: no terminal Ctrl-C, killpg later
                # only the default devstoreaccount1, with its well-known key
                env={k: v for k, v in os.environ.items() if k != "AZURITE_ACCOUNTS"},
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise DemoError(
                    f"Azurite exited with status {self.proc.returncode} while starting: "
                    f"{self.log_tail()}"
                )
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.blob_port), timeout=1).close()
                return
            if time.monotonic() > deadline:
                raise DemoError(
                    f"Azurite did not accept connections on port {self.blob_port} within "
                    f"{STARTUP_TIMEOUT:.0f} s: {self.log_tail()}"
                )
            time.sleep(0.2)

    def log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no output)"
        return " | ".join(lines[-3:]) or "(no output)"

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Reap anything else left in the group (npm/node may fork helpers).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        say("stopped Azurite")


# --- the sample data --------------------------------------------------------------------


WORDS = (
    "azure", "blob", "block", "page", "append", "container", "account", "share", "table",
    "queue", "tier", "hot", "cool", "archive", "resume", "verify", "checksum", "transfer",
    "parallel", "chunk", "journal", "retry", "throttle",
)  # fmt: skip


def make_sample(root: Path, big_mib: int) -> None:
    """A deterministic tree: 50 text files in 3 levels, binaries, a big and an empty file."""
    rng = random.Random(20240601)

    def text(n_lines: int) -> bytes:
        lines = (" ".join(rng.choices(WORDS, k=rng.randint(4, 14))) for _ in range(n_lines))
        return ("\n".join(lines) + "\n").encode()

    layout = {
        Path("."): 10,
        Path("docs"): 8,
        Path("docs/guides"): 6,
        Path("docs/guides/advanced"): 5,
        Path("logs"): 6,
        Path("logs/2024"): 6,
        Path("logs/2024/06"): 8,
    }
    for folder, count in layout.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            (root / folder / f"note-{i:02d}.txt").write_bytes(text(rng.randint(1, 60)))
    (root / MARKER).write_bytes(b"the root of the azxfer demo sample\n")
    (root / "docs" / "read me (spaces).txt").write_bytes(text(5))

    (root / "data").mkdir()
    for i, size in enumerate((1 * MIB, 2 * MIB + 12345, 3 * MIB - 1)):
        (root / "data" / f"blob-{i}.bin").write_bytes(rng.randbytes(size))
    if big_mib > 0:
        (root / "data" / "big.bin").write_bytes(rng.randbytes(big_mib * MIB + 777))
    (root / "data" / "empty.dat").write_bytes(b"")


def files_under(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


# --- running the CLI and checking -------------------------------------------------------


def azxfer(args: list[str], env_extra: dict[str, str]) -> None:
    argv = [sys.executable, "-m", "azxfer", *args]
    say("$ azxfer " + " ".join(args))
    env = {**os.environ, **env_extra}
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode == 130 or proc.returncode == -signal.SIGINT:
        raise KeyboardInterrupt
    if proc.returncode != 0:
        raise DemoError(f"'azxfer {args[0]}' exited with status {proc.returncode}")


def same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            ca, cb = fa.read(MIB), fb.read(MIB)
            if ca != cb:
                return False
            if not ca:
                return True


def find_download_root(download: Path) -> Path:
    """Where the sample's root landed (the CLI may nest it under container/folder names)."""
    hits = sorted(download.rglob(MARKER), key=lambda p: len(p.parts))
    if not hits:
        raise DemoError(f"the download has no {MARKER}: nothing or the wrong data came back")
    return hits[0].parent


def verify(sample: Path, download: Path) -> tuple[int, int]:
    root = find_download_root(download)
    want, got = files_under(sample), files_under(root)
    problems = [f"missing {name}" for name in sorted(want.keys() - got.keys())]
    problems += [f"unexpected {name}" for name in sorted(got.keys() - want.keys())]
    problems += [
        f"content differs: {name}"
        for name in sorted(want.keys() & got.keys())
        if not same_bytes(want[name], got[name])
    ]
    outside = len(files_under(download)) - len(got)
    if outside:
        problems.append(f"{outside} unexpected file(s) outside {root.relative_to(download)}")
    if problems:
        shown = "; ".join(problems[:8]) + (
            f"; ... {len(problems) - 8} more" if len(problems) > 8 else ""
        )
        raise DemoError(f"{len(problems)} difference(s): {shown}")
    return len(want), sum(p.stat().st_size for p in want.values())


# --- main -------------------------------------------------------------------------------


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(big_mib: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="azxfer-demo-"))
    emulator = Azurite(workdir)
    try:
        emulator.start()
        sample, download = workdir / "sample", workdir / "download"
        sample.mkdir()
        download.mkdir()
        make_sample(sample, big_mib)
        files = files_under(sample)
        size = sum(p.stat().st_size for p in files.values())
        say(f"created sample folder: {len(files)} files, {size:,} bytes in {sample}")

        azxfer(
            ["copy", str(sample), emulator.container_url, "--recursive"],
            {"AZXFER_DEST_KEY": ACCOUNT_KEY, "AZXFER_JOB_DIR": str(workdir / "jobs")},
        )
        azxfer(
            ["copy", emulator.container_url, str(download), "--recursive"],
            {"AZXFER_SOURCE_KEY": ACCOUNT_KEY, "AZXFER_JOB_DIR": str(workdir / "jobs")},
        )
        count, total = verify(sample, download)
        print(f"verified {count} files, {total:,} bytes: identical", flush=True)
    finally:
        # Cleanup must not be cut short by a second Ctrl-C.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            emulator.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        finally:
            signal.signal(signal.SIGINT, previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Upload a sample folder to Azurite with azxfer, download it, verify it."
    )
    parser.add_argument(
        "--big-mib",
        type=int,
        default=20,
        metavar="N",
        help="size of the one large file in MiB (default: 20; 0 leaves it out)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)
    try:
        run(args.big_mib)
    except KeyboardInterrupt:
        say("interrupted; emulator stopped and temp files removed")
        return 130
    except DemoError as exc:
        say(f"failed: {exc}")
        return 1
    except OSError as exc:
        say(f"failed: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
