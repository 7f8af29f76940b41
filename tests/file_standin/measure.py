"""Measure the stand-in's own cost: PYTHONPATH=tests .venv/bin/python -m file_standin.measure

Starts `python -m file_standin` in its own process, drives it with SharedKey-signed aiohttp
requests (the benchmark's shapes: 2,000 files x Create + 4 KiB Put Range + Set Properties, and
a 256 MiB file in 4 MiB ranges up and down), and prints wall rates and the server's CPU time
(from /proc), so one can tell whether the server or the client is the bottleneck.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from email.utils import formatdate
from pathlib import Path

import aiohttp
from storage_auth import parse_query, shared_key_string_to_sign, sign

from .server import WELL_KNOWN_ACCOUNT, WELL_KNOWN_KEY

FILES = 2000
SMALL = 4096
RANGE = 4 * 1024 * 1024
BIG = 256 * 1024 * 1024
TESTS_DIR = Path(__file__).resolve().parent.parent


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Client:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base

    def headers(self, method: str, path: str, query: str, extra: dict[str, str]):
        sent = {"x-ms-version": "2025-05-05", "x-ms-date": formatdate(usegmt=True), **extra}
        lowered = {k.lower(): v for k, v in sent.items()}
        to_sign = shared_key_string_to_sign(
            method, lowered, WELL_KNOWN_ACCOUNT, path, parse_query(query)
        )
        signature = sign(WELL_KNOWN_KEY, to_sign)
        sent["Authorization"] = f"SharedKey {WELL_KNOWN_ACCOUNT}:{signature}"
        return sent

    async def send(self, method, path, query="", extra=None, body=None) -> int:
        extra = dict(extra or {})
        if body is not None:
            extra["Content-Length"] = str(len(body))
        url = self.base + path + (f"?{query}" if query else "")
        headers = self.headers(method, path, query, extra)
        async with self.session.request(method, url, headers=headers, data=body) as response:
            size = len(await response.read())
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status}")
            return size


async def _measure(base: str, pid: int) -> None:
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(
        connector=connector, skip_auto_headers=("Content-Type",)
    ) as session:
        client = _Client(session, base)
        root = f"/{WELL_KNOWN_ACCOUNT}/measure"
        await client.send("PUT", root, "restype=share")
        await client.send("PUT", f"{root}/d", "restype=directory")
        small = os.urandom(SMALL)
        gate = asyncio.Semaphore(32)

        async def one_file(i: int) -> None:
            async with gate:
                path = f"{root}/d/f{i}"
                create = {"x-ms-type": "file", "x-ms-content-length": str(SMALL)}
                await client.send("PUT", path, "", create)
                write = {"x-ms-write": "update", "x-ms-range": f"bytes=0-{SMALL - 1}"}
                await client.send("PUT", path, "comp=range", write, small)
                await client.send("PUT", path, "comp=properties", {"x-ms-content-type": "a/b"})

        await _timed("small files", pid, 3 * FILES, "requests", one_file, range(FILES))
        data = os.urandom(RANGE)
        big = f"{root}/big"
        await client.send("PUT", big, "", {"x-ms-type": "file", "x-ms-content-length": str(BIG)})
        ranges = range(BIG // RANGE)
        wide = asyncio.Semaphore(8)

        async def put(i: int) -> None:
            async with wide:
                span = {
                    "x-ms-write": "update",
                    "x-ms-range": f"bytes={i * RANGE}-{(i + 1) * RANGE - 1}",
                }
                await client.send("PUT", big, "comp=range", span, data)

        async def get(i: int) -> None:
            async with wide:
                span = {"x-ms-range": f"bytes={i * RANGE}-{(i + 1) * RANGE - 1}"}
                await client.send("GET", big, "", span)

        await _timed("256 MiB up", pid, BIG // 2**20, "MiB", put, ranges)
        await _timed("256 MiB down", pid, BIG // 2**20, "MiB", get, ranges)


async def _timed(label, pid, amount, unit, work, items) -> None:
    cpu, start = _cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(*(work(i) for i in items))
    wall, used = time.perf_counter() - start, _cpu_seconds(pid) - cpu
    print(
        f"{label}: {amount / wall:.0f} {unit}/s wall; server CPU {used:.2f} s "
        f"= {amount / max(used, 1e-9):.0f} {unit} per server CPU-second"
    )


def main() -> int:
    env = {**os.environ, "PYTHONPATH": str(TESTS_DIR)}
    server = subprocess.Popen(
        [sys.executable, "-m", "file_standin"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        base = server.stdout.readline().split()[-1]
        asyncio.run(_measure(base, server.pid))
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
