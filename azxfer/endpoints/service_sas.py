"""What every service SAS minted from an account key shares ("Create a service SAS"): the
HMAC-SHA256 signature of a newline-joined string-to-sign, the time format, the query, and
the read grant a server-side copy gives the destination's service (`ReadGrant`).

Each service's own string-to-sign (its field order and canonical resource) is its driver's:
Blob's `endpoints.blob.sas`, Azure Files' `endpoints.files.sas`. No I/O of its own: a token and a
delegation key come from the callables the driver gives.

A source signed in with an Entra ID token has no key to mint from. Its grant is, in order: a
user delegation SAS (Blob storage only: a key asked of the service with the token, then SAS
tokens signed with it), else the token itself, which the destination's service is given in
the copy request's x-ms-copy-source-authorization header (the From-URL operations take it;
Copy Blob and Copy File do not).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote

from azxfer.credentials import Credential
from azxfer.errors import AzxferError, Interrupted
from azxfer.transport.signing import Authorizer

log = logging.getLogger("azxfer.s2s")


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
# Mints a read-only user delegation SAS valid from `start` to at most `expiry` (asking the
# service for a delegation key when it has none that lasts): the query string.
DelegatedMint = Callable[[datetime, datetime], Awaitable[str]]
# The source's current "Bearer <token>" (renewed before it expires).
BearerOf = Callable[[], Awaitable[str]]


class SourceRead(NamedTuple):
    """How another service may read a source's objects: a SAS for their URLs (`query`), or a
    token for the copy request's x-ms-copy-source-authorization (`authorization`); neither
    for anonymous access. Both are secrets."""

    query: str | None = None
    authorization: str | None = None


class ReadGrant:
    """The authorization that lets another service read one source location's objects: the
    credential's own SAS, a short-lived read-only SAS minted from its account key or, for an
    Entra ID token, from a user delegation key (each replaced before it expires; never
    logged), the token itself, or none for anonymous access."""

    def __init__(
        self,
        credential: Credential | None,
        mint: Mint,
        delegated: DelegatedMint | None = None,
        bearer: BearerOf | None = None,
    ) -> None:
        self.credential = credential
        self._mint = mint
        self._delegated = delegated
        self._bearer = bearer
        self._minted: str | None = None
        self._minted_at = 0.0
        self._lock: asyncio.Lock | None = None
        # Why the service gave no delegation key (then the token is handed on instead).
        self.no_delegation: str | None = None

    @property
    def server_readable(self) -> bool:
        """Whether a service elsewhere can be given what it needs to read the source."""
        kind = self.credential.kind if self.credential else "anonymous"
        if kind == "token":
            return self._delegated is not None or self._bearer is not None
        return kind in ("sas", "shared_key", "anonymous")

    def query(self) -> str | None:
        """The SAS to append to an object's URL (None: anonymous access needs none), for a
        SAS or an account key."""
        credential = self.credential
        if credential is None or credential.kind == "anonymous":
            return None
        if credential.kind == "sas":
            return credential.sas
        if self._stale():
            now = datetime.now(UTC)
            self._minted = self._mint(now - CLOCK_SKEW, now + SAS_LIFETIME)
            self._minted_at = time.monotonic()
        return self._minted

    async def read(self) -> SourceRead:
        """How the destination's service may read the source now, by any credential."""
        credential = self.credential
        if credential is None or credential.kind != "token":
            return SourceRead(self.query())
        if self._delegated is not None and self.no_delegation is None:
            try:
                return SourceRead(await self._delegated_query())
            except Interrupted:
                raise
            except AzxferError as exc:
                self.no_delegation = str(exc)
                log.info("no user delegation SAS (%s): handing on the token instead", exc)
        if self._bearer is None:
            return SourceRead()
        return SourceRead(authorization=await self._bearer())

    async def _delegated_query(self) -> str:
        """The current user delegation SAS: one request for a key, however many objects
        wait for it."""
        assert self._delegated is not None
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._stale():
                now = datetime.now(UTC)
                self._minted = await self._delegated(now - CLOCK_SKEW, now + SAS_LIFETIME)
                self._minted_at = time.monotonic()
        assert self._minted is not None
        return self._minted

    def _stale(self) -> bool:
        return (
            self._minted is None
            or time.monotonic() - self._minted_at > SAS_LIFETIME.total_seconds() / 2
        )


async def bearer_authorization(auth: Authorizer) -> str:
    """The "Bearer <token>" that `auth` (a `transport.bearer.Bearer`) authorizes requests
    with now, renewed first if it is about to expire."""
    await auth.ready()
    headers: dict[str, str] = {}
    auth.apply("GET", "/", {}, headers)
    return headers["Authorization"]
