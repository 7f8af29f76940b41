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


# ------------------------------------------------------------------ the live line, narrow


def _copy_on_a_terminal(azurite, container_url, tmp_path, columns: int) -> str:
    """A capped upload on a pseudo-terminal `columns` wide; everything it drew."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios
    import time

    from conftest import REPO_ROOT
    from test_lifecycle import _read_until

    src = tmp_path / "src"
    src.mkdir()
    for i in range(12):
        (src / f"f{i:02d}.bin").write_bytes(b"\0" * 256 * 1024)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = dict(os.environ)
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    env.pop("COLUMNS", None)
    env.update(AZXFER_DEST_KEY=azurite.key, PYTHONPATH=str(REPO_ROOT))
    env["AZXFER_JOB_DIR"] = str(tmp_path / "jobs")
    proc = subprocess.Popen(
        [sys.executable, "-m", "azxfer", "copy", str(src), container_url(), "-r",
         "--cap-mbps", "4", "--concurrency", "2"],
        stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary, env=env, cwd=tmp_path,
    )  # fmt: skip
    os.close(secondary)
    seen = bytearray()
    try:
        _read_until(primary, seen, b"\x00never", time.monotonic() + 60)
        assert proc.wait(timeout=30) == 0, seen.decode(errors="replace")[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(primary)
    return seen.decode(errors="replace")


@pytest.mark.parametrize("columns", [40, 80])
def test_the_live_line_stays_one_line_on_a_narrow_terminal(
    columns, azurite, container_url, tmp_path
):
    """At 40 columns the live line's columns wrapped into a three-line grid ('0.0/404.4' above
    'MiB', 'ETA' above 'stalled'), redrawn with cursor-up moves: one line, whatever the width."""
    drawn = _copy_on_a_terminal(azurite, container_url, tmp_path, columns)
    assert "files " in drawn and "ETA" in drawn, drawn[-2000:]
    # A display of several lines is redrawn by erasing each and moving up (erase, up, ...).
    assert "\x1b[2K\x1b[1A" not in drawn, drawn[-2000:]
    assert "summary: Completed" in drawn


# ------------------------------------------------------------------ sync's folder deletes


def test_sync_from_blob_keeps_folders_that_hold_source_files_without_a_word(
    run_azxfer, container_client, container_url, tmp_path
):
    """A Blob source has no folder entries, so every local folder looked 'not in the source':
    each was tried for deletion and said 'kept folder ...: it holds entries this sync does not
    select', though its files were the source's. A folder the source lacks still goes."""
    for name in ("d/a.txt", "d/e/b.txt", "top.txt"):
        container_client.upload_blob(name, name.encode())
    dest = tmp_path / "dest"
    run_azxfer("sync", container_url(), dest).assert_ok()
    (dest / "gone").mkdir()
    (dest / "gone" / "x.txt").write_bytes(b"x")
    result = run_azxfer(
        "sync", container_url(), dest, "--delete-destination", "true", "--max-delete", "100%",
        "--output-type", "json",
    )  # fmt: skip
    result.assert_ok()
    deleted = {(e["destination"], e["folder"]) for e in result.events_of("deleted")}
    assert deleted == {(str(dest / "gone" / "x.txt"), False), (str(dest / "gone"), True)}
    notes = [e["message"] for e in result.events_of("notice")]
    assert not [n for n in notes if "kept folder" in n], notes
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == [
        "d", "d/a.txt", "d/e", "d/e/b.txt", "top.txt",
    ]  # fmt: skip


# ------------------------------------------------------------------ a mistyped URL


@pytest.mark.parametrize("typo", ["http//", "http:/"])
def test_a_url_with_a_mistyped_scheme_is_called_that(typo, run_azxfer, azurite, tmp_path):
    """'http//host/...' was taken for a local path: 'copying from Local to Local is not
    supported', which does not tell the user what is wrong."""
    (tmp_path / "f.txt").write_bytes(b"x")
    url = f"{azurite.blob_endpoint}/somecontainer".removeprefix("http://")
    result = run_azxfer("copy", tmp_path / "f.txt", f"{typo}{url}")
    result.assert_usage_error()
    assert f"did you mean 'http://{url}'?" in result.stderr, result.describe()
    assert "Local to Local" not in result.stderr


def test_sync_help_names_azure_files(run_azxfer):
    """sync's help said 'Local to Blob, Blob to local, Blob to Blob', yet it syncs Azure
    Files too (tests/integration/test_files_sync.py)."""
    text = " ".join(run_azxfer("sync", "--help").assert_ok().stdout.split())
    assert "Azure Files" in text and "file.core.windows.net" in text
    assert "Local to Blob, Blob to local, Blob to Blob." not in text


def test_listing_a_missing_share_names_it_once(run_azxfer, azurite, file_standin, share_service):
    """It said "share ''nosuch' at URL' at URL does not exist (listing share 'nosuch' at
    URL)": the share's description was wrapped twice."""
    base = file_standin.account_url(azurite.account)
    result = run_azxfer("list", f"{base}/nosuchshare", "--type", "File")
    result.assert_usage_error(1)
    assert f"share 'nosuchshare' at {base} does not exist" in result.stderr, result.describe()
    assert "''" not in result.stderr
    download = run_azxfer("copy", f"{base}/nosuchshare/f.txt", "down.txt", "--from-to", "FileLocal")
    download.assert_usage_error(1)
    assert f"share 'nosuchshare' at {base} does not exist" in download.stderr, download.describe()


# ------------------------------------------------------------------ make with a service SAS


def test_make_with_a_container_or_table_sas_says_what_can_create_one(
    run_azxfer, azurite, container, container_url, tables
):
    """A SAS made for one container (or table) can never create it: make said 'denied
    (AuthorizationPermissionMismatch)', or that a table SAS lacked 'a' (it never suffices)."""
    sas = _container_sas(azurite, container, read=True, write=True, list=True)
    made = run_azxfer("make", f"{container_url()}?{sas}", env=NO_KEY)
    made.assert_usage_error(1)
    assert "with a SAS made for one container or object: use an account SAS with srt=c" in (
        made.stderr
    ), made.describe()
    name = "t" + uuid.uuid4().hex[:12]
    table_sas = _table_sas(azurite, name, read=True, add=True)
    env = {**NO_KEY, "AZURE_STORAGE_CONNECTION_STRING": (
        f"AccountName={azurite.account};TableEndpoint={azurite.table_endpoint};"
    )}  # fmt: skip
    table = run_azxfer("make", f"{azurite.table_endpoint}/{name}?{table_sas}", env=env)
    table.assert_usage_error(1)
    assert f"cannot create table '{name}' with a SAS made for one table" in table.stderr, (
        table.describe()
    )


def test_set_properties_refused_for_a_share_names_no_job(
    run_azxfer, azurite, file_standin, share, share_url, share_client
):
    """'--block-blob-tier' on a share printed 'Job <id>: set-properties ...' before its error
    line: a job that never ran, and that `azxfer jobs show` does not know."""
    share_client.get_file_client("f.txt").upload_file(b"x")
    result = run_azxfer("set-properties", share_url(), "-r", "--block-blob-tier", "Cool",
                        "--type", "File")  # fmt: skip
    result.assert_usage_error()
    assert result.stdout == "", result.describe()
    assert "--block-blob-tier applies only to Blob storage" in result.stderr
    assert "No jobs." in run_azxfer("jobs", "list").assert_ok().stdout


# ------------------------------------------------------------------ jobs list as JSON


def test_jobs_list_speaks_json(run_azxfer, container_url, tmp_path):
    """AzCopy's `jobs list` takes --output-type json; ours refused the option."""
    (tmp_path / "f.txt").write_bytes(b"x")
    copied = run_azxfer("copy", tmp_path / "f.txt", container_url("f.txt"), "--output-type",
                        "json").assert_ok()  # fmt: skip
    job_id = copied.finished()["job_id"]
    listed = run_azxfer("jobs", "list", "--output-type", "json").assert_ok()
    jobs = listed.events_of("job")
    assert [j["job_id"] for j in jobs] == [job_id], listed.describe()
    assert jobs[0]["command"] == "copy" and jobs[0]["status"] == "Completed"
    assert jobs[0]["counts"]["completed"] == 1 and jobs[0]["started"].endswith("Z")
    assert listed.stderr == ""


def test_an_emulator_table_url_with_a_table_sas_is_a_table(run_azxfer, azurite, tables):
    """Without a connection string naming the TableEndpoint, an emulator's path-style table
    URL was taken for Blob ("listing container 't' ...: 415 AtomFormatNotSupported"), though
    its table SAS (tn=) says what it is."""
    source = _seeded_table(tables, 3)
    sas = _table_sas(azurite, source, read=True)
    result = run_azxfer("list", f"{azurite.table_endpoint}/{source}?{sas}", env=NO_KEY)
    result.assert_ok()
    assert result.stdout.splitlines() == ["p0\tr0000", "p1\tr0001", "p2\tr0002"], result.describe()


# ------------------------------------------------------------------ import from a folder


def test_import_from_an_export_folder_finds_its_one_manifest(run_azxfer, azurite, tables, tmp_path):
    """`azxfer import ./backup TABLE_URL` (no --manifest) said "'./backup' is not a URL, but
    Table was named for it": a folder an export wrote holds one manifest, so it is used."""
    source = _seeded_table(tables, 20)
    folder = tmp_path / "backup"
    table_url = f"{azurite.table_endpoint}/{source}"
    run_azxfer("export", table_url, folder).assert_ok()
    target = "t" + uuid.uuid4().hex[:12]
    result = run_azxfer("import", folder, f"{azurite.table_endpoint}/{target}")
    result.assert_ok()
    assert len(list(tables.get_table_client(target).list_entities())) == 20


def test_import_from_a_folder_without_one_manifest_says_what_to_give(
    run_azxfer, azurite, tables, tmp_path
):
    table_url = f"{azurite.table_endpoint}/t{uuid.uuid4().hex[:12]}"
    empty = tmp_path / "empty"
    empty.mkdir()
    none = run_azxfer("import", empty, table_url)
    none.assert_usage_error()
    assert "no export manifest (*.manifest)" in none.stderr, none.describe()
    assert none.stdout == ""
    two = tmp_path / "two"
    two.mkdir()
    (two / "a.manifest").write_text("{}")
    (two / "b.manifest").write_text("{}")
    several = run_azxfer("import", two, table_url)
    several.assert_usage_error()
    assert "a.manifest, b.manifest" in several.stderr and "--manifest" in several.stderr
    missing = run_azxfer("import", two, table_url, "--manifest", "c.manifest")
    missing.assert_usage_error()
    assert missing.stdout == "", missing.describe()  # no job was announced
    assert "c.manifest" in missing.stderr and "a.manifest, b.manifest" in missing.stderr


def test_an_upload_to_an_unknown_account_says_so(run_azxfer, azurite, tmp_path):
    """An upload to an account the endpoint does not know said "container 'c' at URL: 404"."""
    (tmp_path / "f.txt").write_bytes(b"x")
    url = f"http://{azurite.host}:{azurite.blob_port}/nosuchaccount/somecontainer/f.txt"
    result = run_azxfer("copy", tmp_path / "f.txt", url)
    result.assert_usage_error(1)
    assert "knows no account 'nosuchaccount'" in result.stderr, result.describe()
    assert "check the account name in the URL" in result.stderr


def test_listing_at_an_unknown_account_reads_right(run_azxfer, azurite):
    """It said "listing container 'c' at URL not found"."""
    endpoint = f"http://{azurite.host}:{azurite.blob_port}/nosuchaccount"
    result = run_azxfer("list", f"{endpoint}/somecontainer")
    result.assert_usage_error(1)
    assert f"container 'somecontainer' at {endpoint} not found" in result.stderr, result.describe()
    assert "listing container" not in result.stderr
