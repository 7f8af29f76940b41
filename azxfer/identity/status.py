"""`azxfer login status` and `azxfer logout`: who is signed in, and forgetting it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from azxfer.errors import CredentialError
from azxfer.identity import cache, record
from azxfer.identity.provider import AUTO_LOGIN_ENV, auto_login
from azxfer.identity.signin import STORAGE_SCOPE, credential_for, identity_name, token_claims

LOGIN_TYPE_NAMES = {
    "device": "user (device code)",
    "spn": "service principal",
    "msi": "managed identity",
    "azcli": "Azure CLI",
    "workload": "workload identity",
}


class NotSignedIn(CredentialError):
    """No saved sign-in and no auto-login: `login status` exits 1 with this."""


@dataclass(frozen=True)
class Status:
    """What `login status` shows (no token, no secret)."""

    source: str  # "azxfer login" or the auto-login variable
    login_type: str
    kind: str
    name: str
    tenant: str
    expires_on: datetime


def current_status(env: Mapping[str, str]) -> Status:
    """Sign in silently as the saved (or auto-login) identity and describe it; raises
    NotSignedIn, or CredentialError when the sign-in no longer works."""
    auto = auto_login(env)
    sign_in = auto or record.load(env)
    if sign_in is None:
        raise NotSignedIn("not logged in: run `azxfer login`")
    token = credential_for(sign_in, env).get_token_sync(STORAGE_SCOPE)
    claims = token_claims(token.token)
    return Status(
        source=f"{AUTO_LOGIN_ENV}={sign_in.login_type.upper()}" if auto else "azxfer login",
        login_type=sign_in.login_type,
        kind=LOGIN_TYPE_NAMES[sign_in.login_type],
        name=sign_in.name or identity_name(sign_in, claims),
        tenant=str(claims.get("tid") or sign_in.tenant_id or "unknown"),
        expires_on=datetime.fromtimestamp(token.expires_on, UTC),
    )


def logout(env: Mapping[str, str]) -> bool:
    """Forget the saved sign-in and its cached tokens; whether there was a sign-in."""
    try:
        saved = record.load(env)
    except CredentialError:  # a damaged record: forget it all the same
        saved = None
    cache.clear(env, unencrypted=saved.unencrypted_cache if saved else False)
    return record.remove(env)
