"""JWTs as Entra ID issues them: access tokens shaped for Storage, id tokens, client_info.

The stand-in signs with its own RSA key (published at the tenant's jwks_uri), so a test that
wants to can verify what it received; Azurite's `--oauth basic` does not check signatures.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

STORAGE_RESOURCE = "https://storage.azure.com"
CLOCK_SKEW = 300  # seconds Entra tolerates on assertion times


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def unverified_claims(token: str) -> tuple[dict[str, object], dict[str, object]]:
    """(header, claims) of a JWT without checking its signature; ValueError if malformed."""
    try:
        return jwt.get_unverified_header(token), jwt.decode(
            token, options={"verify_signature": False}
        )
    except jwt.PyJWTError as exc:
        raise ValueError(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a token is for: a user (upn/name set) or an application / managed identity."""

    oid: str
    tenant: str
    appid: str
    upn: str | None = None
    name: str | None = None
    mirid: str | None = None  # a managed identity's resource id


@dataclass(slots=True)
class Signer:
    """The stand-in's token-signing key, and what the tenant publishes of it."""

    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    kid: str = field(default_factory=lambda: uuid.uuid4().hex)

    def sign(self, claims: dict[str, object]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, object]:
        numbers = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.kid,
                    "alg": "RS256",
                    "n": _b64url_uint(numbers.n),
                    "e": _b64url_uint(numbers.e),
                }
            ]
        }

    def access_token(self, who: Subject, resource: str, lifetime: float) -> tuple[str, int]:
        """(JWT, exp): a v1 token, as Storage's resource asks for (iss sts.windows.net)."""
        now = int(time.time())
        exp = int(now + lifetime)
        claims: dict[str, object] = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{who.tenant}/",
            "iat": now - 5,
            "nbf": now - 5,
            "exp": exp,
            "oid": who.oid,
            "sub": who.oid,
            "tid": who.tenant,
            "appid": who.appid,
            "ver": "1.0",
            "uti": uuid.uuid4().hex,
        }
        if who.upn:
            claims.update(upn=who.upn, unique_name=who.upn, name=who.name or who.upn)
            claims["idtyp"] = "user"
            claims["scp"] = "user_impersonation"
        else:
            claims["idtyp"] = "app"
        if who.mirid:
            claims["xms_mirid"] = who.mirid
        return self.sign(claims), exp

    def id_token(self, who: Subject, issuer: str, client_id: str, lifetime: float) -> str:
        """The v2 id token MSAL reads to build an account (aud = the client)."""
        now = int(time.time())
        return self.sign(
            {
                "aud": client_id,
                "iss": issuer,
                "iat": now - 5,
                "nbf": now - 5,
                "exp": int(now + max(lifetime, 3600)),
                "oid": who.oid,
                "sub": who.oid,
                "tid": who.tenant,
                "name": who.name or who.upn,
                "preferred_username": who.upn,
                "ver": "2.0",
            }
        )


def client_info(who: Subject) -> str:
    """MSAL's home account id is `uid.utid` from this base64url JSON."""
    return b64url(json.dumps({"uid": who.oid, "utid": who.tenant}).encode())
