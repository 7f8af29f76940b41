"""Errors that say what is really wrong (issue 21, point 9): a malformed connection string and
a journal folder under a file are named as such, once, before anything is transferred.
(https to an http port and unreachable web URLs: test_tls.py; resume without a SAS:
test_resume.py.)"""

from __future__ import annotations

import pytest
from helpers import blob_names

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("value", "says"),
    [
        pytest.param("garbage", "part 1 of 1 is not Name=Value", id="no-equals"),
        pytest.param("AccountName=devstoreaccount1;{key}", "part 2 is not a", id="bare-key"),
        pytest.param("AcountName=devstoreaccount1;AccountKey={key}", "'AcountName'", id="typo"),
        pytest.param("AccountName=devstoreaccount1;AccountKey=", "AccountKey is empty", id="empty"),
    ],
)
def test_malformed_connection_string_is_named_without_its_key(
    value, says, azurite, run_azxfer, container_url, container_client, tmp_path
):
    container_client.upload_blob("f.txt", b"x")
    out = tmp_path / "out"
    out.mkdir()
    result = run_azxfer(
        "copy", container_url("f.txt"), out,
        env={
            "AZURE_STORAGE_CONNECTION_STRING": value.format(key=azurite.key),
            "AZXFER_SOURCE_KEY": None,
        },
    ).assert_usage_error(1)  # fmt: skip
    assert "AZURE_STORAGE_CONNECTION_STRING is malformed" in result.stderr
    assert says in result.stderr
    assert azurite.key not in result.stderr + result.stdout
    assert azurite.key[:20] not in result.stderr + result.stdout
    assert not (out / "f.txt").exists()


@pytest.mark.parametrize("under", ["", "sub"], ids=["is-a-file", "under-a-file"])
def test_journal_dir_that_cannot_be_a_folder(
    under, tmp_path, run_azxfer, container_url, container_client
):
    src = tmp_path / "f.txt"
    src.write_bytes(b"x")
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    journal = plain / under if under else plain
    for argv in (
        ["copy", src, container_url(), "--journal-dir", journal],
        ["jobs", "list", "--journal-dir", journal],
        ["resume", "--last", "--journal-dir", journal],
    ):
        result = run_azxfer(*argv).assert_usage_error(2)
        assert "internal error" not in result.stderr
        assert str(plain) in result.stderr
    result = run_azxfer("copy", src, container_url(), env={"AZXFER_JOB_DIR": str(plain / "j")})
    result.assert_usage_error(2)
    assert "journal folder" in result.stderr
    assert blob_names(container_client) == set()
