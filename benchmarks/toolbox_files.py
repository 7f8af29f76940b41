"""Azure Files toolbox workloads of the side-by-side benchmark (issue 26): `azxfer list -r`
and `azxfer remove -r` of a share tree against AzCopy v10 (`list`, `remove --recursive`) on
the File REST stand-in (tests/file_standin), a fresh one per workload.

The tree is the Blob toolbox workloads' (toolbox_workloads.blob_names: 64-byte files in
`dNN/eNN/gNN/`, 10 × 10 × 10 leaf folders), here as real directories: 1,110 of them above the
files. Seeding is untimed, raw REST through aiohttp with the account SAS (no per-request
signing): the directories parents first, then Create File + Put Range for each file,
SEED_CONCURRENCY in flight. rclone runs if the binary given (`run.py --rclone-files`, default
the `rclone` on PATH) has the `azurefiles` backend (rclone >= 1.65; Debian's 1.60 has not),
pointed at the stand-in by its `endpoint` option with the account key; else its rows say
"n/a", as bare_sdk.py's (Blob only) always do.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from azure.storage.fileshare.aio import ShareClient, ShareDirectoryClient
from files_workloads import FileStandIn
from harness import ACCOUNT, CONCURRENCY, KEY, Ctx, DataSet, Step, azcopy_cmd, azxfer_cmd, stdout_to
from toolbox_workloads import BLOB_BYTES, blob_names, payload, verify_listing

WORKLOADS = ["files-list", "files-remove"]
NO_RCLONE = "this rclone has no azurefiles backend (added in rclone 1.65; see --rclone-files)"
NO_SDK = "bare_sdk.py covers Blob only"
SEED_CONCURRENCY = 32
API_VERSION = "2021-06-08"


@dataclass(frozen=True)
class FilesToolboxSizes:
    list_files: int
    remove_files: int


FULL = FilesToolboxSizes(list_files=20_000, remove_files=5_000)
QUICK = FilesToolboxSizes(list_files=1_000, remove_files=1_000)


@dataclass
class FilesToolboxCtx(Ctx):
    sizes: FilesToolboxSizes = QUICK
    # The file paths the list workload's share holds (what every listing must print).
    listed: frozenset[str] = field(default_factory=frozenset, repr=False)
    # An rclone with the azurefiles backend (None: there is none) and its remote `azf`.
    rclone: str | None = None

    def rclone_cmd(self, *args: str) -> list[str]:
        assert self.rclone is not None and self.rclone_conf is not None
        flags = ["--checkers", str(CONCURRENCY), "--transfers", str(CONCURRENCY)]
        return [self.rclone, "--config", str(self.rclone_conf), *args, *flags]


def has_azurefiles(rclone: str) -> bool:
    try:
        out = subprocess.run([rclone, "help", "backends"], capture_output=True, text=True)
    except OSError:
        return False
    return any(line.split()[:1] == ["azurefiles"] for line in out.stdout.splitlines())


def rclone_files_conf(work: Path, file_url: str) -> Path:
    """rclone's remote `azf:` for the stand-in (the share is named per command:
    `azf,share_name=NAME:`)."""
    conf = work / "rclone-files.conf"
    conf.write_text(
        f"[azf]\ntype = azurefiles\naccount = {ACCOUNT}\nkey = {KEY}\nendpoint = {file_url}\n"
    )
    return conf


# --------------------------------------------------------------------------------------
# Seeding and checking (untimed)
# --------------------------------------------------------------------------------------
def parent_dirs(paths: Iterable[str]) -> list[str]:
    """Every directory above the paths, parents before their children."""
    dirs: set[str] = set()
    for p in paths:
        parts = p.split("/")[:-1]
        dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(dirs, key=lambda d: (d.count("/"), d))


async def _seed_tree(share_url: str, sas: str, paths: list[str]) -> None:
    limit = asyncio.Semaphore(SEED_CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=SEED_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def put(path: str, query: str, headers: dict[str, str], body: bytes = b"") -> None:
            headers = {"x-ms-version": API_VERSION, **headers}
            url = f"{share_url}/{path}?{query}{sas}"
            async with limit, http.put(url, data=body, headers=headers) as resp:
                if resp.status != 201:
                    raise RuntimeError(f"seeding {path}: HTTP {resp.status}")

        async def one_file(path: str) -> None:
            body = payload(path)
            await put(path, "", {"x-ms-type": "file", "x-ms-content-length": str(len(body))})
            ranged = {"x-ms-write": "update", "x-ms-range": f"bytes=0-{len(body) - 1}"}
            await put(path, "comp=range&", ranged, body)

        dirs = parent_dirs(paths)
        for depth in sorted({d.count("/") for d in dirs}):
            level = [d for d in dirs if d.count("/") == depth]
            await asyncio.gather(*(put(d, "restype=directory&", {}) for d in level))
        await asyncio.gather(*(one_file(p) for p in paths))


def seed(ctx: Ctx, share: str, count: int) -> list[str]:
    """A new share holding `count` files in the tree; their paths."""
    paths = list(blob_names(count))
    ctx.server.create(share)
    asyncio.run(_seed_tree(ctx.server.share_url(share), ctx.server.sas, paths))
    return paths


def share_tree(ctx: Ctx, share: str) -> tuple[int, int]:
    """(files, directories) below the share's root, empty directories too; raises if the
    share does not exist."""
    return asyncio.run(_count_tree(ctx.server.connection_string, share))


async def _count_tree(connection_string: str, share: str) -> tuple[int, int]:
    async with ShareClient.from_connection_string(connection_string, share) as sc:
        files = dirs = 0
        level = [sc.get_directory_client("")]
        while level:  # breadth first, one level's directories listed in parallel
            listings = await asyncio.gather(*(_entries(d) for d in level))
            level = []
            for parent, items in listings:
                for name, is_dir in items:
                    if is_dir:
                        dirs += 1
                        level.append(parent.get_subdirectory_client(name))
                    else:
                        files += 1
        return files, dirs


async def _entries(d: ShareDirectoryClient) -> tuple[ShareDirectoryClient, list[tuple[str, bool]]]:
    return d, [(i["name"], i["is_directory"]) async for i in d.list_directories_and_files()]


# --------------------------------------------------------------------------------------
# Tools × workloads
# --------------------------------------------------------------------------------------
def file_entry(tool: str, line: str) -> str | None:
    """The file path on one line of a tool's recursive share listing; None for a directory
    line or a line that is not an entry (azxfer and AzCopy print directories too; rclone's
    `lsf --files-only` a path a line)."""
    if tool == "azcopy":  # "PATH; Content Length: 64"; a directory: "DIR/; Content Length: 0"
        if line.startswith("INFO: ") or "; Content Length: " not in line:
            return None
        path = line[: line.rindex("; Content Length: ")]
    else:  # azxfer: "PATH<TAB>SIZE", a directory "DIR/"; rclone: "PATH"
        path = line.split("\t", 1)[0]
    return None if not path or path.endswith("/") else path


def unsupported(ctx: FilesToolboxCtx, tool: str) -> str | None:
    if tool == "sdk":
        return NO_SDK
    return NO_RCLONE if tool == "rclone" and ctx.rclone is None else None


def step_list(ctx: FilesToolboxCtx, tool: str, cleanups: list) -> Step | str:
    if why := unsupported(ctx, tool):
        return why
    out = ctx.work / f"{tool}-list-{ctx.next_run():04d}.out"
    if tool == "rclone":
        cmd = ctx.rclone_cmd("lsf", "-R", "--files-only", "azf,share_name=list:")
    elif tool == "azcopy":
        url = ctx.server.share_url("list", sas=True)
        cmd = azcopy_cmd("list", url, "--machine-readable", "--location", "File")
    else:  # azxfer, base
        cmd = azxfer_cmd(
            "list", ctx.server.share_url("list"), "-r", "--machine-readable", "--type", "File"
        )
    return [*stdout_to(out), *cmd], {}, lambda: verify_files_listed(tool, out, ctx.listed)


def verify_files_listed(tool: str, out: Path, want: frozenset[str]) -> tuple[bool, str, int, int]:
    """The listing names exactly the seeded files, each once (directory lines are left out:
    verify_listing's parser sees them as no entry)."""
    kept = out.with_suffix(".files")
    with out.open(encoding="utf-8", errors="replace") as f, kept.open("w") as g:
        for line in f:
            path = file_entry(tool, line.rstrip("\n"))
            if path is not None:
                g.write(f"{path}\n")
    result = verify_listing("rclone", kept, want)  # one path a line
    if result[0]:
        out.unlink()
    return result


def step_remove(ctx: FilesToolboxCtx, tool: str, cleanups: list) -> Step | str:
    if why := unsupported(ctx, tool):
        return why
    share = f"rm-{ctx.next_run():04d}"
    cleanups.append(lambda: ctx.server.delete(share))
    seed(ctx, share, ctx.sizes.remove_files)
    if tool == "rclone":  # --rmdirs: the emptied folders too, as the other two remove them
        cmd = ctx.rclone_cmd("delete", "--rmdirs", f"azf,share_name={share}:")
    elif tool == "azcopy":
        url = ctx.server.share_url(share, sas=True)
        cmd = azcopy_cmd("remove", url, "--recursive", "--from-to", "FileTrash")
    else:
        cmd = azxfer_cmd("remove", ctx.server.share_url(share), "-r", "--force", "--type", "File")

    def check() -> tuple[bool, str, int, int]:
        try:
            files, dirs = share_tree(ctx, share)
        except Exception as e:  # the share itself went: more than was asked
            return False, f"share gone ({e.__class__.__name__})", 0, 0
        ok = files == 0 and dirs == 0
        why = "" if ok else f"{files} files and {dirs} directories left"
        return ok, why, ctx.sizes.remove_files - files, 0

    return cmd, {}, check


MakeStep = Callable[[str, list], Step | str]


def workload_plan(name: str, ctx: FilesToolboxCtx) -> tuple[DataSet, MakeStep]:
    """(dataset, make_step(tool, cleanups)) for a Files toolbox workload, after seeding."""
    if name == "files-list":
        n = ctx.sizes.list_files
        ctx.listed = frozenset(seed(ctx, "list", n))
        return DataSet(ctx.work, n, n * BLOB_BYTES), lambda t, c: step_list(ctx, t, c)
    if name == "files-remove":
        n = ctx.sizes.remove_files
        return DataSet(ctx.work, n, n * BLOB_BYTES), lambda t, c: step_remove(ctx, t, c)
    raise ValueError(name)


def start(work: Path, sizes: FilesToolboxSizes, rclone: str) -> FilesToolboxCtx:
    """A fresh stand-in for one Files toolbox workload; rclone's remote for it if `rclone`
    has the azurefiles backend."""
    server = FileStandIn(work)
    usable = rclone if has_azurefiles(rclone) else None
    conf = rclone_files_conf(work, server.url) if usable else None
    return FilesToolboxCtx(
        server,
        work,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        conf,
        sizes=sizes,
        rclone=usable,
    )
