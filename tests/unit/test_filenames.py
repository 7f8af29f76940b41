"""Unit tests for azxfer.plan.filenames: names as a case-insensitive share stores them."""

from __future__ import annotations

import itertools

import pytest

from azxfer.endpoints.base import SMB_NAME_RULES, NameRules
from azxfer.models import Entry
from azxfer.plan.blobnames import BlobNamer
from azxfer.plan.filenames import CaseTwins, FileNamer, NameTranslator, restricts
from azxfer.plan.filters import EntryFilter, FilterSpec
from azxfer.plan.planner import namer_for

ROOT = "/src/"


def entry(rel: str) -> Entry:
    return Entry(ROOT + rel, rel, 1)


def names(*rels: str) -> dict[str, tuple[str, str | None]]:
    """{source rel: (stored rel, conflict)} for `rels` named in this order by one namer."""
    namer = FileNamer(SMB_NAME_RULES)
    return {rel: (n.rel, n.conflict) for rel in rels for n in [namer.name(entry(rel))]}


@pytest.mark.parametrize(
    ("char", "lookalike"),
    [
        ('"', "\uff02"),
        ("*", "\uff0a"),
        (":", "\uff1a"),
        ("<", "\uff1c"),
        (">", "\uff1e"),
        ("?", "\uff1f"),
        ("|", "\uff5c"),
        ("\\", "\uff3c"),
    ],
)
def test_each_forbidden_character_becomes_its_full_width_lookalike(
    char: str, lookalike: str
) -> None:
    assert names(f"d{char}/a{char}b.txt")[f"d{char}/a{char}b.txt"] == (
        f"d{lookalike}/a{lookalike}b.txt",
        None,
    )


@pytest.mark.parametrize("code", [*range(0x01, 0x20), 0x7F])
def test_control_characters_become_control_pictures(code: int) -> None:
    picture = "\u2421" if code == 0x7F else chr(0x2400 + code)
    translator = NameTranslator(SMB_NAME_RULES)
    assert translator.component(f"a{chr(code)}b") == f"a{picture}b"


@pytest.mark.parametrize(
    ("source", "stored"),
    [
        ("name.", "name\uff0e"),
        ("name ", "name\u2420"),
        ("a..", "a.\uff0e"),
        ("dir./sub /f. ", "dir\uff0e/sub\u2420/f.\u2420"),
        (".hidden", ".hidden"),  # a leading dot is allowed
        (" lead", " lead"),
        ("a.b/c d", "a.b/c d"),
    ],
)
def test_a_trailing_dot_or_space_is_translated_in_every_component(source: str, stored: str) -> None:
    assert names(source)[source] == (stored, None)


def test_plain_names_are_unchanged_and_say_no_reason_is_needed() -> None:
    assert names("Docs/Report 2024.txt")["Docs/Report 2024.txt"] == ("Docs/Report 2024.txt", None)
    assert FileNamer(SMB_NAME_RULES).stored("x/y.z") == "x/y.z"


def test_the_reason_names_what_the_destination_cannot_store() -> None:
    reason = FileNamer(SMB_NAME_RULES).reason("a:b/c*d.")
    assert "':'" in reason and "'*'" in reason and "ending in '.'" in reason, reason


def test_a_path_given_whole_is_translated_per_component() -> None:
    assert FileNamer(SMB_NAME_RULES).stored("q: a/b?. ") == "q\uff1a a/b?.\u2420".replace(
        "?", "\uff1f"
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [("A.txt", "a.txt"), ("a.txt", "A.txt"), ("d/Stra\u00dfe", "d/STRASSE")],
)
def test_of_two_case_twins_the_first_enumerated_keeps_the_name(first: str, second: str) -> None:
    got = names(first, second)
    assert got[first] == (first, None)
    stored, conflict = got[second]
    assert stored == second
    assert conflict is not None and ROOT + first in conflict, conflict


def test_a_translated_name_landing_on_an_existing_lookalike_is_a_conflict() -> None:
    got = names("a\uff1ab", "A:B")
    assert got["a\uff1ab"] == ("a\uff1ab", None)
    assert got["A:B"][0] == "A\uff1aB"
    assert ROOT + "a\uff1ab" in (got["A:B"][1] or "")


def test_twin_folders_fail_every_file_under_the_second() -> None:
    got = names("Dir/x", "Dir/y", "dir/x", "dir/z", "dir/sub/w", "other/x")
    assert got["Dir/x"] == ("Dir/x", None) and got["Dir/y"] == ("Dir/y", None)
    for rel in ("dir/x", "dir/z", "dir/sub/w"):
        stored, conflict = got[rel]
        assert stored == rel
        assert conflict is not None and "folder 'dir'" in conflict and "'Dir'" in conflict
    assert got["other/x"] == ("other/x", None)


def test_a_file_and_a_folder_of_one_name_case_insensitively_conflict() -> None:
    got = names("readme", "README/a.txt")
    assert got["readme"][1] is None
    assert got["README/a.txt"][1] is not None


def test_the_same_name_in_different_folders_is_no_conflict() -> None:
    got = names("a/x.txt", "a/b/X.txt", "c/X.TXT", "x.txt")
    assert all(conflict is None for _, conflict in got.values()), got


def test_a_folder_listed_again_after_it_was_left_fails_its_files() -> None:
    got = names("d/a", "e/b", "d/c")
    assert got["d/a"][1] is None and got["e/b"][1] is None
    assert "again" in (got["d/c"][1] or ""), got


def test_memory_holds_only_the_folders_on_the_current_path() -> None:
    namer = FileNamer(SMB_NAME_RULES)
    for i, j in itertools.product(range(50), range(20)):
        assert namer.name(entry(f"d{i}/sub/f{j}")).conflict is None
    stack = namer.folders.stack
    assert [f.source for f in stack] == ["", "d49", "sub"]
    assert len(stack[0].children) == 50  # the root's children: one name per folder
    assert len(stack[2].children) == 20


def test_case_sensitive_rules_keep_twins_apart() -> None:
    namer = FileNamer(NameRules(forbidden=":"))
    assert namer.name(entry("A")).conflict is None
    assert namer.name(entry("a")).conflict is None


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ("x" * 255, False),
        ("x" * 256, True),
        ("d/" + "\u00e9" * 255, False),
        ("d/" + "\U0001f600" * 128, True),  # 256 UTF-16 code units
        ("/".join(["y" * 200] * 10) + "/" + "z" * 38, False),  # 2,048
        ("/".join(["y" * 200] * 10) + "/" + "z" * 39, True),
    ],
)
def test_a_component_or_path_over_the_limits_is_refused(path: str, refused: bool) -> None:
    reason = FileNamer(SMB_NAME_RULES).refusal(path)
    assert (reason is not None) == refused, (len(path), reason)


def test_lengths_count_after_translation() -> None:
    namer = FileNamer(SMB_NAME_RULES)
    stored = namer.name(entry("a" * 254 + ":")).rel
    assert namer.refusal(stored) is None
    assert namer.refusal(namer.stored("\U0001f600" * 127 + "::")) is not None  # 256 units


def test_namers_are_chosen_by_the_rules_a_destination_declares() -> None:
    class Declares:
        def __init__(self, rules: NameRules) -> None:
            self.rules = rules

        def name_rules(self) -> NameRules:
            return self.rules

        def check_writable(self) -> None: ...

        async def prepare_destination(self, multiple: bool) -> None: ...

        async def target_for_single(self, source_name: str) -> str:
            return source_name

        def join(self, rel_path: str) -> str:
            return rel_path

    walk = (EntryFilter(FilterSpec()), True, False)
    assert isinstance(namer_for(Declares(SMB_NAME_RULES), True, *walk), FileNamer)
    assert isinstance(namer_for(Declares(SMB_NAME_RULES), False, *walk), FileNamer)
    assert isinstance(namer_for(Declares(NameRules(separators="\\")), True, *walk), BlobNamer)
    assert namer_for(Declares(NameRules(separators="\\")), False, *walk) is None
    assert namer_for(Declares(NameRules()), True, *walk) is None
    assert not restricts(NameRules()) and restricts(SMB_NAME_RULES)


def merged(*items: tuple[str, bool]) -> list[str]:
    """Destination-only paths CaseTwins protects, fed (rel, from_source) in order."""
    twins = CaseTwins(SMB_NAME_RULES)
    return [path for rel, src in items for path in twins.add(rel, src)]


def test_a_destination_only_case_twin_of_a_source_file_is_protected_in_either_order() -> None:
    assert merged(("A.txt", False), ("a.txt", True)) == ["A.txt"]
    assert merged(("a.txt", True), ("A.txt", False)) == ["A.txt"]


def test_a_destination_only_twin_folder_is_protected_whole_once() -> None:
    got = merged(("Dir/x", False), ("Dir/y", False), ("b.txt", True), ("dir/x", True))
    assert got == ["Dir"]


def test_a_twin_under_a_shared_folder_is_protected_at_its_own_level() -> None:
    got = merged(("d/X", False), ("d/e", True), ("d/x", True))
    assert got == ["d/X"]


def test_a_destination_only_lookalike_of_a_translated_source_name_is_protected() -> None:
    assert merged(("A\uff1aB", False), ("a:b", True)) == ["A\uff1aB"]


def test_unrelated_destination_only_entries_are_not_protected() -> None:
    assert merged(("a/x", True), ("b", False), ("c/y", False), ("e", True)) == []
    assert merged(("c/y", False), ("C", True)) == ["c"]  # a file twin of a folder
