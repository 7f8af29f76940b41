"""Table workloads of the side-by-side benchmark: `azxfer export` / `azxfer import` against the
bare azure-data-tables program (bare_tables.py) on Azurite's Table service (issue 25).

Each workload gets a fresh in-memory Azurite (run.Azurite: its table port is the blob port + 2).
The `seed` table is filled untimed through the SDK (submit_transaction batches of 100) with
deterministic ~1 KiB entities spread evenly over the partitions, and read back through the SDK
to check it holds exactly those entities. Every run is verified entity by entity: each entity is
reduced to a canonical form (property name, EDM type, the value's exact text) and hashed, and
the run is ok only if the destination holds exactly the expected entities — none missing,
none extra or twice, none different. AzCopy v10 and rclone have no Table support: "n/a".
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import random
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bare_tables
from azure.data.tables import EdmType, EntityProperty, TableServiceClient
from harness import ACCOUNT, KEY, PY, ROOT, Ctx, DataSet, Step, azxfer_cmd, tool_env

WORKLOADS = ["table-export", "table-import"]
NO_AZCOPY = "AzCopy v10 has no Table support"
NO_RCLONE = "rclone has no Azure Table backend"
BARE_TABLES = Path(__file__).resolve().parent / "bare_tables.py"
SEED = "seed"


@dataclass(frozen=True)
class TableSizes:
    entities: int
    partitions: int

    @property
    def per_partition(self) -> int:
        return self.entities // self.partitions


FULL = TableSizes(entities=100_000, partitions=100)
QUICK = TableSizes(entities=2_000, partitions=20)


# --------------------------------------------------------------------------------------
# The data set
# --------------------------------------------------------------------------------------
def make_entity(partition: int, row: int) -> dict[str, Any]:
    """One deterministic entity of ~1 KiB in the service's JSON, with a mix of EDM types."""
    rng = random.Random(f"{partition}/{row}")
    return {
        "PartitionKey": f"p{partition:04d}",
        "RowKey": f"r{row:07d}",
        "Name": f"customer {partition}-{row}",
        "Description": base64.b64encode(rng.randbytes(480)).decode(),
        "Count": rng.randrange(-(2**31), 2**31),
        "Total": rng.randrange(1, 10**9) + 0.25,
        "Big": EntityProperty(rng.randrange(-(2**63), 2**63), EdmType.INT64),
        "Active": rng.random() < 0.5,
        "Created": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        + dt.timedelta(microseconds=rng.randrange(10**15)),
        "Id": uuid.UUID(int=rng.getrandbits(128)),
        "Blob": rng.randbytes(48),
    }


def entities(sizes: TableSizes) -> Iterator[dict[str, Any]]:
    """The data set, partition after partition."""
    for partition in range(sizes.partitions):
        for row in range(sizes.per_partition):
            yield make_entity(partition, row)


# --------------------------------------------------------------------------------------
# Canonical form: (name, EDM type, exact text) of every property, whatever wrote it
# --------------------------------------------------------------------------------------
_DATETIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z$")
_JSON_TYPES = {bool: "Edm.Boolean", int: "Edm.Int32", float: "Edm.Double", str: "Edm.String"}
Digests = dict[tuple[str, str], bytes]


def _datetime_ticks(text: str) -> str:
    """A service DateTime with all 7 digits of its 100 ns ticks."""
    m = _DATETIME.match(text)
    if not m:
        raise ValueError(f"not an Edm.DateTime: {text!r}")
    return f"{m[1]}.{(m[2] or '').ljust(7, '0')}Z"


def _text(edm: str, value: Any) -> str:
    if edm in ("Edm.Int32", "Edm.Int64"):
        return str(int(value))
    if edm == "Edm.Double":
        return repr(float(value))
    if edm == "Edm.DateTime":
        return _datetime_ticks(value)
    if edm == "Edm.Guid":
        return str(uuid.UUID(value))
    if edm == "Edm.Binary":
        return base64.b64decode(value, validate=True).hex()
    if edm == "Edm.Boolean":
        return "true" if value is True else repr(value)
    return value if isinstance(value, str) else repr(value)


def _digest(props: Iterable[tuple[str, str, str]]) -> bytes:
    return hashlib.blake2b(json.dumps(sorted(props)).encode(), digest_size=16).digest()


def digest_of_json(line: bytes) -> tuple[tuple[str, str], bytes]:
    """(keys, digest) of one JSON line of the service's form (an export's line)."""
    raw = json.loads(line)
    props = []
    for name, value in raw.items():
        if "@" in name or name.startswith("odata.") or name == "Timestamp":
            continue
        edm = raw.get(f"{name}@odata.type") or _JSON_TYPES[type(value)]
        props.append((name, edm, _text(edm, value)))
    return (raw["PartitionKey"], raw["RowKey"]), _digest(props)


def _sdk_property(name: str, value: Any) -> tuple[str, str, str]:
    if isinstance(value, EntityProperty):
        edm = value.edm_type.value
        return name, edm, _text(edm, value.value)
    if isinstance(value, dt.datetime):
        kept = getattr(value, "tables_service_value", "")
        text = kept or value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return name, "Edm.DateTime", _datetime_ticks(text)
    if isinstance(value, uuid.UUID):
        return name, "Edm.Guid", str(value)
    if isinstance(value, bytes):
        return name, "Edm.Binary", value.hex()
    edm = _JSON_TYPES[type(value)]
    return name, edm, _text(edm, value)


def digest_of_sdk(entity: dict[str, Any]) -> tuple[tuple[str, str], bytes]:
    """(keys, digest) of an entity as the SDK holds it (generated, or read from the table)."""
    props = [_sdk_property(name, value) for name, value in entity.items()]
    return (entity["PartitionKey"], entity["RowKey"]), _digest(props)


def content_hash(digests: Digests) -> str:
    """One hash of a whole set of entities, independent of their order."""
    h = hashlib.sha256()
    for key in sorted(digests):
        h.update(json.dumps(key).encode() + digests[key])
    return h.hexdigest()[:16]


def compare(got: Digests, seen: int, want: Digests) -> tuple[bool, str]:
    """Exactly the expected entities? `seen`: entities read (more than len(got): duplicates)."""
    if seen == len(got) and got == want:
        return True, ""
    missing = want.keys() - got.keys()
    extra = got.keys() - want.keys()
    wrong = [k for k in got.keys() & want.keys() if got[k] != want[k]]
    why = (
        f"want {len(want)} entities (hash {content_hash(want)}), read {seen} "
        f"(hash {content_hash(got)}): {len(missing)} missing, {len(extra)} extra, "
        f"{seen - len(got)} twice, {len(wrong)} different"
    )
    for label, keys in (("missing", missing), ("extra", extra), ("different", wrong)):
        if keys:
            why += f"; first {label}: {sorted(keys)[0]}"
    return False, why


# --------------------------------------------------------------------------------------
# The workload's context: Azurite's table endpoint, the expected entities
# --------------------------------------------------------------------------------------
@dataclass
class TableCtx(Ctx):
    endpoint: str = ""
    sizes: TableSizes = QUICK
    expected: Digests = field(default_factory=dict, repr=False)
    # Bytes of the data set as JSON lines of the service's form (the header's MiB).
    json_bytes: int = 0
    # The folder an untimed azxfer export of the seed table wrote: what every import reads.
    import_source: Path | None = None
    manifest: str = "seed.manifest"

    def service(self) -> TableServiceClient:
        return TableServiceClient.from_connection_string(
            bare_tables.connection_string(self.endpoint, KEY)
        )

    def table_url(self, table: str) -> str:
        return f"{self.endpoint}/{table}"


def read_table(ctx: TableCtx, table: str) -> tuple[Digests, int]:
    """Every entity of the table, read back through the SDK: (digests, entities read)."""
    got: Digests = {}
    seen = 0
    with ctx.service() as svc:
        for entity in svc.get_table_client(table).list_entities():
            key, digest = digest_of_sdk(entity)
            got[key] = digest
            seen += 1
    return got, seen


def read_export(folder: Path) -> tuple[Digests, int, int, int]:
    """Every entity of the data files (*.json) in folder: (digests, entities, files, bytes).
    An azxfer manifest there must count the same entities."""
    got: Digests = {}
    seen = files = size = 0
    for path in sorted(folder.glob("*.json")):
        files += 1
        size += path.stat().st_size
        with path.open("rb") as f:
            for line in f:
                if line.strip():
                    key, digest = digest_of_json(line)
                    got[key] = digest
                    seen += 1
    for manifest in folder.glob("*.manifest"):
        counted = json.loads(manifest.read_bytes())["totals"]["entities"]
        if counted != seen:
            raise ValueError(f"{manifest.name} counts {counted} entities, the files hold {seen}")
    return got, seen, files, size


def seed(ctx: TableCtx) -> None:
    """The seed table, through the SDK in batches of 100 (untimed), read back and checked."""
    written = asyncio.run(bare_tables.upsert_all(ctx.endpoint, SEED, entities(ctx.sizes), KEY))
    ctx.expected = dict(digest_of_sdk(e) for e in entities(ctx.sizes))
    ctx.json_bytes = sum(len(bare_tables.to_json(e).encode()) + 1 for e in entities(ctx.sizes))
    got, seen = read_table(ctx, SEED)
    ok, why = compare(got, seen, ctx.expected)
    if written != ctx.sizes.entities or not ok:
        raise RuntimeError(f"seeding table {SEED}: {written} written; {why}")


def make_import_source(ctx: TableCtx) -> DataSet:
    """An untimed azxfer export of the seed table, checked entity by entity: the data file
    both tools import (azxfer through its manifest, the SDK program line by line)."""
    folder = ctx.work / "import-source"
    cmd = azxfer_cmd("export", ctx.table_url(SEED), str(folder), "--manifest", ctx.manifest)
    done = subprocess.run(cmd, env=tool_env(ctx), cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"exporting the import source: {done.stderr.strip()[-400:]}")
    got, seen, _, size = read_export(folder)
    ok, why = compare(got, seen, ctx.expected)
    if not ok:
        raise RuntimeError(f"the import source is not the seed table: {why}")
    ctx.import_source = folder
    return DataSet(folder, seen, size)


# --------------------------------------------------------------------------------------
# Tools × workloads
# --------------------------------------------------------------------------------------
def not_supported(tool: str) -> str | None:
    return {"azcopy": NO_AZCOPY, "rclone": NO_RCLONE}.get(tool)


def step_export(ctx: TableCtx, tool: str, cleanups: list) -> Step | str:
    if reason := not_supported(tool):
        return reason
    folder = ctx.work / f"export-{ctx.next_run():04d}"
    folder.mkdir()
    cleanups.append(lambda: shutil.rmtree(folder, ignore_errors=True))
    if tool == "sdk":
        out = str(folder / "export.json")
        cmd = [str(PY), str(BARE_TABLES), "export", ctx.endpoint, SEED, out]
    else:  # azxfer, base
        cmd = azxfer_cmd("export", ctx.table_url(SEED), str(folder))

    def check() -> tuple[bool, str, int, int, int]:
        got, seen, files, size = read_export(folder)
        ok, why = compare(got, seen, ctx.expected)
        return ok, why, files, size, seen

    return cmd, {}, check


def step_import(ctx: TableCtx, tool: str, cleanups: list) -> Step | str:
    if reason := not_supported(tool):
        return reason
    assert ctx.import_source is not None
    table = f"imp{ctx.next_run():04d}"
    cleanups.append(lambda: delete_table(ctx, table))
    source = ctx.import_source
    if tool == "sdk":
        data_file = str(next(source.glob("*.json")))
        cmd = [str(PY), str(BARE_TABLES), "import", data_file, ctx.endpoint, table]
    else:
        cmd = azxfer_cmd(
            "import",
            str(source),
            ctx.table_url(table),
            "--manifest",
            ctx.manifest,
            "--entity-operation",
            "InsertOrReplace",
        )
    size = sum(p.stat().st_size for p in source.glob("*.json"))

    def check() -> tuple[bool, str, int, int, int]:
        got, seen = read_table(ctx, table)
        ok, why = compare(got, seen, ctx.expected)
        return ok, why, 1, size, seen

    return cmd, {}, check


def delete_table(ctx: TableCtx, table: str) -> None:
    with ctx.service() as svc:
        svc.delete_table(table)  # no error if it is not there


MakeStep = Callable[[str, list], Step | str]


def workload_plan(name: str, ctx: TableCtx) -> tuple[DataSet, MakeStep]:
    """(dataset, make_step(tool, cleanups)) for a Table workload, after seeding what it needs."""
    seed(ctx)
    if name == "table-export":
        data = DataSet(ctx.work, ctx.sizes.entities, ctx.json_bytes)
        return data, lambda t, c: step_export(ctx, t, c)
    if name == "table-import":
        return make_import_source(ctx), lambda t, c: step_import(ctx, t, c)
    raise ValueError(name)


def start(azurite: Any, work: Path, sizes: TableSizes) -> TableCtx:
    """The context of one Table workload on a fresh Azurite (its table port: blob port + 2)."""
    endpoint = f"http://127.0.0.1:{azurite.port + 2}/{ACCOUNT}"
    return TableCtx(azurite, work, None, None, endpoint=endpoint, sizes=sizes)  # type: ignore[arg-type]
