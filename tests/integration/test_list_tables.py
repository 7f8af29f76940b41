"""`azxfer list` on Table storage through the real CLI against Azurite: a Table service URL
lists its tables (paged by table name), a table URL its entities' keys (paged by key); with
the account key, a SAS and the connection string; bad inputs each one line."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from azure.core.credentials import AzureNamedKeyCredential
from azure.data.tables import (
    AccountSasPermissions,
    ResourceTypes,
    TableSasPermissions,
    TableServiceClient,
    generate_account_sas,
    generate_table_sas,
)
from sdk_clients import table_service
from seed import seed_table

pytestmark = pytest.mark.timeout(300)

# Azurite pages Query Tables and Query Entities at 1,000: one more makes a second page.
PAGE = 1000


def _prefix() -> str:
    return "L" + uuid.uuid4().hex[:10]


@pytest.fixture
def tables(azurite) -> TableServiceClient:
    return table_service(azurite)


def _connection_string(azurite) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={azurite.account};AccountKey={azurite.key};"
        f"TableEndpoint={azurite.table_endpoint};"
    )


def _expiry() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)


def _seed_entities(tables: TableServiceClient, name: str, keys: list[tuple[str, str]]) -> None:
    entities = [{"PartitionKey": pk, "RowKey": rk, "n": 1} for pk, rk in sorted(keys)]
    seed_table(tables, name, entities, batch=100)


def test_a_service_lists_its_tables_with_a_pattern(run_azxfer, azurite, tables) -> None:
    prefix = _prefix()
    names = [f"{prefix}b", f"{prefix}a", f"{prefix}c2"]
    for name in names:
        tables.create_table(name)
    tables.create_table(_prefix())  # another table: not matched
    url = f"{azurite.table_endpoint}"
    listed = run_azxfer("list", url, "--type", "Table", "--include-pattern", f"{prefix}*")
    listed.assert_ok()
    assert listed.stdout == "".join(f"{n}\n" for n in sorted(names))
    assert listed.stderr == "Tables: 3\n"
    # --exclude-pattern too; the summary on stdout with --running-tally.
    fewer = run_azxfer(
        "list", url + "/", "--type", "Table", "--include-pattern", f"{prefix}*",
        "--exclude-pattern", "*2", "--running-tally",
    ).assert_ok()  # fmt: skip
    assert fewer.stdout == f"{prefix}a\n{prefix}b\nTables: 2\n" and fewer.stderr == ""


def test_json_entries_and_summary(run_azxfer, azurite, tables) -> None:
    prefix = _prefix()
    tables.create_table(prefix + "x")
    listed = run_azxfer(
        "list", azurite.table_endpoint, "--type", "Table", "--include-pattern", prefix + "*",
        "--output-type", "json",
    ).assert_ok()  # fmt: skip
    assert listed.events() == [
        {"event": "list_entry", "name": prefix + "x", "size": 0, "type": "table"},
        {"event": "list_summary", "tables": 1},
    ]


def test_tables_past_one_page_with_the_connection_string(run_azxfer, azurite) -> None:
    """1,001 tables (in the second account, so no other test's tables count): two pages of
    Query Tables, found by the connection string's TableEndpoint (no --type) and key."""
    service = table_service(azurite, azurite.acct2)
    names = sorted(f"P{i:04d}{uuid.uuid4().hex[:6]}" for i in range(PAGE + 1))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(service.create_table, names))
    try:
        endpoint = f"http://{azurite.host}:{azurite.table_port}/{azurite.acct2}"
        cs = (
            f"DefaultEndpointsProtocol=http;AccountName={azurite.acct2};"
            f"AccountKey={azurite.acct2_key};TableEndpoint={endpoint};"
        )
        env = {"AZURE_STORAGE_CONNECTION_STRING": cs, "AZXFER_SOURCE_KEY": None}
        listed = run_azxfer("list", endpoint, "--include-pattern", "P*", env=env).assert_ok()
        assert listed.stdout.splitlines() == names
        assert listed.stderr == f"Tables: {PAGE + 1}\n"
    finally:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(service.delete_table, names))


def test_a_table_lists_its_entities_keys_past_one_page(run_azxfer, azurite, tables) -> None:
    name = _prefix()
    keys = sorted((f"p{i % 3}", f"r{i:05d}") for i in range(PAGE + 5))
    _seed_entities(tables, name, keys)
    url = f"{azurite.table_endpoint}/{name}"
    listed = run_azxfer("list", url, "--type", "Table").assert_ok()
    assert listed.stdout.splitlines() == [f"{pk}\t{rk}" for pk, rk in keys]
    assert listed.stderr == f"Entities: {PAGE + 5}\n"


def test_entities_with_their_time_as_json(run_azxfer, azurite, tables) -> None:
    name = _prefix()
    _seed_entities(tables, name, [("p", "1"), ("p", "2 two")])
    url = f"{azurite.table_endpoint}/{name}"
    listed = run_azxfer(
        "list", url, "--type", "Table", "--properties", "lastmodifiedtime", "--output-type", "json"
    ).assert_ok()
    entities = listed.events_of("list_entity")
    assert [(e["partition_key"], e["row_key"]) for e in entities] == [("p", "1"), ("p", "2 two")]
    stored = {
        e["RowKey"]: e.metadata["timestamp"] for e in tables.get_table_client(name).list_entities()
    }
    for entity in entities:
        written = dt.datetime.fromisoformat(entity["last_modified_time"].replace("Z", "+00:00"))
        assert abs(written - stored[entity["row_key"]]) < dt.timedelta(milliseconds=1)
    assert listed.events()[-1] == {"event": "list_summary", "entities": 2}
    text = run_azxfer("list", url, "--type", "Table", "--properties", "LastModifiedTime")
    first = text.assert_ok().stdout.splitlines()[0].split("\t")
    assert first[:2] == ["p", "1"] and first[2].startswith("LastModifiedTime=20")


def test_sas_tokens_list_and_never_show(run_azxfer, azurite, tables) -> None:
    """An account SAS lists the tables; a table's own SAS lists its entities; neither
    signature is printed, and a SAS that may not list is one line, exit 1."""
    prefix = _prefix()
    _seed_entities(tables, prefix + "t", [("p", "r")])
    key = AzureNamedKeyCredential(azurite.account, azurite.key)
    account_sas = generate_account_sas(
        key, ResourceTypes(container=True), AccountSasPermissions(list=True), _expiry()
    )
    env = {"AZXFER_SOURCE_KEY": None}
    listed = run_azxfer(
        "list", f"{azurite.table_endpoint}?{account_sas}", "--type", "Table",
        "--include-pattern", prefix + "*", env=env,
    ).assert_ok()  # fmt: skip
    assert listed.stdout == f"{prefix}t\n"
    table_sas = generate_table_sas(
        key, prefix + "t", permission=TableSasPermissions(read=True), expiry=_expiry()
    )
    url = f"{azurite.table_endpoint}/{prefix}t?{table_sas}"
    entities = run_azxfer("list", url, "--type", "Table", env=env).assert_ok()
    assert entities.stdout == "p\tr\n"
    # A table's SAS cannot list the service's tables.
    refused = run_azxfer(
        "list", f"{azurite.table_endpoint}?{table_sas}", "--type", "Table", env=env
    ).assert_usage_error(1)
    for run in (listed, entities, refused):
        for sas in (account_sas, table_sas):
            signature = dict(p.split("=", 1) for p in sas.split("&"))["sig"]
            assert signature not in run.stdout + run.stderr


def test_missing_table_and_bad_inputs_are_one_line(run_azxfer, azurite) -> None:
    base = azurite.table_endpoint
    name = _prefix()
    missing = run_azxfer("list", f"{base}/{name}", "--type", "Table").assert_usage_error(1)
    assert missing.stderr == f"azxfer: error: table '{name}' at {base} does not exist\n"
    for args, says in (
        ((f"{base}/{_prefix()}", "-r"), "--recursive"),
        ((base, "--include-path", "a"), "--include-path"),
        ((base, "--include-after", "2024-01-01T00:00:00Z"), "--include-after"),
        ((f"{base}/{_prefix()}", "--include-pattern", "a*"), "choose tables"),
        ((base, "--properties", "LastModifiedTime"), "does not give LastModifiedTime"),
        ((f"{base}/{_prefix()}", "--properties", "ETag"), "does not give ETag"),
        ((f"{base}/1bad",), "not a valid table name"),
        ((f"{base}/a/b",), "ENDPOINT/TABLE"),
    ):
        # Told before any credential is looked for: none is given.
        result = run_azxfer("list", *args, "--type", "Table", env={"AZXFER_SOURCE_KEY": None})
        result.assert_usage_error()
        assert says in result.stderr, result.describe()
