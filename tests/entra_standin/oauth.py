"""The token and device-code endpoints: each grant type checked as Entra ID checks it.

`Issuer.token(tenant, form, token_url, issuer_url)` answers one POST to
/{tenant}/oauth2/v2.0/token with the JSON body Entra sends, or raises EntraError.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import jwt
from cryptography import x509

from . import errors
from .directory import App, Directory, Grant, User
from .errors import EntraError
from .tokens import CLOCK_SKEW, Signer, Subject, client_info, unverified_claims

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_TENANT_ALIASES = ("organizations", "common")
OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}


@dataclass(slots=True)
class Settings:
    """Switches tests change while the stand-in runs."""

    token_lifetime: float = 3600.0
    device_interval: int = 1  # seconds MSAL waits between device-code polls
    device_code_lifetime: float = 900.0
    verification_uri: str = "https://microsoft.com/devicelogin"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The URLs one request's tenant path implies (assertion audience, id-token issuer)."""

    token_url: str
    issuer: str


class Issuer:
    def __init__(self, directory: Directory, signer: Signer, settings: Settings) -> None:
        self.directory = directory
        self.signer = signer
        self.settings = settings

    # -- endpoints ------------------------------------------------------------------------------

    def device_code(self, tenant: str, form: Mapping[str, str]) -> dict[str, object]:
        self.check_tenant(tenant, users=True)
        client_id = _required(form, "client_id")
        app = self._app(client_id)
        if not app.public:
            raise errors.credential_required()
        scope = _required(form, "scope")
        code = self.directory.new_device_code(client_id, scope, self.settings.device_code_lifetime)
        uri = self.settings.verification_uri
        return {
            "user_code": code.user_code,
            "device_code": code.device_code,
            "verification_uri": uri,
            "expires_in": int(self.settings.device_code_lifetime),
            "interval": self.settings.device_interval,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the "
            f"code {code.user_code} to authenticate.",
        }

    def token(self, tenant: str, form: Mapping[str, str], urls: Endpoints) -> dict[str, object]:
        grant_type = form.get("grant_type", "")
        client_id = form.get("client_id", "")
        scope = form.get("scope", "")
        user: User | None = None
        try:
            if grant_type == "client_credentials":
                self.check_tenant(tenant, users=False)
                app = self._authenticate_client(form, urls.token_url)
                answer = self._app_tokens(app, scope)
                self._record(grant_type, client_id, scope, tenant)
                return answer
            if grant_type == DEVICE_CODE_GRANT:
                self.check_tenant(tenant, users=True)
                user, scope = self._redeem_device_code(form)
            elif grant_type == "refresh_token":
                self.check_tenant(tenant, users=True)
                user = self._redeem_refresh_token(form)
            else:
                raise errors.unsupported_grant(grant_type)
            answer = self._user_tokens(user, client_id, scope, urls.issuer)
        except EntraError as exc:
            self._record(grant_type, client_id, scope, tenant, user, exc.error)
            raise
        self._record(grant_type, client_id, scope, tenant, user)
        return answer

    # -- checks ---------------------------------------------------------------------------------

    def check_tenant(self, tenant: str, *, users: bool) -> None:
        """Apps sign in to their tenant; users may also use the multi-tenant aliases."""
        if tenant.lower() == self.directory.tenant_id:
            return
        if users and tenant.lower() in USER_TENANT_ALIASES:
            return
        raise errors.tenant_not_found(tenant)

    def _app(self, client_id: str) -> App:
        with self.directory.lock:
            app = self.directory.apps.get(client_id)
        if app is None:
            raise errors.unknown_client(client_id, self.directory.tenant_id)
        if app.disabled:
            raise errors.disabled_client(client_id)
        return app

    def _authenticate_client(self, form: Mapping[str, str], token_url: str) -> App:
        app = self._app(_required(form, "client_id"))
        if "client_secret" in form:
            if form["client_secret"] not in app.secrets:
                raise errors.bad_secret(app.client_id)
            return app
        assertion = form.get("client_assertion")
        if assertion is None:
            raise errors.credential_required()
        if form.get("client_assertion_type") != JWT_BEARER:
            raise errors.missing("client_assertion_type")
        try:
            header, claims = unverified_claims(assertion)
        except ValueError as exc:
            raise errors.bad_assertion(50027, f"JWT token is invalid or malformed: {exc}") from exc
        if claims.get("iss") == app.client_id:  # signed with the app's own certificate
            _check_certificate_assertion(app, assertion, header, token_url)
        else:
            self._check_federated_assertion(app, assertion, claims)
        return app

    def _check_federated_assertion(self, app: App, assertion: str, claims: dict) -> None:
        issuer, subject = str(claims.get("iss")), str(claims.get("sub"))
        match = next(
            (f for f in app.federated if f.issuer == issuer and f.subject == subject), None
        )
        if match is None:
            raise errors.no_federated_match(issuer, subject)
        # The stand-in plays the external issuer too: federated tokens carry its signature
        # (FederatedTokens.mint), checked with the same key as Entra checks the issuer's JWKS.
        try:
            jwt.decode(
                assertion,
                self.signer.key.public_key(),
                algorithms=["RS256"],
                audience=match.audience,
                leeway=CLOCK_SKEW,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise errors.bad_assertion(
                700024, "Client assertion is not within its valid time range."
            ) from exc
        except jwt.InvalidAudienceError as exc:
            raise errors.bad_assertion(
                700212,
                "No matching federated identity record found for presented assertion audience "
                f"'{claims.get('aud')}'.",
            ) from exc
        except jwt.PyJWTError as exc:
            raise errors.bad_assertion(
                700027, f"Client assertion failed signature validation: {exc}."
            ) from exc

    def _redeem_device_code(self, form: Mapping[str, str]) -> tuple[User, str]:
        """The user who approved the code, and the scope asked for when it was issued."""
        client_id = _required(form, "client_id")
        code_value = form.get("device_code") or form.get("code") or ""
        if not code_value:
            raise errors.missing("device_code")
        self._app(client_id)
        with self.directory.lock:
            code = self.directory.device_codes.get(code_value)
            if code is None or code.client_id != client_id or code.redeemed:
                raise errors.bad_device_code()
            if time.time() > code.expires_at:
                raise errors.expired_device_code()
            if code.declined:
                raise errors.declined_device_code()
            if code.user is None:
                raise errors.authorization_pending()
            code.redeemed = True
            return code.user, code.scope

    def _redeem_refresh_token(self, form: Mapping[str, str]) -> User:
        client_id = _required(form, "client_id")
        value = _required(form, "refresh_token")
        self._app(client_id)
        with self.directory.lock:
            held = self.directory.refresh_tokens.get(value)
            if held is None or held.client_id != client_id:
                raise errors.unknown_refresh_token()
            if held.revoked:
                raise errors.revoked_grant()
            return held.user

    # -- answers --------------------------------------------------------------------------------

    def _app_tokens(self, app: App, scope: str) -> dict[str, object]:
        resource = _resource(scope, app_only=True)
        token, exp = self.signer.access_token(
            self.directory.app_subject(app), resource, self.settings.token_lifetime
        )
        lifetime = exp - int(time.time())
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }

    def _user_tokens(
        self, user: User, client_id: str, scope: str, issuer: str
    ) -> dict[str, object]:
        resource = _resource(scope, app_only=False)
        who: Subject = self.directory.user_subject(user, client_id)
        token, exp = self.signer.access_token(who, resource, self.settings.token_lifetime)
        lifetime = exp - int(time.time())
        # MSAL builds its account from id_token + client_info, so user flows always get both.
        return {
            "token_type": "Bearer",
            "scope": f"{resource}/user_impersonation {resource}/.default",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
            "refresh_token": self.directory.issue_refresh_token(user, client_id),
            "client_info": client_info(who),
            "id_token": self.signer.id_token(who, issuer, client_id, self.settings.token_lifetime),
        }

    def _record(
        self,
        grant_type: str,
        client_id: str,
        scope: str,
        tenant: str,
        user: User | None = None,
        error: str | None = None,
    ) -> None:
        self.directory.record(
            Grant(grant_type, client_id, scope, tenant, user.upn if user else None, error)
        )


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise errors.missing(name)
    return value


def _resource(scope: str, *, app_only: bool) -> str:
    """The resource a scope names: `https://storage.azure.com/.default` -> the audience."""
    resources = [s for s in scope.split() if s not in OIDC_SCOPES]
    if len(resources) != 1 or (app_only and not resources[0].endswith("/.default")):
        raise errors.invalid_scope(scope)
    resource = resources[0]
    for suffix in ("/.default", "/user_impersonation"):
        resource = resource.removesuffix(suffix)
    return resource


def _check_certificate_assertion(app: App, assertion: str, header: dict, token_url: str) -> None:
    """A certificate credential: the JWT is signed by one of the app's registered
    certificates' keys, names the app as iss and sub, is meant for the token endpoint, and
    is within its times (MSAL signs PS256 with x5t#S256, older clients RS256 with x5t)."""
    algorithm = str(header.get("alg"))
    if algorithm not in ("RS256", "PS256"):
        raise errors.bad_assertion(
            5002738, f"Invalid JWT token. '{algorithm}' is not a supported signature algorithm."
        )
    for certificate in app.certificates:
        try:
            claims = jwt.decode(
                assertion,
                certificate.public_key(),
                algorithms=[algorithm],
                audience=token_url,
                leeway=CLOCK_SKEW,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError as exc:
            raise errors.bad_assertion(
                700024, "Client assertion is not within its valid time range."
            ) from exc
        except jwt.InvalidAudienceError as exc:
            raise errors.bad_assertion(
                700212, f"The client assertion audience is not the token endpoint {token_url}."
            ) from exc
        except jwt.PyJWTError as exc:
            raise errors.bad_assertion(50027, f"JWT token is invalid or malformed: {exc}") from exc
        if claims.get("sub") != app.client_id:
            raise errors.bad_assertion(700023, "Client assertion subject is not the client id.")
        return
    thumbprint = header.get("x5t#S256") or header.get("x5t")
    raise errors.bad_assertion(
        700027,
        f"Client assertion failed signature validation. The key '{thumbprint}' was not found "
        f"among the certificates of app '{app.client_id}'.",
    )


def certificate_from_pem(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)
