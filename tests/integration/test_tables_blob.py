"""`azxfer export`/`import` with a Blob container or virtual directory as the place of an
export's files, through the real CLI against Azurite's Blob and Table services (one instance):
the documented names, contents identical to a local export, imports back, tampering refused
before anything is written, no temporary blob left behind."""

# ruff: noqa: F811 - the fixtures `tables` and `table_url` are imported from test_tables

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import zlib
from typing import Any

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas
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

# A data file's name after the export's stem: _<range>_<split>_<CRC>.<payload>.
_TAIL = re.compile(r"_(\d+)_(\d+)_([0-9A-F]{8})\.(json|csv)")


def big_entities() -> list[dict[str, Any]]:
    """Entities of ~1.3 MiB each in JSON (base64 binaries): 9 of them make a data file larger
    than one 8 MiB block, so it is staged under a temporary name and copied into its own."""
    return [
        {
            "PartitionKey": "zbig",
            "RowKey": f"{i:02d}",
            **{f"b{j:02d}": bytes([i, j]) * 32768 for j in range(15)},
        }
        for i in range(9)
    ]


def seeded_table(tables) -> str:
    name = fresh()
    seed_table(tables, name, edm_entities() + big_entities())
    return name


def tails(names: set[str], stem: str) -> set[str]:
    """The data files' names without the export's stem (its time differs between exports)."""
    found = set()
    for name in names:
        if name.endswith(".manifest"):
            continue
        assert name.startswith(stem) and _TAIL.fullmatch(name[len(stem) :]), name
        found.add(name[len(stem) :])
    return found


def entity_lines(files: dict[str, bytes]) -> set[bytes]:
    """The entities of an export's data files, one JSON line each."""
    return {
        line
        for name, body in files.items()
        if not name.endswith(".manifest")
        for line in body.splitlines()
    }


def blob_files(container_client, prefix: str = "") -> dict[str, bytes]:
    return {
        b.name[len(prefix) :]: container_client.download_blob(b.name).readall()
        for b in container_client.list_blobs(name_starts_with=prefix)
    }


def test_export_to_container_matches_local_and_imports_back(
    run_azxfer, tables, table_url, tmp_path, container_client, container_url, azurite
):
    source, dest = seeded_table(tables), fresh()
    local = tmp_path / "local"
    bounds = ("--pkrs", "m", "--output-type", "json")
    run_azxfer("export", table_url(source), local, *bounds).assert_ok()
    result = run_azxfer("export", table_url(source), container_url(), *bounds).assert_ok()
    assert result.finished()["status"] == "Completed"

    in_blobs = blob_files(container_client)
    (manifest_name,) = [n for n in in_blobs if n.endswith(".manifest")]
    assert not any(".partial" in name for name in in_blobs), sorted(in_blobs)
    stem = manifest_name.removesuffix(".manifest")
    assert re.fullmatch(rf"{azurite.account}_{source}_\d{{8}}T\d{{9}}Z", stem)
    local_files = {p.name: p.read_bytes() for p in local.iterdir()}
    local_stem = only_manifest(local).name.removesuffix(".manifest")
    # The same files, byte for byte (so the same CRCs in their names), the same entities.
    assert tails(set(in_blobs), stem) == tails(set(local_files), local_stem)
    assert {n[len(stem) :]: b for n, b in in_blobs.items() if not n.endswith(".manifest")} == {
        n[len(local_stem) :]: b for n, b in local_files.items() if not n.endswith(".manifest")
    }
    lines = entity_lines(in_blobs)
    assert lines == entity_lines(local_files)
    assert len(lines) == len(edm_entities()) + len(big_entities())
    manifest = json.loads(in_blobs[manifest_name])
    sizes = {item["name"]: item["size"] for item in manifest["files"]}
    assert sizes == {n: len(b) for n, b in in_blobs.items() if n != manifest_name}
    assert max(sizes.values()) > 8 * 1024 * 1024  # one went through the temporary blob
    for item in manifest["files"]:
        assert item["crc32"] == f"{zlib.crc32(in_blobs[item['name']]):08X}"

    result = run_azxfer(
        "import", container_url(), table_url(dest), "--manifest", manifest_name,
        "--output-type", "json",
    ).assert_ok()  # fmt: skip
    done = result.events_of("entities_done")[0]
    assert done["entities_written"] == len(edm_entities()) + len(big_entities())
    assert table_contents(tables, dest) == table_contents(tables, source)


def test_virtual_directory_with_sas_and_key_file(
    run_azxfer, tables, table_url, tmp_path, container, container_client, container_url, azurite
):
    source, dest = seeded_table(tables), fresh()
    sas = generate_container_sas(
        azurite.account, container, account_key=azurite.key,
        permission=ContainerSasPermissions(read=True, write=True, create=True, list=True,
                                           delete=True),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )  # fmt: skip
    directory = container_url("backups/daily")
    # The Blob side by the SAS on its URL alone: no key for it anywhere.
    result = run_azxfer(
        "export", table_url(source), f"{directory}?{sas}", "--output-type", "json",
        env={"AZXFER_DEST_KEY": None},
    ).assert_ok()  # fmt: skip
    signature = dict(p.split("=", 1) for p in sas.split("&"))["sig"]
    assert signature not in result.stdout + result.stderr
    names = {b.name for b in container_client.list_blobs()}
    assert all(name.startswith("backups/daily/") for name in names), names
    assert not any(".partial" in name for name in names)
    (manifest_name,) = [n.rsplit("/", 1)[1] for n in names if n.endswith(".manifest")]

    # Import's Blob side by --source-key-file, the table's by AZXFER_DEST_KEY.
    key_file = tmp_path / "key"
    key_file.write_text(azurite.key)
    run_azxfer(
        "import", directory, table_url(dest), "--manifest", manifest_name,
        "--source-key-file", key_file, env={"AZXFER_SOURCE_KEY": None},
    ).assert_ok()  # fmt: skip
    assert table_contents(tables, dest) == table_contents(tables, source)


def test_tampered_blob_refused_before_any_write(
    run_azxfer, tables, table_url, container_client, container_url
):
    source, dest = fresh(), fresh()
    seed_table(tables, source, edm_entities())
    run_azxfer("export", table_url(source), container_url("x"), "--pkrs", "m").assert_ok()
    names = {b.name.removeprefix("x/") for b in container_client.list_blobs()}
    (manifest_name,) = [n for n in names if n.endswith(".manifest")]
    victim = sorted(n for n in names if n.endswith(".json"))[-1]
    data = bytearray(container_client.download_blob(f"x/{victim}").readall())
    data[len(data) // 2] ^= 0x01  # same size, another CRC
    container_client.upload_blob(f"x/{victim}", bytes(data), overwrite=True)

    result = run_azxfer(
        "import", container_url("x"), table_url(dest), "--manifest", manifest_name
    ).assert_usage_error(1)
    assert "CRC-32" in result.stderr and victim in result.stderr
    assert dest not in {t.name for t in tables.list_tables()}  # not even created

    container_client.delete_blob(f"x/{victim}")
    result = run_azxfer(
        "import", container_url("x"), table_url(dest), "--manifest", manifest_name
    ).assert_usage_error(1)
    assert "missing" in result.stderr and victim in result.stderr
    assert dest not in {t.name for t in tables.list_tables()}


def test_bad_places_one_line_each(run_azxfer, tables, table_url, container_url):
    source = fresh()
    seed_table(tables, source, edm_entities()[:1])
    share = "https://acct.file.core.windows.net/share/dir"
    result = run_azxfer("export", table_url(source), share).assert_usage_error()
    assert "local folder or a Blob container" in result.stderr
    result = run_azxfer(
        "import", container_url("none"), table_url(fresh()), "--manifest", "no.manifest"
    ).assert_usage_error()
    assert "no.manifest does not exist" in result.stderr
    run_azxfer("export", table_url(source), container_url(), "--manifest", "m.manifest").assert_ok()
    result = run_azxfer(
        "export", table_url(source), container_url(), "--manifest", "m.manifest"
    ).assert_usage_error()
    assert "exists already" in result.stderr


# -- BlobFolder itself, against Azurite, with blocks and copy ranges small enough to have many --


def _folder(azurite, url: str, sas: str | None = None) -> tuple[Any, Any]:
    from azxfer.credentials import Credential
    from azxfer.endpoints.blob.rest import RestBlobClient
    from azxfer.locations import parse_location
    from azxfer.tables.blobstore import BlobFolder
    from azxfer.transport.pool import HttpPool
    from azxfer.transport.retry import RetryPolicy

    location = parse_location(url + (f"?{sas}" if sas else ""))
    credential = (
        Credential("sas", azurite.account, sas=location.sas)
        if sas
        else Credential("shared_key", azurite.account, key=azurite.key)
    )
    pool = HttpPool(8)
    rest = RestBlobClient(pool, location.endpoint, location.account, credential, RetryPolicy())
    return BlobFolder(rest, location, credential), pool


def test_blob_folder_many_blocks_and_copy_ranges(
    azurite, container_client, container_url, monkeypatch
):
    from azxfer.errors import IntegrityError
    from azxfer.tables import blobstore

    monkeypatch.setattr(blobstore, "BLOCK", 100_000)
    monkeypatch.setattr(blobstore, "COPY_RANGE", 250_000)
    data = bytes(range(251)) * 4001  # 1,004,251 bytes: 11 blocks, 5 copy ranges

    async def scenario() -> list[bytes]:
        folder, pool = _folder(azurite, container_url("d"))
        try:
            sink = await folder.open_data("f_0_0.partial")
            for start in range(0, len(data), 70_001):  # pieces unaligned with the blocks
                await sink.write(data[start : start + 70_001])
            staged = {b.name for b in container_client.list_blobs(include=["uncommittedblobs"])}
            assert "d/f_0_0.partial" in staged
            await sink.finish("f_0_0_X.json")

            dropped = await folder.open_data("g_0_0.partial")
            await dropped.write(data[:300_000])
            await dropped.abort()

            assert await folder.size("f_0_0_X.json") == len(data)
            pieces = [piece async for piece in folder.pieces("f_0_0_X.json")]
            # Changed after it was first seen: every later read is refused.
            container_client.upload_blob("d/f_0_0_X.json", data, overwrite=True)
            with pytest.raises(IntegrityError, match="changed"):
                async for _ in folder.pieces("f_0_0_X.json"):
                    pass
            return pieces
        finally:
            await pool.close()

    pieces = asyncio.run(scenario())
    assert b"".join(pieces) == data and len(pieces) == 11
    final = container_client.get_blob_client("d/f_0_0_X.json")
    assert final.download_blob().readall() == data
    names = {b.name for b in container_client.list_blobs(include=["uncommittedblobs"])}
    assert names == {"d/f_0_0_X.json"}, names


def test_blob_side_without_credential_is_one_line(run_azxfer, tables, table_url, container_url):
    source = fresh()
    seed_table(tables, source, edm_entities()[:1])
    result = run_azxfer(
        "export", table_url(source), container_url("nokey"), env={"AZXFER_DEST_KEY": None}
    ).assert_usage_error(1)
    assert "denied" in result.stderr and "no credentials given" in result.stderr, result.stderr
    assert result.stderr.count("[used anonymous access]") == 1, result.stderr


def test_blob_folder_failed_copy_leaves_no_temporary_blob(
    azurite, container, container_client, container_url, monkeypatch
):
    from azxfer.errors import AzxferError
    from azxfer.tables import blobstore

    monkeypatch.setattr(blobstore, "BLOCK", 100_000)
    # Write, create and delete, but no read: the service cannot read the temporary blob to
    # copy it into its final name.
    sas = generate_container_sas(
        azurite.account, container, account_key=azurite.key,
        permission=ContainerSasPermissions(write=True, create=True, delete=True),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )  # fmt: skip

    async def scenario() -> None:
        folder, pool = _folder(azurite, container_url("d"), sas)
        try:
            sink = await folder.open_data("f_0_0.partial")
            await sink.write(b"x" * 250_000)
            with pytest.raises(AzxferError):
                await sink.finish("f_0_0_X.json")
        finally:
            await pool.close()

    asyncio.run(scenario())
    names = {b.name for b in container_client.list_blobs(include=["uncommittedblobs"])}
    assert names <= {"d/f_0_0_X.json"}, names  # at most the final name's uncommitted blocks
    assert "d/f_0_0.partial" not in names


def test_csv_with_schemas_in_a_container_round_trips(
    run_azxfer, tables, table_url, container_client, container_url
):
    source, dest = seeded_table(tables), fresh()
    run_azxfer(
        "export", table_url(source), container_url("csv"), "--payload-format", "csv"
    ).assert_ok()
    names = {b.name.removeprefix("csv/") for b in container_client.list_blobs()}
    data = sorted(n for n in names if n.endswith(".csv") and not n.endswith(".schema.csv"))
    assert [n.removesuffix(".csv") + ".schema.csv" for n in data] == sorted(
        n for n in names if n.endswith(".schema.csv")
    )
    assert not any(".partial" in n for n in names)
    (manifest_name,) = [n for n in names if n.endswith(".manifest")]
    run_azxfer(
        "import", container_url("csv"), table_url(dest), "--manifest", manifest_name
    ).assert_ok()
    assert table_contents(tables, dest) == table_contents(tables, source)
