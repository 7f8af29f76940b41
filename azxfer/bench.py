"""`azxfer bench`: upload then download synthetic data to a container and report the speed.

Like AzCopy's `bench`, it measures this machine, this network and this account with the same
engine `copy` uses, and removes everything it wrote.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from msgspec import Struct

from azxfer.client import JobResult, JobSpec, copy, new_job_id
from azxfer.endpoints.factory import JobConnections, endpoint_for
from azxfer.errors import AzxferError
from azxfer.events import EventSink
from azxfer.locations import Location, Service
from azxfer.options import CheckMd5, CopyOptions, EngineSettings
from azxfer.plan.filters import EntryFilter
from azxfer.transport.proxy import proxy_settings

# Random data is generated in pieces of this size and repeated, so making a big data set
# costs disk writes, not CPU.
_PATTERN = 4 * 1024 * 1024


class PhaseResult(Struct, frozen=True):
    """The figures of one direction."""

    phase: str
    status: str
    files: int
    bytes: int
    seconds: float
    effective_concurrency: float

    @property
    def mib_per_second(self) -> float:
        """Throughput in MiB/s."""
        return self.bytes / 1048576 / self.seconds if self.seconds > 0 else 0.0

    @property
    def files_per_second(self) -> float:
        """Files per second."""
        return self.files / self.seconds if self.seconds > 0 else 0.0


class BenchSettings(Struct, frozen=True):
    """What to generate and how to move it."""

    target: Location
    credential: object
    file_count: int
    file_size: int
    engine: EngineSettings
    keep: bool = False
    env: dict[str, str] = {}  # the environment the jobs run in (their proxies)
    cap_mbps: float | None = None  # the bandwidth cap of both phases (--cap-mbps)


def check_environment(env: Mapping[str, str]) -> None:
    """Raise UsageError for what in `env` no job could use: an unusable proxy variable."""
    proxy_settings(env)


def run_bench(settings: BenchSettings, sink: EventSink) -> list[PhaseResult]:
    """Generate data, upload it, download it (MD5-verified), clean up; the two phases' figures."""
    if settings.target.service is not Service.BLOB or settings.target.is_local:
        raise AzxferError("bench needs a Blob container URL as its target")
    bench_id = new_job_id()[:8]
    prefix = "/".join(p for p in (settings.target.path.strip("/"), f"azxfer-bench-{bench_id}") if p)
    remote = settings.target._replace(path=prefix)
    work = Path(tempfile.mkdtemp(prefix="azxfer-bench-"))
    try:
        source = work / "data"
        _generate(source, settings.file_count, settings.file_size)
        up = _phase(
            "upload",
            _options(settings, _local(source), remote._replace(path=prefix)),
            settings,
            sink,
        )
        down = _phase(
            "download",
            _options(settings, remote._replace(path=prefix + "/"), _local(work / "down")),
            settings,
            sink,
        )
        return [up, down]
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not settings.keep:
            asyncio.run(_delete_prefix(remote, settings, prefix + "/"))


def _local(path: Path) -> Location:
    return Location(Service.LOCAL, str(path), local_path=str(path))


def _options(settings: BenchSettings, source: Location, dest: Location) -> CopyOptions:
    remote_credential = settings.credential
    return CopyOptions(
        source=source,
        destination=dest,
        source_credential=None if source.is_local else remote_credential,  # type: ignore[arg-type]
        dest_credential=None if dest.is_local else remote_credential,  # type: ignore[arg-type]
        engine=settings.engine,
        recursive=True,
        as_subdir=False,
        check_md5=CheckMd5.FAIL_IF_DIFFERENT,
    )


def _phase(
    name: str, options: CopyOptions, settings: BenchSettings, sink: EventSink
) -> PhaseResult:
    spec = JobSpec(new_job_id(), command="bench", env=settings.env, cap_mbps=settings.cap_mbps)
    result: JobResult = copy(options, sink, None, spec)
    if result.error:
        raise AzxferError(f"bench {name} failed: {result.error}")
    totals = result.totals
    return PhaseResult(
        name,
        result.status,
        totals.files_completed,
        totals.bytes_done,
        result.elapsed,
        result.effective_concurrency,
    )


def _generate(folder: Path, count: int, size: int) -> None:
    """`count` files of `size` random bytes in folders of at most 1,000 files."""
    pattern = os.urandom(min(size, _PATTERN)) if size else b""
    for index in range(count):
        sub = folder / f"d{index // 1000:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        with open(sub / f"f{index:07d}.bin", "wb") as out:
            # A per-file header keeps files distinct; the rest repeats the random pattern.
            header = index.to_bytes(8, "big")[:size]
            out.write(header)
            left = size - len(header)
            while left > 0:
                piece = pattern[:left]
                out.write(piece)
                left -= len(piece)


async def _delete_prefix(remote: Location, settings: BenchSettings, prefix: str) -> None:
    """Delete every blob the bench wrote."""
    connections = JobConnections.for_job((remote,), settings.engine.concurrency, settings.env)
    try:
        endpoint = endpoint_for(
            remote._replace(path=prefix),
            settings.credential,  # type: ignore[arg-type]
            connections,
            new_job_id(),
        )
        selection = await endpoint.select(True, EntryFilter(_no_filters()), False)
        names = [item.ref async for item in selection.items]
        limit = asyncio.Semaphore(settings.engine.concurrency)

        async def delete(name: str) -> None:
            async with limit:
                await endpoint.delete(name)

        await asyncio.gather(*(delete(name) for name in names))
    finally:
        await connections.close()


def _no_filters():
    from azxfer.plan.filters import FilterSpec

    return FilterSpec()
