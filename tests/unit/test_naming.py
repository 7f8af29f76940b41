"""Unit tests for azxfer.plan.naming: remote names to unique, valid local paths."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest

from azxfer.plan import naming
from azxfer.plan.naming import LocalNameMapper, MappedName


def local(mapper: LocalNameMapper, name: str) -> str:
    mapped = mapper.map(name)
    assert mapped is not None, name
    return mapped.local_rel


def map_all(names: list[str], root: Path | None = None, limit: int = 255) -> list[str]:
    mapper = LocalNameMapper(root, limit)
    return [local(mapper, n) for n in names]


def tag(segment: str) -> str:
    return "~" + hashlib.sha1(segment.encode("utf-8")).hexdigest()[:8]


def nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


# --- unchanged names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "a.txt",
        "dir/sub/file.bin",
        "with space/and more spaces .txt",
        "100%/50%.txt",
        "%2E",
        "%00",
        "hash#tag/q?uery=1&x",
        "émigré/数据/файл.txt",
        "emoji 🎉/😀.png",
        "...",
        ".hidden/.bashrc",
        " leading and trailing ",
        "back\\slash",
        "tab\tand\nnewline",
        "~tilde~",
        "a (1)",
        "*?[]<>|:\"'",
    ],
)
def test_valid_names_are_unchanged(name: str) -> None:
    assert LocalNameMapper().map(name) == MappedName(name, None)


# --- rule 1: splitting and directory markers ------------------------------------------------


def test_empty_name_maps_to_none() -> None:
    assert LocalNameMapper().map("") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a/", "a%2F"),
        ("a/b/", "a/b%2F"),
        ("a//", "a%2F%2F"),
        ("/", "%2F"),
        ("//", "%2F%2F"),
        ("a//b/", "a/b%2F"),
        ("../", "..%2F"),
    ],
)
def test_a_name_ending_in_slash_escapes_the_slash_and_says_so(name: str, expected: str) -> None:
    mapped = LocalNameMapper().map(name)
    assert mapped is not None and mapped.local_rel == expected
    assert mapped.reason is not None and "'/'" in mapped.reason


@pytest.mark.parametrize("other", ["a", "a/b"])
def test_a_name_ending_in_slash_leaves_its_name_free(other: str) -> None:
    mapper = LocalNameMapper()
    assert local(mapper, "a/") == "a%2F"
    assert mapper.map(other) == MappedName(other, None)


def test_a_name_ending_in_slash_and_its_escaped_twin_stay_distinct() -> None:
    assert map_all(["a%2F", "a/"]) == ["a%2F", "a%2F (1)"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/a", "a"),
        ("//a", "a"),
        ("a//b", "a/b"),
        ("/a///b/c", "a/b/c"),
    ],
)
def test_empty_segments_are_dropped(name: str, expected: str) -> None:
    assert LocalNameMapper().map(name) == MappedName(expected, "empty path segment dropped")


def test_empty_segment_drop_that_collides_gets_a_suffix() -> None:
    mapper = LocalNameMapper()
    assert mapper.map("a/b") == MappedName("a/b", None)
    assert mapper.map("a//b") == MappedName(
        "a/b (1)", "empty path segment dropped; an earlier name already maps to 'a/b'"
    )
    assert mapper.map("/a/c") == MappedName("a/c", "empty path segment dropped")


# --- rule 2: '.', '..' and NUL --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected", "reason"),
    [
        (".", "%2E", "'.' is not a valid file name"),
        ("..", "%2E%2E", "'..' is not a valid file name"),
        ("a/./b", "a/%2E/b", "'.' is not a valid file name"),
        ("a/../b", "a/%2E%2E/b", "'..' is not a valid file name"),
        ("a/..", "a/%2E%2E", "'..' is not a valid file name"),
        ("a\0b", "a%00b", "NUL is not allowed in file names"),
        ("\0", "%00", "NUL is not allowed in file names"),
        ("d\0\0/x", "d%00%00/x", "NUL is not allowed in file names"),
        (
            "../../etc/passwd",
            "%2E%2E/%2E%2E/etc/passwd",
            "'..' is not a valid file name",
        ),
        (
            "./../x\0",
            "%2E/%2E%2E/x%00",
            "'.' is not a valid file name; '..' is not a valid file name; "
            "NUL is not allowed in file names",
        ),
    ],
)
def test_invalid_segments_are_escaped(name: str, expected: str, reason: str) -> None:
    assert LocalNameMapper().map(name) == MappedName(expected, reason)


@pytest.mark.parametrize("name", ["...", ".a", "a.", "..a", "a..", ". ", " ..", "%2E%2E"])
def test_dot_lookalikes_are_not_escaped(name: str) -> None:
    assert LocalNameMapper().map(name) == MappedName(name, None)


def test_parent_references_never_escape_the_root(tmp_path: Path) -> None:
    mapper = LocalNameMapper(tmp_path)
    for name in ["..", "../x", "a/../../x", "/../x", "./..", "a/./../.."]:
        rel = local(mapper, name)
        assert not Path(rel).is_absolute()
        assert all(part not in ("", ".", "..") for part in rel.split("/"))
        assert (tmp_path / rel).resolve().is_relative_to(tmp_path.resolve())


# --- rule 3: long segments ------------------------------------------------------------------


def test_segment_at_the_limit_is_unchanged() -> None:
    name = "x" * 251 + ".txt"
    assert LocalNameMapper().map(name) == MappedName(name, None)


def test_long_segment_is_truncated_with_hash_before_extension() -> None:
    name = "x" * 300 + ".txt"
    expected = "x" * (255 - 9 - 4) + tag(name) + ".txt"
    assert nbytes(expected) == 255
    assert LocalNameMapper().map(name) == MappedName(
        expected, "a name longer than 255 bytes was shortened"
    )


def test_long_segment_one_byte_over() -> None:
    name = "y" * 256
    assert local(LocalNameMapper(), name) == "y" * 246 + tag(name)


def test_1024_character_name() -> None:
    name = "n" * 1020 + ".dat"
    rel = local(LocalNameMapper(), name)
    assert rel == "n" * 242 + tag(name) + ".dat"
    assert nbytes(rel) == 255


def test_1024_character_name_with_directories() -> None:
    seg = "d" * 1024
    name = f"{seg}/{seg}/f.txt"
    mapper = LocalNameMapper()
    short = "d" * 246 + tag(seg)
    assert mapper.map(name) == MappedName(
        f"{short}/{short}/f.txt", "a name longer than 255 bytes was shortened"
    )
    assert local(mapper, f"{seg}/g") == f"{short}/g"


def test_long_names_sharing_a_prefix_stay_distinct() -> None:
    a = "p" * 400 + "a.bin"
    b = "p" * 400 + "b.bin"
    mapper = LocalNameMapper()
    ra, rb = local(mapper, a), local(mapper, b)
    assert ra == "p" * 242 + tag(a) + ".bin"
    assert rb == "p" * 242 + tag(b) + ".bin"
    assert ra != rb


def test_long_extension_is_not_kept() -> None:
    ext = "." + "e" * 16  # 17 characters with the dot: not an extension
    name = "s" * 300 + ext
    assert local(LocalNameMapper(), name) == name[:246] + tag(name)


def test_sixteen_character_extension_is_kept() -> None:
    ext = "." + "e" * 15
    name = "s" * 300 + ext
    assert local(LocalNameMapper(), name) == "s" * (255 - 9 - 16) + tag(name) + ext


def test_long_multibyte_name_is_cut_on_a_character_boundary() -> None:
    name = "é" * 200 + ".pdf"  # 404 bytes
    rel = local(LocalNameMapper(), name)
    # 255 - 9 - 4 = 242 bytes of stem is 121 two-byte characters.
    assert rel == "é" * 121 + tag(name) + ".pdf"
    assert nbytes(rel) == 255


def test_long_name_cut_cannot_split_a_character() -> None:
    name = "a" + "é" * 200  # the 246-byte cut would fall inside an 'é'
    rel = local(LocalNameMapper(), name)
    assert rel == "a" + "é" * 122 + tag(name)
    assert nbytes(rel) == 254


def test_long_four_byte_characters() -> None:
    name = "😀" * 100  # 400 bytes, no extension
    rel = local(LocalNameMapper(), name)
    assert rel == "😀" * 61 + tag(name)  # 244 bytes + 9
    assert nbytes(rel) == 253


def test_long_name_with_nul_hashes_the_original_segment() -> None:
    name = "z" * 300 + "\0"
    rel = local(LocalNameMapper(), name)
    assert rel == "z" * 246 + tag(name)
    assert rel != local(LocalNameMapper(), "z" * 300 + "%00")


def test_custom_limit() -> None:
    name = "q" * 150 + ".txt"
    mapper = LocalNameMapper(max_component_bytes=100)
    assert mapper.map(name) == MappedName(
        "q" * 87 + tag(name) + ".txt", "a name longer than 100 bytes was shortened"
    )


def test_limit_below_minimum_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_component_bytes must be at least 100"):
        LocalNameMapper(max_component_bytes=99)


# --- rule 4: file/directory conflicts within a job ------------------------------------------


def test_file_then_directory_renames_the_directory() -> None:
    mapper = LocalNameMapper()
    assert mapper.map("a") == MappedName("a", None)
    assert mapper.map("a/b") == MappedName("a (1)/b", "a file 'a' already uses this name")
    assert mapper.map("a/c/d") == MappedName("a (1)/c/d", "a file 'a' already uses this name")
    assert mapper.map("a/b2") == MappedName("a (1)/b2", "a file 'a' already uses this name")


def test_directory_then_file_renames_the_file() -> None:
    mapper = LocalNameMapper()
    assert mapper.map("a/b") == MappedName("a/b", None)
    assert mapper.map("a") == MappedName("a (1)", "a directory 'a' already uses this name")
    assert mapper.map("a/c") == MappedName("a/c", None)


def test_file_suffix_goes_before_extension() -> None:
    assert map_all(["x.txt/y", "x.txt"]) == ["x.txt/y", "x (1).txt"]
    assert map_all(["a.tar.gz/y", "a.tar.gz"]) == ["a.tar.gz/y", "a.tar (1).gz"]


def test_directory_suffix_goes_after_name() -> None:
    assert map_all(["d.v2", "d.v2/x"]) == ["d.v2", "d.v2 (1)/x"]


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        (".bashrc", ".bashrc (1)"),
        ("noext", "noext (1)"),
        ("trailing.", "trailing. (1)"),
        ("a.verylongextension17", "a.verylongextension17 (1)"),
        ("a.sixteen_chars_", "a (1).sixteen_chars_"),
    ],
)
def test_file_suffix_and_extension_edge_cases(file_name: str, expected: str) -> None:
    assert map_all([f"{file_name}/child", file_name]) == [f"{file_name}/child", expected]


def test_nested_conflicts() -> None:
    names = ["a/b", "a/b/c", "a/b/c/d", "a/b/c"]
    # The repeated 'a/b/c' finds 'c' taken by a file and 'c (1)' by a directory.
    assert map_all(names) == ["a/b", "a/b (1)/c", "a/b (1)/c (1)/d", "a/b (1)/c (2)"]


def test_nested_conflicts_reasons() -> None:
    mapper = LocalNameMapper()
    local(mapper, "a/b")
    local(mapper, "a/b/c")
    assert mapper.map("a/b/c/d") == MappedName(
        "a/b (1)/c (1)/d",
        "a file 'a/b' already uses this name; a file 'a/b (1)/c' already uses this name",
    )


def test_lowest_free_number_is_chosen() -> None:
    names = ["a", "a (1)", "a (2)/x", "a/y"]
    # 'a (1)' is a file, 'a (2)' a directory: the directory 'a' becomes 'a (3)'.
    assert map_all(names) == ["a", "a (1)", "a (2)/x", "a (3)/y"]


def test_directory_renamed_number_skips_names_used_as_directories() -> None:
    names = ["a (1)/x", "a", "a/y"]
    assert map_all(names) == ["a (1)/x", "a", "a (2)/y"]


def test_suffixed_name_may_itself_conflict() -> None:
    names = ["a", "a/b", "a (1)"]
    mapper = LocalNameMapper()
    out = [mapper.map(n) for n in names]
    assert out == [
        MappedName("a", None),
        MappedName("a (1)/b", "a file 'a' already uses this name"),
        MappedName("a (1) (1)", "a directory 'a (1)' already uses this name"),
    ]


def test_literal_directory_named_like_a_renamed_one_merges_into_it() -> None:
    # Directories that land on the same path merge; only files must stay distinct.
    assert map_all(["a", "a/b", "a (1)/c", "a (1)/b"]) == [
        "a",
        "a (1)/b",
        "a (1)/c",
        "a (1)/b (1)",
    ]


def test_order_decides_who_keeps_the_name() -> None:
    assert map_all(["a", "a/b"]) == ["a", "a (1)/b"]
    assert map_all(["a/b", "a"]) == ["a/b", "a (1)"]


def test_conflicts_are_per_parent_directory() -> None:
    assert map_all(["x/a", "x/a/b", "y/a/b", "a/b"]) == ["x/a", "x/a (1)/b", "y/a/b", "a/b"]


def test_azcopy_v8_style_listing() -> None:
    # A flat blob listing in service order ('/' sorts before letters).
    names = [
        "photos",
        "photos/2019/a.jpg",
        "photos/2019/b.jpg",
        "photos/2019",
        "photos/2020/./c.jpg",
        "photos/2020/../d.jpg",
        "photos/2020/c.jpg",
        "photos/2020/%2E/c.jpg",
    ]
    mapper = LocalNameMapper()
    assert [mapper.map(n) for n in names] == [
        MappedName("photos", None),
        MappedName("photos (1)/2019/a.jpg", "a file 'photos' already uses this name"),
        MappedName("photos (1)/2019/b.jpg", "a file 'photos' already uses this name"),
        MappedName(
            "photos (1)/2019 (1)",
            "a file 'photos' already uses this name; "
            "a directory 'photos (1)/2019' already uses this name",
        ),
        MappedName(
            "photos (1)/2020/%2E/c.jpg",
            "a file 'photos' already uses this name; '.' is not a valid file name",
        ),
        MappedName(
            "photos (1)/2020/%2E%2E/d.jpg",
            "a file 'photos' already uses this name; '..' is not a valid file name",
        ),
        MappedName("photos (1)/2020/c.jpg", "a file 'photos' already uses this name"),
        MappedName(
            "photos (1)/2020/%2E/c (1).jpg",
            "a file 'photos' already uses this name; "
            "an earlier name already maps to 'photos (1)/2020/%2E/c.jpg'",
        ),
    ]


def test_long_directory_conflict_keeps_hash_and_fits() -> None:
    seg = "L" * 300
    short = "L" * 246 + tag(seg)
    assert map_all([seg, f"{seg}/x"]) == [short, "L" * 242 + tag(seg) + " (1)/x"]


def test_long_file_conflict_keeps_hash_and_extension() -> None:
    seg = "F" * 300 + ".txt"
    rel = map_all([f"{seg}/x", seg])[1]
    assert rel == "F" * 238 + tag(seg) + " (1).txt"
    assert nbytes(rel) == 255


def test_suffix_on_a_name_exactly_at_the_limit_truncates_it() -> None:
    name = "m" * 251 + ".txt"
    assert map_all([f"{name}/x", name]) == [f"{name}/x", "m" * 247 + " (1).txt"]


def test_suffixed_truncations_of_similar_names_stay_distinct() -> None:
    a = "m" * 254 + "a"
    b = "m" * 254 + "b"
    out = map_all([f"{a}/x", f"{b}/x", a, b])
    assert out[2:] == ["m" * 251 + " (1)", "m" * 251 + " (2)"]


def test_long_paths_in_reasons_are_elided() -> None:
    seg = "R" * 300
    short = "R" * 246 + tag(seg)
    mapper = LocalNameMapper()
    local(mapper, seg)
    assert mapper.map(f"{seg}/x") == MappedName(
        "R" * 242 + tag(seg) + " (1)/x",
        "a name longer than 255 bytes was shortened; "
        f"a file '{short[:40]}…{short[-26:]}' already uses this name",
    )


def test_lone_surrogates_do_not_raise(tmp_path: Path) -> None:
    # os.fsdecode() yields these for undecodable bytes; they must not crash the mapper.
    mapper = LocalNameMapper(tmp_path)
    assert mapper.map("bad\udc80/x") == MappedName("bad\udc80/x", None)
    assert mapper.map("bad\ud800") == MappedName("bad\ud800", None)
    long_name = "\udc80" * 100  # 3 bytes each when counted: over the limit
    assert (
        local(mapper, long_name)
        == "\udc80" * 82
        + "~"
        + hashlib.sha1(long_name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    )


# --- rule 5: what exists on disk ------------------------------------------------------------


def test_existing_file_where_a_directory_is_needed(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("old")
    mapper = LocalNameMapper(tmp_path)
    assert mapper.map("a/b") == MappedName("a (1)/b", "an existing file 'a' already uses this name")
    assert local(mapper, "a/c") == "a (1)/c"


def test_existing_directory_where_a_file_is_needed(tmp_path: Path) -> None:
    (tmp_path / "d" / "x").mkdir(parents=True)
    mapper = LocalNameMapper(tmp_path)
    assert mapper.map("d/x") == MappedName(
        "d/x (1)", "an existing directory 'd/x' already uses this name"
    )
    assert mapper.map("d/y") == MappedName("d/y", None)


def test_existing_file_where_a_file_is_needed_is_not_a_conflict(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("old")
    assert LocalNameMapper(tmp_path).map("f.txt") == MappedName("f.txt", None)


def test_existing_directory_where_a_directory_is_needed_is_used(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "sub").write_text("file in the way")
    mapper = LocalNameMapper(tmp_path)
    assert local(mapper, "d/new") == "d/new"
    assert local(mapper, "d/sub/x") == "d/sub (1)/x"


def test_on_disk_candidates_are_skipped_by_kind(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("")
    (tmp_path / "a (1)").write_text("")  # a file: not usable as a directory
    (tmp_path / "b").mkdir()
    (tmp_path / "b (1)").mkdir()  # a directory: not usable as a file
    (tmp_path / "b (2).txt").mkdir()
    (tmp_path / "b.txt").mkdir()
    mapper = LocalNameMapper(tmp_path)
    assert local(mapper, "a/x") == "a (2)/x"
    assert local(mapper, "b") == "b (2)"
    assert local(mapper, "b.txt") == "b (1).txt"


def test_existing_compatible_candidate_is_reused_so_reruns_agree(tmp_path: Path) -> None:
    names = ["a", "a/b", "c/d", "c"]
    first = map_all(names, tmp_path)
    assert first == ["a", "a (1)/b", "c/d", "c (1)"]
    for rel in first:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    assert map_all(names, tmp_path) == first


def test_existing_tree_deeper_levels(tmp_path: Path) -> None:
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "x" / "y" / "z").write_text("")
    mapper = LocalNameMapper(tmp_path)
    assert local(mapper, "x/y/z/f") == "x/y/z (1)/f"
    assert local(mapper, "x/y/z") == "x/y/z"


def test_new_directory_is_not_looked_up_on_disk(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("")
    mapper = LocalNameMapper(tmp_path)
    assert local(mapper, "a/b") == "a (1)/b"
    # Created after 'a (1)' was found absent: the mapper already knows it is new and empty.
    (tmp_path / "a (1)").mkdir()
    (tmp_path / "a (1)" / "c").mkdir()
    assert local(mapper, "a/c") == "a (1)/c"


def test_missing_root_means_nothing_in_the_way(tmp_path: Path) -> None:
    assert map_all(["a/b", "a"], tmp_path / "missing") == ["a/b", "a (1)"]


def test_root_none_ignores_the_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").write_text("")
    monkeypatch.chdir(tmp_path)
    assert map_all(["a/b"]) == ["a/b"]


def test_symlink_to_directory_counts_as_directory(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    mapper = LocalNameMapper(tmp_path)
    assert local(mapper, "link/x") == "link/x"
    assert local(mapper, "link") == "link (1)"


def test_dangling_symlink_counts_as_file(tmp_path: Path) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert map_all(["dangling/x"], tmp_path) == ["dangling (1)/x"]
    assert map_all(["dangling"], tmp_path) == ["dangling"]


def test_on_disk_checks_with_unicode_and_special_names(tmp_path: Path) -> None:
    (tmp_path / "données #1").write_text("")
    (tmp_path / "100% ?").mkdir()
    mapper = LocalNameMapper(tmp_path)
    assert local(mapper, "données #1/x") == "données #1 (1)/x"
    assert local(mapper, "100% ?") == "100% ? (1)"


def test_many_files_in_one_directory_cost_one_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "big"
    target.mkdir()
    for i in range(0, 300, 3):
        (target / f"f{i}").write_text("")
    (target / "f7").mkdir()
    calls = {"stat": 0, "scandir": 0}
    real_stat, real_scandir = os.stat, os.scandir

    def counting_stat(*args, **kwargs):
        calls["stat"] += 1
        return real_stat(*args, **kwargs)

    def counting_scandir(*args, **kwargs):
        calls["scandir"] += 1
        return real_scandir(*args, **kwargs)

    monkeypatch.setattr(naming.os, "stat", counting_stat)
    monkeypatch.setattr(naming.os, "scandir", counting_scandir)
    mapper = LocalNameMapper(tmp_path)
    out = [local(mapper, f"big/f{i}") for i in range(300)]
    assert out[7] == "big/f7 (1)"
    assert [o for i, o in enumerate(out) if i != 7] == [f"big/f{i}" for i in range(300) if i != 7]
    assert calls["scandir"] == 1
    assert calls["stat"] <= 2 * naming._STAT_BUDGET


def test_few_files_in_a_big_directory_are_stat_ed_not_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(200):
        (tmp_path / f"e{i}").write_text("")

    def no_scandir(*args, **kwargs):
        raise AssertionError("listed a directory for a handful of names")

    monkeypatch.setattr(naming.os, "scandir", no_scandir)
    mapper = LocalNameMapper(tmp_path)
    assert [local(mapper, f"e{i}") for i in range(5)] == [f"e{i}" for i in range(5)]
    assert local(mapper, "e5/x") == "e5 (1)/x"


def test_listing_after_budget_still_sees_directories(tmp_path: Path) -> None:
    (tmp_path / "late").mkdir()
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    mapper = LocalNameMapper(tmp_path)
    for i in range(naming._STAT_BUDGET + 5):
        assert local(mapper, f"n{i}") == f"n{i}"
    assert local(mapper, "late") == "late (1)"
    assert local(mapper, "link") == "link (1)"
    assert local(mapper, "dangling/x") == "dangling (1)/x"


# --- rule 6: names that translate to the same path ------------------------------------------


def test_escaped_dot_collides_with_literal_escape() -> None:
    mapper = LocalNameMapper()
    assert mapper.map("%2E") == MappedName("%2E", None)
    assert mapper.map(".") == MappedName(
        "%2E (1)", "'.' is not a valid file name; an earlier name already maps to '%2E'"
    )


def test_literal_escape_after_escaped_dot_gets_the_suffix() -> None:
    mapper = LocalNameMapper()
    assert mapper.map("..") == MappedName("%2E%2E", "'..' is not a valid file name")
    assert mapper.map("%2E%2E") == MappedName(
        "%2E%2E (1)", "an earlier name already maps to '%2E%2E'"
    )


def test_nul_escape_collides_with_literal() -> None:
    assert map_all(["a%00.txt", "a\0.txt"]) == ["a%00.txt", "a%00 (1).txt"]


def test_same_name_twice_gets_distinct_paths() -> None:
    assert map_all(["x.txt", "x.txt", "x.txt"]) == ["x.txt", "x (1).txt", "x (2).txt"]


def test_translated_directories_merge() -> None:
    assert map_all(["./x", "%2E/y", "%2E/x"]) == ["%2E/x", "%2E/y", "%2E/x (1)"]


def test_escaped_file_versus_directory() -> None:
    assert map_all(["%2E", "./x"]) == ["%2E", "%2E (1)/x"]


# --- rule 7: determinism and invariants -----------------------------------------------------


def test_mapping_is_deterministic_for_an_order() -> None:
    rng = random.Random(7)
    alphabet = ["a", "b", ".", "..", "%2E", "", "a.txt", "x\0", "é", "L" * 300]
    names = ["/".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(500)]
    first, second = LocalNameMapper(), LocalNameMapper()
    results = [first.map(n) for n in names]
    assert results == [second.map(n) for n in names]
    assert sum(r is not None and r.reason is not None for r in results) > 100


def test_random_names_keep_invariants() -> None:
    rng = random.Random(12345)
    alphabet = ["a", "b", "c.txt", ".", "..", "%2E", "%2E%2E", "", "x\0y", "d (1)", "é", "M" * 260]
    mapper = LocalNameMapper()
    files: set[str] = set()
    dirs: set[str] = set()
    for _ in range(3000):
        name = "/".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
        mapped = mapper.map(name)
        if not name:
            assert mapped is None
            continue
        assert mapped is not None
        rel = mapped.local_rel
        parts = rel.split("/")
        assert all(p not in ("", ".", "..") and "\0" not in p for p in parts), rel
        assert all(nbytes(p) <= 255 for p in parts), rel
        assert (mapped.reason is None) == (rel == name), (name, mapped)
        assert rel not in files and rel not in dirs, rel
        files.add(rel)
        for i in range(1, len(parts)):
            ancestor = "/".join(parts[:i])
            assert ancestor not in files, (name, rel)
            dirs.add(ancestor)


def test_module_docstring_documents_the_rules() -> None:
    doc = naming.__doc__
    assert doc is not None
    for needle in ["%2E%2E", "%00", "%2F", "'~'", "SHA-1", "'a (1)/b'", "'x (1).txt'", "Memory"]:
        assert needle in doc
