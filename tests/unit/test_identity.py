"""The sign-in's pieces that need no identity service: the saved record, the token cache's
refusal and opt-in, auto-login from the environment, option checks, error classification."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from azure.identity import AuthenticationRequiredError

from azxfer.credentials import Credential, resolve_credential
from azxfer.endpoints.denials import auth_message
from azxfer.errors import CredentialError, UsageError
from azxfer.identity import cache, record
from azxfer.identity.guarded import GuardedCredential, classify
from azxfer.identity.login import sign_in_from_options
from azxfer.identity.provider import SignedInIdentity, auto_login
from azxfer.identity.signin import authority_of, identity_name, token_claims
from azxfer.locations import parse_location


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {record.STATE_DIR_ENV: str(tmp_path / "state")}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_saved_sign_in_is_0600_and_reads_back(env: dict[str, str]) -> None:
    sign_in = record.SignIn("spn", tenant_id="t", application_id="a", name="application a")
    path = record.save(env, sign_in)
    assert mode(path) == 0o600
    assert record.load(env) == sign_in
    assert record.remove(env) and record.load(env) is None


def test_a_damaged_sign_in_says_to_log_in_again(env: dict[str, str]) -> None:
    record.save(env, record.SignIn("azcli"))
    record.record_path(env).write_text("{not json")
    with pytest.raises(CredentialError, match="azxfer login"):
        record.load(env)


def test_without_a_keyring_the_cache_is_refused_naming_both_opt_ins(
    env: dict[str, str],
) -> None:
    try:
        cache.token_cache(env, allow_unencrypted=False)
    except CredentialError as exc:
        assert cache.UNENCRYPTED_FLAG in str(exc) and cache.UNENCRYPTED_ENV in str(exc)
        assert not cache.plain_cache_path(env).exists()
    else:
        pytest.skip("this machine has a usable keyring: the cache is encrypted")


def test_the_opted_in_cache_is_a_0600_file_in_the_state_dir_and_clear_removes_it(
    env: dict[str, str],
) -> None:
    token_cache = cache.token_cache(env, allow_unencrypted=True)
    token_cache.add(
        {
            "client_id": "c",
            "scope": ["https://storage.azure.com/.default"],
            "token_endpoint": "https://login.example/t/oauth2/v2.0/token",
            "response": {"access_token": "AT", "expires_in": 3600, "token_type": "Bearer"},
        }
    )
    path = cache.plain_cache_path(env)
    if not path.exists():
        pytest.skip("this machine has a usable keyring: nothing is written in plain")
    assert path.parent == record.state_dir(env) and mode(path) == 0o600
    cache.clear(env, unencrypted=True)
    assert not path.exists()


@pytest.mark.parametrize(
    ("value", "flag", "allowed"),
    [("1", False, True), ("true", False, True), ("", False, False), ("0", True, True)],
)
def test_unencrypted_opt_in(value: str, flag: bool, allowed: bool) -> None:
    assert cache.unencrypted_allowed({cache.UNENCRYPTED_ENV: value}, flag) is allowed


def test_auto_login_reads_the_usual_azure_variables() -> None:
    env = {
        "AZXFER_AUTO_LOGIN_TYPE": "SPN",
        "AZURE_TENANT_ID": "t",
        "AZURE_CLIENT_ID": "a",
        "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.us",
        "AZURE_CLIENT_SECRET": "never-saved",
    }
    sign_in = auto_login(env)
    assert sign_in is not None
    assert (sign_in.login_type, sign_in.tenant_id, sign_in.application_id) == ("spn", "t", "a")
    assert sign_in.authority == "https://login.microsoftonline.us"
    assert "never-saved" not in json.dumps(record.msgspec.to_builtins(sign_in))
    msi = auto_login({"AZXFER_AUTO_LOGIN_TYPE": "msi", "AZURE_CLIENT_ID": "u"})
    assert msi is not None and (msi.identity_client_id, msi.application_id) == ("u", None)
    assert auto_login({}) is None


def test_an_unknown_auto_login_type_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="SPN"):
        auto_login({"AZXFER_AUTO_LOGIN_TYPE": "password"})


def test_options_that_do_not_fit_the_login_type_are_refused() -> None:
    with pytest.raises(UsageError, match="--certificate-path applies to --login-type spn"):
        sign_in_from_options("msi", {"certificate_path": Path("c.pem")}, {})
    with pytest.raises(UsageError, match="not both"):
        sign_in_from_options("msi", {"identity_client_id": "a", "identity_resource_id": "r"}, {})
    with pytest.raises(UsageError, match="https"):
        authority_of("http://login.example")


def test_nobody_signed_in_gives_anonymous_access(env: dict[str, str]) -> None:
    location = parse_location("https://acct.blob.core.windows.net/private")
    credential = resolve_credential(location, "source", env, token_provider=SignedInIdentity(env))
    assert credential.kind == "anonymous"


def test_the_saved_sign_in_is_used_once_per_process_and_described(env: dict[str, str]) -> None:
    record.save(env, record.SignIn("azcli", name="ann@contoso.com"))
    provider = SignedInIdentity(env)
    first = parse_location("https://acct.blob.core.windows.net/box")
    second = parse_location("https://other.file.core.windows.net/share")
    a = resolve_credential(first, "source", env, token_provider=provider)
    b = resolve_credential(second, "dest", env, token_provider=provider)
    assert a.kind == b.kind == "token" and a.token is b.token
    assert a.describe() == "Entra ID token from azxfer login (azcli: ann@contoso.com)"


def _jwt(claims: dict) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{body}.c2ln"


def test_claims_name_the_identity() -> None:
    claims = token_claims(_jwt({"upn": "ann@contoso.com", "tid": "t"}))
    assert identity_name(record.SignIn("device"), claims) == "ann@contoso.com"
    assert identity_name(record.SignIn("spn"), {"appid": "a"}) == "application a"
    assert identity_name(record.SignIn("msi"), {}) == "system-assigned managed identity"
    assert token_claims("not-a-jwt") == {}


def test_failures_become_one_line_actions() -> None:
    relogin = classify(AuthenticationRequiredError(scopes=["s"]), "https://e", "device")
    assert "azxfer login" in str(relogin)
    revoked = ClientAuthenticationError("invalid_grant: AADSTS50173: the grant was revoked")
    assert "azxfer login" in str(classify(revoked, "https://e", "device"))
    wrapped = ClientAuthenticationError("Authentication failed")
    wrapped.__cause__ = ServiceRequestError("connection refused")
    assert "cannot reach the identity endpoint https://idp.example" in str(
        classify(wrapped, "https://idp.example", "spn")
    )


def test_a_guarded_credential_raises_credential_errors_only() -> None:
    class Failing:
        def get_token(self, *scopes: str) -> None:
            raise ServiceRequestError("refused")

    guarded = GuardedCredential(Failing(), "https://idp.example", "spn")
    with pytest.raises(CredentialError, match=r"idp\.example"):
        guarded.get_token_sync("https://storage.azure.com/.default")


def test_a_denied_token_names_the_usual_role() -> None:
    token = Credential("token", "acct", token=object(), origin="azxfer login")
    blob = auth_message("AuthorizationPermissionMismatch", "blob 'c/a'", "", token)
    assert "Storage Blob Data Contributor" in blob
    files = auth_message("AuthorizationPermissionMismatch", "file 's/a'", "", token, "file")
    assert "Storage File Data Privileged Contributor" in files
    assert "azxfer login" in auth_message("AuthenticationFailed", "blob 'c/a'", "", token)
    anonymous = auth_message("NoAuthenticationInformation", "blob 'c/a'", "")
    assert "azxfer login" in anonymous
