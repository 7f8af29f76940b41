"""The SDK path's retry decision and Retry-After reading (transport.sdk_retry)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from azxfer.transport.sdk_retry import retry_after, should_retry


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (200, {}, False),
        (404, {}, False),
        (409, {}, False),
        (408, {}, True),
        (429, {}, True),
        (500, {}, True),
        (503, {}, True),
        (501, {}, False),
        (505, {}, False),
        (409, {"x-ms-copy-source-error-code": "ServerBusy"}, True),
        (409, {"x-ms-copy-source-error-code": "BlobNotFound"}, False),
    ],
)
def test_should_retry(status: int, headers: dict[str, str], expected: bool) -> None:
    assert should_retry(status, headers) is expected


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "2", "retry-after-ms": "9000"}, 2.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
    ],
)
def test_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(SimpleNamespace(headers=headers)) == seconds
    assert retry_after(None) is None
