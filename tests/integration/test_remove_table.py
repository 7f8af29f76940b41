"""`azxfer remove TABLE_URL` through the real CLI against Azurite's Table service: the table
goes (with --force, or a yes on a terminal), stays (no terminal, a no, --dry-run, a SAS that
may not delete), and a missing table or a filter is one line; no signature is printed."""

from __future__ import annotations

import datetime as dt
import os
import pty
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from azure.core.credentials import AzureNamedKeyCredential
from azure.data.tables import (
    AccountSasPermissions,
    ResourceTypes,
    TableServiceClient,
    generate_account_sas,
)
from sdk_clients import table_service
from seed import seed_table

pytestmark = pytest.mark.timeout(300)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tables(azurite) -> TableServiceClient:
    return table_service(azurite)


@pytest.fixture
def table(tables) -> str:
    """A fresh table holding two entities."""
    name = "R" + uuid.uuid4().hex[:12]
    seed_table(tables, name, [{"PartitionKey": "p", "RowKey": row, "n": 1} for row in ("1", "2")])
    return name


def _exists(tables: TableServiceClient, name: str) -> bool:
    return any(t.name == name for t in tables.query_tables(f"TableName eq '{name}'"))


def _entities(tables: TableServiceClient, name: str) -> int:
    return len(list(tables.get_table_client(name).list_entities()))


def test_force_removes_the_table(run_azxfer, azurite, tables, table) -> None:
    url = f"{azurite.table_endpoint}/{table}"
    removed = run_azxfer("remove", url, "--type", "Table", "--force").assert_ok()
    assert removed.stdout == f"Removed table '{table}' at {url} (and all its entities)\n"
    assert removed.stderr == ""
    assert not _exists(tables, table)
    # Gone now: one line, exit 1, --force or not.
    for extra in ((), ("--force",), ("--dry-run",)):
        again = run_azxfer("remove", url, "--type", "Table", *extra).assert_usage_error(1)
        assert again.stderr == (
            f"azxfer: error: table '{table}' at {azurite.table_endpoint} does not exist\n"
        )


def test_without_a_terminal_it_refuses_and_keeps_everything(
    run_azxfer, azurite, tables, table
) -> None:
    url = f"{azurite.table_endpoint}/{table}"
    refused = run_azxfer("remove", url, "--type", "Table").assert_usage_error(1)
    assert refused.stderr == (
        f"azxfer: error: remove would delete table '{table}' and all its entities, more than "
        "--max-delete 50% allows; nothing was removed (give --force to remove it)\n"
    )
    assert refused.stdout == ""
    assert _entities(tables, table) == 2


def test_dry_run_says_and_removes_nothing(run_azxfer, azurite, tables, table) -> None:
    url = f"{azurite.table_endpoint}/{table}"
    said = run_azxfer("remove", url, "--type", "Table", "--dry-run").assert_ok()
    assert said.stdout == f"Would remove table '{table}' at {url} (and all its entities)\n"
    as_json = run_azxfer(
        "remove", url, "--type", "Table", "--dry-run", "--output-type", "json"
    ).assert_ok()
    assert as_json.events() == [
        {"event": "removed", "kind": "table", "name": table, "url": url, "dry_run": True}
    ]
    assert _entities(tables, table) == 2
    done = run_azxfer("remove", url, "--type", "Table", "--force", "--output-type", "json")
    assert done.assert_ok().events()[0]["dry_run"] is False
    assert not _exists(tables, table)


def _on_terminal(azurite, args: list[str], answer: bytes) -> tuple[int, str]:
    """Run the CLI with a terminal for stdin, answer its question; (exit, stderr)."""
    env = dict(os.environ, AZXFER_DEST_KEY=azurite.key, PYTHONPATH=str(REPO_ROOT))
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "azxfer", *args],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        os.write(master, answer)
        _, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    return proc.returncode, err.decode()


def test_a_terminal_is_asked(azurite, tables, table) -> None:
    args = ["remove", f"{azurite.table_endpoint}/{table}", "--type", "Table"]
    code, err = _on_terminal(azurite, args, b"n\n")
    assert code == 1 and f"Remove table '{table}' and all its entities? [y/N]" in err
    assert err.rstrip().endswith("nothing was removed: declined at the prompt")
    assert _entities(tables, table) == 2
    code, err = _on_terminal(azurite, args, b"y\n")
    assert code == 0, err
    assert not _exists(tables, table)


def test_account_sas_and_connection_string(run_azxfer, azurite, tables) -> None:
    """An account SAS that may delete removes the table; one that may only list is one
    line and the table stays; no signature is printed. The connection string's
    TableEndpoint and key find a path-style table without --type."""
    names = ["S" + uuid.uuid4().hex[:12] for _ in range(2)]
    for name in names:
        tables.create_table(name)
    key = AzureNamedKeyCredential(azurite.account, azurite.key)
    expiry = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    may_list = generate_account_sas(
        key, ResourceTypes(container=True), AccountSasPermissions(list=True), expiry
    )
    may_delete = generate_account_sas(
        key, ResourceTypes(container=True), AccountSasPermissions(delete=True), expiry
    )
    env = {"AZXFER_DEST_KEY": None}
    url = f"{azurite.table_endpoint}/{names[0]}"
    denied = run_azxfer("remove", f"{url}?{may_list}", "--type", "Table", "--force", env=env)
    denied.assert_usage_error(1)
    assert "denied" in denied.stderr and _exists(tables, names[0])
    removed = run_azxfer("remove", f"{url}?{may_delete}", "--type", "Table", "--force", env=env)
    assert (
        removed.assert_ok().stdout
        == f"Removed table '{names[0]}' at {url} (and all its entities)\n"
    )
    assert not _exists(tables, names[0])
    for run, sas in ((denied, may_list), (removed, may_delete)):
        signature = dict(p.split("=", 1) for p in sas.split("&"))["sig"]
        assert signature not in run.stdout + run.stderr
    cs = (
        f"DefaultEndpointsProtocol=http;AccountName={azurite.account};AccountKey={azurite.key};"
        f"TableEndpoint={azurite.table_endpoint};"
    )
    env = {"AZURE_STORAGE_CONNECTION_STRING": cs, "AZXFER_DEST_KEY": None}
    url = f"{azurite.table_endpoint}/{names[1]}"
    run_azxfer("remove", url, "--force", env=env).assert_ok()
    assert not _exists(tables, names[1])


def test_what_cannot_apply_to_a_table_is_one_line(run_azxfer, azurite, tables, table) -> None:
    url = f"{azurite.table_endpoint}/{table}"
    for args, says in (
        (("--include-pattern", "a*"), "--include-pattern cannot choose"),
        (("--delete-snapshots", "include"), "--delete-snapshots cannot choose"),
    ):
        result = run_azxfer("remove", url, "--type", "Table", "--force", *args)
        assert says in result.assert_usage_error().stderr
    service = run_azxfer("remove", azurite.table_endpoint, "--type", "Table", "--force")
    assert "ENDPOINT/TABLE" in service.assert_usage_error().stderr
    props = run_azxfer("set-properties", url, "--type", "Table", "--metadata", "a=b")
    assert "cannot act on a table" in props.assert_usage_error().stderr
    assert _entities(tables, table) == 2
