"""Pure pieces of sync: comparison strategies, walk ordering, the merge-join, delete limits."""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from azxfer.errors import UsageError
from azxfer.models import Entry
from azxfer.plan.sync import (
    DeleteLimit,
    OutOfOrderError,
    always,
    by_md5,
    by_size_and_time,
    merge_join,
    parse_max_delete,
    strategy_for,
    sync_key,
    walk_sort_key,
)


def entry(rel: str, size: int = 1, mtime: float | None = 1000.0, md5: bytes | None = None):
    return Entry(ref=rel, rel_path=rel, size=size, mtime=mtime, md5=md5)


# ------------------------------------------------------------------------- strategies


def test_size_and_time_missing_destination_copies():
    d = by_size_and_time(entry("a"), None)
    assert d.transfer and "missing" in d.reason


def test_size_and_time_size_differs_copies():
    d = by_size_and_time(entry("a", size=2), entry("a", size=3))
    assert d.transfer and "size" in d.reason


@pytest.mark.parametrize(
    ("src_mtime", "dst_mtime", "copies"),
    [
        (1000.0, 1000.0, False),
        (1001.9, 1000.0, False),  # within the 2 s skew
        (1002.0, 1000.0, False),  # exactly the skew: not newer "by more than"
        (1002.5, 1000.0, True),
        (900.0, 1000.0, False),  # destination newer
        (None, 1000.0, False),
        (1000.0, None, False),
    ],
)
def test_size_and_time_skew(src_mtime, dst_mtime, copies):
    d = by_size_and_time(entry("a", mtime=src_mtime), entry("a", mtime=dst_mtime))
    assert d.transfer is copies
    if not copies:
        assert d.reason == "identical"


def test_size_and_time_custom_skew():
    assert (
        by_size_and_time(entry("a", mtime=1005), entry("a", mtime=1000), skew=10).transfer is False
    )
    assert by_size_and_time(entry("a", mtime=1005), entry("a", mtime=1000), skew=0).transfer


def test_md5_equal_is_identical_whatever_the_times():
    d = by_md5(entry("a", mtime=9999, md5=b"x" * 16), entry("a", mtime=1, md5=b"x" * 16))
    assert not d.transfer and d.reason == "identical"


def test_md5_differs_copies():
    d = by_md5(entry("a", md5=b"x" * 16), entry("a", md5=b"y" * 16))
    assert d.transfer and d.reason == "MD5 differs"


def test_md5_missing_on_a_side_counts_as_different_and_says_so():
    d = by_md5(entry("a", md5=b"x" * 16), entry("a", md5=None))
    assert d.transfer and "destination has no Content-MD5" in d.reason
    d = by_md5(entry("a", md5=None), entry("a", md5=b"x" * 16))
    assert d.transfer and "source has no Content-MD5" in d.reason


def test_md5_size_and_missing_checked_first():
    assert "size" in by_md5(entry("a", size=1), entry("a", size=2)).reason
    assert "missing" in by_md5(entry("a"), None).reason


def test_mirror_always_copies():
    assert always(entry("a"), entry("a")).transfer
    assert always(entry("a"), None).transfer


def test_strategy_for():
    same = (entry("a", md5=b"1" * 16), entry("a", md5=b"1" * 16))
    assert strategy_for(None, True, 2.0)(*same).transfer
    assert not strategy_for("md5", False, 2.0)(*same).transfer
    assert strategy_for("md5", False, 2.0)(entry("a", md5=b"1" * 16), entry("a")).transfer
    newer = (entry("a", mtime=1010), entry("a", mtime=1000))
    assert strategy_for(None, False, 2.0)(*newer).transfer
    assert not strategy_for(None, False, 20.0)(*newer).transfer


# ------------------------------------------------------------------------- ordering


def test_sync_key_is_utf8_binary_order():
    names = ["a/x", "a-b", "a.txt", "a", "é", "z", "Z", "a b", "\u00ff", "\U0001f600", "\uffff"]
    assert sorted(names, key=sync_key) == sorted(names, key=lambda n: n.encode())


def test_sync_key_keeps_undecodable_local_bytes():
    name = os.fsdecode(b"bad\xffname")
    assert sync_key(name) == b"bad\xffname"


def _walk(tree: dict) -> list[str]:
    """Simulate the sorted local walk of a nested dict {name: subtree | None (a file)}."""
    out: list[str] = []

    def visit(node: dict, prefix: str) -> None:
        for name in sorted(node, key=lambda n: walk_sort_key(n, node[n] is not None)):
            rel = f"{prefix}/{name}" if prefix else name
            if node[name] is None:
                out.append(rel)
            else:
                visit(node[name], rel)

    visit(tree, "")
    return out


def test_sorted_walk_matches_blob_order():
    tree = {
        "a": {"x": None, "y": {"z": None}},
        "a-b": None,
        "a.txt": None,
        "a b": {"c": None},
        "ab": None,
        "b": None,
        "é": {"f": None},
        "e": None,
    }
    walked = _walk(tree)
    assert walked == sorted(walked, key=sync_key)
    assert walked.index("a-b") < walked.index("a.txt") < walked.index("a/x")


def test_sorted_walk_matches_blob_order_randomised():
    rng = random.Random(7)
    alphabet = ["a", "b", "-", ".", "_", " ", "0", "é", "~", "Z"]
    for _ in range(200):
        tree: dict = {}
        for _ in range(rng.randint(1, 25)):
            node = tree
            depth = rng.randint(1, 3)
            for level in range(depth):
                name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3)))
                last = level == depth - 1
                if name in node and (node[name] is None) != last:
                    break
                node = node.setdefault(name, None if last else {})
                if node is None:
                    break
        walked = _walk(tree)
        assert walked == sorted(walked, key=sync_key)


# ------------------------------------------------------------------------- merge-join


async def _aiter(items):
    for item in items:
        yield item


def _merge(src, dst):
    async def go():
        return [
            (p.src.rel_path if p.src else None, p.dst.rel_path if p.dst else None)
            async for p in merge_join(_aiter(src), _aiter(dst))
        ]

    return asyncio.run(go())


def test_merge_pairs_equal_keys_and_reports_each_side():
    src = [entry(n) for n in ["a", "b", "d", "f"]]
    dst = [entry(n) for n in ["b", "c", "d", "e", "g"]]
    assert _merge(src, dst) == [
        ("a", None),
        ("b", "b"),
        (None, "c"),
        ("d", "d"),
        (None, "e"),
        ("f", None),
        (None, "g"),
    ]


def test_merge_empty_sides():
    assert _merge([], []) == []
    assert _merge([entry("a")], []) == [("a", None)]
    assert _merge([], [entry("a")]) == [(None, "a")]


def test_merge_uses_byte_order():
    names = sorted(["a/x", "a-b", "a.txt"], key=sync_key)
    assert _merge([entry(n) for n in names], [entry("a.txt")]) == [
        ("a-b", None),
        ("a.txt", "a.txt"),
        ("a/x", None),
    ]


@pytest.mark.parametrize("side", ["src", "dst"])
def test_merge_refuses_unsorted_input(side):
    bad = [entry("b"), entry("a")]
    good = [entry("a"), entry("b")]
    with pytest.raises(OutOfOrderError, match="not in name order"):
        _merge(bad, good) if side == "src" else _merge(good, bad)


def test_merge_refuses_duplicates():
    with pytest.raises(OutOfOrderError):
        _merge([entry("a"), entry("a")], [])


def test_merge_is_streaming():
    """The merge pulls one entry per side at a time: a huge lazy listing is never loaded."""
    pulled = 0

    async def endless():
        nonlocal pulled
        i = 0
        while True:
            pulled += 1
            yield entry(f"{i:012d}")
            i += 1

    async def go():
        got = []
        async for pair in merge_join(endless(), _aiter([])):
            got.append(pair)
            if len(got) == 10:
                break
        return got

    assert len(asyncio.run(go())) == 10
    assert pulled <= 11


# ------------------------------------------------------------------------- delete limits


@pytest.mark.parametrize(
    ("text", "limit"),
    [("10", DeleteLimit(count=10)), ("0", DeleteLimit(count=0)), ("50%", DeleteLimit(percent=50)),
     (" 12.5% ", DeleteLimit(percent=12.5)), ("100%", DeleteLimit(percent=100))],
)  # fmt: skip
def test_parse_max_delete(text, limit):
    assert parse_max_delete(text) == limit


@pytest.mark.parametrize("text", ["", "ten", "-1", "1.5", "101%", "5%%"])
def test_parse_max_delete_rejects(text):
    with pytest.raises(UsageError, match="--max-delete"):
        parse_max_delete(text)


def test_delete_limit_exceeded():
    assert not DeleteLimit(count=2).exceeded(2, 10)
    assert DeleteLimit(count=2).exceeded(3, 10)
    assert not DeleteLimit(percent=50).exceeded(5, 10)
    assert DeleteLimit(percent=50).exceeded(6, 10)
    assert DeleteLimit(percent=0).exceeded(1, 10)
    assert not DeleteLimit(percent=100).exceeded(10, 10)
    assert DeleteLimit(percent=50).describe() == "50%"
    assert DeleteLimit(count=3).describe() == "3"
