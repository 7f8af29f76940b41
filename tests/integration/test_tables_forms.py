"""`azxfer export`/`import` beyond one JSON file: CSV with schemas, partition-key ranges and
splits, and table → table across accounts, through the real CLI against Azurite."""

# ruff: noqa: F811 - the fixtures `tables` and `table_url` are imported from test_tables

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import pytest
from azure.data.tables import TableServiceClient
from sdk_clients import table_service
from seed import seed_table
from test_tables import (
    edm_entities,
    fresh,
    only_manifest,
    table_contents,
    table_url,  # noqa: F401 - a fixture
    tables,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.timeout(600)

MIB = 1024 * 1024


def mixed_entities() -> list[dict]:
    """Entities of different property sets: absent, empty string, one name of two types."""
    return [
        {"PartitionKey": "mixed", "RowKey": "1", "v": "", "w": 5},
        {"PartitionKey": "mixed", "RowKey": "2", "w": 6},
        {"PartitionKey": "mixed", "RowKey": "3", "v": 7, "x": 'a,"b"\r\nc'},
        {"PartitionKey": "mixed", "RowKey": "4"},
        {"PartitionKey": "mixed", "RowKey": "5", "x": ""},
    ]


def import_into(run_azxfer, folder, url: str, manifest: str, *extra: str):
    return run_azxfer(
        "import", folder, url, "--manifest", manifest, "--output-type", "json", *extra
    ).assert_ok()


def test_csv_round_trips_every_edm_type_and_absent_properties(
    run_azxfer, tables, table_url, tmp_path
):
    source, dest = fresh(), fresh()
    entities = edm_entities() + mixed_entities()
    seed_table(tables, source, entities)
    folder = tmp_path / "csv"
    run_azxfer(
        "export", table_url(source), folder, "--payload-format", "csv", "--output-type", "json"
    ).assert_ok()
    manifest_path = only_manifest(folder)
    manifest = json.loads(manifest_path.read_text())
    assert manifest["payload"] == "csv"
    (item,) = manifest["files"]
    assert item["name"].endswith(f"_0_0_{item['crc32']}.csv")
    schema = folder / item["schema"]["name"]
    assert schema.name == item["name"].removesuffix(".csv") + ".schema.csv"
    assert f"{zlib.crc32(schema.read_bytes()):08X}" == item["schema"]["crc32"]
    columns = schema.read_bytes().decode().split("\r\n")
    assert columns[:3] == [
        '"column","type"',
        '"PartitionKey","Edm.String"',
        '"RowKey","Edm.String"',
    ]
    # One name, two types: two columns.
    assert '"v","Edm.String"' in columns and '"v","Edm.Int32"' in columns
    assert '"i64max","Edm.Int64"' in columns and '"t1601","Edm.DateTime"' in columns
    rows = (folder / item["name"]).read_bytes().split(b"\r\n")
    assert b'"mixed","4"' in rows  # nothing but its keys: every other cell absent
    assert item["entities"] == len(entities)

    import_into(run_azxfer, folder, table_url(dest), manifest_path.name)
    got = table_contents(tables, dest)
    assert got == table_contents(tables, source)
    assert "v" not in got[("mixed", "2")] and got[("mixed", "1")]["v"] == ("str", "")


@pytest.mark.parametrize("damage", ["schema", "row"])
def test_csv_damage_is_refused_before_any_write(run_azxfer, tables, table_url, tmp_path, damage):
    source, dest = fresh(), fresh()
    seed_table(tables, source, mixed_entities())
    folder = tmp_path / "csv"
    run_azxfer("export", table_url(source), folder, "--payload-format", "csv").assert_ok()
    manifest = only_manifest(folder)
    (item,) = json.loads(manifest.read_text())["files"]
    target = folder / (item["schema"]["name"] if damage == "schema" else item["name"])
    target.write_bytes(target.read_bytes().replace(b"Int32", b"Int64", 1).replace(b'"5"', b'"6"'))
    result = run_azxfer("import", folder, table_url(dest), "--manifest", manifest.name)
    result.assert_usage_error(1)
    assert target.name in result.stderr
    assert dest not in [t.name for t in tables.list_tables()]


def _big_table(tables: TableServiceClient) -> str:
    """~36 MiB of entities (60 KiB each), 450 of them in partition 'c', a few elsewhere."""
    name = fresh()
    blob = bytes(range(256)) * 240
    rows = [
        {"PartitionKey": pk, "RowKey": f"{r:04d}", "b": blob, "r": r}
        for pk, count in (("a", 3), ("bb", 5), ("c", 450), ("d", 2), ("e", 4))
        for r in range(count)
    ]
    seed_table(tables, name, rows, batch=50)
    return name


def test_ranges_and_splits_export_the_same_entities(run_azxfer, tables, table_url, tmp_path):
    source = _big_table(tables)
    plain, ranged = tmp_path / "plain", tmp_path / "ranged"
    run_azxfer("export", table_url(source), plain).assert_ok()
    run_azxfer(
        "export", table_url(source), ranged, "--pkrs", "b#d", "--split-size", "32",
        "--concurrency", "2", "--payload-format", "json",
    ).assert_ok()  # fmt: skip

    manifest = json.loads(only_manifest(ranged).read_text())
    assert manifest["ranges"] == [[None, "b"], ["b", "d"], ["d", None]]
    stem = only_manifest(ranged).name.removesuffix(".manifest")
    names = {(f["range"], f["split"]): f for f in manifest["files"]}
    assert sorted(names) == [(0, 0), (1, 0), (1, 1), (2, 0)]
    for (rng, split), item in names.items():
        assert re.fullmatch(
            re.escape(f"{stem}_{rng}_{split}_") + "[0-9A-F]{8}\\.json", item["name"]
        )
        data = (ranged / item["name"]).read_bytes()
        assert f"{zlib.crc32(data):08X}" == item["crc32"] and len(data) == item["size"]
    assert names[(1, 0)]["size"] > 32 * MIB > names[(1, 1)]["size"]
    assert [names[(r, 0)]["entities"] for r in (0, 2)] == [3, 6]
    assert names[(1, 0)]["entities"] + names[(1, 1)]["entities"] == 455
    assert manifest["totals"]["entities"] == 464

    expected = table_contents(tables, source)
    for folder in (plain, ranged):
        dest = fresh()
        import_into(run_azxfer, folder, table_url(dest), only_manifest(folder).name)
        assert table_contents(tables, dest) == expected


def test_bad_range_and_split_options_are_one_line_each(run_azxfer, table_url, tmp_path):
    url = table_url(fresh())
    for args, words in (
        (("--split-size", "31"), "at least 32"),
        (("--pkrs", "b#a"), "sort after"),
        (("--pkrs", "a##b"), "none empty"),
    ):
        result = run_azxfer("export", url, tmp_path / "x", *args)
        result.assert_usage_error()
        assert words in result.stderr, result.stderr
        assert not (tmp_path / "x").exists()


@pytest.fixture
def acct2_tables(azurite) -> TableServiceClient:
    return table_service(azurite, azurite.acct2)


@pytest.mark.parametrize("operation", ["InsertOrSkip", "InsertOrReplace"])
def test_table_to_table_across_accounts(
    run_azxfer, tables, acct2_tables, table_url, azurite, tmp_path, operation
):
    source, dest = fresh(), fresh()
    many = [{"PartitionKey": f"p{i % 3}", "RowKey": f"{i:04d}", "v": i} for i in range(1200)]
    edm = edm_entities()
    if operation == "InsertOrReplace":
        # Azurite counts an entity sent by PUT against its 1 MiB with more than a POST, and
        # refuses the 1 MiB one (EntityTooLarge); InsertOrSkip (POST) takes it.
        edm = [e for e in edm if e["PartitionKey"] != "large"]
    seed_table(acct2_tables, source, edm + many)
    seed_table(tables, dest, [{"PartitionKey": "p1", "RowKey": "0001", "v": -1, "old": "kept"}])
    key_file = tmp_path / "acct2.key"
    key_file.write_text(azurite.acct2_key)
    src_url = f"{azurite.scheme}://{azurite.host}:{azurite.table_port}/{azurite.acct2}/{source}"
    result = run_azxfer(
        "import", src_url, table_url(dest), "--source-key-file", key_file,
        "--entity-operation", operation, "--output-type", "json",
    ).assert_ok()  # fmt: skip
    done = result.events_of("entities_done")[0]
    total = len(edm) + len(many)
    assert done["entities_total"] == total
    expected = table_contents(acct2_tables, source)
    got = table_contents(tables, dest)
    if operation == "InsertOrSkip":
        assert (done["entities_written"], done["entities_skipped"]) == (total - 1, 1)
        assert got.pop(("p1", "0001"))["old"] == ("str", "kept")
        expected.pop(("p1", "0001"))
    else:
        assert done["entities_written"] == total
    assert got == expected
    assert not list(Path(tmp_path).glob("*.manifest"))
