"""A copy method the service fails with 5xx before it ever succeeded is dropped (issue 21).

Azurite answers Put Blob From URL with 500 (no error code, empty body) when the request is
SAS-authorised, where it answers 501 to SharedKey. A 500 is transient as a rule, so a client
that trusts it retries every blob for a minute and fails them all. azxfer gives a method that
has not yet worked in the job only a short retry, drops it after a few such failures with one
notice, and copies each blob with the next method on the ladder.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from azure.storage.blob import (
    ContainerSasPermissions,
    generate_container_sas,
)
from helpers import data_for
from seed import seed_blobs, temporary_container

JSON = ("--output-type", "json")
BLOBS = 24


@pytest.fixture
def dest(blob_service) -> Iterator:
    """A second, empty container in the main account (a ContainerClient)."""
    with temporary_container(blob_service, "d") as client:
        yield client


def _sas_url(azurite, container: str, permission: ContainerSasPermissions) -> str:
    sas = generate_container_sas(
        azurite.account,
        container,
        account_key=azurite.key,
        permission=permission,
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    return f"{azurite.blob_endpoint}/{container}?{sas}"


def test_sas_on_both_sides_copies_everything_after_dropping_put_blob_from_url(
    azurite, container, container_client, dest, run_azxfer
):
    seeded = {f"f{i:03}.txt": data_for(f"f{i}", 700 + i) for i in range(BLOBS)}
    seed_blobs(container_client, seeded)
    source = _sas_url(azurite, container, ContainerSasPermissions(read=True, list=True))
    destination = _sas_url(
        azurite,
        dest.container_name,
        ContainerSasPermissions(read=True, write=True, create=True, list=True),
    )
    no_keys = {"AZXFER_SOURCE_KEY": None, "AZXFER_DEST_KEY": None}
    started = time.monotonic()
    # Before the fix every blob spent ~48 s in retries: the timeout bounds the run.
    result = run_azxfer(
        "copy", source, destination, "-r", "--as-subdir=false", *JSON, env=no_keys, timeout=60
    )
    elapsed = time.monotonic() - started

    result.assert_ok()
    finished = result.finished()
    assert (finished["status"], finished["files_completed"]) == ("Completed", BLOBS), (
        result.describe()
    )
    assert {b.name: dest.download_blob(b.name).readall() for b in dest.list_blobs()} == seeded
    dropped = [
        e["message"] for e in result.events_of("notice") if "Put Blob From URL" in e["message"]
    ]
    assert len(dropped) == 1 and "500" in dropped[0], result.describe()
    # At most one short retry per blob while the method was unproven (the full policy is 6)
    assert len(result.events_of("retry")) <= BLOBS, result.describe()
    assert elapsed < 30, f"took {elapsed:.1f} s\n{result.describe()}"
