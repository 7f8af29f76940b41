"""Share → share: each directory gets its source directory's SMB properties (attributes,
creation and last-write times; the permission with --preserve-permissions), read back with the
SDK, and keeps the source's last-write time although files were written into it afterwards
(the File stand-in moves a directory's last-write time when an entry is made in it, as NTFS
and Azure Files do)."""

from __future__ import annotations

from helpers import data_for
from seed import fresh_share, seed_share

JSON = ("--output-type", "json")
SDDL = "O:BAG:SYD:(A;;FA;;;BA)(A;;0x1200a9;;;WD)"
DIRS = {
    "d1": ("2020-01-02T03:04:05.1234567Z", "2021-02-03T04:05:06.7654321Z"),
    "d1/d2": ("2019-05-06T07:08:09.0000001Z", "2022-06-07T08:09:10.5000000Z"),
    "hollow": ("2018-11-12T13:14:15.0000000Z", "2018-12-13T14:15:16.0000000Z"),
}
FILES = {"d1/a.txt": data_for("a", 100), "d1/d2/b.bin": data_for("b", 5 * 1024 * 1024 + 1)}


def url_of(file_standin, azurite, share) -> str:
    return f"{file_standin.account_url(azurite.account)}/{share.share_name}"


def seed(share) -> str:
    """The tree, each directory with its own attributes, times and permission (its key)."""
    seed_share(share, FILES, dirs=DIRS, content_md5=True)
    key = share.create_permission_for_share(SDDL)
    for path, (created, written) in DIRS.items():  # after the files, which move them
        share.get_directory_client(path).set_http_headers(
            file_attributes="Hidden|Directory",
            file_creation_time=created,
            file_last_write_time=written,
            permission_key=key,
        )
    return key


def dir_props(share, path: str) -> dict[str, str]:
    props = share.get_directory_client(path).get_directory_properties()
    return {
        "attributes": str(props.file_attributes),
        "creation": props.creation_time.isoformat(),
        "last_write": props.last_write_time.isoformat(),
    }


def test_directories_get_the_source_s_smb_properties_and_last_write_time(
    file_standin, azurite, share_service, run_azxfer
):
    src, dst = fresh_share(share_service), fresh_share(share_service)
    seed(src)
    wanted = {path: dir_props(src, path) for path in DIRS}
    assert "Hidden" in wanted["d1"]["attributes"]
    result = run_azxfer(
        "copy", url_of(file_standin, azurite, src), url_of(file_standin, azurite, dst),
        "-r", "--as-subdir=false", "--from-to", "FileFile", "--preserve-permissions", *JSON,
    ).assert_ok()  # fmt: skip
    assert result.finished()["files_completed"] == len(FILES), result.describe()
    assert result.finished()["folders_completed"] == len(DIRS), result.describe()
    for path in DIRS:
        assert dir_props(dst, path) == wanted[path], path
        key = dst.get_directory_client(path).get_directory_properties().permission_key
        assert dst.get_permission_for_share(key) == SDDL, path
    for path, data in FILES.items():
        assert dst.get_file_client(path).download_file().readall() == data


def test_without_preserve_smb_info_directories_are_as_new_as_their_copy(
    file_standin, azurite, share_service, run_azxfer
):
    src, dst = fresh_share(share_service), fresh_share(share_service)
    seed(src)
    result = run_azxfer(
        "copy", url_of(file_standin, azurite, src), url_of(file_standin, azurite, dst),
        "-r", "--as-subdir=false", "--from-to", "FileFile", "--preserve-smb-info=false", *JSON,
    ).assert_ok()  # fmt: skip
    assert result.finished()["folders_completed"] == len(DIRS), result.describe()
    for path in DIRS:
        got, source = dir_props(dst, path), dir_props(src, path)
        assert "Hidden" not in got["attributes"], path
        assert got["creation"] != source["creation"] and got["last_write"] != source["last_write"]
