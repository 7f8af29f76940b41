"""Options of `azxfer copy`: filters, overwrite modes, properties, dry run, move, output,
symlinks, credentials."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from urllib.parse import parse_qs

import pytest
from azure.storage.blob import (
    BlobServiceClient,
    ContainerSasPermissions,
    generate_container_sas,
)
from helpers import blob_contents, blob_names, data_for, tree_contents, tree_files
from seed import seed_blobs

UTC = dt.UTC


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ts(year: int) -> float:
    return dt.datetime(year, 6, 1, tzinfo=UTC).timestamp()


# =========================================================================== filters: upload

FILTER_TREE = {
    "a1.bin": 1,
    "b.txt": 2,
    "c.bin": 3,
    "sub/a2.bin": 4,
    "sub/d.txt": 5,
    "sub/e.csv": 6,
    "dir1/x.txt": 7,
    "dir2/sub/y.txt": 8,
    "dir2/other/z.txt": 9,
}


def _upload_filtered(tmp_path, make_tree, run_azxfer, container_url, container_client, *flags):
    src = make_tree(tmp_path / "data", FILTER_TREE)
    run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false", *flags).assert_ok()
    return blob_names(container_client)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            ("--include-pattern", "a*;*.txt"),
            {"a1.bin", "b.txt", "sub/a2.bin", "sub/d.txt", "dir1/x.txt", "dir2/sub/y.txt",
             "dir2/other/z.txt"},
        ),
        (
            ("--exclude-pattern", "*.bin;*.csv"),
            {"b.txt", "sub/d.txt", "dir1/x.txt", "dir2/sub/y.txt", "dir2/other/z.txt"},
        ),
        (
            ("--include-pattern", "*.txt", "--exclude-pattern", "b*;y*"),
            {"sub/d.txt", "dir1/x.txt", "dir2/other/z.txt"},
        ),
        (("--include-path", "dir1;dir2/sub"), {"dir1/x.txt", "dir2/sub/y.txt"}),
        (("--include-path", "sub"), {"sub/a2.bin", "sub/d.txt", "sub/e.csv"}),
        (
            ("--exclude-path", "dir2/sub;sub"),
            {"a1.bin", "b.txt", "c.bin", "dir1/x.txt", "dir2/other/z.txt"},
        ),
        (("--include-path", "dir2", "--exclude-path", "dir2/other"), {"dir2/sub/y.txt"}),
    ],
    ids=["include-pattern", "exclude-pattern", "include+exclude-pattern", "include-path",
         "include-path-single", "exclude-path", "include+exclude-path"],
)  # fmt: skip
def test_upload_filters(
    flags, expected, tmp_path, make_tree, run_azxfer, container_url, container_client
):
    assert (
        _upload_filtered(tmp_path, make_tree, run_azxfer, container_url, container_client, *flags)
        == expected
    )


def _tree_with_mtimes(tmp_path, make_tree):
    src = make_tree(tmp_path / "data", {"old.txt": 1, "mid.txt": 2, "sub/new.txt": 3})
    for rel, year in (("old.txt", 2019), ("mid.txt", 2021), ("sub/new.txt", 2023)):
        os.utime(src / rel, (ts(year), ts(year)))
    return src


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("--include-after", iso(ts(2020))), {"mid.txt", "sub/new.txt"}),
        (("--include-before", iso(ts(2022))), {"old.txt", "mid.txt"}),
        (("--include-after", iso(ts(2020)), "--include-before", iso(ts(2022))), {"mid.txt"}),
        (("--include-after", "2022-01-01"), {"sub/new.txt"}),
    ],
    ids=["after", "before", "after+before", "date-only"],
)
def test_upload_time_filters(
    flags, expected, tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = _tree_with_mtimes(tmp_path, make_tree)
    run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false", *flags).assert_ok()
    assert blob_names(container_client) == expected


def test_upload_filters_apply_to_wildcard_source(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "data", {"a.csv": 1, "ab.csv": 2, "b.csv": 3})
    run_azxfer("copy", f"{src}/*.csv", container_url(), "--exclude-pattern", "a*").assert_ok()
    assert blob_names(container_client) == {"b.csv"}


# =========================================================================== filters: download


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            ("--include-pattern", "a*;*.txt"),
            {"a1.bin", "b.txt", "sub/a2.bin", "sub/d.txt", "dir1/x.txt", "dir2/sub/y.txt",
             "dir2/other/z.txt"},
        ),
        (
            ("--exclude-pattern", "*.bin;*.csv"),
            {"b.txt", "sub/d.txt", "dir1/x.txt", "dir2/sub/y.txt", "dir2/other/z.txt"},
        ),
        (("--include-path", "dir1;dir2/sub"), {"dir1/x.txt", "dir2/sub/y.txt"}),
        (
            ("--exclude-path", "dir2/sub;sub"),
            {"a1.bin", "b.txt", "c.bin", "dir1/x.txt", "dir2/other/z.txt"},
        ),
    ],
    ids=["include-pattern", "exclude-pattern", "include-path", "exclude-path"],
)  # fmt: skip
def test_download_filters(flags, expected, tmp_path, run_azxfer, container_url, container_client):
    seed_blobs(container_client, FILTER_TREE)
    out = tmp_path / "out"
    out.mkdir()
    run_azxfer("copy", container_url(), out, "-r", "--as-subdir=false", *flags).assert_ok()
    assert tree_files(out) == expected


def test_download_filters_relative_to_virtual_directory(
    tmp_path, run_azxfer, container_url, container_client
):
    seed_blobs(container_client, {f"top/{k}": v for k, v in FILTER_TREE.items()})
    out = tmp_path / "out"
    out.mkdir()
    run_azxfer("copy", container_url("top"), out, "-r", "--include-path", "dir2/sub").assert_ok()
    assert tree_files(out) == {"top/dir2/sub/y.txt"}


def test_download_time_filters(tmp_path, run_azxfer, container_url, container_client):
    seed_blobs(container_client, {"early.txt": 1, "sub/early2.txt": 2})
    t_early = container_client.get_blob_client("early.txt").get_blob_properties().last_modified
    t_early2 = (
        container_client.get_blob_client("sub/early2.txt").get_blob_properties().last_modified
    )
    t_early = max(t_early, t_early2).timestamp()
    # Last-Modified has 1 s resolution: make the next blobs at least 2 s later so that a cut
    # at t_early + 1 s falls strictly between the two groups.
    time.sleep(max(0.0, t_early + 2.05 - time.time()))
    seed_blobs(container_client, {"late.txt": 3, "sub/late2.txt": 4})
    t_late = container_client.get_blob_client("late.txt").get_blob_properties().last_modified
    assert t_late.timestamp() >= t_early + 2
    cut = iso(t_early + 1)

    after = tmp_path / "after"
    after.mkdir()
    run_azxfer(
        "copy", container_url(), after, "-r", "--as-subdir=false", "--include-after", cut
    ).assert_ok()
    assert tree_files(after) == {"late.txt", "sub/late2.txt"}

    before = tmp_path / "before"
    before.mkdir()
    run_azxfer(
        "copy", container_url(), before, "-r", "--as-subdir=false", "--include-before", cut
    ).assert_ok()
    assert tree_files(before) == {"early.txt", "sub/early2.txt"}


# =========================================================================== overwrite: upload


def _existing_blob(container_client, name: str, data: bytes = b"old blob") -> float:
    container_client.upload_blob(name, data, overwrite=True)
    return container_client.get_blob_client(name).get_blob_properties().last_modified.timestamp()


def test_upload_overwrite_true_is_default(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    _existing_blob(container_client, "f.txt")
    src = make_tree(tmp_path / "src", {"f.txt": b"new local"})
    run_azxfer("copy", src / "f.txt", container_url()).assert_ok()
    assert container_client.download_blob("f.txt").readall() == b"new local"
    run_azxfer("copy", src / "f.txt", container_url(), "--overwrite", "true").assert_ok()


def test_upload_overwrite_false_skips(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    _existing_blob(container_client, "f.txt")
    src = make_tree(tmp_path / "src", {"f.txt": b"new local", "g.txt": b"fresh"})
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--overwrite", "false",
        "--output-type", "json",
    )  # fmt: skip
    result.assert_ok()
    assert blob_contents(container_client) == {"f.txt": b"old blob", "g.txt": b"fresh"}
    done = result.finished()
    assert (done["files_completed"], done["files_skipped"], done["files_failed"]) == (1, 1, 0)
    assert done["status"] == "CompletedWithSkipped"
    skipped = [e for e in result.events_of("transfer_done") if e["outcome"] == "skipped"]
    assert len(skipped) == 1 and "f.txt" in skipped[0]["source"]


@pytest.mark.parametrize(("answer", "replaced"), [("y\n", True), ("n\n", False)])
def test_upload_overwrite_prompt_single(
    answer, replaced, tmp_path, make_tree, run_azxfer, container_url, container_client
):
    _existing_blob(container_client, "f.txt")
    src = make_tree(tmp_path / "src", {"f.txt": b"new local"})
    result = run_azxfer(
        "copy", src / "f.txt", container_url(), "--overwrite", "prompt", "--output-type", "json",
        input=answer,
    )  # fmt: skip
    result.assert_ok()
    result.events()  # the prompt must not pollute the NDJSON stream
    expected = b"new local" if replaced else b"old blob"
    assert container_client.download_blob("f.txt").readall() == expected


@pytest.mark.parametrize(("answer", "replaced"), [("a\n", True), ("N\n", False)])
def test_upload_overwrite_prompt_all_or_none(
    answer, replaced, tmp_path, make_tree, run_azxfer, container_url, container_client
):
    names = ["f1.txt", "f2.txt", "f3.txt"]
    for n in names:
        _existing_blob(container_client, n)
    src = make_tree(tmp_path / "src", {n: f"new {n}".encode() for n in names})
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--overwrite", "prompt",
        "--output-type", "json", input=answer,
    )  # fmt: skip
    result.assert_ok()
    expected = {n: (f"new {n}".encode() if replaced else b"old blob") for n in names}
    assert blob_contents(container_client) == expected


def test_upload_overwrite_prompt_without_stdin_means_no(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    _existing_blob(container_client, "f.txt")
    src = make_tree(tmp_path / "src", {"f.txt": b"new local", "g.txt": b"fresh"})
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--overwrite", "prompt",
        "--output-type", "json",
    )  # fmt: skip
    result.assert_ok()
    assert blob_contents(container_client) == {"f.txt": b"old blob", "g.txt": b"fresh"}
    assert result.finished()["files_skipped"] == 1


def test_upload_overwrite_if_source_newer(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    lm_old = _existing_blob(container_client, "older.txt")
    lm_new = _existing_blob(container_client, "newer.txt")
    src = make_tree(
        tmp_path / "src",
        {"older.txt": b"local older", "newer.txt": b"local newer", "absent.txt": b"new"},
    )
    os.utime(src / "older.txt", (lm_old - 3600, lm_old - 3600))  # local older than blob
    os.utime(src / "newer.txt", (lm_new + 3600, lm_new + 3600))  # local newer than blob
    os.utime(src / "absent.txt", (lm_new - 3600, lm_new - 3600))  # no blob: always copied
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--overwrite", "ifSourceNewer",
        "--output-type", "json",
    )  # fmt: skip
    result.assert_ok()
    assert blob_contents(container_client) == {
        "older.txt": b"old blob",
        "newer.txt": b"local newer",
        "absent.txt": b"new",
    }
    done = result.finished()
    assert (done["files_completed"], done["files_skipped"]) == (2, 1)


# =========================================================================== overwrite: download


def test_download_overwrite_true_default(tmp_path, run_azxfer, container_url, container_client):
    seed_blobs(container_client, {"f.txt": b"blob data"})
    (tmp_path / "f.txt").write_bytes(b"local")
    run_azxfer("copy", container_url("f.txt"), tmp_path).assert_ok()
    assert (tmp_path / "f.txt").read_bytes() == b"blob data"


def test_download_overwrite_false_skips(tmp_path, run_azxfer, container_url, container_client):
    seed_blobs(container_client, {"f.txt": b"blob data", "g.txt": b"blob g"})
    (tmp_path / "f.txt").write_bytes(b"local")
    result = run_azxfer(
        "copy", container_url(), tmp_path, "-r", "--as-subdir=false", "--overwrite", "false",
        "--output-type", "json",
    )  # fmt: skip
    result.assert_ok()
    assert tree_contents(tmp_path) == {"f.txt": b"local", "g.txt": b"blob g"}
    done = result.finished()
    assert (done["files_completed"], done["files_skipped"]) == (1, 1)
    assert done["status"] == "CompletedWithSkipped"


@pytest.mark.parametrize(("answer", "replaced"), [("y\n", True), ("n\n", False)])
def test_download_overwrite_prompt_single(
    answer, replaced, tmp_path, run_azxfer, container_url, container_client
):
    seed_blobs(container_client, {"f.txt": b"blob data"})
    (tmp_path / "f.txt").write_bytes(b"local")
    run_azxfer(
        "copy", container_url("f.txt"), tmp_path, "--overwrite", "prompt", input=answer
    ).assert_ok()
    assert (tmp_path / "f.txt").read_bytes() == (b"blob data" if replaced else b"local")


@pytest.mark.parametrize(("answer", "replaced"), [("a\n", True), ("N\n", False)])
def test_download_overwrite_prompt_all_or_none(
    answer, replaced, tmp_path, run_azxfer, container_url, container_client
):
    names = ["f1.txt", "f2.txt", "f3.txt"]
    seed_blobs(container_client, {n: b"blob data" for n in names})
    for n in names:
        (tmp_path / n).write_bytes(b"local")
    run_azxfer(
        "copy", container_url(), tmp_path, "-r", "--as-subdir=false", "--overwrite", "prompt",
        input=answer,
    ).assert_ok()  # fmt: skip
    expected = b"blob data" if replaced else b"local"
    assert tree_contents(tmp_path) == dict.fromkeys(names, expected)


def test_download_overwrite_prompt_without_stdin_means_no(
    tmp_path, run_azxfer, container_url, container_client
):
    seed_blobs(container_client, {"f.txt": b"blob data"})
    (tmp_path / "f.txt").write_bytes(b"local")
    run_azxfer("copy", container_url("f.txt"), tmp_path, "--overwrite", "prompt").assert_ok()
    assert (tmp_path / "f.txt").read_bytes() == b"local"


def test_download_overwrite_if_source_newer(tmp_path, run_azxfer, container_url, container_client):
    seed_blobs(
        container_client,
        {"blob_newer.txt": b"blob 1", "blob_older.txt": b"blob 2", "absent.txt": b"blob 3"},
    )
    lm = container_client.get_blob_client("blob_newer.txt").get_blob_properties().last_modified
    lm = lm.timestamp()
    (tmp_path / "blob_newer.txt").write_bytes(b"local 1")
    (tmp_path / "blob_older.txt").write_bytes(b"local 2")
    os.utime(tmp_path / "blob_newer.txt", (lm - 3600, lm - 3600))
    os.utime(tmp_path / "blob_older.txt", (lm + 3600, lm + 3600))
    result = run_azxfer(
        "copy", container_url(), tmp_path, "-r", "--as-subdir=false",
        "--overwrite", "ifSourceNewer", "--output-type", "json",
    )  # fmt: skip
    result.assert_ok()
    assert tree_contents(tmp_path) == {
        "blob_newer.txt": b"blob 1",
        "blob_older.txt": b"local 2",
        "absent.txt": b"blob 3",
    }
    done = result.finished()
    assert (done["files_completed"], done["files_skipped"]) == (2, 1)


# =========================================================================== properties


def test_metadata_tags_and_content_headers(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"page.html": b"<p>hi</p>"})
    run_azxfer(
        "copy", src / "page.html", container_url(),
        "--metadata", "k=v;k2=v2",
        "--blob-tags", "team=data&env=test",
        "--content-type", "text/x-custom",
        "--content-encoding", "gzip",
        "--content-language", "de-CH",
        "--content-disposition", "attachment; filename=x.html",
        "--cache-control", "max-age=60",
    ).assert_ok()  # fmt: skip
    blob = container_client.get_blob_client("page.html")
    props = blob.get_blob_properties()
    assert props.metadata == {"k": "v", "k2": "v2"}
    cs = props.content_settings
    assert cs.content_type == "text/x-custom"
    assert cs.content_encoding == "gzip"
    assert cs.content_language == "de-CH"
    assert cs.content_disposition == "attachment; filename=x.html"
    assert cs.cache_control == "max-age=60"
    assert blob.get_blob_tags() == {"team": "data", "env": "test"}


def test_metadata_applies_to_every_blob_of_a_folder(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"a.txt": 1, "b/c.txt": 2})
    run_azxfer("copy", src, container_url(), "-r", "--metadata", "owner=me").assert_ok()
    for name in ("src/a.txt", "src/b/c.txt"):
        assert container_client.get_blob_client(name).get_blob_properties().metadata == {
            "owner": "me"
        }


@pytest.mark.parametrize("tier", ["Hot", "Cool", "Archive"])
def test_block_blob_tier(tier, tmp_path, make_tree, run_azxfer, container_url, container_client):
    src = make_tree(tmp_path / "src", {"f.bin": 100})
    run_azxfer("copy", src / "f.bin", container_url(), "--block-blob-tier", tier).assert_ok()
    props = container_client.get_blob_client("f.bin").get_blob_properties()
    assert str(props.blob_tier) == tier or getattr(props.blob_tier, "value", None) == tier


def test_block_blob_tier_on_multi_block_upload(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"f.bin": 3 * 1024 * 1024})
    run_azxfer(
        "copy", src / "f.bin", container_url(), "--block-blob-tier", "Cool", "--block-size-mb", "1"
    ).assert_ok()
    props = container_client.get_blob_client("f.bin").get_blob_properties()
    assert getattr(props.blob_tier, "value", props.blob_tier) == "Cool"


def test_mime_type_guessing(tmp_path, make_tree, run_azxfer, container_url, container_client):
    src = make_tree(tmp_path / "src", {"a.txt": b"t", "b.json": b"{}", "c.unknownext": b"?"})
    run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false").assert_ok()

    def ctype(name):
        return (
            container_client.get_blob_client(name)
            .get_blob_properties()
            .content_settings.content_type
        )

    assert ctype("a.txt").startswith("text/plain")
    assert ctype("b.json") == "application/json"
    assert ctype("c.unknownext") == "application/octet-stream"


def test_no_guess_mime_type(tmp_path, make_tree, run_azxfer, container_url, container_client):
    src = make_tree(tmp_path / "src", {"a.txt": b"t", "b.json": b"{}"})
    run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--no-guess-mime-type"
    ).assert_ok()
    for name in ("a.txt", "b.json"):
        props = container_client.get_blob_client(name).get_blob_properties()
        assert props.content_settings.content_type == "application/octet-stream"


# =========================================================================== dry run


def test_upload_dry_run_text(tmp_path, make_tree, run_azxfer, container_url, container_client):
    src = make_tree(tmp_path / "src", {"a.txt": 1, "b/c.txt": 2, "b/d.txt": 3})
    result = run_azxfer("copy", src, container_url(), "-r", "--dry-run")
    result.assert_ok()
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("DRYRUN: ")]
    assert len(lines) == 3, result.describe()
    for rel in ("a.txt", "b/c.txt", "b/d.txt"):
        assert any(rel in ln for ln in lines), rel
    assert blob_names(container_client) == set()


def test_upload_dry_run_json(tmp_path, make_tree, run_azxfer, container_url, container_client):
    src = make_tree(tmp_path / "src", {"a.txt": 1, "b/c.txt": 2, "b/d.txt": 3})
    result = run_azxfer("copy", src, container_url(), "-r", "--dry-run", "--output-type", "json")
    result.assert_ok()
    events = result.events()
    assert events[0]["event"] == "job_started" and events[0]["dry_run"] is True
    assert len(result.events_of("transfer_queued")) == 3
    assert not [e for e in result.events_of("transfer_done") if e.get("outcome") == "completed"]
    assert result.finished()["status"] == "DryRun"
    assert blob_names(container_client) == set()


def test_upload_dry_run_does_not_create_container(
    tmp_path, make_tree, run_azxfer, azurite, blob_service
):
    src = make_tree(tmp_path / "src", {"a.txt": 1})
    name = "dryrunmissing" + os.urandom(4).hex()
    result = run_azxfer("copy", src / "a.txt", f"{azurite.blob_endpoint}/{name}", "--dry-run")
    result.assert_ok()
    assert name not in {c.name for c in blob_service.list_containers()}


def test_download_dry_run(tmp_path, run_azxfer, container_url, container_client):
    seed_blobs(container_client, {"a.txt": 1, "b/c.txt": 2})
    out = tmp_path / "out"
    out.mkdir()
    result = run_azxfer("copy", container_url(), out, "-r", "--dry-run")
    result.assert_ok()
    assert len([ln for ln in result.stdout.splitlines() if ln.startswith("DRYRUN: ")]) == 2
    assert list(out.iterdir()) == []
    result = run_azxfer("copy", container_url(), out, "-r", "--dry-run", "--output-type", "json")
    result.assert_ok()
    assert len(result.events_of("transfer_queued")) == 2
    assert result.finished()["status"] == "DryRun"
    assert list(out.iterdir()) == []


def test_dry_run_move_deletes_nothing(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"a.txt": 1})
    run_azxfer("copy", src, container_url(), "-r", "--move", "--dry-run").assert_ok()
    assert (src / "a.txt").exists()
    assert blob_names(container_client) == set()


# =========================================================================== move


def test_move_upload_deletes_local_sources(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    files = {"a.txt": 10, "b/c.txt": 20}
    src = make_tree(tmp_path / "src", files)
    expected = tree_contents(src)
    run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false", "--move").assert_ok()
    assert blob_contents(container_client) == expected
    assert tree_files(src) == set()


def test_move_download_deletes_blobs(tmp_path, run_azxfer, container_url, container_client):
    seeded = seed_blobs(container_client, {"a.txt": 10, "b/c.txt": 20})
    out = tmp_path / "out"
    out.mkdir()
    run_azxfer("copy", container_url(), out, "-r", "--as-subdir=false", "--move").assert_ok()
    assert tree_contents(out) == seeded
    assert blob_names(container_client) == set()


def test_move_download_keeps_blob_that_failed_verification(
    tmp_path, run_azxfer, container_url, container_client
):
    from azure.storage.blob import ContentSettings
    from helpers import md5

    seed_blobs(container_client, {"good.txt": b"good"})
    container_client.upload_blob("bad.txt", b"changed")
    container_client.get_blob_client("bad.txt").set_http_headers(
        ContentSettings(content_md5=bytearray(md5(b"original")))
    )
    out = tmp_path / "out"
    out.mkdir()
    run_azxfer("copy", container_url(), out, "-r", "--as-subdir=false", "--move").assert_exit(1)
    assert blob_names(container_client) == {"bad.txt"}
    assert tree_contents(out) == {"good.txt": b"good"}


def test_move_upload_respects_filters(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"a.txt": 1, "b.bin": 2})
    run_azxfer(
        "copy", src, container_url(), "-r", "--move", "--include-pattern", "*.txt"
    ).assert_ok()
    assert blob_names(container_client) == {"src/a.txt"}
    assert tree_files(src) == {"b.bin"}


# =========================================================================== output


def test_json_output_event_stream(tmp_path, make_tree, run_azxfer, container_url, container_client):
    files = {"a.txt": 100, "b/c.bin": 2000, "b/d.bin": 0}
    src = make_tree(tmp_path / "src", files)
    result = run_azxfer("copy", src, container_url(), "-r", "--output-type", "json")
    result.assert_ok()
    events = result.events()  # every non-empty stdout line is a JSON object
    assert all("event" in e for e in events)
    known = {"job_started", "transfer_queued", "enumeration_done", "progress", "transfer_done",
             "notice", "job_finished"}  # fmt: skip
    assert {e["event"] for e in events} <= known

    first, last = events[0], events[-1]
    assert first["event"] == "job_started"
    assert {"job_id", "command", "source", "destination", "dry_run"} <= first.keys()
    assert first["command"] == "copy" and first["dry_run"] is False
    assert last["event"] == "job_finished"
    assert {"job_id", "status", "files_total", "files_completed", "files_skipped", "files_failed",
            "bytes_transferred", "elapsed_seconds", "failed"} <= last.keys()  # fmt: skip
    assert last["job_id"] == first["job_id"]
    assert last["status"] == "Completed"
    assert (last["files_total"], last["files_completed"]) == (3, 3)
    assert (last["files_skipped"], last["files_failed"]) == (0, 0)
    assert last["bytes_transferred"] == 2100
    assert last["failed"] == []
    assert isinstance(last["elapsed_seconds"], int | float)

    queued = result.events_of("transfer_queued")
    assert len(queued) == 3
    for q in queued:
        assert {"transfer_id", "source", "destination", "size"} <= q.keys()
    assert sorted(q["size"] for q in queued) == [0, 100, 2000]
    enum_done = result.events_of("enumeration_done")
    assert len(enum_done) == 1 and (enum_done[0]["files"], enum_done[0]["bytes"]) == (3, 2100)

    done = result.events_of("transfer_done")
    assert len(done) == 3
    assert {d["transfer_id"] for d in done} == {q["transfer_id"] for q in queued}
    for d in done:
        assert {"transfer_id", "source", "destination", "outcome", "size"} <= d.keys()
        assert d["outcome"] == "completed"
    ids = {q["transfer_id"] for q in queued}
    moved: dict[int, int] = {}
    for p in result.events_of("progress"):
        assert p["transfer_id"] in ids and isinstance(p["bytes"], int)
        moved[p["transfer_id"]] = moved.get(p["transfer_id"], 0) + p["bytes"]
    sizes = {q["transfer_id"]: q["size"] for q in queued}
    for tid, total in moved.items():
        assert total == sizes[tid], f"progress of transfer {tid} sums to {total}"
    assert any(d["destination"].endswith("src/b/c.bin") for d in done)


def test_json_output_reports_failures(tmp_path, run_azxfer, container_url, container_client):
    from azure.storage.blob import ContentSettings
    from helpers import md5

    container_client.upload_blob("bad.txt", b"changed")
    container_client.get_blob_client("bad.txt").set_http_headers(
        ContentSettings(content_md5=bytearray(md5(b"original")))
    )
    result = run_azxfer("copy", container_url("bad.txt"), tmp_path, "--output-type", "json")
    result.assert_exit(1)
    done = result.events_of("transfer_done")
    assert len(done) == 1 and done[0]["outcome"] == "failed" and done[0].get("reason")
    fin = result.finished()
    assert result.events()[-1] is fin
    assert fin["files_failed"] == 1
    assert len(fin["failed"]) == 1
    assert {"name", "reason"} <= fin["failed"][0].keys()


def test_text_output_summary(tmp_path, make_tree, run_azxfer, container_url, container_client):
    _existing_blob(container_client, "dup.txt")
    src = make_tree(tmp_path / "src", {"dup.txt": 1, "a.txt": 2, "b.txt": 3})
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--overwrite", "false"
    )
    result.assert_ok()
    out = result.stdout.lower()
    assert "job" in out
    for word, count in (("transferred", 2), ("skipped", 1), ("failed", 0)):
        pattern = rf"(\b{count}\b[^\n\d]{{0,40}}\b{word})|({word}\b[^\n\d]{{0,40}}\b{count}\b)"
        assert re.search(pattern, out), f"no '{word}' count {count} in:\n{result.stdout}"


def test_text_output_shows_job_id_from_json_format(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    """The text summary names the job; the same job id format appears in JSON output."""
    src = make_tree(tmp_path / "src", {"a.txt": 2})
    result = run_azxfer("copy", src / "a.txt", container_url())
    result.assert_ok()
    js = run_azxfer("copy", src / "a.txt", container_url(), "--output-type", "json")
    job_id = js.finished()["job_id"]
    assert job_id and len(job_id) >= 6
    # text summary contains some id of the same shape
    shape = re.sub(r"[0-9a-fA-F]", "[0-9a-fA-F]", re.escape(job_id))
    assert re.search(shape, result.stdout), result.describe()


def _sas_url(azurite, container: str) -> tuple[str, str]:
    sas = generate_container_sas(
        azurite.account,
        container,
        account_key=azurite.key,
        permission=ContainerSasPermissions(
            read=True, write=True, create=True, list=True, delete=True
        ),
        expiry=dt.datetime.now(UTC) + dt.timedelta(hours=1),
    )
    sig = parse_qs(sas)["sig"][0]
    return f"{azurite.blob_endpoint}/{container}?{sas}", sig


def test_sas_upload_and_download_never_print_signature(
    tmp_path, make_tree, azurite, container, run_azxfer, container_client
):
    url, sig = _sas_url(azurite, container)
    no_keys = {"AZXFER_SOURCE_KEY": None, "AZXFER_DEST_KEY": None}
    src = make_tree(tmp_path / "src", {"a.txt": 5})
    log = tmp_path / "up.log"
    up = run_azxfer(
        "copy", src, url, "-r", "--output-type", "json", "--log-file", log, "--log-level", "debug",
        env=no_keys,
    )  # fmt: skip
    up.assert_ok()
    assert blob_names(container_client) == {"src/a.txt"}
    assert "sig=REDACTED" in up.events()[0]["destination"]
    out = tmp_path / "out"
    out.mkdir()
    down = run_azxfer("copy", url, out, "-r", env=no_keys)
    down.assert_ok()
    assert tree_files(out) == {f"{container}/src/a.txt"}
    bad = run_azxfer("copy", url.replace("sig=", "sig=AAAA"), out, "-r", "--overwrite", "true",
                     env=no_keys)  # fmt: skip
    assert bad.returncode == 1
    for r in (up, down, bad):
        assert sig not in r.stdout and sig not in r.stderr
        assert "Traceback" not in r.stderr
    if log.exists():
        assert sig not in log.read_text(errors="replace")


def test_log_file_is_written(tmp_path, make_tree, run_azxfer, container_url):
    src = make_tree(tmp_path / "src", {"a.txt": 5})
    log = tmp_path / "logs" / "job.log"
    log.parent.mkdir()
    run_azxfer(
        "copy", src, container_url(), "-r", "--log-file", log, "--log-level", "info"
    ).assert_ok()
    assert log.exists() and log.stat().st_size > 0


def test_concurrency_and_max_memory_options(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    files = {f"f{i}.bin": 300_000 + i for i in range(8)}
    src = make_tree(tmp_path / "src", files)
    run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--concurrency", "1",
        "--max-memory", "256M", "--block-size-mb", "0.25",
    ).assert_ok()  # fmt: skip
    assert blob_contents(container_client) == tree_contents(src)


# =========================================================================== symlinks


def _symlink_tree(tmp_path, make_tree):
    outside = make_tree(tmp_path / "outside", {"x.txt": b"outside x"})
    src = make_tree(tmp_path / "src", {"real.txt": b"real"})
    os.symlink(src / "real.txt", src / "link.txt")
    os.symlink(outside, src / "linkdir", target_is_directory=True)
    return src


def test_symlinks_skipped_by_default(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = _symlink_tree(tmp_path, make_tree)
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--output-type", "json"
    )
    result.assert_ok()
    assert blob_contents(container_client) == {"real.txt": b"real"}
    done = result.finished()
    assert done["files_completed"] == 1
    assert done["files_skipped"] == 2
    assert done["status"] == "CompletedWithSkipped"


def test_symlinks_followed(tmp_path, make_tree, run_azxfer, container_url, container_client):
    src = _symlink_tree(tmp_path, make_tree)
    run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--follow-symlinks"
    ).assert_ok()
    assert blob_contents(container_client) == {
        "real.txt": b"real",
        "link.txt": b"real",
        "linkdir/x.txt": b"outside x",
    }


def test_follow_symlinks_survives_a_loop(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"real.txt": b"real"})
    os.symlink(src, src / "loop", target_is_directory=True)
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--follow-symlinks", timeout=60
    )
    assert result.returncode in (0, 1), result.describe()
    assert "Traceback" not in result.stderr
    assert "real.txt" in blob_names(container_client)


# =========================================================================== credentials


def test_dest_key_file(tmp_path, make_tree, azurite, run_azxfer, container_url, container_client):
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(azurite.key + "\n")
    src = make_tree(tmp_path / "src", {"a.txt": 5})
    run_azxfer(
        "copy", src / "a.txt", container_url(), "--dest-key-file", keyfile,
        env={"AZXFER_DEST_KEY": None, "AZXFER_SOURCE_KEY": None},
    ).assert_ok()  # fmt: skip
    assert blob_names(container_client) == {"a.txt"}


def test_source_key_file(tmp_path, azurite, run_azxfer, container_url, container_client):
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(azurite.key)
    seed_blobs(container_client, {"a.txt": b"a"})
    run_azxfer(
        "copy", container_url("a.txt"), tmp_path / "a.txt", "--source-key-file", keyfile,
        env={"AZXFER_DEST_KEY": None, "AZXFER_SOURCE_KEY": None},
    ).assert_ok()  # fmt: skip
    assert (tmp_path / "a.txt").read_bytes() == b"a"


def test_connection_string_credentials(
    tmp_path, make_tree, azurite, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"a.txt": 5})
    env = {
        "AZXFER_DEST_KEY": None,
        "AZXFER_SOURCE_KEY": None,
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
    }
    run_azxfer("copy", src / "a.txt", container_url(), env=env).assert_ok()
    assert blob_names(container_client) == {"a.txt"}
    run_azxfer("copy", container_url("a.txt"), tmp_path / "back.txt", env=env).assert_ok()
    assert (tmp_path / "back.txt").read_bytes() == data_for("a.txt", 5)


def test_second_account(tmp_path, make_tree, azurite, run_azxfer):
    svc = BlobServiceClient.from_connection_string(azurite.acct2_connection_string)
    name = "c2" + os.urandom(6).hex()
    svc.create_container(name)
    try:
        src = make_tree(tmp_path / "src", {"a.txt": 5})
        url = f"{azurite.acct2_endpoint}/{name}"
        run_azxfer(
            "copy", src / "a.txt", url, env={"AZXFER_DEST_KEY": azurite.acct2_key}
        ).assert_ok()
        assert blob_names(svc.get_container_client(name)) == {"a.txt"}
    finally:
        svc.delete_container(name)
        svc.close()


def test_anonymous_read_of_public_container(tmp_path, blob_service, azurite, run_azxfer):
    name = "pub" + os.urandom(6).hex()
    cc = blob_service.create_container(name, public_access="container")
    try:
        cc.upload_blob("p.txt", b"public")
        run_azxfer(
            "copy", f"{azurite.blob_endpoint}/{name}/p.txt", tmp_path,
            env={"AZXFER_DEST_KEY": None, "AZXFER_SOURCE_KEY": None},
        ).assert_ok()  # fmt: skip
        assert (tmp_path / "p.txt").read_bytes() == b"public"
    finally:
        blob_service.delete_container(name)


WRONG_KEY = "d3Jvbmcga2V5IGZvciB0aGUgcHJlY2VkZW5jZSB0ZXN0cyBvbmx5IQ=="


def test_sas_on_url_beats_env_key(
    tmp_path, make_tree, azurite, container, run_azxfer, container_client
):
    url, _ = _sas_url(azurite, container)
    src = make_tree(tmp_path / "src", {"a.txt": 5})
    run_azxfer("copy", src / "a.txt", url, env={"AZXFER_DEST_KEY": WRONG_KEY}).assert_ok()
    assert blob_names(container_client) == {"a.txt"}


def test_env_key_beats_connection_string(
    tmp_path, make_tree, azurite, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"a.txt": 5})
    result = run_azxfer(
        "copy", src / "a.txt", container_url(),
        env={
            "AZXFER_DEST_KEY": WRONG_KEY,
            "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        },
    )  # fmt: skip
    result.assert_exit(1)
    assert blob_names(container_client) == set()
