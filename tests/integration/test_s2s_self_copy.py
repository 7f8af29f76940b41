"""A blob-to-blob copy onto itself, or into its own source, is refused up front (issue 21).

Copying a blob onto itself used to spend ~54 s in retries; a recursive copy into a prefix of
its own source would list and copy its own output. Both are one `azxfer: error:` line, exit
2, with nothing written and no journal left. Copies to a prefix that does not overlap, to
another container or account, and non-recursive copies into a sub-folder still run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas
from helpers import data_for
from seed import seed_blobs, temporary_container

SEEDED = {
    "a.txt": data_for("a", 300),
    "dir/a.txt": data_for("da", 400),
    "dir/b.txt": data_for("db", 500),
    "dir/x/c.txt": data_for("dxc", 600),
}
JSON = ("--output-type", "json")


@pytest.fixture
def seeded(container_client) -> dict[str, bytes]:
    return seed_blobs(container_client, SEEDED)


def _contents(container_client) -> dict[str, bytes]:
    return {
        b.name: container_client.download_blob(b.name).readall()
        for b in container_client.list_blobs()
    }


def _sas(azurite, container: str, permission: ContainerSasPermissions) -> str:
    return generate_container_sas(
        azurite.account,
        container,
        account_key=azurite.key,
        permission=permission,
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )


def _journals(tmp_path: Path) -> list[Path]:
    jobs = tmp_path.parent / f"{tmp_path.name}-jobs"
    return sorted(jobs.iterdir()) if jobs.exists() else []


@pytest.mark.parametrize(
    ("source", "dest", "flags", "says"),
    [
        ("a.txt", "a.txt", (), "onto itself"),
        ("a.txt", "", (), "onto itself"),  # the container: the blob keeps its name
        ("dir/a.txt", "dir", (), "onto itself"),  # an existing folder: dir/a.txt again
        ("dir/a.txt", "dir/", (), "onto itself"),
        ("", "", ("-r", "--as-subdir=false"), "onto itself"),
        ("dir", "", ("-r",), "onto itself"),  # --as-subdir: dir/... lands on dir/...
        ("dir/", "dir/", ("-r", "--as-subdir=false"), "onto itself"),
        ("dir/*", "dir", ("--as-subdir=false",), "onto itself"),
        ("dir", "dir/sub", ("-r",), "inside the source"),
        ("dir/", "dir/", ("-r",), "inside the source"),  # dir/ → dir/dir/
        ("", "backup", ("-r", "--as-subdir=false"), "inside the source"),
        ("dir/*.txt", "dir/x/y", ("-r",), "inside the source"),
    ],
)
def test_copy_onto_or_into_itself_is_refused(
    azurite, container, container_client, seeded, run_azxfer, tmp_path, source, dest, flags, says
):
    base = f"{azurite.blob_endpoint}/{container}"
    result = run_azxfer(
        "copy", f"{base}/{source}" if source else base, f"{base}/{dest}" if dest else base,
        *flags, *JSON, timeout=30,
    )  # fmt: skip
    result.assert_usage_error()
    assert says in result.stderr, result.describe()
    assert not result.events_of("retry") and not result.events_of("transfer_started")
    assert _contents(container_client) == seeded
    assert _journals(tmp_path) == []


def test_same_blob_through_sas_urls_with_different_queries_is_refused(
    azurite, container, container_client, seeded, run_azxfer
):
    read = _sas(azurite, container, ContainerSasPermissions(read=True, list=True))
    write = _sas(
        azurite, container, ContainerSasPermissions(read=True, write=True, create=True, list=True)
    )
    url = f"{azurite.blob_endpoint}/{container}/dir/b.txt"
    no_keys = {"AZXFER_SOURCE_KEY": None, "AZXFER_DEST_KEY": None}
    result = run_azxfer("copy", f"{url}?{read}", f"{url}?{write}", *JSON, env=no_keys, timeout=30)
    result.assert_usage_error()
    assert "onto itself" in result.stderr
    assert "sig=" not in result.stderr.replace("sig=REDACTED", "")
    assert _contents(container_client) == seeded


@pytest.fixture
def other(blob_service) -> Iterator:
    with temporary_container(blob_service, "o") as client:
        yield client


def test_copies_that_do_not_overlap_their_source_still_run(
    azurite, container, container_client, seeded, other, run_azxfer
):
    base = f"{azurite.blob_endpoint}/{container}"
    # a sibling prefix whose name starts like the source's ("dir" vs "dir2")
    run_azxfer("copy", f"{base}/dir", f"{base}/dir2", "-r", *JSON).assert_ok()
    # into a sub-folder of the source, without recursing: only the top-level blobs
    run_azxfer("copy", f"{base}/dir", f"{base}/dir/sub", "--as-subdir=false", *JSON).assert_ok()
    # the same path in another container of the same account
    run_azxfer("copy", f"{base}/a.txt", f"{azurite.blob_endpoint}/{other.container_name}/a.txt")
    expected = {
        **seeded,
        **{f"dir2/dir/{k[4:]}": v for k, v in seeded.items() if k.startswith("dir/")},
        "dir/sub/a.txt": seeded["dir/a.txt"],
        "dir/sub/b.txt": seeded["dir/b.txt"],
    }
    assert _contents(container_client) == expected
    assert _contents(other) == {"a.txt": seeded["a.txt"]}


def test_same_container_name_in_another_account_is_not_the_same_container(
    azurite, container, container_client, seeded, run_azxfer
):
    service = BlobServiceClient.from_connection_string(azurite.acct2_connection_string)
    twin = service.create_container(container)  # the same name, in acct2
    try:
        destination = f"http://{azurite.host}:{azurite.blob_port}/{azurite.acct2}/{container}"
        result = run_azxfer(
            "copy", f"{azurite.blob_endpoint}/{container}/dir/a.txt", f"{destination}/dir/a.txt",
            *JSON, env={"AZXFER_DEST_KEY": azurite.acct2_key},
        )  # fmt: skip
        result.assert_ok()
        assert twin.download_blob("dir/a.txt").readall() == seeded["dir/a.txt"]
    finally:
        twin.delete_container()
        service.close()


@pytest.mark.parametrize(
    ("source", "dest"),
    [("dir", "dir"), ("dir", "dir/x"), ("dir/x", "dir"), ("", "dir"), ("dir", "")],
)
def test_sync_between_overlapping_folders_of_one_container_is_refused(
    seeded, source, dest, container_url, container_client, run_azxfer
):
    result = run_azxfer("sync", container_url(source), container_url(dest), "--delete-destination",
                        "true", *JSON)  # fmt: skip
    result.assert_usage_error()
    assert "overlap" in result.stderr or "same folder" in result.stderr, result.describe()
    assert _contents(container_client) == seeded


def test_sync_between_folders_that_do_not_overlap_still_runs(
    seeded, container_url, container_client, run_azxfer
):
    run_azxfer("sync", container_url("dir/x"), container_url("dirx"), *JSON).assert_ok()
    assert _contents(container_client)["dirx/c.txt"] == seeded["dir/x/c.txt"]
