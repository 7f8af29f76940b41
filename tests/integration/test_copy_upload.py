"""`azxfer copy LOCAL URL`: naming, round trips, blob types and integrity."""

from __future__ import annotations

import contextlib
import hashlib
import math
import os

import pytest
from helpers import blob_contents, blob_names, data_for, md5, tree_contents

MiB = 1024 * 1024


# --------------------------------------------------------------------------- naming


def test_file_to_container_root_keeps_file_name(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"report.txt": b"hello world\n"})
    run_azxfer("copy", src / "report.txt", container_url()).assert_ok()
    assert blob_contents(container_client) == {"report.txt": b"hello world\n"}


def test_file_to_explicit_blob_name(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"report.txt": 100})
    run_azxfer("copy", src / "report.txt", container_url("name.bin")).assert_ok()
    assert blob_contents(container_client) == {"name.bin": data_for("report.txt", 100)}


def test_file_to_virtual_dir_with_trailing_slash(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"report.txt": 100})
    run_azxfer("copy", src / "report.txt", container_url("dir/")).assert_ok()
    assert blob_contents(container_client) == {"dir/report.txt": data_for("report.txt", 100)}


TREE = {"top.txt": 10, "a/one.txt": 20, "a/b/two.bin": 30, "c/three.csv": 40}


def test_folder_recursive_goes_under_its_own_name(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "data", TREE)
    run_azxfer("copy", src, container_url(), "--recursive").assert_ok()
    assert blob_contents(container_client) == {
        f"data/{k}": v for k, v in tree_contents(src).items()
    }


def test_folder_as_subdir_true_explicit(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "data", TREE)
    run_azxfer("copy", src, container_url(), "-r", "--as-subdir=true").assert_ok()
    assert blob_names(container_client) == {f"data/{k}" for k in TREE}


def test_folder_as_subdir_false_goes_to_container_root(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "data", TREE)
    run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false").assert_ok()
    assert blob_contents(container_client) == tree_contents(src)


def test_folder_under_url_prefix(tmp_path, make_tree, run_azxfer, container_url, container_client):
    src = make_tree(tmp_path / "data", TREE)
    run_azxfer("copy", src, container_url("pre"), "-r").assert_ok()
    assert blob_names(container_client) == {f"pre/data/{k}" for k in TREE}


def test_folder_under_url_prefix_as_subdir_false(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "data", TREE)
    run_azxfer("copy", src, container_url("pre"), "-r", "--as-subdir=false").assert_ok()
    assert blob_names(container_client) == {f"pre/{k}" for k in TREE}


def test_folder_without_recursive_takes_top_level_files_only(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "data", {"x.txt": 1, "y.txt": 2, "sub/z.txt": 3})
    run_azxfer("copy", src, container_url()).assert_ok()
    assert blob_names(container_client) == {"data/x.txt", "data/y.txt"}


def test_wildcard_selects_top_level_matches_without_folder_name(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(
        tmp_path / "data", {"a.csv": 1, "b.csv": 2, "c.txt": 3, "sub/d.csv": 4, "sub/e.txt": 5}
    )
    run_azxfer("copy", f"{src}/*.csv", container_url()).assert_ok()
    assert blob_contents(container_client) == {
        "a.csv": data_for("a.csv", 1),
        "b.csv": data_for("b.csv", 2),
    }


def test_wildcard_star_recursive_takes_everything_without_folder_name(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "data", TREE)
    run_azxfer("copy", f"{src}/*", container_url(), "--recursive").assert_ok()
    assert blob_contents(container_client) == tree_contents(src)


def test_missing_destination_container_is_created(
    tmp_path, make_tree, run_azxfer, azurite, blob_service
):
    import uuid

    name = "new" + uuid.uuid4().hex[:16]
    src = make_tree(tmp_path / "src", {"f.txt": b"abc"})
    try:
        run_azxfer("copy", src / "f.txt", f"{azurite.blob_endpoint}/{name}").assert_ok()
        cc = blob_service.get_container_client(name)
        assert blob_contents(cc) == {"f.txt": b"abc"}
    finally:
        with contextlib.suppress(Exception):
            blob_service.delete_container(name)


# --------------------------------------------------------------------------- round trips


def _round_trip(tmp_path, run_azxfer, container_url, container_client, name, data, *extra):
    src = tmp_path / "up"
    src.mkdir()
    (src / name).write_bytes(data)
    run_azxfer("copy", src / name, container_url(), *extra).assert_ok()
    props = container_client.get_blob_client(name).get_blob_properties()
    assert props.size == len(data)
    assert bytes(props.content_settings.content_md5 or b"") == md5(data), "Content-MD5 not set"
    dst = tmp_path / "down"
    dst.mkdir()
    run_azxfer("copy", container_url(name), dst).assert_ok()
    assert (dst / name).read_bytes() == data
    return container_client.get_blob_client(name)


def test_round_trip_empty_file(tmp_path, run_azxfer, container_url, container_client):
    _round_trip(tmp_path, run_azxfer, container_url, container_client, "empty.dat", b"")


def test_round_trip_tiny_file(tmp_path, run_azxfer, container_url, container_client):
    _round_trip(tmp_path, run_azxfer, container_url, container_client, "tiny.dat", b"x" * 7)


def test_round_trip_exactly_one_block_is_a_single_put_blob(
    tmp_path, run_azxfer, container_url, container_client
):
    data = data_for("one-block", MiB)
    blob = _round_trip(
        tmp_path, run_azxfer, container_url, container_client, "one.bin", data,
        "--block-size-mb", "1",
    )  # fmt: skip
    # A file no larger than the block size is one Put Blob: no committed block list.
    committed, _ = blob.get_block_list("committed")
    assert len(committed) == 0


def test_round_trip_multi_block(tmp_path, run_azxfer, container_url, container_client):
    size = int(5.5 * MiB)
    data = data_for("multi-block", size)
    blob = _round_trip(
        tmp_path, run_azxfer, container_url, container_client, "multi.bin", data,
        "--block-size-mb", "1",
    )  # fmt: skip
    committed, uncommitted = blob.get_block_list("all")
    assert len(committed) == math.ceil(size / MiB) == 6
    assert not uncommitted
    assert sum(b.size for b in committed) == size


@pytest.mark.slow
def test_round_trip_large_file_101_mib(tmp_path, run_azxfer, container_url, container_client):
    size = 101 * MiB
    src = tmp_path / "up"
    src.mkdir()
    data = os.urandom(size)
    digest = hashlib.md5(data).digest()
    (src / "big.bin").write_bytes(data)
    del data
    run_azxfer("copy", src / "big.bin", container_url(), timeout=280).assert_ok()
    props = container_client.get_blob_client("big.bin").get_blob_properties()
    assert props.size == size
    assert bytes(props.content_settings.content_md5) == digest
    dst = tmp_path / "down"
    dst.mkdir()
    run_azxfer("copy", container_url("big.bin"), dst / "big.copy", timeout=280).assert_ok()
    h = hashlib.md5()
    with open(dst / "big.copy", "rb") as f:
        while chunk := f.read(8 * MiB):
            h.update(chunk)
    assert (dst / "big.copy").stat().st_size == size
    assert h.digest() == digest


def _nested_tree() -> dict[str, int]:
    files: dict[str, int] = {}
    for i in range(3):
        files[f"root{i}.txt"] = 100 + i
        for j in range(3):
            files[f"l1_{i}/f{j}.bin"] = 1000 * j + i
            for k in range(2):
                files[f"l1_{i}/l2_{j}/l3_{k}/leaf{k}.dat"] = 37 * (i + j + k)
    return files  # 3 + 9 + 18 = 30 files, 3 levels of folders


def test_round_trip_nested_tree(tmp_path, make_tree, run_azxfer, container_url, container_client):
    src = make_tree(tmp_path / "tree", _nested_tree())
    assert len(tree_contents(src)) == 30
    run_azxfer("copy", src, container_url(), "-r").assert_ok()
    uploaded = blob_contents(container_client)
    assert uploaded == {f"tree/{k}": v for k, v in tree_contents(src).items()}
    for name, data in uploaded.items():
        props = container_client.get_blob_client(name).get_blob_properties()
        assert bytes(props.content_settings.content_md5 or b"") == md5(data), name
    dst = tmp_path / "down"
    dst.mkdir()
    run_azxfer("copy", container_url("tree"), dst, "-r").assert_ok()
    assert tree_contents(dst / "tree") == tree_contents(src)


# --------------------------------------------------------------------------- blob types


def _blob_type(container_client, name: str) -> str:
    bt = container_client.get_blob_client(name).get_blob_properties().blob_type
    return str(getattr(bt, "value", bt))


def test_default_blob_type_is_block(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"f.bin": 1000})
    run_azxfer("copy", src / "f.bin", container_url()).assert_ok()
    assert _blob_type(container_client, "f.bin") == "BlockBlob"


def test_page_blob_is_zero_padded_to_512(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"disk.img": 1000})
    run_azxfer("copy", src / "disk.img", container_url(), "--blob-type", "page").assert_ok()
    assert _blob_type(container_client, "disk.img") == "PageBlob"
    padded = data_for("disk.img", 1000) + b"\0" * 24
    assert container_client.download_blob("disk.img").readall() == padded
    props = container_client.get_blob_client("disk.img").get_blob_properties()
    assert props.size == 1024
    assert bytes(props.content_settings.content_md5 or b"") == md5(padded)
    dst = tmp_path / "down"
    dst.mkdir()
    run_azxfer("copy", container_url("disk.img"), dst).assert_ok()
    assert (dst / "disk.img").read_bytes() == padded


def test_page_blob_of_exact_multiple_is_not_padded(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"disk.img": 3 * 512})
    run_azxfer("copy", src / "disk.img", container_url(), "--blob-type", "page").assert_ok()
    assert _blob_type(container_client, "disk.img") == "PageBlob"
    assert container_client.download_blob("disk.img").readall() == data_for("disk.img", 1536)


@pytest.mark.parametrize("ext", [".vhd", ".vhdx"])
def test_vhd_files_become_page_blobs(
    ext, tmp_path, make_tree, run_azxfer, container_url, container_client
):
    name = "machine" + ext
    src = make_tree(tmp_path / "src", {name: 4096, "notes.txt": 10})
    run_azxfer("copy", src, container_url(), "-r", "--as-subdir=false").assert_ok()
    assert _blob_type(container_client, name) == "PageBlob"
    assert _blob_type(container_client, "notes.txt") == "BlockBlob"
    assert container_client.download_blob(name).readall() == data_for(name, 4096)


def test_append_blob_round_trip(tmp_path, make_tree, run_azxfer, container_url, container_client):
    src = make_tree(tmp_path / "src", {"log.txt": 5000})
    run_azxfer("copy", src / "log.txt", container_url(), "--blob-type", "append").assert_ok()
    assert _blob_type(container_client, "log.txt") == "AppendBlob"
    data = data_for("log.txt", 5000)
    assert container_client.download_blob("log.txt").readall() == data
    props = container_client.get_blob_client("log.txt").get_blob_properties()
    assert bytes(props.content_settings.content_md5 or b"") == md5(data)
    dst = tmp_path / "down"
    dst.mkdir()
    run_azxfer("copy", container_url("log.txt"), dst).assert_ok()
    assert (dst / "log.txt").read_bytes() == data


def test_append_blob_larger_than_block_size(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    size = int(2.5 * MiB)
    src = make_tree(tmp_path / "src", {"big.log": size})
    run_azxfer(
        "copy", src / "big.log", container_url(), "--blob-type", "append", "--block-size-mb", "1"
    ).assert_ok()
    assert _blob_type(container_client, "big.log") == "AppendBlob"
    assert container_client.download_blob("big.log").readall() == data_for("big.log", size)


def test_uploaded_blobs_carry_content_md5(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"a.txt": 10, "b/c.bin": 3 * MiB, "d.vhd": 1024})
    run_azxfer("copy", src, container_url(), "-r", "--block-size-mb", "1").assert_ok()
    for rel, data in tree_contents(src).items():
        props = container_client.get_blob_client(f"src/{rel}").get_blob_properties()
        assert bytes(props.content_settings.content_md5 or b"") == md5(data), rel
