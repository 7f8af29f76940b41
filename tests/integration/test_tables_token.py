"""`azxfer export` and `azxfer import` signed in with Entra ID: auto-login as a service
principal against the Entra ID stand-in, against Azurite `--oauth basic` over https, with no
SAS, key or connection string, for the table and for a Blob place of its files."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from azure.data.tables import TableServiceClient
from sdk_clients import table_service
from seed import seed_table
from test_tables import edm_entities, fresh, only_manifest, table_contents

from azxfer.identity import record

pytestmark = pytest.mark.timeout(300)

SECRET = "s3cret-" + uuid.uuid4().hex


@pytest.fixture
def tables(entra_azurite, entra_standin) -> TableServiceClient:
    """The https emulator's Table service reached with its key (the test's own view)."""
    return table_service(entra_azurite)


@pytest.fixture
def signed_in_env(entra_standin, tmp_path: Path) -> dict[str, str | None]:
    """Auto-login as a service principal; no key, no connection string."""
    app = entra_standin.add_app(secret=SECRET)
    return {
        "AZXFER_SOURCE_KEY": None,
        "AZXFER_DEST_KEY": None,
        "AZURE_STORAGE_CONNECTION_STRING": None,
        "AZXFER_AUTO_LOGIN_TYPE": "SPN",
        "AZURE_TENANT_ID": entra_standin.tenant_id,
        "AZURE_CLIENT_ID": app.client_id,
        "AZURE_CLIENT_SECRET": SECRET,
        "AZURE_AUTHORITY_HOST": entra_standin.authority,
        record.STATE_DIR_ENV: str(tmp_path / "state"),
        **entra_standin.tls_env(),
    }


def _json(*args: object) -> tuple[object, ...]:
    return (*args, "--output-type", "json")


def test_export_and_import_with_the_signed_in_identity(
    run_azxfer, entra_azurite, entra_standin, tables, signed_in_env, tmp_path
) -> None:
    source, target = fresh(), fresh()
    seed_table(tables, source, edm_entities())
    folder = tmp_path / "export"
    url = f"{entra_azurite.table_endpoint}/{source}"
    # Without the sign-in the emulator refuses the table: the token is what lets us in.
    anonymous = {**signed_in_env, "AZXFER_AUTO_LOGIN_TYPE": None}
    refused = run_azxfer("export", url, tmp_path / "refused", env=anonymous)
    refused.assert_usage_error(1)
    assert len(refused.stderr.splitlines()) == 1, refused.describe()
    exported = run_azxfer(*_json("export", url, folder), env=signed_in_env).assert_ok()
    manifest = only_manifest(folder).name
    target_url = f"{entra_azurite.table_endpoint}/{target}"
    imported = run_azxfer(
        *_json("import", folder, target_url, "--manifest", manifest), env=signed_in_env
    ).assert_ok()
    assert table_contents(tables, target) == table_contents(tables, source)
    grants = entra_standin.grants_of("client_credentials")
    assert grants and all(g.error is None for g in grants)
    for output in (exported, imported):
        assert SECRET not in output.stdout + output.stderr
    # Each job says which credential each side used (never the secret).
    (started,) = exported.events_of("job_started")
    assert started["source_credential"].startswith("Entra ID token"), started
    (started,) = imported.events_of("job_started")
    assert started["dest_credential"].startswith("Entra ID token"), started


def test_blob_place_of_files_with_the_signed_in_identity(
    run_azxfer, entra_azurite, tables, signed_in_env, tmp_path
) -> None:
    """The container is reached with the same sign-in as the table (no key for either)."""
    from azure.storage.blob import BlobServiceClient

    source, target = fresh(), fresh()
    seed_table(tables, source, edm_entities())
    container = "c" + uuid.uuid4().hex[:12]
    blobs = BlobServiceClient.from_connection_string(entra_azurite.connection_string)
    blobs.create_container(container)
    place = f"{entra_azurite.blob_endpoint}/{container}/backup"
    url = f"{entra_azurite.table_endpoint}/{source}"
    run_azxfer(*_json("export", url, place), env=signed_in_env).assert_ok()
    names = [b.name for b in blobs.get_container_client(container).list_blobs()]
    (manifest,) = [n.rsplit("/", 1)[1] for n in names if n.endswith(".manifest")]
    target_url = f"{entra_azurite.table_endpoint}/{target}"
    imported = run_azxfer(
        *_json("import", place, target_url, "--manifest", manifest), env=signed_in_env
    )
    imported.assert_ok()
    assert table_contents(tables, target) == table_contents(tables, source)
