"""Defects a new user (coming from AzCopy v10 / rclone) met in a trial of the whole product,
each through the real CLI against Azurite or the File stand-in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

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

pytestmark = pytest.mark.timeout(300)

NO_KEY = {"AZXFER_SOURCE_KEY": None, "AZXFER_DEST_KEY": None}


@pytest.fixture
def tables(azurite) -> TableServiceClient:
    cs = (
        f"DefaultEndpointsProtocol=http;AccountName={azurite.account};AccountKey={azurite.key};"
        f"TableEndpoint={azurite.table_endpoint};"
    )
    return TableServiceClient.from_connection_string(cs)


def _table_sas(azurite, table: str, **permissions: bool) -> str:
    return generate_table_sas(
        AzureNamedKeyCredential(azurite.account, azurite.key), table,
        permission=TableSasPermissions(**permissions),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )  # fmt: skip


def _entity_writer_sas(azurite) -> str:
    """An account SAS for entities only (srt=o: read, add, update): it may write a table's
    entities but not create tables. (Azurite refuses a table SAS on batches, which real
    Azure takes; a table SAS can never create a table either.)"""
    return generate_account_sas(
        AzureNamedKeyCredential(azurite.account, azurite.key), ResourceTypes(object=True),
        AccountSasPermissions(read=True, add=True, update=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )  # fmt: skip


def _seeded_table(tables: TableServiceClient, count: int) -> str:
    name = "t" + uuid.uuid4().hex[:12]
    client = tables.create_table(name)
    for i in range(count):
        client.upsert_entity({"PartitionKey": f"p{i % 3}", "RowKey": f"r{i:04d}", "n": i})
    return name


def test_import_into_an_existing_table_with_a_sas_that_cannot_create_tables(
    run_azxfer, azurite, tables
):
    """A SAS that may write entities but not create tables (a table SAS, or an account SAS
    for objects only): the import must not stop at Create Table when the table is there."""
    source = _seeded_table(tables, 150)
    target = tables.create_table("t" + uuid.uuid4().hex[:12]).table_name
    read = _table_sas(azurite, source, read=True)
    write = _entity_writer_sas(azurite)
    result = run_azxfer(
        "import", f"{azurite.table_endpoint}/{source}?{read}",
        f"{azurite.table_endpoint}/{target}?{write}", env=NO_KEY,
    )  # fmt: skip
    result.assert_ok()
    rows = {
        (e["PartitionKey"], e["RowKey"]) for e in tables.get_table_client(target).list_entities()
    }
    assert len(rows) == 150


def test_import_into_a_missing_table_with_such_a_sas_says_it_is_missing(
    run_azxfer, azurite, tables
):
    source = _seeded_table(tables, 3)
    missing = "t" + uuid.uuid4().hex[:12]
    read = _table_sas(azurite, source, read=True)
    write = _entity_writer_sas(azurite)
    result = run_azxfer(
        "import", f"{azurite.table_endpoint}/{source}?{read}",
        f"{azurite.table_endpoint}/{missing}?{write}", env=NO_KEY,
    )  # fmt: skip
    assert result.returncode == 1, result.describe()
    errors = [line for line in result.stderr.splitlines() if line.startswith("azxfer: error:")]
    assert len(errors) == 1 and "does not exist" in errors[0], result.describe()
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------ a SAS without a permission


def _lacks(result, letter: str, name: str, granted: str) -> None:
    """One error line, naming the permission the SAS lacks and what it grants."""
    assert result.returncode == 1, result.describe()
    errors = [line for line in result.stderr.splitlines() if line.startswith("azxfer: error:")]
    assert len(errors) == 1, result.describe()
    assert f"lacks the {letter} ({name}) permission (it grants sp={granted})" in errors[0], (
        result.describe()
    )
    assert "sig=" not in result.stderr.replace("sig=REDACTED", "")


def _container_sas(azurite, container: str, **permissions: bool) -> str:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    return generate_container_sas(
        azurite.account, container, azurite.key,
        permission=ContainerSasPermissions(**permissions),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )  # fmt: skip


def test_a_blob_sas_without_a_needed_permission_names_it(
    run_azxfer, azurite, container, container_client, container_url, tmp_path
):
    container_client.upload_blob("d/a.txt", b"a")
    (tmp_path / "up.txt").write_bytes(b"x")
    read_only = _container_sas(azurite, container, read=True)
    write_only = _container_sas(azurite, container, write=True, create=True)
    _lacks(run_azxfer("list", f"{container_url()}?{read_only}", env=NO_KEY), "l", "list", "r")
    read_list = _container_sas(azurite, container, read=True, list=True)
    upload = run_azxfer("copy", tmp_path / "up.txt", f"{container_url('up.txt')}?{read_list}",
                        env=NO_KEY)  # fmt: skip
    _lacks(upload, "w", "write", "rl")
    download = run_azxfer(
        "copy", f"{container_url('d/a.txt')}?{write_only}", tmp_path / "down.txt", env=NO_KEY
    )
    _lacks(download, "r", "read", "cw")
    remove = run_azxfer("remove", f"{container_url('d/a.txt')}?{read_only}", env=NO_KEY)
    _lacks(remove, "d", "delete", "r")
    assert [b.name for b in container_client.list_blobs()] == ["d/a.txt"]


def test_a_share_sas_without_a_needed_permission_names_it(
    run_azxfer, azurite, file_standin, share, share_url, tmp_path
):
    from azure.storage.fileshare import ShareSasPermissions, generate_share_sas

    read_only = generate_share_sas(
        azurite.account, share, azurite.key, permission=ShareSasPermissions(read=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )  # fmt: skip
    (tmp_path / "up.txt").write_bytes(b"x")
    listing = run_azxfer("list", f"{share_url()}?{read_only}", "--type", "File", env=NO_KEY)
    _lacks(listing, "l", "list", "r")
    upload = run_azxfer("copy", tmp_path / "up.txt", f"{share_url('up.txt')}?{read_only}",
                        "--from-to", "LocalFile", env=NO_KEY)  # fmt: skip
    _lacks(upload, "w", "write", "r")


def test_a_table_sas_without_a_needed_permission_names_it(run_azxfer, azurite, tables):
    source = _seeded_table(tables, 5)
    read = _table_sas(azurite, source, read=True)
    url = f"{azurite.table_endpoint}/{source}?{read}"
    _lacks(run_azxfer("import", url, url, env=NO_KEY), "a", "add", "r")
