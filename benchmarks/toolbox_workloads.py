"""Toolbox workloads of the side-by-side benchmark (issue 26): `azxfer list`, `azxfer remove`
and `azxfer set-properties` against AzCopy v10 (`list`, `remove`, `set-properties`) and rclone
(`lsf`, `delete`, `settier`) on in-memory Azurite: one per `list-blobs` workload (the listing
changes nothing), a fresh one for every `remove-blobs` and `set-tier` run (Azurite's cost per
delete or tier change grows with the blobs it has held: see ToolboxCtx.fresh_server).

The blobs are tiny (BLOB_BYTES each) in a three-level virtual-directory tree
`dNN/eNN/gNN/blob-NNNN.txt` (10 × 10 × 10 folders), so every workload measures per-blob
requests and listing pages, not bytes. Seeding is untimed: Put Blob through aiohttp with the
account SAS (no per-request signing, SEED_CONCURRENCY in flight), fast enough to re-seed
before every remove and set-tier run. Every run is verified: the names a listing printed
(exactly the seeded names, one line each), an empty container after a remove, every blob
Cool after a set-tier. bare_sdk.py has none of these operations: its rows say "n/a"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from harness import (
    Ctx,
    DataSet,
    Step,
    azcopy_cmd,
    azxfer_cmd,
    rclone_cmd,
    rclone_conf,
    stdout_to,
)

WORKLOADS = ["list-blobs", "remove-blobs", "set-tier"]
NO_SDK = "bare_sdk.py has no list / remove / set-tier"
BLOB_BYTES = 64
SEED_CONCURRENCY = 64
# The tree's 1,000 leaf folders (10 × 10 × 10): a workload's blob count is a multiple of it.
FANOUT = 10
LEAVES = FANOUT**3
# The tier a set-tier run sets (its blobs start at Put Blob's default, Hot).
TARGET_TIER = "Cool"


@dataclass(frozen=True)
class ToolboxSizes:
    list_blobs: int
    bulk_blobs: int  # remove-blobs and set-tier


FULL = ToolboxSizes(list_blobs=50_000, bulk_blobs=5_000)
QUICK = ToolboxSizes(list_blobs=5_000, bulk_blobs=1_000)


def blob_names(count: int) -> Iterator[str]:
    """`count` names spread evenly over the 1,000 leaf folders."""
    if count % LEAVES:
        raise ValueError(f"blob count {count} is not a multiple of {LEAVES}")
    for leaf in range(LEAVES):
        a, b, c = leaf // FANOUT**2, leaf // FANOUT % FANOUT, leaf % FANOUT
        for i in range(count // LEAVES):
            yield f"d{a:02d}/e{b:02d}/g{c:02d}/blob-{i:04d}.txt"


def payload(name: str) -> bytes:
    return name.encode().ljust(BLOB_BYTES, b".")[:BLOB_BYTES]


@dataclass
class ToolboxCtx(Ctx):
    sizes: ToolboxSizes = QUICK
    # The names the list workload's container holds (what every listing must print).
    listed: frozenset[str] = field(default_factory=frozenset, repr=False)
    # Starts a fresh Azurite: every remove / set-tier run gets its own (see fresh_server).
    new_server: Callable[[], Any] | None = field(default=None, repr=False)

    def fresh_server(self) -> None:
        """Replace the workload's Azurite with a fresh one (and rclone's remote with one for
        it). Azurite's cost per delete and per tier change grows with the blobs it has held,
        so a run on an Azurite that earlier runs wrote to would be slower than the first,
        whichever tool it was; on a fresh one every run starts alike."""
        assert self.new_server is not None
        self.server.stop()
        self.server = self.new_server()
        self.rclone_conf = rclone_conf(self.work, self.server.url)


# --------------------------------------------------------------------------------------
# Seeding and checking (untimed)
# --------------------------------------------------------------------------------------
async def _put_all(blob_url: str, sas: str, container: str, names: list[str]) -> int:
    headers = {"x-ms-blob-type": "BlockBlob", "x-ms-version": "2021-08-06"}
    limit = asyncio.Semaphore(SEED_CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=SEED_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def put(name: str) -> None:
            async with (
                limit,
                http.put(
                    f"{blob_url}/{container}/{name}?{sas}", data=payload(name), headers=headers
                ) as resp,
            ):
                if resp.status != 201:
                    raise RuntimeError(f"seeding {container}/{name}: HTTP {resp.status}")

        await asyncio.gather(*(put(n) for n in names))
    return len(names)


def seed(ctx: Ctx, container: str, count: int) -> list[str]:
    """A new container holding `count` tree blobs; its names."""
    names = list(blob_names(count))
    ctx.server.create(container)
    asyncio.run(_put_all(ctx.server.url, ctx.server.sas, container, names))
    return names


def blob_tiers(ctx: Ctx, container: str) -> dict[str, str | None]:
    """{name: access tier} of every blob in the container; raises if it does not exist."""
    client = ctx.server.svc.get_container_client(container)
    return {b.name: b.blob_tier for b in client.list_blobs()}


# --------------------------------------------------------------------------------------
# What each tool prints when it lists: one entry a line, parsed to its blob name
# --------------------------------------------------------------------------------------
def listed_name(tool: str, line: str) -> str | None:
    """The blob name on one line of a tool's listing, None for a line that is not an entry."""
    if tool == "azcopy":  # "NAME; Content Length: 64", after an "INFO: NOTE: HTTP ..." line
        if line.startswith("INFO: ") or "; Content Length: " not in line:
            return None
        return line[: line.rindex("; Content Length: ")]
    if tool == "rclone":  # "NAME"
        return line or None
    return line.split("\t", 1)[0] or None  # azxfer: "NAME<TAB>SIZE"


def verify_listing(tool: str, out: Path, want: frozenset[str]) -> tuple[bool, str, int, int]:
    names = []
    with out.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            name = listed_name(tool, line.rstrip("\n"))
            if name is not None:
                names.append(name)
    got = set(names)
    count = len(names)
    if count == len(want) and got == want:
        out.unlink()
        return True, "", count, count * BLOB_BYTES
    missing, extra = want - got, got - want
    why = (
        f"want {len(want)} entries: printed {count}, {len(missing)} missing, "
        f"{len(extra)} unknown, {count - len(got)} twice"
    )
    for label, some in (("missing", missing), ("unknown", extra)):
        if some:
            why += f"; first {label}: {sorted(some)[0]!r}"
    return False, why, count, count * BLOB_BYTES


# --------------------------------------------------------------------------------------
# Tools × workloads
# --------------------------------------------------------------------------------------
def step_list(ctx: ToolboxCtx, tool: str, cleanups: list) -> Step | str:
    if tool == "sdk":
        return NO_SDK
    # What the tool printed; deleted once verified (a failed run's stays, for --keep).
    out = ctx.work / f"{tool}-list-{ctx.next_run():04d}.out"
    url, sas_url = ctx.server.container_url("list"), ctx.server.container_url("list", sas=True)
    cmd = {
        "azxfer": azxfer_cmd("list", url, "-r", "--machine-readable"),
        "base": azxfer_cmd("list", url, "-r", "--machine-readable"),
        # AzCopy cannot tell the service from an emulator's URL by itself.
        "azcopy": azcopy_cmd("list", sas_url, "--machine-readable", "--location", "Blob"),
        # --fast-list: one flat listing, as the other two make, instead of 1,111 folder ones.
        "rclone": rclone_cmd(ctx, "lsf", "-R", "--files-only", "--fast-list", "az:list"),
    }[tool]
    return [*stdout_to(out), *cmd], {}, lambda: verify_listing(tool, out, ctx.listed)


def step_remove(ctx: ToolboxCtx, tool: str, cleanups: list) -> Step | str:
    if tool == "sdk":
        return NO_SDK
    container = f"rm-{ctx.next_run():04d}"
    ctx.fresh_server()
    seed(ctx, container, ctx.sizes.bulk_blobs)
    url = ctx.server.container_url(container)
    cmd = {
        "azxfer": azxfer_cmd("remove", url, "-r", "--force"),
        "base": azxfer_cmd("remove", url, "-r", "--force"),
        "azcopy": azcopy_cmd(
            "remove",
            ctx.server.container_url(container, sas=True),
            "--recursive",
            "--from-to",
            "BlobTrash",
        ),
        "rclone": rclone_cmd(ctx, "delete", f"az:{container}"),
    }[tool]

    def check() -> tuple[bool, str, int, int]:
        try:
            left = len(blob_tiers(ctx, container))
        except Exception as e:  # the container itself went: more than was asked
            return False, f"container gone ({e.__class__.__name__})", 0, 0
        ok = left == 0
        return ok, "" if ok else f"{left} blobs left", ctx.sizes.bulk_blobs - left, 0

    return cmd, {}, check


def step_set_tier(ctx: ToolboxCtx, tool: str, cleanups: list) -> Step | str:
    if tool == "sdk":
        return NO_SDK
    ctx.next_run()
    ctx.fresh_server()
    seed(ctx, "tier", ctx.sizes.bulk_blobs)  # Put Blob leaves every blob at the default Hot
    url = ctx.server.container_url("tier")
    cmd = {
        "azxfer": azxfer_cmd("set-properties", url, "-r", "--block-blob-tier", TARGET_TIER),
        "base": azxfer_cmd("set-properties", url, "-r", "--block-blob-tier", TARGET_TIER),
        "azcopy": azcopy_cmd(
            "set-properties",
            ctx.server.container_url("tier", sas=True),
            "--recursive",
            f"--block-blob-tier={TARGET_TIER.lower()}",
            "--from-to",
            "BlobNone",
        ),
        "rclone": rclone_cmd(ctx, "settier", TARGET_TIER, "az:tier"),
    }[tool]

    def check() -> tuple[bool, str, int, int]:
        tiers = blob_tiers(ctx, "tier")
        done = sum(1 for t in tiers.values() if t == TARGET_TIER)
        want = ctx.sizes.bulk_blobs
        ok = len(tiers) == want and done == want
        why = (
            ""
            if ok
            else f"want {want} blobs {TARGET_TIER}: {len(tiers)} blobs, {done} {TARGET_TIER}"
        )
        return ok, why, done, done * BLOB_BYTES

    return cmd, {}, check


MakeStep = Callable[[str, list], Step | str]


def workload_plan(name: str, ctx: ToolboxCtx) -> tuple[DataSet, MakeStep]:
    """(dataset, make_step(tool, cleanups)) for a toolbox workload, after seeding what it needs."""
    if name == "list-blobs":
        n = ctx.sizes.list_blobs
        ctx.listed = frozenset(seed(ctx, "list", n))
        return DataSet(ctx.work, n, n * BLOB_BYTES), lambda t, c: step_list(ctx, t, c)
    n = ctx.sizes.bulk_blobs
    if name == "remove-blobs":
        return DataSet(ctx.work, n, n * BLOB_BYTES), lambda t, c: step_remove(ctx, t, c)
    if name == "set-tier":
        return DataSet(ctx.work, n, n * BLOB_BYTES), lambda t, c: step_set_tier(ctx, t, c)
    raise ValueError(name)


def start(new_azurite: Callable[[], Any], work: Path, sizes: ToolboxSizes) -> ToolboxCtx:
    """The context of one toolbox workload on a fresh Azurite, with rclone's remote for it."""
    azurite = new_azurite()
    conf = rclone_conf(work, azurite.url)
    return ToolboxCtx(
        azurite,
        work,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        conf,
        sizes=sizes,
        new_server=new_azurite,
    )
