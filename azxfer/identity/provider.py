"""The identity jobs sign in with when they have no SAS token or key: the identity
`AZXFER_AUTO_LOGIN_TYPE` names (CI, containers: no prior `azxfer login`), else the saved
sign-in, else none. Its credential is made once per process, on first need, and shared by
every account and side of the job."""

from __future__ import annotations

from collections.abc import Mapping

from azxfer.credentials import SignedInToken
from azxfer.errors import UsageError
from azxfer.identity import record
from azxfer.identity.cache import unencrypted_allowed
from azxfer.identity.signin import Prompt, authority_of, credential_for
from azxfer.locations import Location

AUTO_LOGIN_ENV = "AZXFER_AUTO_LOGIN_TYPE"


class SignedInIdentity:
    """A `credentials.TokenProvider`: the signed-in (or auto-login) identity, or None."""

    def __init__(self, env: Mapping[str, str], prompt: Prompt | None = None) -> None:
        self._env = env
        self._prompt = prompt
        self._resolved = False
        self._token: SignedInToken | None = None

    def __call__(self, location: Location) -> SignedInToken | None:
        if not self._resolved:
            self._token = self._sign_in()
            self._resolved = True
        return self._token

    def _sign_in(self) -> SignedInToken | None:
        auto = auto_login(self._env)
        if auto is not None:
            credential = credential_for(auto, self._env, self._prompt, interactive=True)
            origin = f"{AUTO_LOGIN_ENV}={auto.login_type.upper()}"
            return SignedInToken(credential, origin)
        saved = record.load(self._env)
        if saved is None:
            return None
        credential = credential_for(saved, self._env, self._prompt)
        origin = (
            f"azxfer login ({saved.login_type}: {saved.name})" if saved.name else "azxfer login"
        )
        return SignedInToken(credential, origin)


def auto_login(env: Mapping[str, str]) -> record.SignIn | None:
    """The sign-in `AZXFER_AUTO_LOGIN_TYPE` and the usual AZURE_* variables describe."""
    kind = env.get(AUTO_LOGIN_ENV, "").strip().lower()
    if not kind:
        return None
    if kind not in record.LOGIN_TYPES:
        choices = "|".join(t.upper() for t in record.LOGIN_TYPES)
        raise UsageError(f"{AUTO_LOGIN_ENV} must be one of {choices}, not {env[AUTO_LOGIN_ENV]!r}")
    return record.SignIn(
        login_type=kind,
        tenant_id=env.get("AZURE_TENANT_ID") or None,
        authority=authority_of(env.get("AZURE_AUTHORITY_HOST")),
        application_id=env.get("AZURE_CLIENT_ID") if kind != "msi" else None,
        certificate_path=env.get("AZURE_CLIENT_CERTIFICATE_PATH") or None,
        token_file=env.get("AZURE_FEDERATED_TOKEN_FILE") or None,
        identity_client_id=(env.get("AZURE_CLIENT_ID") or None) if kind == "msi" else None,
        identity_resource_id=(env.get("AZXFER_MSI_RESOURCE_ID") or None) if kind == "msi" else None,
        unencrypted_cache=unencrypted_allowed(env),
    )
