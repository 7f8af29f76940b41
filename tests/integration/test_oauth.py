"""Entra ID tokens on the REST fast path, against Azurite's `--oauth basic` over https.

Azurite checks a token's issuer, audience and times but not its signature, so the tests mint
their own; a credential object with azure-identity's shape hands them out, offline.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import NamedTuple

import pytest
import trustme
from conftest import Azurite, start_azurite

from azxfer.credentials import Credential
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.errors import CredentialError
from azxfer.models import ContentProps
from azxfer.transport.pool import HttpPool
from azxfer.transport.retry import RetryPolicy

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_token(lifetime: float = 3600, audience: str = "https://storage.azure.com") -> str:
    """A JWT shaped as Entra ID issues for Storage (unsigned: Azurite does not verify it)."""
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": "test"}
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{TENANT}/",
        "iat": now - 60,
        "nbf": now - 60,
        "exp": int(now + lifetime),
        "oid": str(uuid.uuid4()),
        "tid": TENANT,
    }
    parts = [_b64url(json.dumps(p).encode()) for p in (header, claims)]
    return ".".join([*parts, _b64url(b"not-a-signature")])


class AccessToken(NamedTuple):
    token: str
    expires_on: int


class MintingCredential:
    """An azure-identity style async credential that mints a token per call."""

    def __init__(self, audience: str = "https://storage.azure.com") -> None:
        self.audience = audience
        self.calls = 0

    async def get_token(self, *scopes: str) -> AccessToken:
        self.calls += 1
        return AccessToken(mint_token(audience=self.audience), int(time.time()) + 3600)


@pytest.fixture(scope="module")
def oauth_azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Azurite, str]]:
    """Azurite over https with `--oauth basic`, and the CA bundle that trusts it."""
    workdir = tmp_path_factory.mktemp("azurite-oauth")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(workdir / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(workdir / "cert.pem"))
    ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
    args = ("--oauth", "basic", "--cert", "cert.pem", "--key", "key.pem")
    with start_azurite(workdir, *args, scheme="https") as emulator:
        yield emulator, str(workdir / "ca.pem")


def _client(azurite: Azurite, ca_file: str, token: object) -> tuple[HttpPool, RestBlobClient]:
    import ssl

    tls = ssl.create_default_context(cafile=ca_file)
    pool = HttpPool(4, tls=tls)
    credential = Credential("token", azurite.account, token=token)
    retry = RetryPolicy(attempts=1)
    return pool, RestBlobClient(pool, azurite.blob_endpoint, azurite.account, credential, retry)


def test_bearer_token_creates_writes_and_reads_on_the_fast_path(oauth_azurite) -> None:
    azurite, ca_file = oauth_azurite
    credential = MintingCredential()
    data = b"written with an Entra ID token\n" * 100
    container = "c" + uuid.uuid4().hex[:12]

    async def main() -> tuple[int, bytes]:
        pool, rest = _client(azurite, ca_file, credential)
        try:
            status, _ = await rest.container_request("PUT", container)
            md5 = hashlib.md5(data).digest()
            await rest.put_blob(container, "a.txt", data, md5, ContentProps(), None, None, None)
            read = await rest.get_range(container, "a.txt", 0, len(data), None)
            return status, read
        finally:
            await pool.close()

    status, read = asyncio.run(main())
    assert status == 201
    assert read == data
    assert credential.calls == 1  # one token for every request of the job


def test_a_token_for_another_audience_is_refused_as_a_credential_error(oauth_azurite) -> None:
    azurite, ca_file = oauth_azurite
    container = "c" + uuid.uuid4().hex[:12]

    async def main() -> None:
        pool, rest = _client(azurite, ca_file, MintingCredential("https://vault.azure.net"))
        try:
            await rest.put_blob(
                container,
                "a.txt",
                b"x",
                hashlib.md5(b"x").digest(),
                ContentProps(),
                None,
                None,
                None,
            )
        finally:
            await pool.close()

    with pytest.raises(CredentialError):
        asyncio.run(main())
