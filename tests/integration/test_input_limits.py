"""Option values that cannot work are refused up front (issue 21, points 6 and 7).

Memory and block sizes the engine or the Blob service cannot honour, and header values (metadata,
content properties, tags) that an HTTP header cannot carry unchanged: exit 2, one
`azxfer: error:` line, nothing uploaded. Valid values still round-trip exactly.
"""

from __future__ import annotations

import pytest
from helpers import blob_names

MiB = 1024 * 1024
JSON = ("--output-type", "json")


@pytest.fixture
def one_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello")
    return path


# --------------------------------------------------------------------------- point 6: sizes


@pytest.mark.parametrize(
    ("args", "minimum"),
    [
        pytest.param(["--max-memory", "0"], "8 MiB", id="zero"),
        pytest.param(["--max-memory", "1"], "8 MiB", id="one-byte"),
        pytest.param(["--max-memory", "1K"], "8 MiB", id="one-KiB"),
        pytest.param(["--max-memory", "7M"], "8 MiB", id="below-default-block"),
        pytest.param(
            ["--max-memory", "12M", "--block-size-mb", "16"], "16 MiB", id="below-given-block"
        ),
    ],
)
def test_max_memory_below_one_block_is_refused(
    args, minimum, one_file, run_azxfer, container_url, container_client
):
    result = run_azxfer("copy", one_file, container_url(), *args).assert_usage_error()
    assert f"--max-memory must be at least {minimum}" in result.stderr
    assert blob_names(container_client) == set()


def test_max_memory_of_one_block_is_enough(one_file, run_azxfer, container_url, container_client):
    run_azxfer("copy", one_file, container_url(), "--max-memory", "8M").assert_ok()
    assert blob_names(container_client) == {"f.txt"}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("nan", id="nan"),
        pytest.param("1e-9", id="below-one-byte"),
        pytest.param("-0.5", id="negative"),
        pytest.param("4000.5", id="above-4000"),
    ],
)
def test_block_size_that_no_block_can_be_is_refused(
    value, one_file, run_azxfer, container_url, container_client
):
    result = run_azxfer("copy", one_file, container_url(), "--block-size-mb", value)
    result.assert_usage_error()
    assert "--block-size-mb" in result.stderr
    assert blob_names(container_client) == set()


def test_single_file_needing_over_50000_blocks_is_refused_up_front(
    tmp_path, run_azxfer, container_url, container_client
):
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (6 * MiB))  # 0.0001 MiB = 104-byte blocks: 60,494 of them
    result = run_azxfer("copy", big, container_url(), "--block-size-mb", "0.0001")
    result.assert_usage_error()
    assert "50,000" in result.stderr
    # 0.0002 MiB (209 bytes) is the smallest 4-decimal size that holds 6 MiB in 50,000 blocks.
    assert "use --block-size-mb 0.0002 or more" in result.stderr
    assert int(0.0002 * MiB) * 50_000 >= 6 * MiB > int(0.0001 * MiB) * 50_000
    assert blob_names(container_client) == set()


def test_folder_file_needing_over_50000_blocks_fails_alone(
    tmp_path, make_tree, run_azxfer, container_url, container_client
):
    src = make_tree(tmp_path / "src", {"small.txt": b"small", "big.bin": 6 * MiB})
    result = run_azxfer(
        "copy", src, container_url(), "-r", "--as-subdir=false", "--block-size-mb", "0.0001", *JSON
    )
    result.assert_exit(1)
    failed = {e["source"]: e["reason"] for e in result.events_of("transfer_done")}
    big_reason = next(reason for source, reason in failed.items() if source.endswith("big.bin"))
    assert "use --block-size-mb 0.0002 or more" in big_reason
    assert result.finished()["files_failed"] == 1
    assert blob_names(container_client) == {"small.txt"}
    assert "azxfer: error: 1 of 2 transfers failed" in result.stderr


# --------------------------------------------------------------------------- point 7: headers


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--metadata", "a=x\r\nX: 1"], id="metadata-crlf"),
        pytest.param(["--metadata", "a=x\nb"], id="metadata-lf"),
        pytest.param(["--metadata", "a=ü"], id="metadata-non-ascii"),
        pytest.param(["--metadata", "a=日本"], id="metadata-cjk"),
        pytest.param(["--metadata", "1a=x"], id="metadata-name-starts-with-digit"),
        pytest.param(["--metadata", "a-b=x"], id="metadata-name-with-dash"),
        pytest.param(["--metadata", "ü=x"], id="metadata-name-non-ascii"),
        pytest.param(["--content-type", "text/plain\r\nX-Evil: 1"], id="content-type-crlf"),
        pytest.param(["--content-encoding", "gzip\n"], id="content-encoding-lf"),
        pytest.param(["--content-language", "en\x07"], id="content-language-bell"),
        pytest.param(["--content-disposition", "inline\r\n"], id="content-disposition-crlf"),
        pytest.param(["--content-disposition", "attachment; filename=ü.txt"], id="disp-ü"),
        pytest.param(["--cache-control", "no-cache\r\nX: 1"], id="cache-control-crlf"),
        pytest.param(["--blob-tags", "a=x\r\nb"], id="tags-crlf"),
        pytest.param(["--blob-tags", "a=ü"], id="tags-non-ascii"),
    ],
)
def test_header_values_that_cannot_travel_are_refused(
    args, one_file, run_azxfer, container_url, container_client
):
    result = run_azxfer("copy", one_file, container_url(), *args).assert_usage_error()
    assert args[0] in result.stderr
    assert "\r" not in result.stderr.strip()
    assert blob_names(container_client) == set()


def test_valid_header_values_round_trip_exactly(
    one_file, run_azxfer, container_url, container_client
):
    run_azxfer(
        "copy", one_file, container_url("f.txt"),
        "--metadata", "a=x y;_Name2=v-2: (ok)",
        "--content-type", "text/x-test; charset=utf-8",
        "--content-disposition", "attachment; filename*=UTF-8''%C3%BC.txt",
        "--cache-control", "max-age=60",
        "--blob-tags", "k=v 1",
    ).assert_ok()  # fmt: skip
    blob = container_client.get_blob_client("f.txt")
    props = blob.get_blob_properties()
    assert props.metadata == {"a": "x y", "_Name2": "v-2: (ok)"}
    assert props.content_settings.content_type == "text/x-test; charset=utf-8"
    assert props.content_settings.content_disposition == "attachment; filename*=UTF-8''%C3%BC.txt"
    assert props.content_settings.cache_control == "max-age=60"
    assert blob.get_blob_tags() == {"k": "v 1"}
