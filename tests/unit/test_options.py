"""Unit tests for azxfer.options: sizes, metadata, tags, block sizes and concurrency."""

from __future__ import annotations

import os

import pytest

from azxfer.errors import TransferError, UsageError
from azxfer.models import BlobType
from azxfer.options import (
    DEFAULT_BLOCK_SIZE,
    MAX_BLOCK_SIZE,
    MAX_BLOCKS,
    MiB,
    block_size_for,
    check_block_count,
    check_header_value,
    default_concurrency,
    min_block_size_mb,
    parse_block_size_mb,
    parse_max_memory,
    parse_metadata,
    parse_positive_int,
    parse_size,
    parse_tags,
    too_many_blocks,
)

GiB = 1024 * MiB

# --- parse_size -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4096", 4096),
        ("0", 0),
        ("1k", 1024),
        ("1K", 1024),
        ("1KB", 1024),
        ("1KiB", 1024),
        ("512M", 512 * MiB),
        ("512m", 512 * MiB),
        ("512MiB", 512 * MiB),
        ("2G", 2 * GiB),
        ("1.5GiB", 1536 * MiB),
        ("1T", 1024 * GiB),
        (" 8 M ", 8 * MiB),
        ("100b", 100),
        ("0.5k", 512),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text, "--max-memory") == expected


@pytest.mark.parametrize("text", ["", "M", "abc", "-1", "1P", "1 2", "1.2.3G", "1e3"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_size(text, "--block-size")
    assert str(info.value) == f"--block-size: '{text}' is not a size such as 512M or 2G"


# --- parse_positive_int ---------------------------------------------------------------------


def test_parse_positive_int() -> None:
    assert parse_positive_int("12", "--x") == 12
    with pytest.raises(UsageError, match="--x must be at least 1"):
        parse_positive_int("0", "--x")
    with pytest.raises(UsageError, match=r"'1\.5' is not a whole number"):
        parse_positive_int("1.5", "--x")


# --- parse_metadata -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, {}),
        ("", {}),
        (";;", {}),
        ("a=1", {"a": "1"}),
        ("a=1;b=two words", {"a": "1", "b": "two words"}),
        ("_x9=", {"_x9": ""}),
        ("k=a=b", {"k": "a=b"}),
        (" Author = me ; ", {"Author": " me"}),
        ("a=1;a=2", {"a": "2"}),
    ],
)
def test_parse_metadata(text: str | None, expected: dict[str, str]) -> None:
    assert parse_metadata(text) == expected


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("novalue", "novalue"),
        ("1abc=x", "1abc=x"),
        ("a-b=x", "a-b=x"),
        ("=x", "=x"),
        ("ok=1;bad name=2", "bad name=2"),
        ("é=1", "é=1"),
    ],
)
def test_parse_metadata_rejects(text: str, item: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_metadata(text)
    assert str(info.value) == f"--metadata: '{item}' is not name=value with a valid name"


# --- parse_tags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, {}),
        ("", {}),
        ("a=1", {"a": "1"}),
        ("a=1&b=2", {"a": "1", "b": "2"}),
        ("project=x y+z-1./:_", {"project": "x y+z-1./:_"}),
        ("k=v=w", {"k": "v=w"}),
        ("empty=", {"empty": ""}),
    ],
)
def test_parse_tags(text: str | None, expected: dict[str, str]) -> None:
    assert parse_tags(text) == expected


def test_parse_tags_key_and_value_length_limits() -> None:
    assert parse_tags("k" * 128 + "=" + "v" * 256) == {"k" * 128: "v" * 256}
    with pytest.raises(UsageError, match="is not key=value with a valid key"):
        parse_tags("k" * 129 + "=v")
    with pytest.raises(UsageError) as info:
        parse_tags("k=" + "v" * 257)
    assert str(info.value) == "--blob-tags: the value of 'k' has characters tags may not hold"


def test_parse_tags_count_limit() -> None:
    ten = "&".join(f"k{i}=v" for i in range(10))
    assert len(parse_tags(ten)) == 10
    with pytest.raises(UsageError) as info:
        parse_tags(ten + "&k10=v")
    assert str(info.value) == "--blob-tags: a blob may have at most 10 tags"


@pytest.mark.parametrize("text", ["novalue", "=v", "bad!key=v", "ké=v"])
def test_parse_tags_rejects_keys(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_tags(text)
    assert str(info.value) == f"--blob-tags: '{text}' is not key=value with a valid key"


@pytest.mark.parametrize("value", ["a!", "q?", "a,b", "é", "x;y"])
def test_parse_tags_rejects_values(value: str) -> None:
    with pytest.raises(UsageError, match="the value of 'k' has characters"):
        parse_tags(f"k={value}")


# --- block_size_for -------------------------------------------------------------------------


def test_block_size_constants() -> None:
    assert (8 * MiB, 4000 * MiB, 50_000) == (DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE, MAX_BLOCKS)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, 8 * MiB),
        (1, 8 * MiB),
        (8 * MiB * 50_000, 8 * MiB),
        (8 * MiB * 50_000 + 1, 16 * MiB),
        (16 * MiB * 50_000, 16 * MiB),
        (16 * MiB * 50_000 + 1, 32 * MiB),
        (24 * MiB * 50_000, 32 * MiB),
        (2048 * MiB * 50_000, 2048 * MiB),
        (2048 * MiB * 50_000 + 1, 4000 * MiB),
        (4000 * MiB * 50_000, 4000 * MiB),
        (10**18, 4000 * MiB),
    ],
)
def test_block_size_grows_so_blocks_fit(size: int, expected: int) -> None:
    block = block_size_for(size, None)
    assert block == expected
    if size <= MAX_BLOCK_SIZE * MAX_BLOCKS:
        assert block * MAX_BLOCKS >= size


@pytest.mark.parametrize("requested", [1, 4 * MiB, 100 * MiB, 4000 * MiB])
def test_block_size_explicit_value_wins(requested: int) -> None:
    assert block_size_for(10**15, requested) == requested
    assert block_size_for(0, requested) == requested


def test_block_size_zero_request_means_default() -> None:
    assert block_size_for(1000, 0) == 8 * MiB


# --- default_concurrency --------------------------------------------------------------------


def test_default_concurrency_env_override() -> None:
    assert default_concurrency({"AZXFER_CONCURRENCY": "7"}) == 7
    assert default_concurrency({"AZXFER_CONCURRENCY": "1000"}) == 1000


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "AZXFER_CONCURRENCY must be at least 1"),
        ("-3", "AZXFER_CONCURRENCY must be at least 1"),
        ("many", "AZXFER_CONCURRENCY: 'many' is not a whole number"),
        ("2.5", "AZXFER_CONCURRENCY: '2.5' is not a whole number"),
    ],
)
def test_default_concurrency_bad_env(value: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        default_concurrency({"AZXFER_CONCURRENCY": value})
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("cores", "expected"),
    [(None, 32), (1, 32), (4, 32), (5, 80), (8, 128), (18, 288), (19, 300), (128, 300)],
)
def test_default_concurrency_by_cores(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, expected: int
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert default_concurrency({}) == expected
    assert default_concurrency({"AZXFER_CONCURRENCY": ""}) == expected


def test_default_concurrency_reads_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZXFER_CONCURRENCY", "13")
    assert default_concurrency() == 13
    monkeypatch.setenv("AZXFER_CONCURRENCY", "zero")
    with pytest.raises(UsageError):
        default_concurrency()


# --- limits refused up front (issue 21, points 6 and 7) -------------------------------------


@pytest.mark.parametrize("value", [float("nan"), 0.0, -1.0, 1e-9, 4000.01, float("inf")])
def test_parse_block_size_mb_refuses_what_no_block_can_be(value: float) -> None:
    with pytest.raises(UsageError, match="--block-size-mb"):
        parse_block_size_mb(value)


def test_parse_block_size_mb_in_bytes() -> None:
    assert parse_block_size_mb(None) is None
    assert parse_block_size_mb(0.25) == MiB // 4
    assert parse_block_size_mb(4000) == MAX_BLOCK_SIZE


@pytest.mark.parametrize(
    ("text", "block", "minimum"),
    [("0", None, "8 MiB"), ("1K", None, "8 MiB"), ("31M", 32 * MiB, "32 MiB")],
)
def test_parse_max_memory_refuses_less_than_one_block(
    text: str, block: int | None, minimum: str
) -> None:
    with pytest.raises(UsageError, match=f"at least {minimum}"):
        parse_max_memory(text, block)


def test_parse_max_memory_of_one_block() -> None:
    assert parse_max_memory("8M", None) == DEFAULT_BLOCK_SIZE
    assert parse_max_memory("1M", MiB // 2) == MiB


@pytest.mark.parametrize("size", [1, 50_000, 50_001, 80 * MiB, 6 * MiB, 190 * GiB])
def test_min_block_size_mb_is_the_smallest_that_fits(size: int) -> None:
    smallest = min_block_size_mb(size)
    assert too_many_blocks(size, parse_block_size_mb(float(smallest))) is None
    smaller = float(smallest) - 0.0001
    if smaller > 0 and int(smaller * MiB) >= 1:
        assert too_many_blocks(size, int(smaller * MiB)) is not None


def test_check_block_count_only_for_block_and_append_blobs() -> None:
    with pytest.raises(TransferError, match="80,044 blocks"):
        check_block_count(80 * MiB, 1048, BlobType.BLOCK)
    with pytest.raises(TransferError, match=r"--block-size-mb 0\.0017 or more"):
        check_block_count(80 * MiB, 1048, BlobType.APPEND)
    check_block_count(80 * MiB, 1048, BlobType.PAGE)
    check_block_count(80 * MiB, 1048, None)  # a download: no block list
    check_block_count(50_000, 1, BlobType.BLOCK)


@pytest.mark.parametrize("value", ["a\r\nb", "a\n", "\x1b[31m", "x\x7f"])
def test_check_header_value_refuses_control_characters(value: str) -> None:
    with pytest.raises(UsageError, match="control characters"):
        check_header_value("--content-type", value)


def test_check_header_value_ascii_only() -> None:
    assert check_header_value("--metadata a", "tab\tand: (ok)", ascii_only=True) == "tab\tand: (ok)"
    assert check_header_value("--x", "ü") == "ü"
    with pytest.raises(UsageError, match="only ASCII"):
        check_header_value("--metadata a", "ü", ascii_only=True)


@pytest.mark.parametrize("text", ["a=x\r\nX: 1", "a=ü", "a=\x00"])
def test_parse_metadata_refuses_values_a_header_cannot_carry(text: str) -> None:
    with pytest.raises(UsageError, match="--metadata a"):
        parse_metadata(text)
