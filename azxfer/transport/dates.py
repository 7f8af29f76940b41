"""HTTP dates in the one form Azure Storage writes and expects: "Sun, 06 Nov 1994 08:49:37 GMT"
(RFC 7231's IMF-fixdate).

`email.utils` does this and more, but importing it costs every blob job 4–7 ms of its start
(it pulls in the email package's charsets and encoders); any other form of date is still
handed to it, imported then.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBERS = {name: number for number, name in enumerate(_MONTHS, 1)}


def format_http_date(seconds: int) -> str:
    """POSIX seconds as an IMF-fixdate."""
    t = time.gmtime(seconds)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def parse_http_date(value: str) -> float:
    """An HTTP date as POSIX seconds; ValueError if it is no date."""
    parts = value.split()
    if len(parts) == 6 and parts[5] == "GMT" and parts[2] in _MONTH_NUMBERS:
        hms = parts[4].split(":")
        if len(hms) == 3 and parts[1].isdigit() and parts[3].isdigit():
            try:
                return datetime(
                    int(parts[3]),
                    _MONTH_NUMBERS[parts[2]],
                    int(parts[1]),
                    int(hms[0]),
                    int(hms[1]),
                    int(hms[2]),
                    tzinfo=UTC,
                ).timestamp()
            except ValueError:
                pass  # out of range: let the general parser say so
    from email.utils import parsedate_to_datetime  # the obsolete forms, and errors

    parsed = parsedate_to_datetime(value)
    if parsed.tzinfo is None:  # "-0000": UTC, by RFC 5322
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
