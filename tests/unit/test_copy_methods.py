"""Which copy methods Blob storage offers, and what a job learns of them: unproven ones get a
short 5xx retry, then drop."""

from __future__ import annotations

from azxfer.endpoints.blob.copy_methods import ladder
from azxfer.engine.copy_methods import UNPROVEN_ATTEMPTS, UNPROVEN_FAILURES, MethodTrust
from azxfer.models import BlobProps, BlobType, Entry

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


def _names(size: int, dest: BlobType, source: BlobType | None, source_is_blob: bool) -> list[str]:
    entry = Entry("a", "a", size, service=BlobProps(blob_type=source) if source else None)
    return [m.value for m in ladder(entry, dest, 1024, source_is_blob)]


def test_blob_storage_lists_its_copy_methods_best_first() -> None:
    whole = ["Put Blob From URL", "Copy Blob From URL", "Put Block From URL", "Copy Blob"]
    assert _names(1024, BlobType.BLOCK, BlobType.BLOCK, True) == whole
    assert _names(1025, BlobType.BLOCK, None, True) == ["Put Block From URL", "Copy Blob"]
    assert _names(9, BlobType.APPEND, BlobType.APPEND, True) == [
        "Append Block From URL",
        "Copy Blob",
    ]
    assert _names(9, BlobType.PAGE, BlobType.PAGE, True) == ["Put Page From URL", "Copy Blob"]


def test_copy_blob_and_page_ranges_need_a_storage_source_of_the_same_type() -> None:
    assert _names(9, BlobType.BLOCK, None, False) == ["Put Blob From URL", "Put Block From URL"]
    assert _names(9, BlobType.PAGE, BlobType.BLOCK, True) == []
    assert _names(9, BlobType.APPEND, None, False) == ["Append Block From URL"]
