"""Baseline for the Table workloads: the obvious azure-data-tables program, no azxfer.

    bare_tables.py export ENDPOINT TABLE OUT_FILE
    bare_tables.py import IN_FILE ENDPOINT TABLE

export: one `TableClient.list_entities()` (Query Entities without a filter, the same request
azxfer's export makes), page after page, every entity written as one JSON line in the Table
service's own form (an `@odata.type` beside each value JSON cannot type). import: the table
is created if missing, the file's lines are grouped by PartitionKey and sent as
`submit_transaction` batches of up to 100 upserts (InsertOrReplace), with a
`Semaphore(CONCURRENCY)` over the batches: azxfer import's default concurrency. It reads
azxfer's data files, which use the same JSON form.

ENDPOINT is the account's table endpoint, path style on Azurite
(http://127.0.0.1:P/devstoreaccount1); the account key comes from env AZXFER_KEY. Prints one
JSON line with counts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import math
import os
import sys
import uuid
from collections.abc import Iterable
from typing import Any

from azure.data.tables import EdmType, EntityProperty, TableClient, UpdateMode
from azure.data.tables.aio import TableClient as AsyncTableClient

CONCURRENCY = 16  # azxfer import's default --concurrency (batches in flight)
BATCH = 100  # the service's limit of operations in one Entity Group Transaction
_UPSERT = {"mode": UpdateMode.REPLACE}


def connection_string(endpoint: str, key: str | None = None) -> str:
    """The SDK's connection string for the endpoint; the key: `key`, else env AZXFER_KEY."""
    account = endpoint.rstrip("/").rsplit("/", 1)[-1]
    return (
        f"DefaultEndpointsProtocol=http;AccountName={account};"
        f"AccountKey={key or os.environ['AZXFER_KEY']};TableEndpoint={endpoint};"
    )


# --------------------------------------------------------------------------------------
# The service's JSON form of an entity, to and from the SDK's Python values
# --------------------------------------------------------------------------------------
def _datetime_text(value: dt.datetime) -> str:
    # The SDK keeps the service's own text (all 7 digits of its 100 ns ticks) when it read it.
    kept = getattr(value, "tables_service_value", "")
    return kept or value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_json(entity: dict[str, Any]) -> str:
    """One entity as a JSON line of the service's minimal-metadata form."""
    out: dict[str, Any] = {}
    for name, value in entity.items():
        edm, text = None, value
        if isinstance(value, EntityProperty):
            edm, text = value.edm_type.value, str(value.value)
        elif isinstance(value, dt.datetime):
            edm, text = "Edm.DateTime", _datetime_text(value)
        elif isinstance(value, uuid.UUID):
            edm, text = "Edm.Guid", str(value)
        elif isinstance(value, bytes):
            edm, text = "Edm.Binary", base64.b64encode(value).decode()
        elif isinstance(value, float) and not math.isfinite(value):
            edm, text = "Edm.Double", str(value).replace("inf", "Infinity").replace("nan", "NaN")
        elif isinstance(value, float) and value.is_integer():
            edm = "Edm.Double"  # 1.0 would come back as an Int32
        if edm:
            out[f"{name}@odata.type"] = edm
        out[name] = text
    return json.dumps(out, ensure_ascii=False)


def _parse_datetime(text: str) -> dt.datetime:
    whole, _, fraction = text.rstrip("Z").partition(".")
    micro = int((fraction + "000000")[:6])
    return dt.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(
        microsecond=micro, tzinfo=dt.UTC
    )


_FROM_EDM = {
    "Edm.Int64": lambda v: EntityProperty(int(v), EdmType.INT64),
    "Edm.Double": float,
    "Edm.DateTime": _parse_datetime,
    "Edm.Guid": uuid.UUID,
    "Edm.Binary": base64.b64decode,
    "Edm.String": str,
    "Edm.Int32": int,
    "Edm.Boolean": bool,
}


def from_json(line: str | bytes) -> dict[str, Any]:
    """The SDK entity of one JSON line (annotations turned into the SDK's typed values)."""
    raw = json.loads(line)
    entity = {}
    for name, value in raw.items():
        if "@" in name or name.startswith("odata.") or name == "Timestamp":
            continue
        edm = raw.get(f"{name}@odata.type")
        entity[name] = _FROM_EDM[edm](value) if edm else value
    return entity


# --------------------------------------------------------------------------------------
# The two programs
# --------------------------------------------------------------------------------------
def export(endpoint: str, table: str, out_file: str) -> dict:
    entities = size = 0
    with (
        TableClient.from_connection_string(connection_string(endpoint), table) as tc,
        open(out_file, "w", encoding="utf-8") as out,
    ):
        for entity in tc.list_entities():
            line = to_json(entity) + "\n"
            out.write(line)
            entities += 1
            size += len(line)
    return {"entities": entities, "chars": size}


def batches(entities: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Entities grouped by partition, in chunks of at most BATCH."""
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for entity in entities:
        by_partition.setdefault(entity["PartitionKey"], []).append(entity)
    return [
        group[i : i + BATCH] for group in by_partition.values() for i in range(0, len(group), BATCH)
    ]


async def upsert_all(
    endpoint: str, table: str, entities: Iterable[dict[str, Any]], key: str | None = None
) -> int:
    """Create the table if missing and upsert every entity, CONCURRENCY batches in flight."""
    limit = asyncio.Semaphore(CONCURRENCY)
    conn = connection_string(endpoint, key)
    async with AsyncTableClient.from_connection_string(conn, table) as tc:
        try:
            await tc.create_table()
        except Exception as exc:  # TableExistsError is a ResourceExistsError
            if type(exc).__name__ not in ("ResourceExistsError", "TableExistsError"):
                raise

        async def one(batch: list[dict[str, Any]]) -> int:
            async with limit:
                await tc.submit_transaction([("upsert", e, _UPSERT) for e in batch])
            return len(batch)

        done = await asyncio.gather(*(one(b) for b in batches(entities)))
    return sum(done)


def import_file(in_file: str, endpoint: str, table: str) -> dict:
    with open(in_file, encoding="utf-8") as f:
        entities = [from_json(line) for line in f if line.strip()]
    return {"entities": asyncio.run(upsert_all(endpoint, table, entities))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("export")
    p.add_argument("endpoint")
    p.add_argument("table")
    p.add_argument("out_file")
    p = sub.add_parser("import")
    p.add_argument("in_file")
    p.add_argument("endpoint")
    p.add_argument("table")
    a = ap.parse_args(argv)
    if a.cmd == "export":
        result = export(a.endpoint, a.table, a.out_file)
    else:
        result = import_file(a.in_file, a.endpoint, a.table)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
