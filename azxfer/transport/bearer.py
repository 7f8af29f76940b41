"""Entra ID (OAuth 2.0) authorization: a Bearer token, fetched once and refreshed before it
expires, shared by every request of a job to the storage services.

The token comes from an azure-identity style credential: an object whose `get_token(*scopes)`
returns an `AccessToken(token, expires_on)`, as a coroutine (azure.identity.aio) or not
(azure.identity, then called on a worker thread so the event loop never waits on it).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any

from azxfer.errors import CredentialError

STORAGE_SCOPE = "https://storage.azure.com/.default"
# As azure-core's BearerTokenCredentialPolicy: a token with less than this left is renewed
# before it is used, so no request goes out with a token that expires on its way.
REFRESH_MARGIN = 300.0


class Bearer:
    """Authorizes with `Authorization: Bearer <token>` from `credential`."""

    def __init__(self, credential: Any, scope: str = STORAGE_SCOPE) -> None:
        if credential is None or not hasattr(credential, "get_token"):
            raise CredentialError("an Entra ID credential is needed (azxfer login)")
        self._credential = credential
        self._scope = scope
        self._token = ""
        self._expires_on = 0.0
        self._margin = REFRESH_MARGIN
        self._lock: asyncio.Lock | None = None

    async def ready(self) -> None:
        """Fetch a token if there is none or it expires within the margin; one fetch at a
        time, however many requests wait for it."""
        if self._fresh():
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not self._fresh():
                await self._fetch()

    def apply(self, method: str, path: str, query: dict[str, str], headers: dict[str, str]) -> str:
        """Add the Authorization header (after `ready`)."""
        headers["Authorization"] = f"Bearer {self._token}"
        return ""

    def _fresh(self) -> bool:
        return bool(self._token) and self._expires_on - time.time() > self._margin

    async def _fetch(self) -> None:
        get_token = self._credential.get_token
        try:
            if inspect.iscoroutinefunction(get_token):
                access = await get_token(self._scope)
            else:
                access = await asyncio.to_thread(get_token, self._scope)
        except CredentialError:
            raise
        except Exception as exc:  # azure-identity raises its own (ClientAuthenticationError…)
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CredentialError(f"could not get an Entra ID token: {message}") from None
        self._token = access.token
        self._expires_on = float(access.expires_on)
        # A token shorter-lived than twice the margin (a test's, a tight policy's) is renewed
        # at half its life, not on every request.
        self._margin = min(REFRESH_MARGIN, max(0.0, self._expires_on - time.time()) / 2)

    def __repr__(self) -> str:
        return "Bearer(<token redacted>)"
