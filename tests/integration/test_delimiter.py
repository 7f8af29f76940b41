"""--delimiter CHAR (AzCopy v8's /Delimiter): blob names whose virtual directories are
separated by another character than '/' download into local folders; against Azurite, with
blobs uploaded by the SDK.

The names use '|' (and ':'), not '\\': the Blob service stores a '\\' in a name as '/'
(real Azure as Azurite, /work/shared/EMULATOR.md), so no blob name holds one."""

from __future__ import annotations

import asyncio

import pytest
from azure.storage.blob import ContentSettings
from helpers import md5, tree_contents
from seed import seed_blobs
from test_early_listing import counting_pages

from azxfer.credentials import Credential
from azxfer.early import start_listings
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.transport.pool import HttpPool
from azxfer.transport.retry import RetryPolicy

PIPED = {
    "pre|top.txt": 11,
    "pre|a|b|c.txt": 12,
    "pre|a|d.txt": 13,
    "pre|x|y|z|deep.bin": 300_000,
    "other.txt": 5,
}


def _download(run_azxfer, source: str, dest, *extra: str):
    return run_azxfer("copy", source, dest, "--delimiter", "|", "--output-type", "json", *extra)


@pytest.mark.parametrize("char", ["|", ":"])
def test_a_recursive_download_makes_a_folder_of_each_virtual_directory(
    char, tmp_path, run_azxfer, container_url, container_client
):
    seeded = seed_blobs(container_client, {k.replace("|", char): v for k, v in PIPED.items()})
    out = tmp_path / "out"
    result = run_azxfer(
        "copy", container_url("pre"), out, "-r", "--delimiter", char, "--output-type", "json"
    ).assert_ok()
    assert tree_contents(out) == {
        "pre/top.txt": seeded[f"pre{char}top.txt"],
        "pre/a/b/c.txt": seeded[f"pre{char}a{char}b{char}c.txt"],
        "pre/a/d.txt": seeded[f"pre{char}a{char}d.txt"],
        "pre/x/y/z/deep.bin": seeded[f"pre{char}x{char}y{char}z{char}deep.bin"],
    }
    assert result.finished()["files_completed"] == 4
    # The events name the blobs as they are, and no file was renamed.
    sources = {e["source"] for e in result.events_of("transfer_done")}
    assert f"pre{char}a{char}b{char}c.txt" in sources
    assert result.events_of("notice") == []


def test_without_it_the_character_is_part_of_the_file_name(
    tmp_path, run_azxfer, container_url, container_client
):
    seeded = seed_blobs(container_client, {"pre|a|d.txt": 4, "pre/e.txt": 5})
    out = tmp_path / "out"
    run_azxfer("copy", container_url(), out, "-r", "--as-subdir=false").assert_ok()
    assert tree_contents(out) == {
        "pre|a|d.txt": seeded["pre|a|d.txt"],
        "pre/e.txt": seeded["pre/e.txt"],
    }


@pytest.mark.parametrize("path", ["pre|a", "pre|a|", "pre%7Ca"])
def test_a_virtual_directory_is_selected_with_the_delimiter(
    path, tmp_path, run_azxfer, container_url, container_client
):
    seeded = seed_blobs(container_client, PIPED)
    _download(run_azxfer, container_url(path), tmp_path / "out", "-r").assert_ok()
    assert tree_contents(tmp_path / "out") == {
        "a/b/c.txt": seeded["pre|a|b|c.txt"],
        "a/d.txt": seeded["pre|a|d.txt"],
    }


def test_without_recursive_only_one_level_is_downloaded(
    tmp_path, run_azxfer, container_url, container_client
):
    seeded = seed_blobs(container_client, PIPED)
    result = _download(run_azxfer, container_url("pre|a"), tmp_path / "out").assert_ok()
    assert tree_contents(tmp_path / "out") == {"a/d.txt": seeded["pre|a|d.txt"]}
    assert result.finished()["files_total"] == 1


def test_a_wildcard_and_a_prefix_apply_within_the_last_virtual_directory(
    tmp_path, run_azxfer, container_url, container_client
):
    seeded = seed_blobs(container_client, {**PIPED, "pre|a|dx.txt": 3})
    _download(run_azxfer, container_url("pre|a|d*"), tmp_path / "w").assert_ok()
    assert tree_contents(tmp_path / "w") == {
        "d.txt": seeded["pre|a|d.txt"],
        "dx.txt": seeded["pre|a|dx.txt"],
    }
    _download(run_azxfer, container_url("pre|a|dx"), tmp_path / "p").assert_ok()
    assert tree_contents(tmp_path / "p") == {"dx.txt": seeded["pre|a|dx.txt"]}


def test_a_single_blob_gets_its_last_name_part(
    tmp_path, run_azxfer, container_url, container_client
):
    seeded = seed_blobs(container_client, PIPED)
    out = tmp_path / "out"
    out.mkdir()
    _download(run_azxfer, container_url("pre|a|b|c.txt"), out).assert_ok()
    assert tree_contents(out) == {"c.txt": seeded["pre|a|b|c.txt"]}


def test_names_that_would_leave_the_destination_stay_inside_it(
    tmp_path, run_azxfer, container_url, container_client
):
    """'..' parts and a leading delimiter keep the usual local name rules (plan/naming.py)."""
    seeded = seed_blobs(
        container_client,
        {"..|..|evil.txt": 6, "|abs.txt": 7, "ok|.|dot.txt": 8, "ok|fine.txt": 9},
    )
    out = tmp_path / "deep" / "out"
    result = _download(run_azxfer, container_url(), out, "-r", "--as-subdir=false").assert_ok()
    assert tree_contents(tmp_path) == {
        "deep/out/%2E%2E/%2E%2E/evil.txt": seeded["..|..|evil.txt"],
        "deep/out/abs.txt": seeded["|abs.txt"],
        "deep/out/ok/%2E/dot.txt": seeded["ok|.|dot.txt"],
        "deep/out/ok/fine.txt": seeded["ok|fine.txt"],
    }
    messages = " ".join(n["message"] for n in result.events_of("notice"))
    assert "'../../evil.txt' saved as '%2E%2E/%2E%2E/evil.txt'" in messages, result.describe()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ab", "--delimiter 'ab': give one printable character"),
        ("", "--delimiter '': give one printable character"),
        ("*", "--delimiter '*': give one printable character other than *?["),
        ("\t", "--delimiter '\\t': give one printable character"),
        ("\n", "--delimiter '\\n': give one printable character"),
    ],
)
def test_a_delimiter_is_one_character(
    value, message, tmp_path, run_azxfer, container_url, container_client
):
    seed_blobs(container_client, PIPED)
    out = tmp_path / "out"
    result = run_azxfer("copy", container_url("pre"), out, "-r", "--delimiter", value)
    result.assert_usage_error()
    assert message in result.stderr
    assert not out.exists()


def test_it_applies_to_downloads_from_blob_storage_only(
    tmp_path, run_azxfer, container_url, container_client, make_tree, blob_service
):
    make_tree(tmp_path / "src", {"a.txt": 3})
    blob_service.create_container(container_client.container_name + "x")
    other = container_url().rstrip("/") + "x"
    pairs = [
        (tmp_path / "src", container_url()),  # upload
        (container_url(), other),  # blob to blob
        (tmp_path / "src", tmp_path / "copy"),  # local to local
    ]
    for source, dest in pairs:
        result = run_azxfer("copy", source, dest, "-r", "--delimiter", "|")
        result.assert_usage_error()
        assert "--delimiter applies only to downloads from Blob storage" in result.stderr
    assert list(container_client.list_blobs()) == []
    assert not (tmp_path / "copy").exists()
    # sync has no --delimiter (v8 had none for its sync either).
    run_azxfer("sync", container_url(), tmp_path / "src", "--delimiter", "|").assert_usage_error()


def test_resume_keeps_the_delimiter(tmp_path, run_azxfer, container_url, container_client):
    """The option is journaled with the job: a resumed job lists and names as the first run."""
    seeded = seed_blobs(container_client, PIPED)
    broken = container_client.get_blob_client("pre|a|b|c.txt")
    broken.set_http_headers(ContentSettings(content_md5=bytearray(md5(b"stale"))))
    out = tmp_path / "out"
    first = _download(run_azxfer, container_url("pre|a"), out, "-r").assert_exit(1)
    assert tree_contents(out) == {"a/d.txt": seeded["pre|a|d.txt"]}
    broken.set_http_headers(ContentSettings(content_md5=bytearray(md5(seeded[broken.blob_name]))))
    job = first.events_of("job_started")[0]["job_id"]
    again = run_azxfer("resume", job, "--output-type", "json").assert_ok()
    assert again.finished()["files_completed"] == 1
    assert tree_contents(out) == {
        "a/b/c.txt": seeded["pre|a|b|c.txt"],
        "a/d.txt": seeded["pre|a|d.txt"],
    }


def test_the_early_listing_lists_the_virtual_directory_the_job_asks_for(
    azurite, container, container_client, tmp_path, monkeypatch
):
    """`azxfer copy URL/pre|a LOCAL -r --delimiter '|'` starts its listing before the job is
    built, with the prefix 'pre|a|' the job asks for; the job takes its pages."""
    seed_blobs(container_client, PIPED)
    taken = counting_pages(monkeypatch)
    url = f"{azurite.blob_endpoint}/{container}/pre|a"
    env = {"AZXFER_SOURCE_KEY": azurite.key}
    early = start_listings("copy", url, str(tmp_path), True, {}, env, "|")
    key = Credential("shared_key", azurite.account, key=azurite.key, origin="AZXFER_SOURCE_KEY")

    async def listed() -> list[str]:
        pool = HttpPool(4)
        rest = RestBlobClient(
            pool, azurite.blob_endpoint, azurite.account, key, RetryPolicy(), early
        )
        try:
            return [blob.name async for blob in rest.list_blobs(container, "pre|a|", None)]
        finally:
            await pool.close()

    assert asyncio.run(listed()) == ["pre|a|b|c.txt", "pre|a|d.txt"]
    assert len(taken) == 1
