"""Unit tests for azxfer.endpoints.blob.rest: name quoting, SharedKey signing, status mapping.

The SharedKey expectations are computed here independently from Microsoft's documented
algorithm ("Authorize with Shared Key", Blob service, version 2015-02-21 and later), not from
the module under test.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlsplit

import pytest

from azxfer.credentials import Credential
from azxfer.endpoints.blob.errors import BLOB_ERRORS
from azxfer.endpoints.blob.requests import API_VERSION
from azxfer.endpoints.blob.requests import quote_name as _quote_name
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.errors import (
    AzxferError,
    ContainerMissing,
    CredentialError,
    IntegrityError,
    NotFoundError,
    NotSupportedError,
    RetryableError,
    ServerError,
    TransferError,
)
from azxfer.models import ContentProps
from azxfer.transport.classify import ErrorAnswer, classify_answer
from azxfer.transport.headers import Headers
from azxfer.transport.pool import CertificateError, ConnectError, ConnectionLost
from azxfer.transport.retry import RetryPolicy

ACCOUNT = "myacct"
RAW_KEY = b"0123456789abcdef0123456789abcdef-not-a-real-key-000"
KEY = base64.b64encode(RAW_KEY).decode()
ENDPOINT = f"https://{ACCOUNT}.blob.core.windows.net"
DATE = "Mon, 01 Jan 2024 00:00:00 GMT"

STANDARD_HEADERS = [
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-MD5",
    "Content-Type",
    "Date",
    "If-Modified-Since",
    "If-Match",
    "If-None-Match",
    "If-Unmodified-Since",
    "Range",
]


def client(
    endpoint: str = ENDPOINT, account: str = ACCOUNT, session=None, **retry
) -> RestBlobClient:
    credential = Credential("shared_key", account, key=KEY, origin="test")
    return RestBlobClient(session, endpoint, account, credential, RetryPolicy(**retry))


def sign(string_to_sign: str, account: str = ACCOUNT) -> str:
    digest = hmac.new(RAW_KEY, string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return f"SharedKey {account}:{base64.b64encode(digest).decode()}"


def documented_string_to_sign(
    method: str, account: str, path: str, query: dict[str, str], headers: dict[str, str]
) -> str:
    """The Blob service string-to-sign, written from the documentation."""
    by_name = {k.lower(): v for k, v in headers.items()}
    lines = [method]
    for name in STANDARD_HEADERS:
        value = by_name.get(name.lower(), "")
        if name == "Content-Length" and value == "0":
            value = ""  # version 2015-02-21+: a zero length is signed as empty
        lines.append(value)
    canonical_headers = "".join(
        f"{name}:{value}\n"
        for name, value in sorted(by_name.items())
        if name.startswith("x-ms-") and value
    )
    resource = f"/{account}{path}"
    for name in sorted(query, key=str.lower):
        resource += f"\n{name.lower()}:{query[name]}"
    return "\n".join(lines) + "\n" + canonical_headers + resource


# --- _quote_name --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("plain.txt", "plain.txt"),
        ("dir/sub/file.txt", "dir/sub/file.txt"),
        (".", "%2E"),
        ("..", "%2E%2E"),
        ("a/./b", "a/%2E/b"),
        ("a/../b", "a/%2E%2E/b"),
        ("../../etc/passwd", "%2E%2E/%2E%2E/etc/passwd"),
        ("dir/.", "dir/%2E"),
        (".hidden/..x/...", ".hidden/..x/..."),
        ("a b.txt", "a%20b.txt"),
        ("ü/日本.txt", "%C3%BC/%E6%97%A5%E6%9C%AC.txt"),
        ("a#b?c%d", "a%23b%3Fc%25d"),
        ("100%25", "100%2525"),
        ("x+y=z&w", "x%2By%3Dz%26w"),
        ("tilde~_-.", "tilde~_-."),
        ("a//b", "a//b"),
        ("trailing/", "trailing/"),
        ("back\\slash", "back%5Cslash"),
    ],
)
def test_quote_name(name: str, quoted: str) -> None:
    assert _quote_name(name) == quoted


# --- SharedKey ----------------------------------------------------------------------------


def test_authorization_matches_a_hand_written_string_to_sign() -> None:
    headers = {
        "x-ms-version": "2025-11-05",
        "x-ms-date": DATE,
        "Content-Length": "5",
        "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==",
        "Content-Type": "application/octet-stream",
    }
    query = {"comp": "block", "blockid": "QUFBQQ=="}
    expected = (
        "PUT\n"
        "\n"  # Content-Encoding
        "\n"  # Content-Language
        "5\n"  # Content-Length
        "XUFAKrxLKna5cZ2REBfFkg==\n"  # Content-MD5
        "application/octet-stream\n"  # Content-Type
        "\n"  # Date
        "\n"  # If-Modified-Since
        "\n"  # If-Match
        "\n"  # If-None-Match
        "\n"  # If-Unmodified-Since
        "\n"  # Range
        f"x-ms-date:{DATE}\n"
        "x-ms-version:2025-11-05\n"
        "/myacct/cont/dir/a%20b.txt\n"
        "blockid:QUFBQQ==\n"
        "comp:block"
    )
    assert documented_string_to_sign("PUT", ACCOUNT, "/cont/dir/a%20b.txt", query, headers) == (
        expected
    )
    auth = client().signer.auth.authorization("PUT", "/cont/dir/a%20b.txt", query, headers)
    assert auth == sign(expected)


def test_zero_content_length_is_signed_as_empty() -> None:
    headers = {"x-ms-version": API_VERSION, "x-ms-date": DATE, "Content-Length": "0"}
    expected = (
        "PUT\n\n\n\n\n\n\n\n\n\n\n\n"
        f"x-ms-date:{DATE}\nx-ms-version:{API_VERSION}\n/myacct/cont/empty"
    )
    assert client().signer.auth.authorization("PUT", "/cont/empty", {}, headers) == sign(expected)
    # and a non-zero length is not
    headers["Content-Length"] = "10"
    assert client().signer.auth.authorization("PUT", "/cont/empty", {}, headers) != sign(expected)


@pytest.mark.parametrize(
    ("method", "path", "query", "headers"),
    [
        (
            "PUT",
            "/cont/blob.bin",
            {},
            {
                "x-ms-blob-type": "BlockBlob",
                "Content-MD5": "1B2M2Y8AsgTpgAEAAAAAAA==",
                "x-ms-blob-content-md5": "1B2M2Y8AsgTpgAEAAAAAAA==",
                "x-ms-blob-content-type": "text/plain",
                "x-ms-meta-owner": "me",
                "x-ms-tags": "a=1&b=2",
                "x-ms-access-tier": "Cool",
                "x-ms-version": API_VERSION,
                "x-ms-date": DATE,
                "Content-Length": "11",
                "Content-Type": "application/octet-stream",
            },
        ),
        (
            "GET",
            "/cont/dir/%C3%BC.txt",
            {},
            {
                "x-ms-range": "bytes=0-1023",
                "If-Match": '"0x8DC0000"',
                "x-ms-version": API_VERSION,
                "x-ms-date": DATE,
                "Content-Length": "0",
            },
        ),
        (
            "GET",
            "/cont/x",
            {"timeout": "30", "Snapshot": "2024-01-01T00:00:00.0000000Z"},
            {
                "Range": "bytes=10-19",
                "If-None-Match": "*",
                "If-Modified-Since": DATE,
                "If-Unmodified-Since": DATE,
                "Content-Encoding": "gzip",
                "Content-Language": "en",
                "x-ms-version": API_VERSION,
                "x-ms-date": DATE,
                "x-ms-client-request-id": "abc",
            },
        ),
        (
            "PUT",
            "/cont/%2E%2E/a%20b",
            {"comp": "block", "blockid": "MDAwMDAx"},
            {
                "Content-MD5": "abc==",
                "x-ms-version": API_VERSION,
                "x-ms-date": DATE,
                "Content-Length": "4",
            },
        ),
    ],
)
def test_authorization_follows_documented_algorithm(
    method: str, path: str, query: dict[str, str], headers: dict[str, str]
) -> None:
    expected = sign(documented_string_to_sign(method, ACCOUNT, path, query, headers))
    assert client().signer.auth.authorization(method, path, query, headers) == expected


def test_header_names_are_case_insensitive_and_empty_values_unsigned() -> None:
    lower = {"x-ms-version": API_VERSION, "x-ms-date": DATE, "content-md5": "abc=="}
    mixed = {
        "X-MS-Version": API_VERSION,
        "X-Ms-Date": DATE,
        "CONTENT-MD5": "abc==",
        "x-ms-meta-empty": "",
        "Content-Type": "",
    }
    a = client().signer.auth.authorization("PUT", "/c/b", {}, lower)
    assert client().signer.auth.authorization("PUT", "/c/b", {}, mixed) == a
    assert a == sign(documented_string_to_sign("PUT", ACCOUNT, "/c/b", {}, lower))


def test_emulator_resource_names_the_account_twice() -> None:
    rest = client(endpoint="http://127.0.0.1:10000/devstoreaccount1", account="devstoreaccount1")
    headers = {"x-ms-version": API_VERSION, "x-ms-date": DATE}
    path = "/devstoreaccount1/cont/x"
    expected = (
        "GET\n\n\n\n\n\n\n\n\n\n\n\n"
        f"x-ms-date:{DATE}\nx-ms-version:{API_VERSION}\n"
        "/devstoreaccount1/devstoreaccount1/cont/x"
    )
    assert rest.signer.auth.authorization("GET", path, {}, headers) == sign(
        expected, "devstoreaccount1"
    )


def test_signature_depends_on_every_signed_part() -> None:
    rest = client()
    base = {"x-ms-version": API_VERSION, "x-ms-date": DATE, "Content-MD5": "abc=="}
    reference = rest.signer.auth.authorization("PUT", "/c/b", {"comp": "block"}, base)
    variants = [
        rest.signer.auth.authorization("GET", "/c/b", {"comp": "block"}, base),
        rest.signer.auth.authorization("PUT", "/c/B", {"comp": "block"}, base),
        rest.signer.auth.authorization("PUT", "/c/b", {"comp": "blocklist"}, base),
        rest.signer.auth.authorization("PUT", "/c/b", {}, base),
        rest.signer.auth.authorization(
            "PUT", "/c/b", {"comp": "block"}, {**base, "Content-MD5": "abd=="}
        ),
        rest.signer.auth.authorization(
            "PUT", "/c/b", {"comp": "block"}, {**base, "x-ms-meta-a": "1"}
        ),
    ]
    assert reference not in variants
    assert len(set(variants)) == len(variants)


def test_credentials_seen_by_the_client() -> None:
    kinds = {
        kind: type(RestBlobClient(None, ENDPOINT, ACCOUNT, credential, RetryPolicy()).signer.auth)
        for kind, credential in {
            "none": None,
            "anonymous": Credential("anonymous", ACCOUNT),
            "sas": Credential("sas", ACCOUNT, sas="sig=x"),
            "shared_key": Credential("shared_key", ACCOUNT, key=KEY),
            "token": Credential("token", ACCOUNT, token=TokenStub()),
        }.items()
    }
    assert {kind: cls.__name__ for kind, cls in kinds.items()} == {
        "none": "Anonymous",
        "anonymous": "Anonymous",
        "sas": "Sas",
        "shared_key": "SharedKey",
        "token": "Bearer",
    }
    sas = RestBlobClient(
        None, ENDPOINT + "/", ACCOUNT, Credential("sas", ACCOUNT, sas="sig=x"), RetryPolicy()
    )
    assert (sas.signer.auth.token, sas.endpoint) == ("sig=x", ENDPOINT)
    assert not hasattr(sas.signer.auth, "authorization")
    assert client().signer.auth._key == RAW_KEY


class TokenStub:
    """A credential object as azure-identity's: only its shape matters here."""

    def get_token(self, *scopes: str) -> None:
        raise AssertionError("not called: no request is sent")


# --- classify_answer with Blob's codes ----------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
@pytest.mark.parametrize(
    ("header", "seconds"), [("7", 7.0), ("0.5", 0.5), (None, None), ("soon", None)]
)
def test_retryable_statuses(status: int, header: str | None, seconds: float | None) -> None:
    err = classify_answer(ErrorAnswer(status, "ServerBusy", "blob 'x'", header), BLOB_ERRORS)
    # 5xx keep their status: the copy engine judges a 5xx to a method it does not yet trust
    assert type(err) is (ServerError if status >= 500 else RetryableError)
    assert getattr(err, "status", status) == status
    assert err.retryable is True
    assert err.retry_after == seconds  # type: ignore[attr-defined]
    assert str(err) == f"blob 'x': service busy ({status} ServerBusy) after retries"


@pytest.mark.parametrize(
    ("status", "code", "kind", "message"),
    [
        (404, "BlobNotFound", NotFoundError, "blob 'x' not found"),
        (404, "", NotFoundError, "blob 'x' not found"),
        (404, "ContainerNotFound", ContainerMissing, "blob 'x': its container does not exist"),
        (
            403,
            "AuthenticationFailed",
            CredentialError,
            "access to blob 'x' denied (AuthenticationFailed)",
        ),
        (403, "", CredentialError, "access to blob 'x' denied (forbidden)"),
        (412, "ConditionNotMet", IntegrityError, "blob 'x' changed during the transfer"),
        (412, "", IntegrityError, "blob 'x' changed during the transfer"),
        (400, "InvalidHeaderValue", TransferError, "blob 'x': 400 InvalidHeaderValue"),
        (409, "", TransferError, "blob 'x': 409"),
        # as the SDK path has always said (one classifier for both since issue 22)
        (
            501,
            "NotImplemented",
            NotSupportedError,
            "blob 'x': the service does not support this operation",
        ),
        (
            409,
            "InvalidBlobType",
            TransferError,
            "blob 'x' exists as another blob type: delete it first, or pick its type with "
            "--blob-type",
        ),
    ],
)
def test_other_statuses(status: int, code: str, kind: type, message: str) -> None:
    err = classify_answer(ErrorAnswer(status, code, "blob 'x'", "30"), BLOB_ERRORS)
    assert type(err) is kind
    assert isinstance(err, AzxferError)
    assert err.retryable is False
    assert str(err) == message


# --- requests through a fake session -------------------------------------------------------


class FakeResponse:
    def __init__(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}

    async def read(self) -> bytes:
        return self.body

    async def __aenter__(self) -> FakeResponse:
        return self

    async def __aexit__(self, *exc) -> None:
        return None


class FakeSession:
    def __init__(self, *responses) -> None:
        self.responses = list(responses)
        self.requests: list[tuple[str, str, dict[str, str], bytes | None]] = []

    def request(self, method, url, headers, data=None):
        self.requests.append((method, str(url), dict(headers), data))
        response = self.responses.pop(0)
        if isinstance(response, BaseException):
            raise response
        return response


def check_signed(method: str, url: str, headers: dict[str, str], account: str = ACCOUNT) -> None:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    expected = documented_string_to_sign(method, account, parts.path, query, headers)
    assert headers["Authorization"] == sign(expected, account)


def test_put_block_request_is_encoded_and_signed() -> None:
    session = FakeSession(FakeResponse(201))
    rest = client(session=session)
    asyncio.run(rest.put_block("cont", "dir/../a b#1", "block-000001", b"data"))
    [(method, url, headers, data)] = session.requests
    wire_id = base64.b64encode(b"block-000001").decode()
    assert method == "PUT"
    assert url == (
        f"{ENDPOINT}/cont/dir/%2E%2E/a%20b%231?comp=block&blockid={wire_id.replace('=', '%3D')}"
    )
    assert data == b"data"
    assert headers["Content-MD5"] == base64.b64encode(hashlib.md5(b"data").digest()).decode()
    assert headers["Content-Length"] == "4"
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["x-ms-version"] == API_VERSION
    check_signed("PUT", url, headers)


def test_put_blob_request_carries_properties() -> None:
    session = FakeSession(FakeResponse(201))
    rest = client(session=session)
    md5 = hashlib.md5(b"hello").digest()
    asyncio.run(
        rest.put_blob(
            "cont",
            "x.txt",
            b"hello",
            md5,
            ContentProps(content_type="text/plain", cache_control="no-cache"),
            {"owner": "me"},
            {"k": "a b", "z": "1"},
            "Cool",
        )
    )
    [(method, url, headers, _)] = session.requests
    assert method == "PUT"
    b64 = base64.b64encode(md5).decode()
    assert url == f"{ENDPOINT}/cont/x.txt"
    assert {k: v for k, v in headers.items() if k not in ("x-ms-date", "Authorization")} == {
        "x-ms-blob-type": "BlockBlob",
        "Content-MD5": b64,
        "x-ms-blob-content-md5": b64,
        "x-ms-blob-content-type": "text/plain",
        "x-ms-blob-cache-control": "no-cache",
        "x-ms-access-tier": "Cool",
        "x-ms-meta-owner": "me",
        "x-ms-tags": "k=a%20b&z=1",
        "x-ms-version": API_VERSION,
        "Content-Length": "5",
        "Content-Type": "application/octet-stream",
    }
    check_signed("PUT", url, headers)


def test_get_range_on_emulator_with_etag() -> None:
    session = FakeSession(FakeResponse(206, b"abcde"))
    rest = client(
        endpoint="http://127.0.0.1:10000/devstoreaccount1",
        account="devstoreaccount1",
        session=session,
    )
    got = asyncio.run(rest.get_range("cont", "d/f.bin", 100, 5, '"etag"'))
    assert got == b"abcde"
    [(method, url, headers, data)] = session.requests
    assert (method, url, data) == (
        "GET",
        "http://127.0.0.1:10000/devstoreaccount1/cont/d/f.bin",
        None,
    )
    assert headers["x-ms-range"] == "bytes=100-104"
    assert headers["If-Match"] == '"etag"'
    assert headers["Content-Length"] == "0"
    assert "Content-Type" not in headers
    check_signed("GET", url, headers, "devstoreaccount1")


def test_whole_blob_read_asks_for_no_range_and_checks_the_answers_etag() -> None:
    session = FakeSession(FakeResponse(200, b"abcde", {"ETag": '"etag"'}))
    rest = emulator_client(session)
    got = asyncio.run(rest.get_range("cont", "d/f.bin", 0, 5, '"etag"', whole=True))
    assert got == b"abcde"
    [(method, url, headers, _)] = session.requests
    assert "x-ms-range" not in headers and "If-Match" not in headers
    check_signed(method, url, headers, "devstoreaccount1")


def test_whole_blob_read_with_another_etag_is_refused_without_retry() -> None:
    session = FakeSession(FakeResponse(200, b"abcde", {"ETag": '"newer"'}))
    with pytest.raises(IntegrityError, match=r"blob 'd/f\.bin' changed during the transfer"):
        asyncio.run(emulator_client(session).get_range("cont", "d/f.bin", 0, 5, '"etag"', True))
    assert len(session.requests) == 1


def test_whole_blob_read_without_a_known_etag_takes_the_answer() -> None:
    session = FakeSession(FakeResponse(200, b"abcde", {"ETag": '"any"'}))
    got = asyncio.run(emulator_client(session).get_range("cont", "f", 0, 5, None, whole=True))
    assert got == b"abcde"


def test_sas_goes_on_the_query_without_authorization() -> None:
    session = FakeSession(FakeResponse(201))
    credential = Credential("sas", ACCOUNT, sas="sv=2023-11-03&sig=abc%2B")
    rest = RestBlobClient(session, ENDPOINT, ACCOUNT, credential, RetryPolicy())
    asyncio.run(rest.put_block("cont", "b", "id", b"x"))
    [(_, url, headers, _)] = session.requests
    assert url.endswith("/cont/b?comp=block&blockid=aWQ%3D&sv=2023-11-03&sig=abc%2B")
    assert "Authorization" not in headers


def test_retryable_status_is_retried_then_succeeds() -> None:
    session = FakeSession(
        FakeResponse(503, headers={"x-ms-error-code": "ServerBusy"}), FakeResponse(201)
    )
    rest = client(session=session, base_delay=0.001, max_delay=0.001)
    asyncio.run(rest.put_block("cont", "b", "id", b"x"))
    assert len(session.requests) == 2


def test_errors_after_retries_are_classified() -> None:
    session = FakeSession(
        FakeResponse(500),
        ConnectionLost("reset"),
        FakeResponse(200, b"ab"),
    )
    rest = client(session=session, attempts=3, base_delay=0.001, max_delay=0.001)
    with pytest.raises(RetryableError, match="got 2 of 5 bytes"):
        asyncio.run(rest.get_range("cont", "b", 0, 5, None))
    assert len(session.requests) == 3


def test_not_found_is_not_retried() -> None:
    session = FakeSession(FakeResponse(404, headers={"x-ms-error-code": "ContainerNotFound"}))
    rest = client(session=session, base_delay=0.001)
    # A request names its container: the job stops on it with one error naming it.
    with pytest.raises(ContainerMissing, match=r"container 'cont' at .* does not exist"):
        asyncio.run(rest.put_block("cont", "b", "id", b"x"))
    assert len(session.requests) == 1


# --- Get Blob Properties and the one-entry listing ------------------------------------------


def described_headers(**extra: str) -> Headers:
    values = {
        "content-length": "3145728",
        "last-modified": "Sun, 22 Nov 2026 00:47:12 GMT",
        "etag": '"0x8D1"',
        "content-md5": "AAECAwQFBgcICQoLDA0ODw==",
        "x-ms-blob-type": "PageBlob",
        "content-type": "text/x-test",
        "content-encoding": "identity",
        "content-language": "fr",
        "content-disposition": "attachment",
        "cache-control": "max-age=60",
        "x-ms-meta-mixedcase": "v1",
        "x-ms-meta-lower": "v2",
        "x-ms-access-tier": "Cool",
        **extra,
    }
    return Headers(values, {"x-ms-meta-mixedcase": "x-ms-meta-MixedCase"})


def test_blob_properties_are_read_from_a_signed_head() -> None:
    session = FakeSession(FakeResponse(200, b"", described_headers()))
    rest = emulator_client(session)
    blob = asyncio.run(rest.get_properties("cont", "d/a b.txt"))
    [(method, url, headers, data)] = session.requests
    assert (method, url, data) == (
        "HEAD",
        "http://127.0.0.1:10000/devstoreaccount1/cont/d/a%20b.txt",
        None,
    )
    check_signed(method, url, headers, "devstoreaccount1")
    assert blob is not None
    assert (blob.name, blob.size, blob.etag, blob.blob_type) == (
        "d/a b.txt", 3145728, '"0x8D1"', "PageBlob",
    )  # fmt: skip
    assert blob.last_modified == 1795308432.0  # 2026-11-22T00:47:12Z
    assert blob.md5 == bytes(range(16))
    assert blob.content == ContentProps("text/x-test", "identity", "fr", "attachment", "max-age=60")
    assert blob.metadata == {"MixedCase": "v1", "lower": "v2"}
    assert blob.tier == "Cool"


def test_an_inferred_tier_and_missing_properties_are_none() -> None:
    headers = Headers({"content-length": "0", "x-ms-access-tier": "Hot",
                       "x-ms-access-tier-inferred": "true"})  # fmt: skip
    blob = asyncio.run(
        emulator_client(FakeSession(FakeResponse(200, b"", headers))).get_properties("c", "b")
    )
    assert blob is not None
    assert (blob.size, blob.tier, blob.md5, blob.etag, blob.last_modified) == (
        0, None, None, None, None,
    )  # fmt: skip
    assert blob.metadata == {} and blob.content == ContentProps()


@pytest.mark.parametrize("code", ["BlobNotFound", "ContainerNotFound", ""])
def test_a_missing_blob_is_none_and_not_retried(code: str) -> None:
    session = FakeSession(FakeResponse(404, headers=Headers({"x-ms-error-code": code})))
    assert asyncio.run(client(session=session, base_delay=0.001).get_properties("c", "b")) is None
    assert len(session.requests) == 1


def test_blob_properties_refused_or_busy() -> None:
    denied = Headers({"x-ms-error-code": "AuthorizationPermissionMismatch"})
    session = FakeSession(FakeResponse(403, headers=denied))
    with pytest.raises(CredentialError):
        asyncio.run(client(session=session).get_properties("c", "b"))
    assert len(session.requests) == 1
    busy = FakeSession(
        FakeResponse(503, headers=Headers({})), FakeResponse(200, b"", described_headers())
    )
    rest = client(session=busy, base_delay=0.001, max_delay=0.001)
    assert asyncio.run(rest.get_properties("c", "b")) is not None
    assert len(busy.requests) == 2


@pytest.mark.parametrize(("names", "found"), [(["d/x"], True), ([], False)])
def test_has_blobs_asks_for_one_entry_under_the_prefix(names: list[str], found: bool) -> None:
    session = FakeSession(FakeResponse(200, listing_page(names)))
    assert asyncio.run(client(session=session).has_blobs("cont", "d/")) is found
    [(_, url, _, _)] = session.requests
    query = dict(parse_qsl(urlsplit(url).query))
    assert (query["prefix"], query["maxresults"], query["comp"]) == ("d/", "1", "list")
    assert "delimiter" not in query


# --- streamed ranged reads and sliced bodies -------------------------------------------------


class FakeContent:
    """A response body: readany() hands out one piece at a time, b"" at the end."""

    def __init__(self, pieces: list[bytes], error: BaseException | None) -> None:
        self.pieces = list(pieces)
        self.error = error

    async def readany(self) -> bytes:
        if self.pieces:
            return self.pieces.pop(0)
        if self.error is not None:
            raise self.error
        return b""


class FakeStreamResponse(FakeResponse):
    def __init__(
        self,
        status: int,
        pieces: list[bytes] | None = None,
        error: BaseException | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, b"".join(pieces or []), headers)
        self.content = FakeContent(pieces or [], error)

    async def readany(self) -> bytes:
        return await self.content.readany()


def emulator_client(session, **retry) -> RestBlobClient:
    return client(
        endpoint="http://127.0.0.1:10000/devstoreaccount1",
        account="devstoreaccount1",
        session=session,
        **retry,
    )


def stream(rest: RestBlobClient, offset: int, length: int, etag=None):
    got: list[tuple[int, bytes]] = []

    async def consume(position: int, piece: bytes) -> None:
        got.append((position, piece))

    asyncio.run(rest.get_range_to("cont", "d/f.bin", offset, length, etag, consume))
    return got


def test_get_range_to_hands_over_pieces_in_order() -> None:
    session = FakeSession(FakeStreamResponse(206, [b"abc", b"de", b"fghij"]))
    got = stream(emulator_client(session), 100, 10, '"etag"')
    assert got == [(100, b"abc"), (103, b"de"), (105, b"fghij")]
    [(method, url, headers, data)] = session.requests
    assert (method, url, data) == (
        "GET",
        "http://127.0.0.1:10000/devstoreaccount1/cont/d/f.bin",
        None,
    )
    assert headers["x-ms-range"] == "bytes=100-109"
    assert headers["If-Match"] == '"etag"'
    check_signed("GET", url, headers, "devstoreaccount1")


def test_get_range_to_resumes_a_broken_body_from_the_first_missing_byte() -> None:
    session = FakeSession(
        FakeStreamResponse(206, [b"abc", b"de"], error=ConnectionLost("cut")),
        ConnectionLost("refused"),
        FakeStreamResponse(206, [b"fg"]),  # ends early: retried again
        FakeStreamResponse(206, [b"hij"]),
    )
    got = stream(emulator_client(session, base_delay=0.001, max_delay=0.001), 100, 10)
    assert got == [(100, b"abc"), (103, b"de"), (105, b"fg"), (107, b"hij")]
    ranges = [headers["x-ms-range"] for _, _, headers, _ in session.requests]
    assert ranges == ["bytes=100-109", "bytes=105-109", "bytes=105-109", "bytes=107-109"]
    for method, url, headers, _ in session.requests:  # every attempt is signed anew
        check_signed(method, url, headers, "devstoreaccount1")


def stream_whole(session, etag: str | None):
    got: list[tuple[int, bytes]] = []

    async def consume(position: int, piece: bytes) -> None:
        got.append((position, piece))

    rest = emulator_client(session, base_delay=0.001, max_delay=0.001)
    asyncio.run(rest.get_range_to("cont", "f", 0, 10, etag, consume, whole=True))
    return got


def test_get_range_to_a_whole_blob_asks_plainly_and_resumes_with_a_condition() -> None:
    session = FakeSession(
        FakeStreamResponse(200, [b"abc", b"de"], ConnectionLost("cut"), {"ETag": '"e"'}),
        FakeStreamResponse(206, [b"fghij"]),
    )
    got = stream_whole(session, '"e"')
    assert got == [(0, b"abc"), (3, b"de"), (5, b"fghij")]
    first, retry = (headers for _, _, headers, _ in session.requests)
    assert "x-ms-range" not in first and "If-Match" not in first
    assert retry["x-ms-range"] == "bytes=5-9" and retry["If-Match"] == '"e"'


def test_get_range_to_a_whole_blob_that_changed_consumes_nothing() -> None:
    session = FakeSession(FakeStreamResponse(200, [b"0123456789"], headers={"ETag": '"new"'}))
    with pytest.raises(IntegrityError, match="changed during the transfer"):
        stream_whole(session, '"old"')
    assert len(session.requests) == 1


def test_get_range_to_gives_up_after_the_attempts() -> None:
    session = FakeSession(*(FakeStreamResponse(206, [b"a"]) for _ in range(3)))
    rest = emulator_client(session, attempts=3, base_delay=0.001, max_delay=0.001)
    with pytest.raises(RetryableError, match="got 3 of 5 bytes"):
        stream(rest, 0, 5)


def test_get_range_to_refuses_a_body_longer_than_asked() -> None:
    session = FakeSession(FakeStreamResponse(200, [b"abcdefgh"]))
    rest = emulator_client(session, attempts=1)
    with pytest.raises(RetryableError, match="more than the 5 bytes"):
        stream(rest, 0, 5)


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [(412, "ConditionNotMet", IntegrityError), (404, "BlobNotFound", NotFoundError)],
)
def test_get_range_to_errors_are_classified_without_retry(
    status: int, code: str, kind: type
) -> None:
    session = FakeSession(FakeStreamResponse(status, headers={"x-ms-error-code": code}))
    with pytest.raises(kind):
        stream(emulator_client(session, base_delay=0.001), 0, 5)
    assert len(session.requests) == 1


def test_get_range_to_consumer_errors_end_the_read() -> None:
    session = FakeSession(FakeStreamResponse(206, [b"abc", b"de"]))

    async def consume(position: int, piece: bytes) -> None:
        raise TransferError("disk full")

    with pytest.raises(TransferError, match="disk full"):
        asyncio.run(emulator_client(session).get_range_to("c", "b", 0, 5, None, consume))
    assert len(session.requests) == 1


def test_large_put_block_body_is_sent_in_slices() -> None:
    data = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4: several slices, MD5 in a thread

    class CollectingSession(FakeSession):
        def __init__(self) -> None:
            super().__init__(FakeResponse(201))
            self.sent: list[bytes] = []

        def request(self, method, url, headers, data=None):
            response = super().request(method, url, headers, data)
            return SliceReader(data, self.sent, response)

    class SliceReader:
        def __init__(self, body, sent, response) -> None:
            self.body, self.sent, self.response = body, sent, response

        async def __aenter__(self):
            async for piece in self.body:
                assert isinstance(piece, memoryview)
                self.sent.append(bytes(piece))
            return self.response

        async def __aexit__(self, *exc) -> None:
            return None

    session = CollectingSession()
    asyncio.run(client(session=session).put_block("cont", "b", "id", data))
    [(_, url, headers, _)] = session.requests
    assert b"".join(session.sent) == data
    assert len(session.sent) == 5
    assert max(len(piece) for piece in session.sent) == 256 * 1024
    assert headers["Content-Length"] == str(len(data))
    assert headers["Content-MD5"] == base64.b64encode(hashlib.md5(data).digest()).decode()
    check_signed("PUT", url, headers)


def test_signing_order_is_the_sdk_collation() -> None:
    """Our header collation orders names exactly as the Azure SDK's table-driven compare."""
    import random

    from azure.storage.blob._shared.authentication import _storage_header_sort

    from azxfer.transport.signing import signing_order as _signing_order

    rng = random.Random(6)
    alphabet = "abcXYZ019-'_.~+!|^`"
    for _ in range(300):
        names = tuple(
            {
                "x-ms-" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
                for _ in range(rng.randint(1, 8))
            }
        )
        expected = tuple(name for name, _ in _storage_header_sort([(n, "") for n in names]))
        assert _signing_order(names) == expected, names
    real = ("x-ms-version", "x-ms-date", "x-ms-range", "x-ms-meta-a_b", "x-ms-meta-ab", "x-ms-tags")
    expected = tuple(name for name, _ in _storage_header_sort([(n, "") for n in real]))
    assert _signing_order(real) == expected


def test_container_request_retries_a_truncated_answer() -> None:
    class Session:
        def __init__(self) -> None:
            self.calls = 0

        def request(self, method, url, headers, body=None):  # as HttpPool.request
            self.calls += 1
            if self.calls == 1:
                raise ConnectionLost("the connection was closed mid-response")
            return FakeResponse(200)

    session = Session()
    rest = client(session=session, base_delay=0.001, max_delay=0.001)
    assert asyncio.run(rest.container_request("HEAD", "cont")) == (200, "")
    assert session.calls == 2


# --- listing ---------------------------------------------------------------------------------


def listing_page(names: list[str], marker: str = "") -> bytes:
    blobs = "".join(
        f"<Blob><Name>{name}</Name><Properties>"
        "<Last-Modified>Sun, 22 Nov 2026 00:47:12 GMT</Last-Modified><Etag>0x8D1</Etag>"
        "<Content-Length>4096</Content-Length><Content-Type>text/plain</Content-Type>"
        "<Content-MD5>AAECAwQFBgcICQoLDA0ODw==</Content-MD5><BlobType>BlockBlob</BlobType>"
        "<AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred>"
        "</Properties><Metadata><mtime>1700000000</mtime></Metadata></Blob>"
        for name in names
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>'
        f"{blobs}</Blobs><NextMarker>{marker}</NextMarker></EnumerationResults>"
    ).encode()


def test_listing_follows_markers_and_asks_for_the_next_page_before_yielding() -> None:
    session = FakeSession(
        FakeResponse(200, listing_page(["a", "b"], marker="m&amp;1")),
        FakeResponse(200, listing_page(["c"])),
    )
    rest = client(session=session)

    async def collect() -> list[tuple[str, int]]:
        seen = []
        async for blob in rest.list_blobs("cont", "", None):
            # The second page was requested before the first page's entries were handed out.
            seen.append((blob.name, len(session.requests)))
        return seen

    assert asyncio.run(collect()) == [("a", 2), ("b", 2), ("c", 2)]
    first, second = (dict(parse_qsl(urlsplit(r[1]).query)) for r in session.requests)
    assert first["maxresults"] == "250" and "marker" not in first
    assert second["maxresults"] == "500" and second["marker"] == "m&1"
    assert first["include"] == second["include"] == "metadata"


def test_the_next_page_is_asked_for_before_this_page_is_parsed(monkeypatch) -> None:
    from azxfer.endpoints.blob import rest as blob_rest

    session = FakeSession(
        FakeResponse(200, listing_page(["a"], marker="m1")),
        FakeResponse(200, listing_page(["b"])),
    )
    parsed_when: list[int] = []
    parse = blob_rest.ElementTree.fromstring

    def recording(text):
        if b"<Blobs>" in text:  # a whole page, not the marker alone
            parsed_when.append(len(session.requests))
        return parse(text)

    monkeypatch.setattr(blob_rest.ElementTree, "fromstring", recording)

    async def names() -> list[str]:
        return [blob.name async for blob in client(session=session).list_blobs("cont", "", None)]

    assert asyncio.run(names()) == ["a", "b"]
    assert parsed_when == [2, 2]  # page 1 was parsed after page 2 had been requested


def test_a_marker_read_early_that_the_parsed_page_denies_is_not_followed() -> None:
    # Not something the service sends: a comment after the page's real (empty) marker.
    page = listing_page(["a"]).replace(
        b"</EnumerationResults>", b"<!-- <NextMarker>bogus</NextMarker> --></EnumerationResults>"
    )
    session = FakeSession(FakeResponse(200, page), FakeResponse(200, listing_page(["x"])))

    async def names() -> list[str]:
        return [blob.name async for blob in client(session=session).list_blobs("cont", "", None)]

    assert asyncio.run(names()) == ["a"]


@pytest.mark.parametrize(
    ("tail", "marker"),
    [
        ("<NextMarker>m&amp;&lt;1&gt;</NextMarker>", "m&<1>"),
        ("<NextMarker />", ""),
        ("<NextMarker></NextMarker>", ""),
        ("", ""),
    ],
)
def test_next_marker_is_read_from_the_tail_of_the_page(tail: str, marker: str) -> None:
    from azxfer.endpoints.blob.requests import next_marker as _next_marker

    # A blob name that spells the tag is escaped in the page, so it cannot be mistaken for it.
    page = (
        "<EnumerationResults><Blobs><Blob><Name>&lt;NextMarker&gt;x&lt;/NextMarker&gt;</Name>"
        f"</Blob></Blobs>{tail}</EnumerationResults>"
    ).encode()
    assert _next_marker(page) == marker


def test_listing_pages_double_up_to_the_service_maximum() -> None:
    pages = [FakeResponse(200, listing_page([f"b{i}"], marker=f"m{i}")) for i in range(7)]
    session = FakeSession(*pages, FakeResponse(200, listing_page(["last"])))
    rest = client(session=session)

    async def names() -> list[str]:
        return [blob.name async for blob in rest.list_blobs("cont", "", None)]

    assert asyncio.run(names())[-1] == "last"
    sizes = [dict(parse_qsl(urlsplit(r[1]).query))["maxresults"] for r in session.requests]
    assert sizes == ["250", "500", "1000", "2000", "4000", "5000", "5000", "5000"]


def test_listed_fields_are_parsed() -> None:
    session = FakeSession(FakeResponse(200, listing_page(["d/x.txt"])))
    rest = client(session=session)

    async def first():
        async for blob in rest.list_blobs("cont", "d/", "/"):
            return blob

    blob = asyncio.run(first())
    assert blob.name == "d/x.txt" and blob.size == 4096 and blob.etag == "0x8D1"
    assert blob.last_modified == 1795308432.0  # 2026-11-22T00:47:12Z
    assert blob.md5 == bytes(range(16))
    assert blob.blob_type == "BlockBlob"
    assert blob.content == ContentProps(content_type="text/plain")
    assert blob.metadata == {"mtime": "1700000000"}
    assert blob.tier is None  # inferred: the account's default, not the blob's own
    query = dict(parse_qsl(urlsplit(session.requests[0][1]).query))
    assert query["prefix"] == "d/" and query["delimiter"] == "/"


def test_blobs_with_the_same_content_properties_share_one_object() -> None:
    """A listing of millions of blobs holds one ContentProps per distinct set, not per blob."""
    session = FakeSession(FakeResponse(200, listing_page(["a", "b", "c"])))

    async def contents() -> list[ContentProps]:
        return [blob.content async for blob in client(session=session).list_blobs("c", "", None)]

    first, *others = asyncio.run(contents())
    assert all(other is first for other in others)


def test_a_name_the_service_sent_encoded_is_decoded() -> None:
    """Names with characters XML cannot carry come as <Name Encoded="true">, percent-encoded
    (List Blobs, version 2020-10-02 and later); the others are taken as written."""
    page = listing_page(["plain%41", "PLACEHOLDER"]).replace(
        b"<Name>PLACEHOLDER</Name>", b'<Name Encoded="true">bell%07/a%25b</Name>'
    )
    session = FakeSession(FakeResponse(200, page))

    async def names() -> list[str]:
        return [blob.name async for blob in client(session=session).list_blobs("c", "", None)]

    assert asyncio.run(names()) == ["plain%41", "bell\x07/a%b"]


def test_listing_stopped_early_cancels_the_prefetched_page() -> None:
    class SlowSession(FakeSession):
        def request(self, method, url, headers, data=None):
            response = super().request(method, url, headers, data)
            if len(self.requests) == 2:

                class Never(FakeResponse):
                    async def read(self) -> bytes:
                        await asyncio.sleep(3600)
                        return b""

                return Never(200)
            return response

    session = SlowSession(FakeResponse(200, listing_page(["a"], marker="m")), FakeResponse(200))
    rest = client(session=session)

    async def first_only() -> str:
        listing = rest.list_blobs("cont", "", None)
        async for blob in listing:
            await listing.aclose()
            return blob.name
        return ""

    assert asyncio.run(asyncio.wait_for(first_only(), 5)) == "a"


def test_an_untrusted_certificate_is_final_not_retried() -> None:
    from azxfer.errors import UnreachableError

    failure = CertificateError("certificate verify failed")
    session = FakeSession(failure, FakeResponse(200, b"never"))
    rest = client(session=session)
    with pytest.raises(UnreachableError, match="TLS certificate cannot be verified"):
        asyncio.run(rest.get_range("cont", "b", 0, 5, None))
    assert len(session.requests) == 1


def test_a_refused_connection_is_retried_briefly_then_unreachable() -> None:
    from azxfer.errors import UnreachableError

    refused = [
        ConnectError("127.0.0.1", 1, ConnectionRefusedError(111, "refused")) for _ in range(6)
    ]
    session = FakeSession(*refused)
    rest = client(session=session, base_delay=0.001)
    with pytest.raises(UnreachableError, match=r"cannot connect to 127\.0\.0\.1:1"):
        asyncio.run(rest.get_range("cont", "b", 0, 5, None))
    assert len(session.requests) == 4  # not the policy's 7
