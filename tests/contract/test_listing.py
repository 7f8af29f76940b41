"""select(): recursive and one-level listings, filters, awkward names, order, missing roots."""

from __future__ import annotations

import pytest
from helpers import data_for

from azxfer.endpoints.base import OrderedListing, SelectionKind, SortedListing
from azxfer.models import Entry
from azxfer.plan.filters import EntryFilter, FilterSpec
from azxfer.plan.sync import sync_key

from .harness import (
    CHUNK,
    NO_FILTER,
    Can,
    DriverHarness,
    drive,
    listed,
    md5,
    offers,
    read_all,
    requires,
)

# Names that need quoting somewhere (URLs, shells, option parsers), 0-byte and multi-chunk.
TREE: dict[str, int] = {
    "plain.txt": 5,
    "empty.bin": 0,
    "big.bin": 3 * CHUNK + 123,
    "sp ace.txt": 7,
    "per%25cent.txt": 3,
    "hash#tag.txt": 4,
    "ques?tion.txt": 6,
    "plus+sign.txt": 8,
    "-leading-dash.txt": 9,
    "ünïcødé-名前.txt": 10,
    "dir/a.txt": 11,
    "dir/b.bin": 12,
    "dir/sub/c.txt": 13,
    "dir/sub/ünï #?%.txt": 14,
    "dir2/d.txt": 15,
}
TOP_LEVEL = {name for name in TREE if "/" not in name}


def seed(harness: DriverHarness, tree: dict[str, int]) -> dict[str, bytes]:
    data = {name: data_for(name, size) for name, size in tree.items()}
    for name, content in data.items():
        harness.put(name, content)
    return data


def sizes(items: list) -> dict[str, int]:
    assert all(isinstance(item, Entry) for item in items), items
    return {item.rel_path: item.size for item in items}


@requires(Can.LIST)
def test_recursive_listing_finds_every_object_once_with_its_size(driver):
    seed(driver, TREE)

    async def body(h: DriverHarness) -> tuple[SelectionKind, list]:
        selection = await (await h.root()).select(True, NO_FILTER, False)
        return selection.kind, [item async for item in selection.items]

    kind, items = drive(driver, body)
    assert kind is SelectionKind.DIRECTORY
    assert len(items) == len(TREE)
    assert sizes(items) == TREE


@requires(Can.LIST)
def test_one_level_listing_stays_at_the_top(driver):
    seed(driver, TREE)

    async def body(h: DriverHarness) -> list:
        return await listed(await h.root(), recursive=False)

    assert sizes(drive(driver, body)) == {name: TREE[name] for name in TOP_LEVEL}


@requires(Can.LIST)
def test_an_empty_root_lists_nothing(driver):
    async def body(h: DriverHarness) -> list:
        return await listed(await h.root())

    assert drive(driver, body) == []


FILTERS = {
    "include-pattern": (FilterSpec(include_patterns=("*.txt",)), {n for n in TREE if ".txt" in n}),
    "exclude-pattern": (
        FilterSpec(exclude_patterns=("*.txt",)),
        {n for n in TREE if ".txt" not in n},
    ),
    "pattern-with-specials": (
        FilterSpec(include_patterns=("*%*", "*#*", "*[?]*", "-*", "*+*")),
        {
            "per%25cent.txt",
            "hash#tag.txt",
            "ques?tion.txt",
            "-leading-dash.txt",
            "plus+sign.txt",
            "dir/sub/ünï #?%.txt",
        },
    ),
    "whole-path-pattern": (
        FilterSpec(include_patterns=("dir/*.txt",)),
        {"dir/a.txt", "dir/sub/c.txt", "dir/sub/ünï #?%.txt"},
    ),
    "include-path": (
        FilterSpec(include_paths=("dir",)),
        {"dir/a.txt", "dir/b.bin", "dir/sub/c.txt", "dir/sub/ünï #?%.txt"},
    ),
    "include-path-file": (
        FilterSpec(include_paths=("dir/b.bin", "big.bin")),
        {"dir/b.bin", "big.bin"},
    ),
    "exclude-path": (
        FilterSpec(exclude_paths=("dir/sub", "plain.txt")),
        set(TREE) - {"dir/sub/c.txt", "dir/sub/ünï #?%.txt", "plain.txt"},
    ),
    "unicode-pattern": (
        FilterSpec(include_patterns=("ünï*",)),
        {"ünïcødé-名前.txt", "dir/sub/ünï #?%.txt"},
    ),
}


@requires(Can.LIST)
@pytest.mark.parametrize("case", FILTERS, ids=list(FILTERS))
def test_filters_select_while_listing(driver, case):
    spec, expected = FILTERS[case]
    seed(driver, TREE)

    async def body(h: DriverHarness) -> list:
        return await listed(await h.root(), filters=EntryFilter(spec))

    assert set(sizes(drive(driver, body))) == expected


@requires(Can.LIST, Can.READ)
def test_every_listed_entry_reads_back_its_bytes(driver):
    data = seed(driver, TREE)

    async def body(h: DriverHarness) -> dict[str, bytes]:
        endpoint = await h.root()
        return {e.rel_path: await read_all(endpoint, e) for e in await listed(endpoint)}

    assert drive(driver, body) == data


@requires(Can.LIST, Can.MD5)
def test_listing_reports_the_stored_md5(driver):
    data = seed(driver, {"a.txt": 100, "dir/b.bin": CHUNK + 1})

    async def body(h: DriverHarness) -> dict[str, bytes | None]:
        return {e.rel_path: e.md5 for e in await listed(await h.root())}

    assert drive(driver, body) == {n: md5(d) for n, d in data.items()}


# Names whose byte order differs from a per-folder name sort: '-' and '.' sort below '/'.
ORDER_TREE = {"a/x": 1, "a-b": 1, "a.txt": 1, "a0": 1, "B": 1, "b": 1, "é": 1, "a/y/z": 1, "ab": 1}


@requires(Can.LIST_SORTED)
def test_recursive_listing_comes_in_sync_key_order(driver):
    """sync's merge-join (plan/sync.py) streams both listings (a source's selection, a
    destination's sorted_entries) and refuses one out of sync_key order; a driver offering
    sorted listings must give exactly that order, both ways."""
    seed(driver, {n: s for n, s in ORDER_TREE.items() if n != "B" or not driver.case_insensitive})

    async def body(h: DriverHarness) -> tuple[list[str], list[str]]:
        root = await h.root()
        assert isinstance(root, SortedListing)
        sorted_listing = [item async for item in root.sorted_entries(NO_FILTER)]
        return [e.rel_path for e in await listed(root)], [e.rel_path for e in sorted_listing]

    tree = {n: s for n, s in ORDER_TREE.items() if n != "B" or not driver.case_insensitive}
    selected, destination = drive(driver, body)
    assert destination == sorted(tree, key=sync_key)
    if not offers(driver.endpoint_type, OrderedListing):
        # A driver ordering each folder itself (OrderedListing) is merged through its
        # ordered listing; its selection comes in the order it lists.
        assert selected == destination
    else:
        assert sorted(selected) == sorted(destination)


# No wildcard characters: Blob takes '?', '*' and '[' in a path as a pattern (its selection
# then is a PATTERN one, which still finds the object).
@requires(Can.READ)
@pytest.mark.parametrize("name", ["plain.txt", "hash #1 +x%25.txt", "-ünï.bin", "d/sub.bin"])
def test_a_single_object_selects_itself_under_its_base_name(driver, name):
    data = data_for(name, 77)
    driver.put(name, data)

    async def body(h: DriverHarness) -> tuple[SelectionKind, str, list]:
        selection = await (await h.single(name)).select(False, NO_FILTER, False)
        return selection.kind, selection.root_name, [item async for item in selection.items]

    kind, root_name, items = drive(driver, body)
    assert kind is SelectionKind.SINGLE
    assert root_name == ""
    assert [(e.rel_path, e.size) for e in items] == [(name.rpartition("/")[2], 77)]


def test_a_missing_root_is_the_drivers_error_class(driver):
    async def body(h: DriverHarness) -> list:
        return await listed(await h.missing_root())

    with pytest.raises(driver.missing_root_error) as caught:
        drive(driver, body)
    message = str(caught.value)
    assert message and "\n" not in message
