"""What a job learns of the copy methods: unproven ones get a short 5xx retry, then drop."""

from __future__ import annotations

from azxfer.engine.copy_methods import UNPROVEN_ATTEMPTS, UNPROVEN_FAILURES, MethodTrust

PUT = "Put Blob From URL"


def test_an_unproven_method_with_a_fallback_gets_few_attempts() -> None:
    trust = MethodTrust()
    assert trust.attempts(PUT, has_fallback=True) == UNPROVEN_ATTEMPTS
    assert trust.attempts(PUT, has_fallback=False) is None  # the last resort retries in full


def test_a_method_is_dropped_once_after_repeated_failures() -> None:
    trust = MethodTrust()
    verdicts = [trust.failed(PUT) for _ in range(UNPROVEN_FAILURES + 2)]
    assert verdicts == [False] * (UNPROVEN_FAILURES - 1) + [True, False, False]


def test_once_it_worked_a_method_keeps_the_full_retries_and_is_never_dropped() -> None:
    trust = MethodTrust()
    trust.failed(PUT)
    trust.succeeded(PUT)
    assert trust.attempts(PUT, has_fallback=True) is None
    assert not any(trust.failed(PUT) for _ in range(UNPROVEN_FAILURES + 1))
