"""Unit tests for azxfer.plan.compare.OverwritePolicy: every --overwrite mode and the prompt."""

from __future__ import annotations

import pytest

from azxfer.models import Entry
from azxfer.options import Overwrite
from azxfer.plan.compare import Decision, OverwritePolicy

DECLINED = "the destination exists (declined at the prompt)"


def entry(mtime: float | None = 100.0, name: str = "f") -> Entry:
    return Entry(ref=name, rel_path=name, size=1, mtime=mtime)


class Asker:
    """Answers prompts from a script and records what was asked."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, dest: str) -> str:
        self.asked.append(dest)
        return self.answers.pop(0)


# --- true / false ---------------------------------------------------------------------------


def test_true_always_transfers_without_lookup_or_asking() -> None:
    ask = Asker()
    policy = OverwritePolicy(Overwrite.TRUE, ask)
    assert policy.needs_destination is False
    assert policy.decide(entry(), entry(), "d") == Decision(True)
    assert policy.decide(entry(), None, "d") == Decision(True)
    assert ask.asked == []


@pytest.mark.parametrize("mode", [Overwrite.FALSE, Overwrite.PROMPT, Overwrite.IF_SOURCE_NEWER])
def test_other_modes_need_destination(mode: Overwrite) -> None:
    assert OverwritePolicy(mode, None).needs_destination is True


def test_false_skips_existing() -> None:
    policy = OverwritePolicy(Overwrite.FALSE, None)
    assert policy.decide(entry(), entry(), "d") == Decision(
        False, "the destination exists (--overwrite=false)"
    )
    assert policy.decide(entry(), None, "d") == Decision(True)


# --- ifSourceNewer --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "dst", "transfer"),
    [
        (200.0, 100.0, True),
        (100.5, 100.0, True),
        (100.0, 100.0, False),
        (50.0, 100.0, False),
        (None, 100.0, True),
        (100.0, None, True),
        (None, None, True),
    ],
)
def test_if_source_newer(src: float | None, dst: float | None, transfer: bool) -> None:
    policy = OverwritePolicy(Overwrite.IF_SOURCE_NEWER, None)
    expected = (
        Decision(True)
        if transfer
        else Decision(False, "the destination is not older than the source")
    )
    assert policy.decide(entry(src), entry(dst), "d") == expected


def test_if_source_newer_transfers_when_nothing_exists() -> None:
    policy = OverwritePolicy(Overwrite.IF_SOURCE_NEWER, None)
    assert policy.decide(entry(1.0), None, "d") == Decision(True)


# --- prompt ---------------------------------------------------------------------------------


def run_prompt(answers: tuple[str, ...], count: int) -> tuple[list[bool], list[str]]:
    ask = Asker(*answers)
    policy = OverwritePolicy(Overwrite.PROMPT, ask)
    results = [policy.decide(entry(), entry(), f"d{i}").transfer for i in range(count)]
    return results, ask.asked


def test_prompt_yes_answers_one_at_a_time() -> None:
    results, asked = run_prompt(("y", "y", "y"), 3)
    assert results == [True, True, True]
    assert asked == ["d0", "d1", "d2"]


def test_prompt_no_answers_one_at_a_time() -> None:
    ask = Asker("n", "n")
    policy = OverwritePolicy(Overwrite.PROMPT, ask)
    assert policy.decide(entry(), entry(), "d0") == Decision(False, DECLINED)
    assert policy.decide(entry(), entry(), "d1") == Decision(False, DECLINED)
    assert ask.asked == ["d0", "d1"]


def test_prompt_all_stops_asking_and_transfers() -> None:
    results, asked = run_prompt(("n", "y", "a"), 6)
    assert results == [False, True, True, True, True, True]
    assert asked == ["d0", "d1", "d2"]


def test_prompt_none_stops_asking_and_skips() -> None:
    ask = Asker("y", "N")
    policy = OverwritePolicy(Overwrite.PROMPT, ask)
    decisions = [policy.decide(entry(), entry(), f"d{i}") for i in range(5)]
    assert decisions == [Decision(True)] + [Decision(False, DECLINED)] * 4
    assert ask.asked == ["d0", "d1"]


def test_prompt_unknown_answer_declines_and_asks_again() -> None:
    results, asked = run_prompt(("maybe", "Y", "", "y"), 4)
    assert results == [False, False, False, True]
    assert asked == ["d0", "d1", "d2", "d3"]


def test_prompt_not_asked_when_nothing_exists() -> None:
    ask = Asker()
    policy = OverwritePolicy(Overwrite.PROMPT, ask)
    assert policy.decide(entry(), None, "d0") == Decision(True)
    assert ask.asked == []


def test_prompt_all_answer_does_not_apply_to_a_new_policy() -> None:
    first = OverwritePolicy(Overwrite.PROMPT, Asker("a"))
    assert first.decide(entry(), entry(), "d").transfer
    second_ask = Asker("n")
    second = OverwritePolicy(Overwrite.PROMPT, second_ask)
    assert not second.decide(entry(), entry(), "d").transfer
    assert second_ask.asked == ["d"]


def test_prompt_without_ask_function_declines_everything() -> None:
    policy = OverwritePolicy(Overwrite.PROMPT, None)
    for i in range(3):
        assert policy.decide(entry(), entry(), f"d{i}") == Decision(False, DECLINED)
    assert policy.decide(entry(), None, "new") == Decision(True)
