"""Unit tests for azxfer.plan.filters: parsing the CLI strings and matching entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from azxfer.plan.filters import EntryFilter, FilterSpec


def spec(
    include_pattern: str | None = None,
    exclude_pattern: str | None = None,
    include_path: str | None = None,
    exclude_path: str | None = None,
    include_after: str | None = None,
    include_before: str | None = None,
) -> FilterSpec:
    return FilterSpec.from_strings(
        include_pattern, exclude_pattern, include_path, exclude_path, include_after, include_before
    )


def accepted(filt: EntryFilter, paths: list[str], mtime: float | None = None) -> list[str]:
    return [p for p in paths if filt.accepts(p, mtime)]


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


# --- FilterSpec.from_strings: lists ---------------------------------------------------------


def test_from_strings_all_none_is_empty() -> None:
    parsed = spec()
    assert parsed == FilterSpec()
    assert parsed.is_empty


def test_patterns_split_on_semicolons_stripped_and_empties_dropped() -> None:
    parsed = spec(include_pattern=" *.txt ;; *.log;", exclude_pattern=";  ;")
    assert parsed.include_patterns == ("*.txt", "*.log")
    assert parsed.exclude_patterns == ()


def test_patterns_keep_backslashes_and_inner_spaces() -> None:
    parsed = spec(include_pattern=r"my file*.txt;a\b")
    assert parsed.include_patterns == ("my file*.txt", r"a\b")


def test_empty_string_lists_give_no_filter() -> None:
    assert spec(include_pattern="", exclude_path="").is_empty


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("logs", ("logs",)),
        ("logs/", ("logs",)),
        ("/logs/2024/", ("logs/2024",)),
        ("./logs", ("logs",)),
        ("././logs", ("logs",)),
        (".//logs", ("logs",)),
        (r"logs\2024\jan", ("logs/2024/jan",)),
        (r".\logs\\", ("logs",)),
        (" a ; b/c ;; ", ("a", "b/c")),
        ("/;./;.;//", ()),
        ("dir with space/x#y?", ("dir with space/x#y?",)),
        ("..", ("..",)),
    ],
)
def test_paths_are_normalised(raw: str, expected: tuple[str, ...]) -> None:
    assert spec(include_path=raw).include_paths == expected
    assert spec(exclude_path=raw).exclude_paths == expected


# --- FilterSpec.from_strings: dates ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-31", datetime(2024, 1, 31, tzinfo=UTC)),
        ("2024-01-31T10:00", datetime(2024, 1, 31, 10, 0, tzinfo=UTC)),
        ("2024-01-31T10:00:00Z", datetime(2024, 1, 31, 10, 0, tzinfo=UTC)),
        ("2024-01-31T10:00:00.250Z", datetime(2024, 1, 31, 10, 0, 0, 250000, tzinfo=UTC)),
        (
            "2024-01-31T10:00:00+02:00",
            datetime(2024, 1, 31, 10, 0, tzinfo=timezone(timedelta(hours=2))),
        ),
        (
            "2024-01-31T10:00-05:30",
            datetime(2024, 1, 31, 10, 0, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
        ),
        ("  2024-01-31T10:00:00Z ", datetime(2024, 1, 31, 10, 0, tzinfo=UTC)),
    ],
)
def test_dates_parse_as_iso_8601(raw: str, expected: datetime) -> None:
    after = spec(include_after=raw).include_after
    before = spec(include_before=raw).include_before
    assert after == expected
    assert before == expected
    assert after is not None and after.utcoffset() == expected.utcoffset()


def test_naive_date_is_utc() -> None:
    parsed = spec(include_after="2024-01-31T10:00")
    assert parsed.include_after is not None
    assert parsed.include_after.tzinfo is UTC
    assert parsed.include_after.timestamp() == 1706695200.0


def test_offset_date_is_the_same_instant_as_utc() -> None:
    plus_two = spec(include_after="2024-01-31T12:00:00+02:00").include_after
    assert plus_two is not None
    assert plus_two.timestamp() == ts("2024-01-31T10:00:00+00:00")


@pytest.mark.parametrize("raw", ["2024-13-01", "yesterday", "31/01/2024", "2024-01-31T25:00", ""])
def test_bad_include_after_names_option_and_format(raw: str) -> None:
    with pytest.raises(ValueError) as caught:
        spec(include_after=raw)
    assert str(caught.value) == (
        f"--include-after: {raw!r} is not an ISO-8601 date or time (e.g. 2024-01-31T10:00:00Z)"
    )


def test_bad_include_before_names_its_option() -> None:
    with pytest.raises(ValueError, match=r"^--include-before: 'soon' is not an ISO-8601"):
        spec(include_before="soon")


def test_after_later_than_before_is_rejected() -> None:
    with pytest.raises(ValueError) as caught:
        spec(include_after="2024-02-01", include_before="2024-01-01")
    assert str(caught.value) == (
        "--include-after (2024-02-01T00:00:00+00:00) is later than "
        "--include-before (2024-01-01T00:00:00+00:00): nothing could match"
    )


def test_after_equal_to_before_is_allowed() -> None:
    parsed = spec(include_after="2024-01-01T00:00:00Z", include_before="2024-01-01")
    assert parsed.include_after == parsed.include_before


def test_direct_construction_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="include_before must be timezone-aware"):
        FilterSpec(include_before=datetime(2024, 1, 1))


@pytest.mark.parametrize("pattern", ["[", "[!", "a[]b", "[z-a]", "\\", "**", "[[]", "(", "a)|(b"])
def test_bad_patterns_never_raise(pattern: str) -> None:
    parsed = spec(include_pattern=pattern, exclude_pattern=pattern)
    filt = EntryFilter(parsed)
    filt.accepts("x", None)
    filt.accepts(pattern, None)


# --- is_empty -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"include_patterns": ("*",)},
        {"exclude_patterns": ("*",)},
        {"include_paths": ("a",)},
        {"exclude_paths": ("a",)},
        {"include_after": datetime(2024, 1, 1, tzinfo=UTC)},
        {"include_before": datetime(2024, 1, 1, tzinfo=UTC)},
    ],
)
def test_any_single_filter_makes_spec_non_empty(kwargs: dict) -> None:
    assert not FilterSpec(**kwargs).is_empty


# --- EntryFilter.accepts: patterns ----------------------------------------------------------

PATHS = [
    "a.txt",
    "b.log",
    "docs/readme.txt",
    "docs/readme.md",
    "docs/sub/deep.txt",
    "txt",
    "notes.TXT",
    "data.txt.bak",
]


def test_empty_filter_accepts_everything() -> None:
    filt = EntryFilter(FilterSpec())
    assert accepted(filt, PATHS) == PATHS
    assert filt.accepts("anything", 0.0)


def test_include_pattern_matches_base_name_at_any_depth() -> None:
    filt = EntryFilter(spec(include_pattern="*.txt"))
    assert accepted(filt, PATHS) == ["a.txt", "docs/readme.txt", "docs/sub/deep.txt"]


def test_patterns_are_case_sensitive() -> None:
    filt = EntryFilter(spec(include_pattern="*.txt"))
    assert not filt.accepts("notes.TXT", None)
    filt = EntryFilter(spec(include_pattern="*.TXT"))
    assert accepted(filt, PATHS) == ["notes.TXT"]


def test_several_include_patterns_are_alternatives() -> None:
    filt = EntryFilter(spec(include_pattern="*.md;b.*"))
    assert accepted(filt, PATHS) == ["b.log", "docs/readme.md"]


def test_exclude_pattern_rejects_matching_base_names() -> None:
    filt = EntryFilter(spec(exclude_pattern="*.txt;*.bak"))
    assert accepted(filt, PATHS) == ["b.log", "docs/readme.md", "txt", "notes.TXT"]


def test_exclude_wins_over_include() -> None:
    filt = EntryFilter(spec(include_pattern="*.txt", exclude_pattern="readme*"))
    assert accepted(filt, PATHS) == ["a.txt", "docs/sub/deep.txt"]


def test_question_mark_is_exactly_one_character() -> None:
    filt = EntryFilter(spec(include_pattern="?.txt"))
    assert accepted(filt, ["a.txt", "ab.txt", ".txt", "é.txt", "d/x.txt"]) == [
        "a.txt",
        "é.txt",
        "d/x.txt",
    ]


def test_character_classes() -> None:
    filt = EntryFilter(spec(include_pattern="file[0-2].dat;[!a-y]*.log"))
    names = ["file0.dat", "file2.dat", "file3.dat", "filea.dat", "z.log", "a.log", "Z.log"]
    assert accepted(filt, names) == ["file0.dat", "file2.dat", "z.log", "Z.log"]


def test_base_name_star_cannot_cross_slash() -> None:
    filt = EntryFilter(spec(include_pattern="docs*"))
    # 'docs/readme.txt' has base name 'readme.txt'; only base names count.
    assert accepted(filt, ["docs", "docs/readme.txt", "docs.zip", "x/docs2"]) == [
        "docs",
        "docs.zip",
        "x/docs2",
    ]


def test_star_matches_empty_run_and_dots() -> None:
    filt = EntryFilter(spec(include_pattern="*"))
    assert accepted(filt, [".hidden", "a", "d/.x"]) == [".hidden", "a", "d/.x"]


def test_pattern_with_slash_matches_whole_path() -> None:
    filt = EntryFilter(spec(include_pattern="docs/*.txt"))
    assert accepted(filt, PATHS) == ["docs/readme.txt", "docs/sub/deep.txt"]


def test_pattern_with_slash_is_anchored_at_the_root() -> None:
    filt = EntryFilter(spec(include_pattern="sub/*.txt"))
    assert accepted(filt, [*PATHS, "sub/x.txt"]) == ["sub/x.txt"]


def test_exclude_pattern_with_slash_matches_whole_path() -> None:
    filt = EntryFilter(spec(exclude_pattern="docs/sub/*"))
    assert accepted(filt, PATHS) == [p for p in PATHS if p != "docs/sub/deep.txt"]


def test_mixed_base_and_path_patterns() -> None:
    filt = EntryFilter(spec(include_pattern="*.md;docs/sub/*"))
    assert accepted(filt, PATHS) == ["docs/readme.md", "docs/sub/deep.txt"]


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("report (1).pdf", "report (1).pdf"),
        ("100%.txt", "100%.txt"),
        ("a#b", "a#b"),
        ("what?", "what?"),
        ("$HOME", "$HOME"),
        ("a+b^c", "a+b^c"),
        ("é*", "école.txt"),
        ("数据*.csv", "数据2024.csv"),
        ("a\\b", "a\\b"),
        ("x.y", "x.y"),
    ],
)
def test_special_characters_match_literally(pattern: str, name: str) -> None:
    filt = EntryFilter(spec(include_pattern=pattern))
    assert filt.accepts(name, None)
    assert filt.accepts(f"dir/{name}", None)


def test_regex_metacharacters_are_not_regex() -> None:
    filt = EntryFilter(spec(include_pattern="x.y;a+"))
    assert not filt.accepts("xzy", None)
    assert not filt.accepts("aa", None)


def test_bracket_pattern_that_is_not_a_class_matches_literally() -> None:
    filt = EntryFilter(spec(include_pattern="[abc"))
    assert filt.accepts("[abc", None)
    assert not filt.accepts("a", None)


def test_question_mark_in_pattern_is_a_wildcard_not_a_literal() -> None:
    filt = EntryFilter(spec(include_pattern="what?"))
    assert filt.accepts("whatX", None)
    assert not filt.accepts("what", None)


def test_pattern_matches_whole_base_name_not_a_part() -> None:
    filt = EntryFilter(spec(include_pattern="a.txt"))
    assert accepted(filt, ["a.txt", "ba.txt", "a.txt2", "d/a.txt"]) == ["a.txt", "d/a.txt"]


def test_newline_in_name_is_matched_by_star() -> None:
    filt = EntryFilter(spec(include_pattern="a*b"))
    assert filt.accepts("a\nb", None)
    assert not filt.accepts("a\nb\n", None)


# --- EntryFilter.accepts: paths -------------------------------------------------------------


def test_include_path_selects_prefix_at_segment_boundary() -> None:
    filt = EntryFilter(spec(include_path="docs"))
    names = ["docs", "docs/readme.txt", "docs/sub/deep.txt", "docs2/x", "docsx", "a/docs/x"]
    assert accepted(filt, names) == ["docs", "docs/readme.txt", "docs/sub/deep.txt"]


def test_include_path_can_name_a_single_file() -> None:
    filt = EntryFilter(spec(include_path="docs/readme.txt"))
    assert accepted(filt, PATHS) == ["docs/readme.txt"]


def test_several_include_paths_are_alternatives() -> None:
    filt = EntryFilter(spec(include_path="a.txt;docs/sub"))
    assert accepted(filt, PATHS) == ["a.txt", "docs/sub/deep.txt"]


def test_exclude_path_rejects_prefix_at_segment_boundary() -> None:
    filt = EntryFilter(spec(exclude_path="docs/sub;b.log"))
    names = [*PATHS, "docs/subway.txt"]
    assert accepted(filt, names) == [
        "a.txt",
        "docs/readme.txt",
        "docs/readme.md",
        "txt",
        "notes.TXT",
        "data.txt.bak",
        "docs/subway.txt",
    ]


def test_include_and_exclude_paths_combine() -> None:
    filt = EntryFilter(spec(include_path="docs", exclude_path="docs/sub"))
    assert accepted(filt, PATHS) == ["docs/readme.txt", "docs/readme.md"]


def test_paths_and_patterns_combine() -> None:
    filt = EntryFilter(spec(include_path="docs", include_pattern="*.txt"))
    assert accepted(filt, PATHS) == ["docs/readme.txt", "docs/sub/deep.txt"]


def test_normalised_windows_style_path_matches() -> None:
    filt = EntryFilter(spec(include_path=r".\docs\sub\\"))
    assert accepted(filt, PATHS) == ["docs/sub/deep.txt"]


def test_paths_are_case_sensitive() -> None:
    filt = EntryFilter(spec(include_path="Docs"))
    assert accepted(filt, PATHS) == []


def test_paths_with_unicode_and_spaces() -> None:
    filt = EntryFilter(spec(include_path="données/mon dossier"))
    names = ["données/mon dossier/a", "données/mon dossier2/a", "donnees/mon dossier/a"]
    assert accepted(filt, names) == ["données/mon dossier/a"]


# --- EntryFilter.accepts: dates -------------------------------------------------------------


def test_include_after_is_inclusive() -> None:
    filt = EntryFilter(spec(include_after="2024-01-31T10:00:00Z"))
    edge = ts("2024-01-31T10:00:00+00:00")
    assert filt.accepts("x", edge)
    assert filt.accepts("x", edge + 0.001)
    assert not filt.accepts("x", edge - 0.001)


def test_include_before_is_inclusive() -> None:
    filt = EntryFilter(spec(include_before="2024-01-31T10:00:00Z"))
    edge = ts("2024-01-31T10:00:00+00:00")
    assert filt.accepts("x", edge)
    assert filt.accepts("x", edge - 1)
    assert not filt.accepts("x", edge + 0.001)


def test_date_window() -> None:
    filt = EntryFilter(spec(include_after="2024-01-01", include_before="2024-02-01"))
    assert filt.accepts("x", ts("2024-01-15T00:00:00+00:00"))
    assert not filt.accepts("x", ts("2023-12-31T23:59:59+00:00"))
    assert not filt.accepts("x", ts("2024-02-01T00:00:01+00:00"))


def test_offset_bound_compares_instants() -> None:
    filt = EntryFilter(spec(include_after="2024-01-31T12:00:00+02:00"))
    assert filt.accepts("x", ts("2024-01-31T10:00:00+00:00"))
    assert not filt.accepts("x", ts("2024-01-31T09:59:59+00:00"))


def test_unknown_mtime_passes_date_filters() -> None:
    filt = EntryFilter(spec(include_after="2024-01-01", include_before="2024-01-02"))
    assert filt.accepts("x", None)


def test_unknown_mtime_does_not_bypass_other_filters() -> None:
    filt = EntryFilter(spec(include_pattern="*.txt", include_after="2024-01-01"))
    assert filt.accepts("a.txt", None)
    assert not filt.accepts("a.log", None)


def test_all_filters_must_pass() -> None:
    filt = EntryFilter(
        spec(
            include_pattern="*.txt",
            exclude_pattern="tmp*",
            include_path="docs",
            exclude_path="docs/old",
            include_after="2024-01-01",
        )
    )
    new = ts("2024-06-01T00:00:00+00:00")
    old = ts("2023-06-01T00:00:00+00:00")
    assert filt.accepts("docs/a.txt", new)
    assert not filt.accepts("docs/a.txt", old)
    assert not filt.accepts("docs/a.log", new)
    assert not filt.accepts("docs/tmp1.txt", new)
    assert not filt.accepts("docs/old/a.txt", new)
    assert not filt.accepts("other/a.txt", new)


# --- EntryFilter.may_descend ----------------------------------------------------------------


def test_may_descend_everywhere_without_path_filters() -> None:
    filt = EntryFilter(spec(include_pattern="*.txt", include_after="2024-01-01"))
    assert all(filt.may_descend(d) for d in ["", "a", "a/b", "x y/é"])


def test_may_descend_not_into_excluded_paths() -> None:
    filt = EntryFilter(spec(exclude_path="a/b"))
    assert filt.may_descend("")
    assert filt.may_descend("a")
    assert not filt.may_descend("a/b")
    assert not filt.may_descend("a/b/c")
    assert filt.may_descend("a/bc")
    assert filt.may_descend("b")


def test_may_descend_to_ancestors_and_below_include_paths() -> None:
    filt = EntryFilter(spec(include_path="a/b/c;x"))
    assert filt.may_descend("")
    assert filt.may_descend("a")
    assert filt.may_descend("a/b")
    assert filt.may_descend("a/b/c")
    assert filt.may_descend("a/b/c/d")
    assert filt.may_descend("x")
    assert filt.may_descend("x/y")
    assert not filt.may_descend("a/bb")
    assert not filt.may_descend("a/b/cd")
    assert not filt.may_descend("ab")
    assert not filt.may_descend("y")
    assert not filt.may_descend("xx")


def test_may_descend_exclude_inside_include() -> None:
    filt = EntryFilter(spec(include_path="a", exclude_path="a/skip"))
    assert filt.may_descend("a")
    assert filt.may_descend("a/keep")
    assert not filt.may_descend("a/skip")
    assert not filt.may_descend("a/skip/deeper")
    assert not filt.may_descend("b")


def test_may_descend_exclude_above_include() -> None:
    filt = EntryFilter(spec(include_path="a/b", exclude_path="a"))
    assert not filt.may_descend("a")
    assert not filt.may_descend("a/b")


def test_may_descend_tolerates_trailing_slash() -> None:
    filt = EntryFilter(spec(include_path="a/b", exclude_path="a/b/skip"))
    assert filt.may_descend("a/")
    assert filt.may_descend("/")
    assert not filt.may_descend("a/b/skip/")
    assert not filt.may_descend("c/")


def test_may_descend_agrees_with_accepts() -> None:
    # Pruning must never hide an entry that accepts() would take.
    filt = EntryFilter(spec(include_path="a/b;c", exclude_path="a/b/x;c/d"))
    dirs = ["a", "a/b", "a/b/x", "a/b/y", "a/bb", "c", "c/d", "c/e", "e"]
    for rel_dir in dirs:
        for leaf in ["f", "x/f"]:
            path = f"{rel_dir}/{leaf}"
            if filt.accepts(path, None):
                assert filt.may_descend(rel_dir), path
