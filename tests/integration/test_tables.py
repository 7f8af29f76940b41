"""`azxfer export` and `azxfer import` through the real CLI against Azurite's Table service,
compared entity by entity through azure-data-tables."""

from __future__ import annotations

import json
import math
import re
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
from azure.data.tables import EdmType, EntityProperty, TableServiceClient
from sdk_clients import table_service
from seed import seed_table

pytestmark = pytest.mark.timeout(300)

MIB = 1024 * 1024


@pytest.fixture
def tables(azurite) -> TableServiceClient:
    return table_service(azurite)


@pytest.fixture
def table_url(azurite):
    return lambda name: f"{azurite.table_endpoint}/{name}"


def fresh(prefix: str = "t") -> str:
    return prefix + uuid.uuid4().hex[:12]


def edm_entities() -> list[dict[str, Any]]:
    """One entity per hard case of every EDM type."""
    dt = EdmType.DATETIME
    return [
        {
            "PartitionKey": "ints",
            "RowKey": "1",
            "i32max": 2**31 - 1,
            "i32min": -(2**31),
            "i64max": EntityProperty(2**63 - 1, EdmType.INT64),
            "i64min": EntityProperty(-(2**63), EdmType.INT64),
            "i64one": EntityProperty(1, EdmType.INT64),
            "yes": True,
            "no": False,
        },
        {
            "PartitionKey": "doubles",
            "RowKey": "1",
            "nan": float("nan"),
            "inf": float("inf"),
            "ninf": float("-inf"),
            "sub": 5e-324,
            "sub2": 2.2250738585072e-308,
            "one": 1.0,
            "big": 1e300,
            "max": 1.7976931348623157e308,
            "half": 0.5,
            "third": 1 / 3,
        },
        {
            "PartitionKey": "misc",
            "RowKey": "1",
            "guid": uuid.UUID("12345678-1234-5678-9abc-def012345678"),
            "t1601": EntityProperty("1601-01-01T00:00:00.0000001Z", dt),
            "t9999": EntityProperty("9999-12-31T23:59:59.9999999Z", dt),
            "t100ns": EntityProperty("2026-12-06T18:16:04.5192796Z", dt),
            "bin0": b"",
            "bin64k": bytes(range(256)) * 256,
        },
        {
            "PartitionKey": "strings",
            "RowKey": "1",
            "empty": "",
            "long": "a" * (32 * 1024),
            "astral": "😀𝄞\U0010fffd",
            "control": '\x00\x01\t\n\r\x1f\x7f\u2028"\\',
            "quote": "it's",
        },
        {"PartitionKey": "é😀" * 170 + "é", "RowKey": "ü" * 512, "v": 1},
        {
            "PartitionKey": "wide",
            "RowKey": "1",
            **{f"p{i:03d}": i for i in range(252 - 2)},
            "PartitionKey2": "x",
            "last": "y",
        },
        {
            "PartitionKey": "large",
            "RowKey": "1",
            **{f"b{i:02d}": bytes([i]) * (64 * 1024) for i in range(15)},
            "s": "z" * (30 * 1024),
        },
        {"PartitionKey": "quote's", "RowKey": "it's", "v": 2},
    ]


def canonical(value: Any) -> Any:
    """A value as compared: its EDM type and exact form (NaN equal to NaN, DateTime by the
    service's own text with its 100 ns)."""
    if isinstance(value, EntityProperty):
        return ("prop", str(value.edm_type), canonical(value.value))
    if isinstance(value, float):
        return ("double", "nan" if math.isnan(value) else value.hex())
    if hasattr(value, "tables_service_value"):
        return ("datetime", value.tables_service_value)
    if isinstance(value, bool):
        return ("bool", value)
    return (type(value).__name__, value)


def table_contents(tables: TableServiceClient, name: str) -> dict[tuple[str, str], dict]:
    return {
        (e["PartitionKey"], e["RowKey"]): {k: canonical(v) for k, v in e.items()}
        for e in tables.get_table_client(name).list_entities()
    }


def export(run_azxfer, url: str, folder: Path, *extra: str):
    result = run_azxfer("export", url, folder, "--output-type", "json", *extra)
    result.assert_ok()
    return result


def only_manifest(folder: Path) -> Path:
    manifests = list(folder.glob("*.manifest"))
    assert len(manifests) == 1, manifests
    return manifests[0]


def test_every_edm_type_round_trips_exactly(run_azxfer, tables, table_url, tmp_path, azurite):
    source, dest = fresh(), fresh()
    seed_table(tables, source, edm_entities())
    folder = tmp_path / "export"
    result = export(run_azxfer, table_url(source), folder)
    assert result.events_of("entities_done")[0]["entities_total"] == len(edm_entities())

    manifest_path = only_manifest(folder)
    stem = f"{azurite.account}_{source}_"
    assert re.fullmatch(re.escape(stem) + r"\d{8}T\d{9}Z\.manifest", manifest_path.name)
    manifest = json.loads(manifest_path.read_text())
    (item,) = manifest["files"]
    data = (folder / item["name"]).read_bytes()
    crc = f"{zlib.crc32(data):08X}"
    assert item["name"] == manifest_path.name.removesuffix(".manifest") + f"_0_0_{crc}.json"
    assert (item["size"], item["entities"], item["crc32"]) == (len(data), 8, crc)
    assert manifest["totals"] == {"files": 1, "entities": 8, "bytes": len(data)}
    assert manifest["source"]["table"] == source
    lines = [json.loads(line) for line in data.splitlines()]
    ints = next(e for e in lines if e["PartitionKey"] == "ints")
    assert ints["i64max@odata.type"] == "Edm.Int64" and ints["i64max"] == str(2**63 - 1)
    assert "i32max@odata.type" not in ints
    doubles = next(e for e in lines if e["PartitionKey"] == "doubles")
    assert doubles["one@odata.type"] == "Edm.Double" and "half@odata.type" not in doubles
    assert all("Timestamp" not in e and "odata.etag" not in e for e in lines)

    run_azxfer(
        "import", folder, table_url(dest), "--manifest", manifest_path.name,
        "--output-type", "json",
    ).assert_ok()  # fmt: skip
    assert table_contents(tables, dest) == table_contents(tables, source)


def test_pages_and_batches_across_partitions(run_azxfer, tables, table_url, tmp_path):
    source, dest = fresh(), fresh()
    rows = [
        {"PartitionKey": f"p{p}", "RowKey": f"{r:05d}", "v": r}
        for p in range(5)
        for r in range(530)
    ]
    seed_table(tables, source, rows, batch=100)
    folder = tmp_path / "export"
    export(run_azxfer, table_url(source), folder)
    manifest = only_manifest(folder)
    assert json.loads(manifest.read_text())["totals"]["entities"] == 2650
    result = run_azxfer(
        "import", folder, table_url(dest), "--manifest", manifest.name, "--output-type", "json"
    ).assert_ok()
    done = result.events_of("entities_done")[0]
    assert (done["entities_total"], done["entities_written"]) == (2650, 2650)
    assert sum(e["entities"] for e in result.events_of("entities_progress")) == 2650
    assert table_contents(tables, dest) == table_contents(tables, source)


def test_filter_select_and_dry_run(run_azxfer, tables, table_url, tmp_path):
    source = fresh()
    seed_table(
        tables,
        source,
        [{"PartitionKey": "a", "RowKey": str(i), "v": i, "w": "x"} for i in range(6)],
    )
    dry = tmp_path / "dry"
    result = export(run_azxfer, table_url(source), dry, "--dry-run")
    assert result.events_of("entities_done")[0]["entities_total"] == 6
    assert result.finished()["status"] == "DryRun"
    assert not dry.exists()

    folder = tmp_path / "some"
    export(run_azxfer, table_url(source), folder, "--filter", "v ge 4", "--select", "w",
           "--manifest", "mine.manifest")  # fmt: skip
    (item,) = json.loads((folder / "mine.manifest").read_text())["files"]
    lines = [json.loads(line) for line in (folder / item["name"]).read_text().splitlines()]
    assert lines == [{"PartitionKey": "a", "RowKey": r, "w": "x"} for r in ("4", "5")]


def _export_of(run_azxfer, tables, table_url, tmp_path, entities) -> tuple[Path, Path]:
    source = fresh()
    seed_table(tables, source, entities)
    folder = tmp_path / "export"
    export(run_azxfer, table_url(source), folder)
    manifest = only_manifest(folder)
    item = json.loads(manifest.read_text())["files"][0]
    return manifest, folder / item["name"]


@pytest.mark.parametrize("damage", ["edited", "truncated", "missing", "manifest"])
def test_damaged_export_is_refused_before_any_write(
    run_azxfer, tables, table_url, tmp_path, damage
):
    entities = [{"PartitionKey": "a", "RowKey": str(i), "v": i} for i in range(20)]
    manifest, data = _export_of(run_azxfer, tables, table_url, tmp_path, entities)
    content = data.read_bytes()
    if damage == "edited":
        data.write_bytes(content.replace(b'"v":7', b'"v":8'))
    elif damage == "truncated":
        data.write_bytes(content[:-10])
    elif damage == "missing":
        data.unlink()
    else:
        manifest.write_text(manifest.read_text().replace('"entities": 20', '"entities": 21', 1))
    dest = fresh()
    result = run_azxfer("import", data.parent, table_url(dest), "--manifest", manifest.name)
    result.assert_usage_error(1)
    assert data.name in result.stderr or manifest.name in result.stderr
    assert dest not in [t.name for t in tables.list_tables()]


def test_forbidden_key_and_missing_manifest_are_clear_errors(run_azxfer, table_url, tmp_path):
    folder = tmp_path / "handmade"
    folder.mkdir()
    body = b'{"PartitionKey":"a/b","RowKey":"1","v":1}\n'
    crc = f"{zlib.crc32(body):08X}"
    name = f"x_t_20260101T000000000Z_0_0_{crc}.json"
    (folder / name).write_bytes(body)
    manifest = {
        "format": "azxfer-table-export/1", "payload": "json", "created": "2026-01-01T00:00:00Z",
        "source": {"account": "x", "table": "t", "url": "http://x/t"}, "ranges": [[None, None]],
        "files": [{"name": name, "range": 0, "split": 0, "size": len(body), "entities": 1,
                   "crc32": crc}],
        "totals": {"files": 1, "entities": 1, "bytes": len(body)},
    }  # fmt: skip
    (folder / "m.manifest").write_text(json.dumps(manifest))
    result = run_azxfer("import", folder, table_url(fresh()), "--manifest", "m.manifest")
    result.assert_usage_error()
    assert "forbids" in result.stderr and f"{name}:1" in result.stderr
    missing = run_azxfer("import", folder, table_url(fresh()), "--manifest", "no.manifest")
    missing.assert_usage_error()
    assert "does not exist" in missing.stderr
    bad_url = run_azxfer("export", "https://acct.blob.core.windows.net/tbl", tmp_path / "o")
    bad_url.assert_usage_error()


@pytest.mark.parametrize("operation", ["InsertOrSkip", "InsertOrMerge", "InsertOrReplace"])
def test_entity_operations(run_azxfer, tables, table_url, tmp_path, operation):
    entities = [{"PartitionKey": "a", "RowKey": f"{i:03d}", "v": i} for i in range(150)]
    manifest, _ = _export_of(run_azxfer, tables, table_url, tmp_path, entities)
    dest = fresh()
    # Present already, in the middle of the first and of the second batch.
    seed_table(tables, dest, [{"PartitionKey": "a", "RowKey": r, "v": -1, "old": "kept"}
                        for r in ("050", "120")])  # fmt: skip
    result = run_azxfer(
        "import", manifest.parent, table_url(dest), "--manifest", manifest.name,
        "--entity-operation", operation, "--output-type", "json",
    ).assert_ok()  # fmt: skip
    done = result.events_of("entities_done")[0]
    got = {e["RowKey"]: dict(e) for e in tables.get_table_client(dest).list_entities()}
    assert len(got) == 150
    present = {"050", "120"}
    for r, e in got.items():
        if r not in present:
            assert e == {"PartitionKey": "a", "RowKey": r, "v": int(r)}
    if operation == "InsertOrSkip":
        assert (done["entities_written"], done["entities_skipped"]) == (148, 2)
        assert result.finished()["status"] == "CompletedWithSkipped"
        assert all(got[r]["v"] == -1 and got[r]["old"] == "kept" for r in present)
    elif operation == "InsertOrMerge":
        assert done["entities_written"] == 150
        assert all(got[r]["v"] == int(r) and got[r]["old"] == "kept" for r in present)
    else:
        assert done["entities_written"] == 150
        assert all(got[r] == {"PartitionKey": "a", "RowKey": r, "v": int(r)} for r in present)
