"""The persistent token cache that keeps a user's sign-in between runs (MSAL's refresh
token), through msal-extensions as azure-identity's TokenCachePersistenceOptions does.

Encrypted by the platform where it can be (libsecret on Linux, the Keychain on macOS, DPAPI
on Windows). Where it cannot (a Linux server or container without a keyring daemon or
PyGObject), azxfer refuses unless the user opts in, and then keeps the cache as a plain file
in azxfer's state directory, readable by its owner only: azure-identity's own plain fallback
would write to ~/.IdentityService, where `azxfer logout` should not have to go looking.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from azxfer.errors import CredentialError
from azxfer.identity.record import state_dir

log = logging.getLogger(__name__)

UNENCRYPTED_ENV = "AZXFER_ALLOW_UNENCRYPTED_TOKEN_CACHE"
UNENCRYPTED_FLAG = "--allow-unencrypted-cache"
# The encrypted cache's change marker (it holds no secret: msal-extensions touches it so other
# processes know to reload) and the opted-in plain cache.
SIGNAL_NAME = "token-cache.signal"
PLAIN_NAME = "token-cache.json"


def unencrypted_allowed(env: Mapping[str, str], flag: bool = False) -> bool:
    """Whether the user opted in to a plain cache (the flag, or the variable set to 1/true)."""
    return flag or env.get(UNENCRYPTED_ENV, "").strip().lower() in ("1", "true", "yes")


def token_cache(env: Mapping[str, str], allow_unencrypted: bool) -> Any:
    """azxfer's persistent MSAL token cache (an msal_extensions.PersistedTokenCache)."""
    import msal_extensions

    return msal_extensions.PersistedTokenCache(_persistence(env, allow_unencrypted))


def _persistence(env: Mapping[str, str], allow_unencrypted: bool) -> Any:
    import msal_extensions

    folder = state_dir(env)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        return msal_extensions.build_encrypted_persistence(str(folder / SIGNAL_NAME))
    except Exception as exc:  # ImportError (no PyGObject), a missing or locked keyring...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.debug("the token cache cannot be encrypted here: %s", reason)
        if not allow_unencrypted:
            raise CredentialError(
                f"this system offers no encrypted token cache (no usable keyring: {reason}); "
                f"to keep the sign-in in a file only you can read, pass {UNENCRYPTED_FLAG} "
                f"or set {UNENCRYPTED_ENV}=1"
            ) from None
    return msal_extensions.FilePersistence(str(plain_cache_path(env)))


def plain_cache_path(env: Mapping[str, str]) -> Path:
    """Where the opted-in plain cache lives."""
    return state_dir(env) / PLAIN_NAME


def clear(env: Mapping[str, str], unencrypted: bool) -> None:
    """Forget every cached token: azxfer's cache holds one sign-in only, so all of it."""
    for name in (PLAIN_NAME, f"{PLAIN_NAME}.lockfile", f"{SIGNAL_NAME}.lockfile"):
        with contextlib.suppress(FileNotFoundError):
            (state_dir(env) / name).unlink()
    if unencrypted:
        return
    with contextlib.suppress(CredentialError, Exception):
        # An empty cache, saved through the keyring; then the change marker goes too.
        _persistence(env, allow_unencrypted=False).save("{}")
    with contextlib.suppress(FileNotFoundError):
        (state_dir(env) / SIGNAL_NAME).unlink()
