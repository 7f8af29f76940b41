"""azxfer and the real AzCopy v10 read each other's Azure Files uploads, on the File stand-in:
AzCopy downloads what azxfer uploaded, checking the Content-MD5 azxfer stored, and azxfer
downloads what AzCopy uploaded (`--put-md5`), checking AzCopy's; both byte-identical, empty
folders included. SAS tokens are minted by the current SDK."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from azure.storage.fileshare import ShareSasPermissions, ShareServiceClient, generate_share_sas
from file_standin import WELL_KNOWN_ACCOUNT, WELL_KNOWN_KEY, FileStandIn
from test_file_standin_azcopy import EMPTY_DIRS, TREE, _azcopy, _dirs, _files, _run

LOCAL_FILE = ("--from-to", "LocalFile")
FILE_LOCAL = ("--from-to", "FileLocal")


def _share_sas(standin: FileStandIn, share: str) -> str:
    ShareServiceClient.from_connection_string(standin.connection_string()).create_share(share)
    return generate_share_sas(
        WELL_KNOWN_ACCOUNT,
        share,
        WELL_KNOWN_KEY,
        permission=ShareSasPermissions(read=True, create=True, write=True, list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )


def _tree(make_tree, root):
    source = make_tree(root, TREE)
    for name in EMPTY_DIRS:
        (source / name).mkdir(parents=True)
    return source


def test_azcopy_downloads_what_azxfer_uploaded(file_standin, tmp_path, make_tree, run_azxfer):
    azcopy = _azcopy()
    source = _tree(make_tree, tmp_path / "src")
    sas = _share_sas(file_standin, "fromazxfer")
    url = f"{file_standin.account_url()}/fromazxfer/landing"
    run_azxfer("copy", f"{source}/*", f"{url}?{sas}", "-r", *LOCAL_FILE).assert_ok()

    out = tmp_path / "out"
    _run(
        azcopy, tmp_path, "copy", f"{url}/*?{sas}", str(out), "--recursive",
        *FILE_LOCAL, "--check-md5", "FailIfDifferentOrMissing",
    )  # fmt: skip
    assert _files(out) == _files(source)
    assert _dirs(out) == _dirs(source)


def test_azxfer_downloads_what_azcopy_uploaded(file_standin, tmp_path, make_tree, run_azxfer):
    azcopy = _azcopy()
    source = _tree(make_tree, tmp_path / "src")
    sas = _share_sas(file_standin, "fromazcopy")
    url = f"{file_standin.account_url()}/fromazcopy/landing"
    _run(
        azcopy, tmp_path, "copy", f"{source}/*", f"{url}?{sas}", "--recursive",
        *LOCAL_FILE, "--put-md5",
    )  # fmt: skip

    out = tmp_path / "out"
    down = run_azxfer(
        "copy", f"{url}?{sas}", out, "-r", *FILE_LOCAL, "--as-subdir=false",
        "--check-md5", "FailIfDifferentOrMissing", "--output-type", "json",
    )  # fmt: skip
    down.assert_ok()
    assert down.finished()["files_completed"] == len(TREE)
    assert _files(out) == _files(source)
    assert _dirs(out) == _dirs(source)
