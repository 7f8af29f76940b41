"""An azure-identity credential whose failures arrive as one-line CredentialErrors that tell
the user what to do: sign in again, or check the identity endpoint it names."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from azxfer.errors import CredentialError

T = TypeVar("T")
RELOGIN = "run `azxfer login`"
# Entra ID's codes for a sign-in that can no longer be refreshed: the refresh token expired
# (70008), was revoked (50173, 50078 re-authentication), or the grant is invalid (invalid_grant).
_EXPIRED_MARKERS = ("invalid_grant", "AADSTS70008", "AADSTS50173", "AADSTS700082", "AADSTS50078")


class GuardedCredential:
    """Wraps a synchronous azure-identity credential: `get_token` is a coroutine that runs it
    on a worker thread (so Bearer awaits it), `get_token_sync` runs it here."""

    def __init__(self, credential: Any, endpoint: str, login_type: str) -> None:
        self._credential = credential
        self.endpoint = endpoint  # the identity endpoint it talks to, for messages
        self.login_type = login_type

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """An AccessToken for `scopes`, fetched off the event loop."""
        return await asyncio.to_thread(self.get_token_sync, *scopes, **kwargs)

    def get_token_sync(self, *scopes: str, **kwargs: Any) -> Any:
        """An AccessToken for `scopes`; azure-identity's errors become CredentialErrors."""
        return self.run(lambda credential: credential.get_token(*scopes, **kwargs))

    def run(self, action: Callable[[Any], T]) -> T:
        """`action(credential)`, its failures classified (e.g. a device code sign-in)."""
        try:
            return action(self._credential)
        except CredentialError:
            raise
        except Exception as exc:  # azure-identity raises several families; classified here
            raise classify(exc, self.endpoint, self.login_type) from None

    def __repr__(self) -> str:
        return f"GuardedCredential({self.login_type!r}, {self.endpoint!r})"


def classify(exc: Exception, endpoint: str, login_type: str) -> CredentialError:
    """What a failed token request means, as one line (never the token or a secret: the
    service's words are cut to their first line, which names codes, not values)."""
    from azure.core.exceptions import ServiceRequestError
    from azure.identity import AuthenticationRequiredError, CredentialUnavailableError

    text = _first_line(exc)
    if isinstance(exc, AuthenticationRequiredError):
        return CredentialError(f"the sign-in has expired: {RELOGIN}")
    if _unreachable(exc, ServiceRequestError):
        return CredentialError(f"cannot reach the identity endpoint {endpoint}: {text}")
    if any(marker.lower() in str(exc).lower() for marker in _EXPIRED_MARKERS):
        return CredentialError(f"the sign-in has expired or was revoked: {RELOGIN} ({text})")
    if isinstance(exc, CredentialUnavailableError):
        return CredentialError(f"the {login_type} sign-in is unavailable here: {text}")
    return CredentialError(f"Entra ID refused the {login_type} sign-in: {text}")


def _unreachable(exc: BaseException, request_error: type[BaseException]) -> bool:
    """Whether a failure to connect lies under `exc` (azure-identity wraps azure-core's
    ServiceRequestError in a ClientAuthenticationError)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (request_error, ConnectionError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
