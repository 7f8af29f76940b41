"""`azxfer list` on Azure Files (the File REST stand-in) through the real CLI: files and
directories, one level and recursive, wildcards, a single file, SMB properties asked only
when shown, JSON, and errors."""

from __future__ import annotations

import pytest
from seed import seed_share

FILE = ("--type", "File")


@pytest.fixture
def tree(share_client):
    files = {"top.txt": b"hello", "docs/a.md": b"x" * 2048, "docs/old/b.md": b"bb"}
    return seed_share(share_client, files, dirs=("empty",))


def lines(result) -> list[str]:
    return result.stdout.splitlines()


def names(result) -> list[str]:
    return [line.split("\t")[0] for line in lines(result)]


def test_one_level_files_and_directories(run_azxfer, share_url, tree):
    result = run_azxfer("list", share_url(), *FILE).assert_ok()
    assert sorted(names(result)) == ["docs/", "empty/", "top.txt"]
    assert "docs/\t-" in lines(result) and "top.txt\t5 B" in lines(result)
    assert result.stderr.strip() == "Files: 1; directories: 2; total size: 5 B"


def test_recursive_lists_every_file_and_directory(run_azxfer, share_url, tree):
    result = run_azxfer("list", share_url(), *FILE, "-r", "--machine-readable").assert_ok()
    assert sorted(names(result)) == [
        "docs/",
        "docs/a.md",
        "docs/old/",
        "docs/old/b.md",
        "empty/",
        "top.txt",
    ]
    assert "docs/a.md\t2048" in lines(result)
    assert result.stderr.strip() == "Files: 3; directories: 3; total size: 2055"


def test_directory_wildcard_and_single_file(run_azxfer, share_url, tree):
    result = run_azxfer("list", share_url("docs"), "--from-to", "FileLocal").assert_ok()
    assert sorted(names(result)) == ["a.md", "old/"]
    result = run_azxfer("list", share_url("docs/*.md"), *FILE, "--machine-readable")
    assert lines(result.assert_ok()) == ["a.md\t2048"]
    result = run_azxfer("list", share_url("docs/old/b.md"), *FILE, "--machine-readable")
    assert lines(result.assert_ok()) == ["b.md\t2"]


def test_smb_properties_asked_only_when_shown(run_azxfer, share_url, tree, file_standin):
    file_standin.clear()
    run_azxfer("list", share_url(), *FILE, "-r").assert_ok()
    listings = file_standin.requests_of("ListDirectoriesAndFiles")
    assert listings and all("include" not in r.query for r in listings)

    file_standin.clear()
    result = run_azxfer(
        "list", share_url(), *FILE, "--properties", "lastwritetime;Attributes;CreationTime"
    ).assert_ok()
    listings = file_standin.requests_of("ListDirectoriesAndFiles")
    assert listings and all(
        set(r.query["include"].split(",")) == {"Timestamps", "Attributes"} for r in listings
    )
    by_name = {line.split("\t")[0]: line.split("\t")[2:] for line in lines(result)}
    top = dict(field.split("=", 1) for field in by_name["top.txt"])
    assert set(top) == {"LastWriteTime", "Attributes", "CreationTime"}
    assert top["LastWriteTime"].startswith("20") and top["LastWriteTime"].endswith("Z")
    docs = dict(field.split("=", 1) for field in by_name["docs/"])
    assert "Directory" in docs["Attributes"]


def test_json_output(run_azxfer, share_url, tree):
    result = run_azxfer(
        "list", share_url("docs"), *FILE, "-r", "--output-type", "json", "--properties", "ETag"
    ).assert_ok()
    entries = {e["name"]: e for e in result.events_of("list_entry")}
    assert entries["old"] == {"event": "list_entry", "name": "old", "size": 0, "type": "directory"}
    assert entries["a.md"]["size"] == 2048 and entries["a.md"]["etag"]
    assert result.events()[-1] == {
        "event": "list_summary",
        "files": 2,
        "directories": 1,
        "bytes": 2050,
    }


def test_blob_only_property_refused_before_any_request(run_azxfer, share_url, tree, file_standin):
    file_standin.clear()
    result = run_azxfer("list", share_url(), *FILE, "--properties", "BlobType")
    assert "does not give BlobType" in result.assert_usage_error().stderr
    assert "LastWriteTime" in result.stderr  # what it does give
    assert file_standin.requests == []


def test_missing_share_and_directory(run_azxfer, share_url, tree, file_standin, azurite):
    missing = f"{file_standin.account_url(azurite.account)}/nosuchshare"
    result = run_azxfer("list", missing, *FILE).assert_usage_error(1)
    assert "nosuchshare" in result.stderr and "does not exist" in result.stderr
    result = run_azxfer("list", share_url("nope/deeper"), *FILE).assert_usage_error(1)
    assert "nope/deeper" in result.stderr
