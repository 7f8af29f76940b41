"""`azxfer make` through the real CLI: containers and tables in Azurite, shares (with their
quota, read back with the SDK) in the File stand-in; an existing one, bad names and wrong
URLs, each one line and the right exit code."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from urllib.parse import parse_qs

import pytest
from azure.storage.blob import generate_account_sas
from sdk_clients import table_service

# Nothing listens here: a test that reaches the network with it fails with another message.
NOWHERE = "http://127.0.0.1:9/devstoreaccount1"


def _name(prefix: str = "m") -> str:
    return prefix + uuid.uuid4().hex[:16]


@pytest.fixture
def tables(azurite):
    client = table_service(azurite)
    yield client
    client.close()


def test_container_created_then_exists(run_azxfer, azurite, blob_service) -> None:
    name = _name()
    url = f"{azurite.blob_endpoint}/{name}"
    made = run_azxfer("make", url).assert_ok()
    assert made.stdout == f"Created container '{name}' at {url}\n"
    assert blob_service.get_container_client(name).exists()
    again = run_azxfer("make", url).assert_ok()
    assert again.stdout == f"container '{name}' already exists\n" and again.stderr == ""
    refused = run_azxfer("make", url, "--fail-if-exists")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == f"azxfer: error: container '{name}' already exists\n"


def test_json_output(run_azxfer, azurite) -> None:
    name = _name()
    url = f"{azurite.blob_endpoint}/{name}"
    first = run_azxfer("make", url, "--output-type", "json").assert_ok()
    second = run_azxfer("make", url, "--output-type", "json").assert_ok()
    expected = {"event": "made", "kind": "container", "name": name, "url": url}
    assert json.loads(first.stdout) == {**expected, "created": True}
    assert json.loads(second.stdout) == {**expected, "created": False}


def test_container_with_an_account_sas_never_shows_it(run_azxfer, azurite, blob_service) -> None:
    expiry = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    can_create = generate_account_sas(
        azurite.account, azurite.key, resource_types="c", permission="c", expiry=expiry
    )
    read_only = generate_account_sas(
        azurite.account, azurite.key, resource_types="c", permission="r", expiry=expiry
    )
    name = _name()
    # No key in the environment: the SAS is the credential.
    no_keys = {"AZXFER_DEST_KEY": None, "AZXFER_SOURCE_KEY": None}
    made = run_azxfer("make", f"{azurite.blob_endpoint}/{name}?{can_create}", env=no_keys)
    made.assert_ok()
    assert blob_service.get_container_client(name).exists()
    denied_name = _name()
    denied = run_azxfer("make", f"{azurite.blob_endpoint}/{denied_name}?{read_only}", env=no_keys)
    assert denied.returncode == 1 and denied.stdout == ""
    assert denied.stderr == (
        f"azxfer: error: access to container '{denied_name}' denied "
        "(AuthorizationPermissionMismatch)\n"
    )
    for sas in (can_create, read_only):
        signature = parse_qs(sas)["sig"][0]
        for result in (made, denied):
            assert signature not in result.stdout + result.stderr


def test_table_created_then_exists(run_azxfer, azurite, tables) -> None:
    name = _name("T")
    url = f"{azurite.table_endpoint}/{name}"
    run_azxfer("make", url, "--type", "Table").assert_ok()
    assert name in {t.name for t in tables.list_tables()}
    again = run_azxfer("make", url, "--type", "Table").assert_ok()
    assert again.stdout == f"table '{name}' already exists\n"
    refused = run_azxfer("make", url, "--type", "Table", "--fail-if-exists")
    assert refused.returncode == 1
    assert refused.stderr == f"azxfer: error: table '{name}' already exists\n"
    tables.delete_table(name)


def test_table_known_by_the_connection_strings_endpoint(run_azxfer, azurite, tables) -> None:
    name = _name("T")
    env = {
        "AZURE_STORAGE_CONNECTION_STRING": f"DefaultEndpointsProtocol=http;"
        f"AccountName={azurite.account};AccountKey={azurite.key};"
        f"BlobEndpoint={azurite.blob_endpoint};TableEndpoint={azurite.table_endpoint};",
        "AZXFER_DEST_KEY": None,
    }
    made = run_azxfer("make", f"{azurite.table_endpoint}/{name}", env=env).assert_ok()
    assert made.stdout.startswith(f"Created table '{name}'")
    assert name in {t.name for t in tables.list_tables()}
    tables.delete_table(name)


def test_share_with_quota_read_back(run_azxfer, file_standin, azurite, share_service) -> None:
    name = _name("s")
    url = f"{file_standin.account_url(azurite.account)}/{name}"
    made = run_azxfer("make", url, "--type", "File", "--quota-gb", "7").assert_ok()
    assert made.stdout == f"Created share '{name}' at {url}\n"
    assert share_service.get_share_client(name).get_share_properties().quota == 7
    again = run_azxfer("make", url, "--type", "File", "--quota-gb", "9").assert_ok()
    assert again.stdout == f"share '{name}' already exists\n"
    assert share_service.get_share_client(name).get_share_properties().quota == 7
    refused = run_azxfer("make", url, "--type", "File", "--fail-if-exists")
    assert refused.returncode == 1
    assert refused.stderr == f"azxfer: error: share '{name}' already exists\n"


def test_share_without_quota_gets_the_default(
    run_azxfer, file_standin, azurite, share_service
) -> None:
    name = _name("s")
    env = {"AZURE_STORAGE_CONNECTION_STRING": file_standin.connection_string(azurite.account)}
    url = f"{file_standin.account_url(azurite.account)}/{name}"
    run_azxfer("make", url, env=env).assert_ok()  # the FileEndpoint names the host and port
    assert share_service.get_share_client(name).get_share_properties().quota == 5120


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [f"{NOWHERE}/Bad_Name"],
            "'Bad_Name' is not a valid container name: use 3-63 lowercase letters, digits "
            "and single hyphens, starting and ending with a letter or digit",
        ),
        ([f"{NOWHERE}/ab"], "'ab' is not a valid container name"),
        (
            [f"{NOWHERE}/double--hyphen", "--type", "File"],
            "'double--hyphen' is not a valid share name",
        ),
        (
            [f"{NOWHERE}/1table", "--type", "Table"],
            "'1table' is not a valid table name: use 3-63 letters and digits, starting with a "
            "letter",
        ),
        (
            [f"{NOWHERE}/data/dir"],
            f"'{NOWHERE}/data/dir': give the container's own URL, without a path",
        ),
        ([f"{NOWHERE}/data", "--quota-gb", "5"], "--quota-gb applies to Azure Files shares only"),
        (
            ["./folder"],
            "'./folder': make creates a Blob container, an Azure Files share or a table; give "
            "its URL",
        ),
    ],
)
def test_bad_input_is_one_line_before_any_request(
    run_azxfer, args: list[str], message: str
) -> None:
    result = run_azxfer("make", *args)
    assert (result.returncode, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"azxfer: error: {message}"), result.stderr


@pytest.mark.parametrize("quota", ["0", "102401", "big"])
def test_quota_out_of_range_is_a_usage_error(run_azxfer, quota: str) -> None:
    result = run_azxfer("make", f"{NOWHERE}/share", "--type", "File", "--quota-gb", quota)
    result.assert_usage_error()


def test_key_file_as_the_other_single_location_commands(run_azxfer, azurite, tmp_path) -> None:
    """--key-file, as list, remove and set-properties spell it (--dest-key-file still works)."""
    key_file = tmp_path / "key"
    key_file.write_text(azurite.key)
    no_keys = {"AZXFER_DEST_KEY": None, "AZXFER_SOURCE_KEY": None}
    for option in ("--key-file", "--dest-key-file"):
        name = _name()
        url = f"{azurite.blob_endpoint}/{name}"
        run_azxfer("make", url, option, str(key_file), env=no_keys).assert_ok()
        listed = run_azxfer("list", url, "--key-file", str(key_file), env=no_keys).assert_ok()
        assert "Files: 0" in listed.stderr
