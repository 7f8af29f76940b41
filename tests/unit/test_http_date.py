"""`azxfer.transport.dates`, checked against the standard library's `email.utils`."""

from __future__ import annotations

import random
from email.utils import formatdate, parsedate_to_datetime

import pytest

from azxfer.transport.dates import format_http_date, parse_http_date

# Every weekday and month, leap days, the epoch, and dates past 2038.
SECONDS = [0, 951782400, 1709164799, 1709164800, 2147483648, 4102444799] + [
    random.Random(3).randrange(0, 4_102_444_800) for _ in range(60)
]


@pytest.mark.parametrize("seconds", SECONDS)
def test_format_and_parse_agree_with_email_utils(seconds: int) -> None:
    text = format_http_date(seconds)
    assert text == formatdate(seconds, usegmt=True)
    assert parse_http_date(text) == parsedate_to_datetime(text).timestamp() == seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("Sunday, 06-Nov-94 08:49:37 GMT", 784111777),  # RFC 850
        ("Sun Nov  6 08:49:37 1994", 784111777),  # asctime, no zone: UTC
        ("Sun, 06 Nov 1994 09:49:37 +0100", 784111777),
        ("Sun, 06 Nov 1994 08:49:37 -0000", 784111777),
    ],
)
def test_other_forms_are_still_understood(text: str, seconds: int) -> None:
    assert parse_http_date(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "yesterday", "Sun, 31 Feb 2024 08:49:37 GMT", "Sun, 06 Nov 1994 25:00:00 GMT"]
)
def test_what_is_no_date_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_http_date(text)
