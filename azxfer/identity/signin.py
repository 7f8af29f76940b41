"""The azure-identity credential of each login type, and `login`: sign in once, prove it
with a token for Storage, and keep what signs in again silently.

Secrets never pass through here as arguments a user typed: a client secret comes from
AZXFER_CLIENT_SECRET (or azure-identity's AZURE_CLIENT_SECRET), a certificate's password
from AZXFER_CERTIFICATE_PASSWORD (or AZURE_CLIENT_CERTIFICATE_PASSWORD), and none is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from azxfer.errors import UsageError
from azxfer.identity.cache import token_cache
from azxfer.identity.guarded import GuardedCredential
from azxfer.identity.record import SignIn

STORAGE_SCOPE = "https://storage.azure.com/.default"
SECRET_ENVS = ("AZXFER_CLIENT_SECRET", "AZURE_CLIENT_SECRET")
CERT_PASSWORD_ENVS = ("AZXFER_CERTIFICATE_PASSWORD", "AZURE_CLIENT_CERTIFICATE_PASSWORD")
# The public, government and China clouds: MSAL knows these; any other authority (a private
# cloud, a test stand-in) is taken as given, without MSAL's instance discovery.
KNOWN_AUTHORITY_HOSTS = frozenset(
    ("login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn")
)
PUBLIC_AUTHORITY = "https://login.microsoftonline.com"
# How long a device code waits for the user to approve it, as Entra ID's codes last.
DEVICE_CODE_TIMEOUT = 900

# The device-code prompt: (verification URL, user code, when the code expires).
Prompt = Callable[[str, str, datetime], None]


@dataclass(frozen=True)
class Proven:
    """A sign-in that just got a token: what to save, and the token's expiry and claims."""

    sign_in: SignIn
    expires_on: int
    claims: dict[str, Any]

    @property
    def tenant(self) -> str:
        """The tenant the token was issued in."""
        return str(self.claims.get("tid") or self.sign_in.tenant_id or "unknown")


def authority_of(text: str | None) -> str | None:
    """`--aad-endpoint` as an authority URL (https only: tokens must not cross in clear)."""
    if not text:
        return None
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError(f"--aad-endpoint must be an https URL, not {text!r}")
    return f"https://{parts.netloc}"


def credential_for(
    sign_in: SignIn, env: Mapping[str, str], prompt: Prompt | None = None, interactive=False
) -> GuardedCredential:
    """The credential that signs in as `sign_in` says. `interactive`: a device-code sign-in
    may prompt (login, or auto-login by DEVICE); otherwise it only refreshes silently."""
    builders = {
        "device": _device,
        "spn": _service_principal,
        "msi": _managed_identity,
        "azcli": _azure_cli,
        "workload": _workload,
    }
    credential, endpoint = builders[sign_in.login_type](sign_in, env, prompt, interactive)
    return GuardedCredential(credential, endpoint, sign_in.login_type)


def prove(sign_in: SignIn, env: Mapping[str, str], prompt: Prompt | None) -> Proven:
    """Sign in (prompting for a device code when that is the type), get one Storage token,
    and return the sign-in to save, completed with the user's record and name."""
    guarded = credential_for(sign_in, env, prompt, interactive=True)
    if sign_in.login_type == "device":
        record = guarded.run(lambda c: c.authenticate(scopes=[STORAGE_SCOPE]))
        sign_in = _replace(sign_in, authentication_record=record.serialize())
    token = guarded.get_token_sync(STORAGE_SCOPE)
    claims = token_claims(token.token)
    return Proven(_replace(sign_in, name=identity_name(sign_in, claims)), token.expires_on, claims)


def identity_name(sign_in: SignIn, claims: Mapping[str, Any]) -> str:
    """Who a token speaks for, as a person reads it (no secret: names and ids only)."""
    user = claims.get("upn") or claims.get("unique_name") or claims.get("preferred_username")
    if sign_in.login_type == "msi":
        chosen = sign_in.identity_client_id or sign_in.identity_resource_id
        return (
            f"user-assigned managed identity {chosen}"
            if chosen
            else "system-assigned managed identity"
        )
    if user:
        return str(user)
    app = claims.get("appid") or claims.get("azp") or sign_in.application_id
    return f"application {app}" if app else str(claims.get("oid", "unknown identity"))


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT access token, unverified: only to show whom it names and until
    when (the service verifies it). Empty when the token is not a JWT."""
    import base64
    import json

    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _replace(sign_in: SignIn, **changes: Any) -> SignIn:
    import msgspec

    return msgspec.structs.replace(sign_in, **changes)


def _common(sign_in: SignIn) -> dict[str, Any]:
    """Options every Entra ID (MSAL) credential takes: the authority, and no instance
    discovery for an authority MSAL cannot know."""
    options: dict[str, Any] = {}
    if sign_in.authority:
        options["authority"] = sign_in.authority
        if urlsplit(sign_in.authority).hostname not in KNOWN_AUTHORITY_HOSTS:
            options["disable_instance_discovery"] = True
    return options


def _endpoint(sign_in: SignIn, env: Mapping[str, str]) -> str:
    return sign_in.authority or env.get("AZURE_AUTHORITY_HOST") or PUBLIC_AUTHORITY


def _device(sign_in: SignIn, env: Mapping[str, str], prompt: Prompt | None, interactive: bool):
    from azure.identity import AuthenticationRecord, DeviceCodeCredential

    options = _common(sign_in)
    if sign_in.application_id:
        options["client_id"] = sign_in.application_id
    if sign_in.authentication_record:
        # The record names the authority it was made with: it is passed once, there.
        options.pop("authority", None)
        options["authentication_record"] = AuthenticationRecord.deserialize(
            sign_in.authentication_record
        )
    elif sign_in.tenant_id:
        options["tenant_id"] = sign_in.tenant_id
    credential = DeviceCodeCredential(
        prompt_callback=prompt,
        timeout=DEVICE_CODE_TIMEOUT,
        disable_automatic_authentication=not interactive,
        # The refresh token that keeps the sign-in: encrypted, or a 0600 file by opt-in.
        _cache=token_cache(env, sign_in.unencrypted_cache),
        **options,
    )
    return credential, _endpoint(sign_in, env)


def _service_principal(sign_in: SignIn, env: Mapping[str, str], prompt, interactive):
    from azure.identity import CertificateCredential, ClientSecretCredential

    tenant, app = _required(sign_in.tenant_id, "tenant"), _required(sign_in.application_id, "app")
    if sign_in.certificate_path:
        password = _first_env(env, CERT_PASSWORD_ENVS)
        credential: Any = CertificateCredential(
            tenant,
            app,
            certificate_path=sign_in.certificate_path,
            password=password.encode() if password else None,
            **_common(sign_in),
        )
    else:
        secret = _first_env(env, SECRET_ENVS)
        if not secret:
            raise UsageError(
                "a service principal needs its secret in AZXFER_CLIENT_SECRET (or "
                "AZURE_CLIENT_SECRET), or a certificate (--certificate-path)"
            )
        credential = ClientSecretCredential(tenant, app, secret, **_common(sign_in))
    return credential, _endpoint(sign_in, env)


def _workload(sign_in: SignIn, env: Mapping[str, str], prompt, interactive):
    from azure.identity import WorkloadIdentityCredential

    if not sign_in.token_file:
        raise UsageError("workload identity needs AZURE_FEDERATED_TOKEN_FILE")
    credential = WorkloadIdentityCredential(
        tenant_id=_required(sign_in.tenant_id, "tenant"),
        client_id=_required(sign_in.application_id, "app"),
        token_file_path=sign_in.token_file,
        **_common(sign_in),
    )
    return credential, _endpoint(sign_in, env)


def _managed_identity(sign_in: SignIn, env: Mapping[str, str], prompt, interactive):
    from azure.identity import ManagedIdentityCredential

    if sign_in.identity_resource_id:
        credential = ManagedIdentityCredential(
            identity_config={"resource_id": sign_in.identity_resource_id}
        )
    else:
        credential = ManagedIdentityCredential(client_id=sign_in.identity_client_id)
    endpoint = env.get("IDENTITY_ENDPOINT") or env.get("MSI_ENDPOINT") or "http://169.254.169.254"
    return credential, f"{endpoint} (managed identity)"


def _azure_cli(sign_in: SignIn, env: Mapping[str, str], prompt, interactive):
    from azure.identity import AzureCliCredential

    return AzureCliCredential(tenant_id=sign_in.tenant_id or ""), "the Azure CLI (az)"


def _required(value: str | None, what: str) -> str:
    if value:
        return value
    if what == "tenant":
        raise UsageError("this login type needs --tenant-id (or AZURE_TENANT_ID)")
    raise UsageError("this login type needs --application-id (or AZURE_CLIENT_ID)")


def _first_env(env: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    return next((env[name] for name in names if env.get(name)), None)
