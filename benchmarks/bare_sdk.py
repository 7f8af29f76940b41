"""Baseline for the benchmark: the obvious azure.storage.blob.aio program, no azxfer.

asyncio + one semaphore(32) around per-file calls: upload_blob / download_blob /
start_copy_from_url, and a sync that lists both sides and compares size + mtime. It is what
a competent engineer writes in an afternoon; azxfer should not be slower than this.

    bare_sdk.py upload   LOCAL_DIR  ACCOUNT_URL CONTAINER [--prefix P] [--mtime-metadata]
    bare_sdk.py download ACCOUNT_URL CONTAINER LOCAL_DIR
    bare_sdk.py copy     ACCOUNT_URL SRC_CONTAINER DST_CONTAINER
    bare_sdk.py sync     LOCAL_DIR  ACCOUNT_URL CONTAINER

The account key comes from env AZXFER_KEY (the account name is the URL's last path segment,
as on Azurite: http://127.0.0.1:P/devstoreaccount1). Prints one JSON line with counts.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from collections.abc import Iterator

from azure.storage.blob import BlobSasPermissions, generate_container_sas
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

CONCURRENCY = 32
PER_BLOB_CONCURRENCY = 8  # max_concurrency for chunked (large) uploads and downloads


def walk(root: str) -> Iterator[tuple[str, str]]:
    """(absolute path, '/'-separated relative name) of every regular file under root."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            yield path, os.path.relpath(path, root).replace(os.sep, "/")


def rclone_mtime(ts: float) -> str:
    """The 'mtime' blob metadata format rclone reads (RFC 3339, UTC, nanoseconds)."""
    t = dt.datetime.fromtimestamp(ts, dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{round(ts % 1 * 1e9):09d}Z"


def service(account_url: str) -> BlobServiceClient:
    account = account_url.rstrip("/").rsplit("/", 1)[-1]
    key = os.environ["AZXFER_KEY"]
    return BlobServiceClient(account_url, credential={"account_name": account, "account_key": key})


async def gather_limited(coros) -> list:
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(c):
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


async def upload_one(cc: ContainerClient, path: str, name: str, mtime_metadata: bool) -> int:
    st = os.stat(path)
    metadata = {"mtime": rclone_mtime(st.st_mtime)} if mtime_metadata else None
    with open(path, "rb") as f:
        await cc.upload_blob(
            name,
            f,
            length=st.st_size,
            overwrite=True,
            metadata=metadata,
            max_concurrency=PER_BLOB_CONCURRENCY,
        )
    return st.st_size


async def upload(
    src: str,
    account_url: str,
    container: str,
    prefix: str = "",
    mtime_metadata: bool = False,
    files: list[tuple[str, str]] | None = None,
) -> dict:
    async with service(account_url) as svc:
        cc = svc.get_container_client(container)
        todo = files if files is not None else list(walk(src))
        sizes = await gather_limited(upload_one(cc, p, prefix + n, mtime_metadata) for p, n in todo)
    return {"files": len(sizes), "bytes": sum(sizes)}


async def download(account_url: str, container: str, dest: str) -> dict:
    async with service(account_url) as svc:
        cc = svc.get_container_client(container)
        names = [b.name async for b in cc.list_blobs()]

        async def one(name: str) -> int:
            path = os.path.join(dest, *name.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            stream = await cc.download_blob(name, max_concurrency=PER_BLOB_CONCURRENCY)
            with open(path, "wb") as f:
                return await stream.readinto(f)

        sizes = await gather_limited(one(n) for n in names)
    return {"files": len(sizes), "bytes": sum(sizes)}


async def copy(account_url: str, src: str, dst: str) -> dict:
    async with service(account_url) as svc:
        scc = svc.get_container_client(src)
        dcc = svc.get_container_client(dst)
        sas = generate_container_sas(
            svc.account_name,
            src,
            account_key=svc.credential.account_key,
            permission=BlobSasPermissions(read=True),
            expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=6),
        )
        blobs = [(b.name, b.size) async for b in scc.list_blobs()]

        async def one(name: str, size: int) -> int:
            bc = dcc.get_blob_client(name)
            props = await bc.start_copy_from_url(f"{scc.get_blob_client(name).url}?{sas}")
            while props["copy_status"] == "pending":  # never on Azurite; real Azure may
                await asyncio.sleep(0.5)
                props = (await bc.get_blob_properties()).copy
                props = {"copy_status": props.status}
            if props["copy_status"] != "success":
                raise RuntimeError(f"copy of {name}: {props['copy_status']}")
            return size

        sizes = await gather_limited(one(n, s) for n, s in blobs)
    return {"files": len(sizes), "bytes": sum(sizes)}


async def sync(src: str, account_url: str, container: str) -> dict:
    """Local -> container: upload files missing at the destination or differing in size, or
    newer than the blob (AzCopy's rule); delete nothing."""
    local = {n: p for p, n in walk(src)}
    async with service(account_url) as svc:
        cc = svc.get_container_client(container)
        remote = {b.name: b async for b in cc.list_blobs()}
    todo = []
    for name, path in sorted(local.items()):
        st = os.stat(path)
        b = remote.get(name)
        if b is None or b.size != st.st_size or st.st_mtime > b.last_modified.timestamp():
            todo.append((path, name))
    result = await upload(src, account_url, container, files=todo) if todo else {"bytes": 0}
    return {
        "compared": len(local),
        "remote": len(remote),
        "files": len(todo),
        "bytes": result["bytes"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("upload")
    p.add_argument("src")
    p.add_argument("account_url")
    p.add_argument("container")
    p.add_argument("--prefix", default="")
    p.add_argument(
        "--mtime-metadata",
        action="store_true",
        help="store the file's mtime as rclone does (metadata 'mtime')",
    )
    p = sub.add_parser("download")
    p.add_argument("account_url")
    p.add_argument("container")
    p.add_argument("dest")
    p = sub.add_parser("copy")
    p.add_argument("account_url")
    p.add_argument("src")
    p.add_argument("dst")
    p = sub.add_parser("sync")
    p.add_argument("src")
    p.add_argument("account_url")
    p.add_argument("container")
    a = ap.parse_args(argv)
    if a.cmd == "upload":
        coro = upload(a.src, a.account_url, a.container, a.prefix, a.mtime_metadata)
    elif a.cmd == "download":
        coro = download(a.account_url, a.container, a.dest)
    elif a.cmd == "copy":
        coro = copy(a.account_url, a.src, a.dst)
    else:
        coro = sync(a.src, a.account_url, a.container)
    print(json.dumps(asyncio.run(coro)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
