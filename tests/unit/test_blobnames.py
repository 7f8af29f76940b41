"""Unit tests for azxfer.plan.blobnames: local names as the Blob service stores them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from azxfer.models import Entry
from azxfer.plan.blobnames import BlobName, BlobNamer
from azxfer.plan.filters import EntryFilter, FilterSpec


def namer(recursive: bool = True, follow: bool = False, **filters: tuple[str, ...]) -> BlobNamer:
    return BlobNamer(EntryFilter(FilterSpec(**filters)), recursive, follow)


def entry(root: Path, rel: str) -> Entry:
    path = root.joinpath(*rel.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(b"x")
    return Entry(str(path), rel, 1)


def test_plain_names_are_unchanged(tmp_path: Path) -> None:
    assert namer().name(entry(tmp_path, "a/b.txt")) == BlobName("a/b.txt")


def test_backslashes_become_slashes(tmp_path: Path) -> None:
    assert namer().name(entry(tmp_path, "a\\b\\c.txt")) == BlobName("a/b/c.txt")


@pytest.mark.parametrize("plain_first", [True, False])
def test_the_plain_name_keeps_the_blob_in_either_order(tmp_path: Path, plain_first: bool) -> None:
    plain, translated = entry(tmp_path, "a/b"), entry(tmp_path, "a\\b")
    names = namer()
    order = [plain, translated] if plain_first else [translated, plain]
    results = {e.rel_path: names.name(e) for e in order}
    assert results["a/b"] == BlobName("a/b")
    assert results["a\\b"].rel == "a/b"
    assert plain.ref in (results["a\\b"].conflict or "")


def test_of_two_translated_names_the_first_keeps_the_blob(tmp_path: Path) -> None:
    first, second = entry(tmp_path, "x\\y/z"), entry(tmp_path, "x\\y\\z")
    names = namer()
    assert names.name(first) == BlobName("x/y/z")
    conflict = names.name(second).conflict
    assert conflict is not None and first.ref in conflict


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"recursive": False}, "not recursive: the plain name's folder is not walked"),
        ({"exclude_paths": ("a",)}, "its folder is excluded"),
        ({"exclude_patterns": ("b",)}, "its name is excluded"),
    ],
)
def test_a_plain_file_the_walk_does_not_select_is_no_conflict(
    tmp_path: Path, kwargs: dict, why: str
) -> None:
    entry(tmp_path, "a/b")
    assert namer(**kwargs).name(entry(tmp_path, "a\\b")) == BlobName("a/b"), why


def test_a_plain_folder_of_the_name_is_no_conflict(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert namer().name(entry(tmp_path, "a\\b")) == BlobName("a/b")


@pytest.mark.parametrize("follow", [False, True])
def test_links_count_only_when_followed(tmp_path: Path, follow: bool) -> None:
    entry(tmp_path, "real/b")
    os.symlink(tmp_path / "real", tmp_path / "a")
    conflict = namer(follow=follow).name(entry(tmp_path, "a\\b")).conflict
    assert (conflict is not None) == follow


def test_a_name_given_whole_is_stored_with_slashes_and_never_refused() -> None:
    names = namer()
    assert names.stored("a\\b/c\\d") == "a/b/c/d"
    assert "'\\'" in names.reason("a\\b") and names.refusal("x" * 5000) is None
