"""Folders in the plain data and the listings: the journal's codec, the local walk's folder
entries and their order, Blob markers put in walk order, local folder names."""

from __future__ import annotations

import os

from azxfer.endpoints.blob.listing import FolderOrder
from azxfer.endpoints.local.walker import Walker
from azxfer.journal.codec import entry_from_json, entry_to_json
from azxfer.models import Entry, EntryKind
from azxfer.plan.filters import EntryFilter, FilterSpec
from azxfer.plan.naming import LocalNameMapper
from azxfer.plan.sync import sync_key
from azxfer.sync.walk import SortedWalker


def _tree(root, files, folders=()):
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    for rel in folders:
        (root / rel).mkdir(parents=True, exist_ok=True)


def _walk(walker, root):
    return [
        (item.rel_path, item.kind if isinstance(item, Entry) else "skipped")
        for item in walker.walk_dir(str(root), "")
    ]


def test_codec_keeps_a_folder_kind_and_stores_none_for_files():
    folder = Entry("/x/d", "d", 0, mtime=5.0, kind=EntryKind.EMPTY_FOLDER)
    assert entry_from_json(entry_to_json(folder)) == folder
    file = Entry("/x/f", "f", 3)
    assert "kind" not in entry_to_json(file)
    assert entry_from_json(entry_to_json(file)).kind is EntryKind.FILE


def test_walk_yields_each_folder_before_its_contents_and_says_if_empty(tmp_path):
    _tree(tmp_path, ["a/f.txt", "top.txt"], ["a/empty", "b/c"])
    walker = Walker(EntryFilter(FilterSpec()), True, False, folders=True)
    assert _walk(walker, tmp_path) == [
        ("a", EntryKind.FOLDER),
        ("a/empty", EntryKind.EMPTY_FOLDER),
        ("a/f.txt", EntryKind.FILE),
        ("b", EntryKind.FOLDER),  # holds a folder: not empty
        ("b/c", EntryKind.EMPTY_FOLDER),
        ("top.txt", EntryKind.FILE),
    ]


def test_walk_lists_no_folders_unless_asked_or_not_recursive(tmp_path):
    _tree(tmp_path, ["a/f.txt"], ["e"])
    unasked = Walker(EntryFilter(FilterSpec()), True, False)
    assert _walk(unasked, tmp_path) == [("a/f.txt", EntryKind.FILE)]
    flat = Walker(EntryFilter(FilterSpec()), False, False, folders=True)
    assert _walk(flat, tmp_path) == []


def test_patterns_select_files_and_paths_select_folders(tmp_path):
    _tree(tmp_path, ["keep/a.txt", "drop/b.bin", "skip/c.txt"])
    spec = FilterSpec(include_patterns=("*.txt",), exclude_paths=("skip",))
    walker = Walker(EntryFilter(spec), True, False, folders=True)
    assert _walk(walker, tmp_path) == [
        ("drop", EntryKind.EMPTY_FOLDER),  # its one file is not selected
        ("keep", EntryKind.FOLDER),
        ("keep/a.txt", EntryKind.FILE),
    ]


def test_a_folder_holding_only_skipped_items_is_empty(tmp_path):
    _tree(tmp_path, ["real.txt"], ["d"])
    os.symlink(tmp_path / "real.txt", tmp_path / "d" / "link")
    walker = Walker(EntryFilter(FilterSpec()), True, False, folders=True)
    assert _walk(walker, tmp_path) == [
        ("d", EntryKind.EMPTY_FOLDER),
        ("d/link", "skipped"),
        ("real.txt", EntryKind.FILE),
    ]


def test_sorted_walk_puts_a_folder_where_its_name_and_slash_sort(tmp_path):
    _tree(tmp_path, ["a/x", "a-b", "a.txt"])
    walker = SortedWalker(EntryFilter(FilterSpec()), True, False, folders=True)
    walked = list(walker.walk_dir(str(tmp_path), ""))
    assert [item.rel_path for item in walked] == ["a-b", "a.txt", "a", "a/x"]
    # The merge's keys (a folder's: its path and '/') strictly increase.
    keys = [sync_key(e.rel_path) + (b"/" if e.is_folder else b"") for e in walked]
    assert keys == sorted(set(keys))


def _folder(rel):
    return Entry(rel, rel, 0, kind=EntryKind.FOLDER)


def test_folder_order_holds_a_marker_until_the_listing_passes_its_place():
    order = FolderOrder()
    out = []
    listing = [_folder("a"), Entry("a-b", "a-b", 1), Entry("a.txt", "a.txt", 1)]
    listing += [_folder("a"), Entry("a/x", "a/x", 1), _folder("e")]  # 'a' twice: once out
    for entry in listing:
        if entry.kind is not EntryKind.FILE:
            order.hold(entry)
            continue
        out += [f.rel_path for f in order.before(entry)] + [entry.rel_path]
    out += [f.rel_path for f in order.rest()]
    assert out == ["a-b", "a.txt", "a", "a/x", "e"]


def test_folder_order_drops_a_folder_whose_place_a_file_has():
    order = FolderOrder()
    order.hold(_folder("d"))
    assert order.before(Entry("d/", "d/", 4)) == []
    assert order.rest() == []


def test_a_folder_maps_to_the_local_folder_its_files_go_into():
    mapper = LocalNameMapper()
    assert mapper.map("a").local_rel == "a"  # a file 'a' first
    folder = mapper.map_directory("a/b")  # then a folder needs 'a' as a folder
    assert folder is not None and folder.local_rel == "a (1)/b"
    assert mapper.map("a/b/c.txt").local_rel == "a (1)/b/c.txt"
    dots = mapper.map_directory("x/..")
    assert dots is not None and dots.local_rel == "x/%2E%2E" and dots.reason
    assert mapper.map_directory("") is None
