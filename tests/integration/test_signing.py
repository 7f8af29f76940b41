"""Request authorization (transport.signing, transport.bearer) against a real service: each
variant signs requests that Azurite accepts, and a wrong key is refused."""

from __future__ import annotations

import asyncio
import base64
import http.client
import time
from email.utils import formatdate
from typing import NamedTuple

import pytest

from azxfer.errors import CredentialError
from azxfer.transport.bearer import REFRESH_MARGIN, Bearer
from azxfer.transport.signing import Anonymous, Sas, SharedKey, TableSharedKey


def _send(port: int, method: str, path: str, auth, query: dict[str, str], headers: dict[str, str]):
    headers = {"x-ms-date": formatdate(usegmt=True), **headers}
    extra = auth.apply(method, path, query, headers)
    pairs = [f"{k}={v}" for k, v in query.items()] + ([extra] if extra else [])
    url = path + ("?" + "&".join(pairs) if pairs else "")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, url, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _table_headers() -> dict[str, str]:
    return {
        "x-ms-version": "2019-02-02",
        "Accept": "application/json;odata=nometadata",
        "DataServiceVersion": "3.0",
    }


def test_table_shared_key_is_accepted_by_the_table_service(azurite) -> None:
    auth = TableSharedKey(azurite.account, azurite.key)
    path = f"/{azurite.account}/Tables"
    status, body = _send(azurite.table_port, "GET", path, auth, {}, _table_headers())
    assert status == 200, body


def test_table_shared_key_with_another_key_is_refused(azurite) -> None:
    wrong = base64.b64encode(b"not the key" * 4).decode()
    auth = TableSharedKey(azurite.account, wrong)
    path = f"/{azurite.account}/Tables"
    status, _ = _send(azurite.table_port, "GET", path, auth, {}, _table_headers())
    assert status == 403


def test_blob_shared_key_is_accepted_and_the_table_form_is_not(azurite) -> None:
    path = f"/{azurite.account}"
    query = {"comp": "list"}
    headers = {"x-ms-version": "2021-08-06"}
    ok, body = _send(
        azurite.blob_port, "GET", path, SharedKey(azurite.account, azurite.key), query, headers
    )
    assert ok == 200, body
    table_form = TableSharedKey(azurite.account, azurite.key)
    refused, _ = _send(azurite.blob_port, "GET", path, table_form, query, headers)
    assert refused == 403


def test_sas_and_anonymous_add_only_what_they_carry() -> None:
    headers: dict[str, str] = {}
    assert Sas("?sv=1&sig=abc").apply("GET", "/a/c", {}, headers) == "sv=1&sig=abc"
    assert Anonymous().apply("GET", "/a/c", {}, headers) == ""
    assert headers == {}


class _Token(NamedTuple):
    token: str
    expires_on: int


class _CountingCredential:
    """An azure-identity style credential issuing numbered tokens of a given lifetime."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self.calls = 0
        self.scopes: list[tuple[str, ...]] = []

    async def get_token(self, *scopes: str) -> _Token:
        self.calls += 1
        self.scopes.append(scopes)
        await asyncio.sleep(0.01)  # concurrent callers overlap here
        return _Token(f"token-{self.calls}", int(time.time() + self.lifetime))


def test_bearer_fetches_once_for_concurrent_requests_and_reuses_a_fresh_token() -> None:
    credential = _CountingCredential(lifetime=3600)
    bearer = Bearer(credential)

    async def main() -> list[str]:
        await asyncio.gather(*(bearer.ready() for _ in range(20)))
        await bearer.ready()
        headers: dict[str, str] = {}
        bearer.apply("GET", "/a/c", {}, headers)
        return [headers["Authorization"]]

    assert asyncio.run(main()) == ["Bearer token-1"]
    assert credential.calls == 1
    assert credential.scopes == [("https://storage.azure.com/.default",)]


def test_bearer_renews_a_token_within_the_margin_or_past_half_its_life() -> None:
    long_lived = _CountingCredential(lifetime=3600)
    short_lived = _CountingCredential(lifetime=2)

    async def authorization(bearer: Bearer) -> str:
        await bearer.ready()
        headers: dict[str, str] = {}
        bearer.apply("GET", "/a/c", {}, headers)
        return headers["Authorization"]

    async def main() -> list[str]:
        seen = []
        bearer = Bearer(long_lived)
        seen += [await authorization(bearer), await authorization(bearer)]
        # Within the margin of its expiry, a token is renewed before it is used.
        bearer._expires_on = time.time() + REFRESH_MARGIN - 1
        seen.append(await authorization(bearer))
        # A token shorter-lived than twice the margin is used for half its life (not
        # fetched again for every request), then renewed.
        bearer = Bearer(short_lived)
        seen += [await authorization(bearer), await authorization(bearer)]
        await asyncio.sleep(max(0.0, bearer._expires_on - time.time()) / 2 + 0.05)
        seen.append(await authorization(bearer))
        return seen

    assert asyncio.run(main()) == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
    ]


def test_bearer_accepts_a_synchronous_credential_and_reports_its_failure() -> None:
    class Sync:
        def get_token(self, *scopes: str) -> _Token:
            return _Token("sync-token", int(time.time() + 3600))

    class Failing:
        def get_token(self, *scopes: str) -> _Token:
            raise RuntimeError("AADSTS700016: application not found\nmore detail")

    async def authorize(credential) -> str:
        bearer = Bearer(credential)
        await bearer.ready()
        headers: dict[str, str] = {}
        bearer.apply("GET", "/", {}, headers)
        return headers["Authorization"]

    assert asyncio.run(authorize(Sync())) == "Bearer sync-token"
    with pytest.raises(CredentialError, match=r"AADSTS700016: application not found$"):
        asyncio.run(authorize(Failing()))
    assert "token" not in repr(Bearer(Sync())).replace("<token redacted>", "")
