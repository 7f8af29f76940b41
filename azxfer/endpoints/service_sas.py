"""What every service SAS minted from an account key shares ("Create a service SAS"): the
HMAC-SHA256 signature of a newline-joined string-to-sign, the time format, the query, and
the read grant a server-side copy gives the destination's service (`ReadGrant`).

Each service's own string-to-sign (its field order and canonical resource) is its driver's:
Blob's `endpoints.blob.sas`, Azure Files' `endpoints.files.sas`. Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from azxfer.credentials import Credential


def sas_time(moment: datetime) -> str:
    """ISO 8601 in UTC to the second, as the service expects (`2026-11-22T06:00:00Z`)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def signed_query(key: str, string_to_sign: tuple[str, ...], fields: dict[str, str]) -> str:
    """The query string of `fields` (in their order) plus `sig`: the base64 account `key`'s
    HMAC-SHA256 of the newline-joined `string_to_sign`."""
    message = "\n".join(string_to_sign).encode("utf-8")
    digest = hmac.new(base64.b64decode(key), message, hashlib.sha256).digest()
    signed = {**fields, "sig": base64.b64encode(digest).decode()}
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in signed.items())


# Minted tokens live this long, and are replaced when half of that has passed.
SAS_LIFETIME = timedelta(hours=4)
# Minted tokens start this far in the past: the service's clock may be behind ours.
CLOCK_SKEW = timedelta(minutes=15)

# Mints a read-only token valid from `start` to `expiry`: the query string.
Mint = Callable[[datetime, datetime], str]


class ReadGrant:
    """The query that lets another service read one source location's objects: the
    credential's own SAS, a short-lived read-only SAS minted from its account key (replaced
    before it expires; never logged), or none for anonymous access."""

    def __init__(self, credential: Credential | None, mint: Mint) -> None:
        self.credential = credential
        self._mint = mint
        self._minted: str | None = None
        self._minted_at = 0.0

    @property
    def server_readable(self) -> bool:
        """Whether a service elsewhere can be given a URL it may read (not for Entra tokens)."""
        kind = self.credential.kind if self.credential else "anonymous"
        return kind in ("sas", "shared_key", "anonymous")

    def query(self) -> str | None:
        """The SAS to append to an object's URL (None: anonymous access needs none)."""
        credential = self.credential
        if credential is None or credential.kind == "anonymous":
            return None
        if credential.kind == "sas":
            return credential.sas
        if self._minted is None or time.monotonic() - self._minted_at > SAS_LIFETIME.seconds / 2:
            now = datetime.now(UTC)
            self._minted = self._mint(now - CLOCK_SKEW, now + SAS_LIFETIME)
            self._minted_at = time.monotonic()
        return self._minted
