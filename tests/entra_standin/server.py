"""The stand-in server: Entra ID over https and the managed-identity endpoint over http, both
on loopback, served from one daemon thread; what tests register, switch and inspect."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import jwt
import trustme
from aiohttp import web
from cryptography import x509
from loopback import ThreadedService

from . import identity
from .directory import (
    DEVELOPER_CLIENT_ID,
    TOKEN_EXCHANGE_AUDIENCE,
    App,
    Directory,
    FederatedCredential,
    Grant,
    ManagedIdentity,
    User,
)
from .errors import EntraError
from .oauth import Endpoints, Issuer, Settings, openid_configuration
from .tokens import Signer

LOOPBACK = "127.0.0.1"
DEFAULT_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
IDENTITY_PATH = "/msi/token"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
SUBSCRIPTION = "00000000-aaaa-bbbb-cccc-000000000001"


class EntraStandIn(ThreadedService):
    """A loopback Entra ID tenant and App Service managed-identity endpoint (see the package
    docstring). `ca`: a trustme CA to issue the https certificate from (share one with Azurite
    so a single bundle trusts both); default: a fresh one. `ca_bundle` is its PEM path."""

    thread_name = "entra-standin"

    def __init__(
        self,
        *,
        tenant_id: str = DEFAULT_TENANT,
        ca: trustme.CA | None = None,
        port: int = 0,
        identity_port: int = 0,
    ) -> None:
        self.directory = Directory(tenant_id.lower())
        self.signer = Signer()
        self.settings = Settings()
        self.issuer = Issuer(self.directory, self.signer, self.settings)
        self.ca = ca or trustme.CA()
        self._files = Path(tempfile.mkdtemp(prefix="entra-standin-"))
        self.ca_bundle = str(self._files / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_bundle)
        self.port, self.identity_port = port, identity_port
        self.identity_header = secrets.token_hex(16)
        self.system_identity = ManagedIdentity(
            str(uuid.uuid4()),
            f"/subscriptions/{SUBSCRIPTION}/resourcegroups/azxfer/providers/"
            "Microsoft.Web/sites/azxfer-tests",
        )
        self.add_app(DEVELOPER_CLIENT_ID, public=True)
        self.errors: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._start_error: BaseException | None = None

    # -- addresses ------------------------------------------------------------------------------

    @property
    def tenant_id(self) -> str:
        return self.directory.tenant_id

    @property
    def authority(self) -> str:
        """What azure-identity takes as `authority=` (host only; the tenant goes separately)."""
        return f"https://{LOOPBACK}:{self.port}"

    @property
    def identity_endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.identity_port}{IDENTITY_PATH}"

    def token_url(self, tenant: str | None = None) -> str:
        return f"{self.authority}/{tenant or self.tenant_id}/oauth2/v2.0/token"

    def managed_identity_env(self) -> dict[str, str]:
        """The App Service variables azure-identity's ManagedIdentityCredential looks for."""
        return {
            "IDENTITY_ENDPOINT": self.identity_endpoint,
            "IDENTITY_HEADER": self.identity_header,
        }

    def tls_env(self) -> dict[str, str]:
        """Trust the stand-in's CA: requests (MSAL, azure-identity sync) reads
        REQUESTS_CA_BUNDLE; ssl.create_default_context (aiohttp, urllib) reads SSL_CERT_FILE."""
        return {"SSL_CERT_FILE": self.ca_bundle, "REQUESTS_CA_BUNDLE": self.ca_bundle}

    # -- switches -------------------------------------------------------------------------------

    @property
    def token_lifetime(self) -> float:
        return self.settings.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: float) -> None:
        self.settings.token_lifetime = seconds

    @property
    def device_code_lifetime(self) -> float:
        return self.settings.device_code_lifetime

    @device_code_lifetime.setter
    def device_code_lifetime(self, seconds: float) -> None:
        self.settings.device_code_lifetime = seconds

    # -- the directory --------------------------------------------------------------------------

    def add_app(
        self,
        client_id: str | None = None,
        *,
        secret: str | None = None,
        certificate: bytes | x509.Certificate | None = None,
        federated: Iterable[tuple[str, str]] = (),
        public: bool = False,
    ) -> App:
        """Register an app: a client secret, a certificate (PEM or object) whose key signs
        its assertions, federated (issuer, subject) pairs, `public` for device code."""
        if isinstance(certificate, bytes):
            certificate = x509.load_pem_x509_certificate(certificate)
        app = App(
            client_id or str(uuid.uuid4()),
            secrets=[secret] if secret else [],
            certificates=[certificate] if certificate else [],
            federated=[FederatedCredential(i, s) for i, s in federated],
            public=public,
        )
        with self.directory.lock:
            self.directory.apps[app.client_id] = app
        return app

    def add_user(self, upn: str, name: str | None = None) -> User:
        user = User(upn, name or upn.split("@")[0].title())
        with self.directory.lock:
            self.directory.users[upn] = user
        return user

    def add_managed_identity(
        self, client_id: str | None = None, resource_id: str | None = None
    ) -> ManagedIdentity:
        """A user-assigned identity, selectable by client_id, mi_res_id or object_id."""
        client_id = client_id or str(uuid.uuid4())
        mi = ManagedIdentity(
            client_id,
            resource_id
            or f"/subscriptions/{SUBSCRIPTION}/resourcegroups/azxfer/providers/"
            f"Microsoft.ManagedIdentity/userAssignedIdentities/mi-{client_id[:8]}",
        )
        with self.directory.lock:
            self.directory.identities.append(mi)
        return mi

    def disable_app(self, client_id: str) -> None:
        """Later requests of this client answer unauthorized_client (AADSTS7000112)."""
        with self.directory.lock:
            self.directory.apps[client_id].disabled = True

    def revoke_refresh_tokens(self, upn: str | None = None, client_id: str | None = None) -> int:
        """Revoke every refresh token (of one user and/or client): redeeming one answers
        invalid_grant AADSTS50173. Returns how many were revoked."""
        count = 0
        with self.directory.lock:
            for held in self.directory.refresh_tokens.values():
                if (upn is None or held.user.upn == upn) and (
                    client_id is None or held.client_id == client_id
                ):
                    held.revoked = True
                    count += 1
        return count

    def sign_in(self, upn: str, client_id: str = DEVELOPER_CLIENT_ID) -> str:
        """A refresh token for `upn` with `client_id`, as an interactive sign-in leaves one
        (the fake az's `login`)."""
        with self.directory.lock:
            user = self.directory.users.get(upn) or self.add_user(upn)
        return self.directory.issue_refresh_token(user, client_id)

    # -- device codes ---------------------------------------------------------------------------

    def approve(self, user_code: str, upn: str) -> None:
        """The user `upn` enters `user_code` and signs in: the next poll gets tokens."""
        with self.directory.lock:
            user = self.directory.users.get(upn) or self.add_user(upn)
            self.directory.device_code_by_user_code(user_code).user = user

    def decline(self, user_code: str) -> None:
        """The user declines: the next poll answers access_denied (AADSTS70020)."""
        with self.directory.lock:
            self.directory.device_code_by_user_code(user_code).declined = True

    def pending_user_codes(self) -> list[str]:
        with self.directory.lock:
            return [
                c.user_code
                for c in self.directory.device_codes.values()
                if c.user is None and not c.declined and c.expires_at > time.time()
            ]

    # -- workload identity ----------------------------------------------------------------------

    def mint_federated_token(
        self,
        issuer: str,
        subject: str,
        *,
        audience: str = TOKEN_EXCHANGE_AUDIENCE,
        lifetime: float = 3600,
    ) -> str:
        """A token as an external issuer (e.g. Kubernetes) writes to AZURE_FEDERATED_TOKEN_FILE,
        signed with the key the stand-in trusts for every federated issuer."""
        now = int(time.time())
        claims = {"iss": issuer, "sub": subject, "aud": audience, "iat": now, "nbf": now}
        claims["exp"] = int(now + lifetime)
        return self.signer.sign(claims)

    # -- what tests inspect ---------------------------------------------------------------------

    @property
    def grants(self) -> list[Grant]:
        with self.directory.lock:
            return list(self.directory.grants)

    def grants_of(self, grant_type: str) -> list[Grant]:
        return [g for g in self.grants if g.grant_type == grant_type]

    def verify(self, access_token: str) -> dict[str, object]:
        """The claims of a token this stand-in issued; raises jwt.PyJWTError otherwise."""
        return jwt.decode(
            access_token,
            self.signer.key.public_key(),
            algorithms=["RS256"],
            options={"verify_aud": False},
        )

    # -- life cycle -----------------------------------------------------------------------------

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self._files, ignore_errors=True)

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(LOOPBACK, "localhost").configure_cert(context)
        return context

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        entra = web.AppRunner(self._entra_app(), shutdown_timeout=1.0)
        msi = web.AppRunner(self._identity_app(), shutdown_timeout=1.0)
        await entra.setup()
        await msi.setup()
        try:
            await web.TCPSite(entra, LOOPBACK, self.port, ssl_context=self._tls()).start()
            await web.TCPSite(msi, LOOPBACK, self.identity_port).start()
            self.port = entra.addresses[0][1]
            self.identity_port = msi.addresses[0][1]
        except BaseException as exc:
            self._start_error = exc
            self._ready.set()
            await entra.cleanup()
            await msi.cleanup()
            return
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            await entra.cleanup()
            await msi.cleanup()

    # -- routes ---------------------------------------------------------------------------------

    def _entra_app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors_middleware])
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_get("/{tenant}/discovery/v2.0/keys", self._keys)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/{tenant}/oauth2/v2.0/devicecode", self._device_code)
        return app

    def _identity_app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors_middleware])
        app.router.add_get(IDENTITY_PATH, self._managed_identity)
        return app

    @web.middleware
    async def _errors_middleware(self, request: web.Request, handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except EntraError as exc:
            return web.json_response(exc.body(), status=exc.status)
        except web.HTTPException:
            raise
        except Exception as exc:
            self.errors.append(f"{request.method} {request.path}: {type(exc).__name__}: {exc}")
            return web.json_response({"error": "server_error"}, status=500)

    async def _openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        self.issuer.check_tenant(tenant, users=True)
        return web.json_response(openid_configuration(self.authority, tenant, self.tenant_id))

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response(self.signer.jwks())

    async def _token(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        form = {k: str(v) for k, v in (await request.post()).items()}
        urls = Endpoints(
            token_url=self.token_url(tenant), issuer=f"{self.authority}/{self.tenant_id}/v2.0"
        )
        answer = await asyncio.to_thread(self.issuer.token, tenant, form, urls)
        return web.json_response(answer)

    async def _device_code(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        return web.json_response(self.issuer.device_code(request.match_info["tenant"], form))

    async def _managed_identity(self, request: web.Request) -> web.Response:
        status, body = identity.answer(
            self.directory,
            self.signer,
            self.settings,
            query=dict(request.query),
            header=request.headers.get("X-IDENTITY-HEADER"),
            secret=self.identity_header,
            system=self.system_identity,
        )
        return web.json_response(body, status=status)
