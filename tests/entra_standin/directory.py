"""What the stand-in's tenant knows: applications, users, managed identities, outstanding
device codes and refresh tokens, and the record of every grant. Plain data under one lock."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from cryptography import x509

from .tokens import Subject

# azure-identity's default public client (DeviceCodeCredential, InteractiveBrowser), and the
# Azure CLI's own: registered by default, as Entra knows them in every tenant.
DEVELOPER_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


@dataclass(frozen=True, slots=True)
class FederatedCredential:
    """A workload identity federation: assertions from `issuer` about `subject` are accepted."""

    issuer: str
    subject: str
    audience: str = TOKEN_EXCHANGE_AUDIENCE


@dataclass(slots=True)
class App:
    """An app registration (service principal). `public`: may use device code without a secret."""

    client_id: str
    oid: str = field(default_factory=lambda: str(uuid.uuid4()))
    secrets: list[str] = field(default_factory=list)
    certificates: list[x509.Certificate] = field(default_factory=list)
    federated: list[FederatedCredential] = field(default_factory=list)
    public: bool = False
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class User:
    upn: str
    name: str
    oid: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True, slots=True)
class ManagedIdentity:
    """A managed identity; the system-assigned one has no resource id of its own in requests."""

    client_id: str
    resource_id: str
    principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(slots=True)
class RefreshToken:
    user: User
    client_id: str
    revoked: bool = False


@dataclass(slots=True)
class DeviceCode:
    """One device-code sign-in: pending until a test approves (with a user) or declines it."""

    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    user: User | None = None
    declined: bool = False
    redeemed: bool = False


@dataclass(frozen=True, slots=True)
class Grant:
    """One token request: its grant type, client, scope, and what it was answered."""

    grant_type: str
    client_id: str
    scope: str
    tenant: str
    user: str | None = None
    error: str | None = None  # None: tokens were issued; else the OAuth error name


@dataclass
class Directory:
    """The tenant's contents; every mutation and lookup goes through `lock`."""

    tenant_id: str
    apps: dict[str, App] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    identities: list[ManagedIdentity] = field(default_factory=list)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    device_codes: dict[str, DeviceCode] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def record(self, grant: Grant) -> None:
        with self.lock:
            self.grants.append(grant)

    def issue_refresh_token(self, user: User, client_id: str) -> str:
        token = "0.A" + secrets.token_urlsafe(48)
        with self.lock:
            self.refresh_tokens[token] = RefreshToken(user, client_id)
        return token

    def new_device_code(self, client_id: str, scope: str, lifetime: float) -> DeviceCode:
        # Entra's user codes are 9 letters; the device code is long and opaque.
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(9))
        code = DeviceCode(
            "DAQABAAEAAAD" + secrets.token_urlsafe(64),
            user_code,
            client_id,
            scope,
            time.time() + lifetime,
        )
        with self.lock:
            self.device_codes[code.device_code] = code
        return code

    def device_code_by_user_code(self, user_code: str) -> DeviceCode:
        with self.lock:
            for code in self.device_codes.values():
                if code.user_code == user_code:
                    return code
        raise KeyError(f"no device code with user code {user_code!r}")

    def user_subject(self, user: User, client_id: str) -> Subject:
        return Subject(user.oid, self.tenant_id, client_id, upn=user.upn, name=user.name)

    def app_subject(self, app: App) -> Subject:
        return Subject(app.oid, self.tenant_id, app.client_id)
