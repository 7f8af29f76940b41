"""Azure Files workloads of the side-by-side benchmark: azxfer against AzCopy v10 on the File
REST stand-in (tests/file_standin), the same data sets as the Blob workloads.

Each workload gets a fresh stand-in process (`python -m file_standin --port P` with
PYTHONPATH=tests, in its own process group); its CPU seconds and main-thread scheduling are
read from /proc before and after every run, as Azurite's are for Blob. Both tools talk to the
same stand-in: azxfer with the account key, AzCopy with an account SAS that the
azure-storage-file-share SDK mints. rclone 1.60 has no Azure Files backend and bare_sdk.py
covers Blob only, so those two are "n/a" here. Seeding and verification go through the SDK,
untimed: a run is ok only if the destination holds every source path with its size and MD5.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from azure.storage.fileshare import (
    AccountSasPermissions,
    ContentSettings,
    ResourceTypes,
    ShareServiceClient,
    generate_account_sas,
)
from azure.storage.fileshare.aio import ShareClient as AsyncShareClient
from azure.storage.fileshare.aio import ShareDirectoryClient as AsyncDirectoryClient
from harness import (
    ACCOUNT,
    CONCURRENCY,
    KEY,
    MANY_FILES,
    PY,
    ROOT,
    Ctx,
    DataSet,
    ServerProcess,
    Step,
    azcopy_cmd,
    azxfer_cmd,
    compare_manifest,
    free_port,
    local_manifest,
)

WORKLOADS = [
    "files-up-small",
    "files-down-small",
    "files-up-large",
    "files-down-large",
    "files-share2share-small",
]
STANDIN_PACKAGE = ROOT / "tests" / "file_standin"
NO_RCLONE = "rclone 1.60 has no Azure Files backend"
NO_SDK = "bare_sdk.py covers Blob only"
SEED = "seed"
# Files above this size are seeded and read back in ranges in parallel, as the tools do.
PER_FILE_CONCURRENCY = 8


class FileStandIn(ServerProcess):
    """A fresh File REST stand-in (in memory) in its own process group, with the SDK clients
    the benchmark seeds and verifies through and the account SAS AzCopy uses."""

    name = "file-standin"

    def __init__(self, work: Path):
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
        cmd = [str(PY), "-m", "file_standin", "--port", str(port)]
        super().__init__(cmd, port, work / f"file-standin-{port}.log", env)
        self.url = f"http://127.0.0.1:{port}/{ACCOUNT}"
        self.connection_string = (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"FileEndpoint={self.url};"
        )
        self.svc = ShareServiceClient.from_connection_string(self.connection_string)
        self.sas = generate_account_sas(
            ACCOUNT,
            KEY,
            ResourceTypes(service=True, container=True, object=True),
            AccountSasPermissions(read=True, write=True, delete=True, list=True, create=True),
            expiry=dt.datetime.now(dt.UTC) + dt.timedelta(days=2),
        )

    def share_url(self, name: str, sas: bool = False) -> str:
        return f"{self.url}/{name}" + (f"?{self.sas}" if sas else "")

    def create(self, name: str) -> None:
        self.svc.create_share(name)

    def delete(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.svc.delete_share(name)

    def inventory(self, name: str) -> dict[str, tuple[int, str]]:
        """'/'-separated path -> (size, MD5 of the bytes read back) of every file in the share;
        raises if the share does not exist."""
        return asyncio.run(share_manifest(self.connection_string, name))


# --------------------------------------------------------------------------------------
# Seeding and reading back through the SDK (untimed)
# --------------------------------------------------------------------------------------
async def share_manifest(connection_string: str, share: str) -> dict[str, tuple[int, str]]:
    async with AsyncShareClient.from_connection_string(connection_string, share) as sc:
        files: list[tuple[str, int]] = []
        await list_tree(sc.get_directory_client(""), "", files)
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(path: str) -> tuple[int, str]:
            async with limit:
                stream = await sc.get_file_client(path).download_file(
                    max_concurrency=PER_FILE_CONCURRENCY
                )
                md5, size = hashlib.md5(), 0
                async for chunk in stream.chunks():
                    md5.update(chunk)
                    size += len(chunk)
                return size, md5.hexdigest()

        got = await asyncio.gather(*(one(path) for path, _ in files))
    return {path: entry for (path, _), entry in zip(files, got, strict=True)}


async def list_tree(d: AsyncDirectoryClient, prefix: str, out: list[tuple[str, int]]) -> None:
    """Every file below d as ('/'-separated path, listed size), subdirectories in parallel."""
    subdirs = []
    async for item in d.list_directories_and_files():
        path = f"{prefix}{item['name']}"
        if item["is_directory"]:
            subdirs.append(list_tree(d.get_subdirectory_client(item["name"]), f"{path}/", out))
        else:
            out.append((path, item["size"]))
    await asyncio.gather(*subdirs)


async def seed(connection_string: str, share: str, data: DataSet) -> None:
    """The data set's tree in the share, parents first, each file with its Content-MD5 (as an
    uploader that sets it leaves it, so both tools' downloads check it)."""
    async with AsyncShareClient.from_connection_string(connection_string, share) as sc:
        dirs = sorted({str(Path(p).parent) for p in data.manifest} - {"."}, key=len)
        for depth in sorted({d.count("/") for d in dirs}):
            level = [d for d in dirs if d.count("/") == depth]
            await asyncio.gather(*(sc.get_directory_client(d).create_directory() for d in level))
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(path: str, md5: str) -> None:
            async with limit:
                with open(data.path / path, "rb") as f:
                    await sc.get_file_client(path).upload_file(
                        f,
                        content_settings=ContentSettings(content_md5=bytearray.fromhex(md5)),
                        max_concurrency=PER_FILE_CONCURRENCY,
                    )

        await asyncio.gather(*(one(p, md5) for p, (_, md5) in data.manifest.items()))


def seed_share(ctx: Ctx, name: str, data: DataSet) -> None:
    ctx.server.create(name)
    asyncio.run(seed(ctx.server.connection_string, name, data))
    got = ctx.server.inventory(name)
    ok, why, _, _ = compare_manifest(got, data, "")
    if not ok:
        raise RuntimeError(f"seeding share {name}: {why}")


# --------------------------------------------------------------------------------------
# Tools × workloads
# --------------------------------------------------------------------------------------
def verify_share(ctx: Ctx, share: str, want: DataSet, subdir: str):
    return lambda: compare_manifest(ctx.server.inventory(share), want, subdir)


def verify_local(path: Path, want: DataSet, subdir: str):
    return lambda: compare_manifest(local_manifest(path), want, subdir)


def new_share(ctx: Ctx, kind: str, cleanups: list) -> str:
    """A fresh, empty share for one run (for every tool: the same start), deleted after it."""
    name = f"{kind}-{ctx.next_run():04d}"
    ctx.server.create(name)
    cleanups.append(lambda: ctx.server.delete(name))
    return name


def step_upload(ctx: Ctx, tool: str, data: DataSet, cleanups: list) -> Step | str:
    if tool in ("rclone", "sdk"):
        return NO_RCLONE if tool == "rclone" else NO_SDK
    dst = new_share(ctx, "up", cleanups)
    src = str(data.path)
    if tool == "azcopy":
        url = ctx.server.share_url(dst, sas=True)
        cmd = azcopy_cmd("copy", src, url, "--recursive", "--from-to", "LocalFile")
    else:  # azxfer, base
        cmd = azxfer_cmd("copy", src, ctx.server.share_url(dst), "-r", "--from-to", "LocalFile")
    return cmd, {}, verify_share(ctx, dst, data, data.path.name)


def step_download(ctx: Ctx, tool: str, data: DataSet, cleanups: list) -> Step | str:
    if tool in ("rclone", "sdk"):
        return NO_RCLONE if tool == "rclone" else NO_SDK
    dst = ctx.work / f"down-{ctx.next_run():04d}"
    dst.mkdir()
    if data.files >= MANY_FILES:
        ctx.local_outputs.append(dst)
    else:
        cleanups.append(lambda: shutil.rmtree(dst, ignore_errors=True))
    if tool == "azcopy":
        url = ctx.server.share_url(SEED, sas=True)
        cmd = azcopy_cmd("copy", url, str(dst), "--recursive", "--from-to", "FileLocal")
    else:
        cmd = azxfer_cmd(
            "copy", ctx.server.share_url(SEED), str(dst), "-r", "--from-to", "FileLocal"
        )
    return cmd, {}, verify_local(dst, data, SEED)


def step_share2share(ctx: Ctx, tool: str, data: DataSet, cleanups: list) -> Step | str:
    if tool in ("rclone", "sdk"):
        return NO_RCLONE if tool == "rclone" else NO_SDK
    dst = new_share(ctx, "s2s", cleanups)
    if tool == "azcopy":
        src, url = ctx.server.share_url(SEED, sas=True), ctx.server.share_url(dst, sas=True)
        cmd = azcopy_cmd("copy", src, url, "--recursive", "--from-to", "FileFile")
    else:
        src, url = ctx.server.share_url(SEED), ctx.server.share_url(dst)
        cmd = azxfer_cmd("copy", src, url, "-r", "--from-to", "FileFile")
    return cmd, {}, verify_share(ctx, dst, data, SEED)


MakeStep = Callable[[str, list], Step | str]


def workload_plan(name: str, ctx: Ctx) -> tuple[DataSet, MakeStep]:
    """(dataset, make_step(tool, cleanups)) for a Files workload, after seeding what it needs."""
    small, large = ctx.small, ctx.large
    if name == "files-up-small":
        return small, lambda t, c: step_upload(ctx, t, small, c)
    if name == "files-up-large":
        return large, lambda t, c: step_upload(ctx, t, large, c)
    if name == "files-down-small":
        seed_share(ctx, SEED, small)
        return small, lambda t, c: step_download(ctx, t, small, c)
    if name == "files-down-large":
        seed_share(ctx, SEED, large)
        return large, lambda t, c: step_download(ctx, t, large, c)
    if name == "files-share2share-small":
        seed_share(ctx, SEED, small)
        return small, lambda t, c: step_share2share(ctx, t, small, c)
    raise ValueError(name)


def start(work: Path, small: DataSet, large: DataSet) -> Ctx:
    """A fresh stand-in for one Files workload."""
    return Ctx(FileStandIn(work), work, small, large)
