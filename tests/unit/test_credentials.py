"""Unit tests for azxfer.credentials: precedence, key checks, SAS expiry, safe descriptions."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from azxfer.credentials import (
    AZURITE_KEY,
    CONNECTION_STRING_ENV,
    Credential,
    SignedInToken,
    parse_connection_string,
    path_style_services,
    resolve_credential,
    resolve_credentials,
)
from azxfer.errors import CredentialError
from azxfer.locations import Service, parse_location

KEY_A = base64.b64encode(b"key-a-0123456789abcdef0123456789").decode()
KEY_B = base64.b64encode(b"key-b-fedcba9876543210fedcba9876").decode()
KEY_C = base64.b64encode(b"key-c-from-the-connection-string").decode()
FUTURE = "2099-01-01T00:00:00Z"
PAST = "2001-01-01T00:00:00Z"
URL = "https://myacct.blob.core.windows.net/cont/x.txt"
SAS = f"sv=2023-11-03&sp=rl&se={FUTURE}&sig=U0FTc2lnbmF0dXJl"


def loc(sas: str | None = None, url: str = URL):
    return parse_location(f"{url}?{sas}" if sas else url)


class Token:
    """A stand-in for an azure-identity credential object."""

    def __repr__(self) -> str:
        return "Token()"


def provider(calls: list):
    token = Token()

    def get(location):
        calls.append(location)
        return SignedInToken(token, "azxfer login")

    get.token = token  # type: ignore[attr-defined]
    return get


# --- precedence -----------------------------------------------------------------------------


def test_sas_on_url_beats_everything(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY_A)
    calls: list = []
    env = {
        "AZXFER_SOURCE_KEY": KEY_B,
        CONNECTION_STRING_ENV: f"AccountName=myacct;AccountKey={KEY_C}",
    }
    cred = resolve_credential(loc(SAS), "source", env, key_file, provider(calls))
    assert cred.kind == "sas"
    assert cred.account == "myacct"
    assert cred.sas == loc(SAS).sas
    assert cred.key is None
    assert cred.origin == "the URL"
    assert calls == []


def test_key_file_beats_env_key(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(f"  {KEY_A}\n")
    env = {"AZXFER_DEST_KEY": KEY_B, CONNECTION_STRING_ENV: f"AccountKey={KEY_C}"}
    cred = resolve_credential(loc(), "dest", env, key_file)
    assert (cred.kind, cred.key, cred.origin) == ("shared_key", KEY_A, str(key_file))


def test_env_key_by_side() -> None:
    env = {"AZXFER_SOURCE_KEY": KEY_A, "AZXFER_DEST_KEY": KEY_B}
    src = resolve_credential(loc(), "source", env)
    dst = resolve_credential(loc(), "dest", env)
    assert (src.kind, src.key, src.origin) == ("shared_key", KEY_A, "AZXFER_SOURCE_KEY")
    assert (dst.kind, dst.key, dst.origin) == ("shared_key", KEY_B, "AZXFER_DEST_KEY")


def test_other_sides_env_key_is_not_used() -> None:
    cred = resolve_credential(loc(), "dest", {"AZXFER_SOURCE_KEY": KEY_A})
    assert cred.kind == "anonymous"


def test_env_key_beats_connection_string() -> None:
    env = {"AZXFER_SOURCE_KEY": KEY_A, CONNECTION_STRING_ENV: f"AccountKey={KEY_C}"}
    cred = resolve_credential(loc(), "source", env)
    assert (cred.key, cred.origin) == (KEY_A, "AZXFER_SOURCE_KEY")


def test_empty_env_key_is_ignored() -> None:
    env = {"AZXFER_SOURCE_KEY": "", CONNECTION_STRING_ENV: f"AccountKey={KEY_C}"}
    cred = resolve_credential(loc(), "source", env)
    assert (cred.key, cred.origin) == (KEY_C, CONNECTION_STRING_ENV)


def test_connection_string_for_matching_account_beats_token() -> None:
    calls: list = []
    env = {
        CONNECTION_STRING_ENV: (
            f"DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey={KEY_C};"
            "EndpointSuffix=core.windows.net"
        )
    }
    cred = resolve_credential(loc(), "source", env, token_provider=provider(calls))
    assert (cred.kind, cred.key, cred.origin) == ("shared_key", KEY_C, CONNECTION_STRING_ENV)
    assert calls == []


def test_connection_string_for_other_account_is_skipped() -> None:
    calls: list = []
    get = provider(calls)
    env = {CONNECTION_STRING_ENV: f"AccountName=otheracct;AccountKey={KEY_C}"}
    cred = resolve_credential(loc(), "source", env, token_provider=get)
    assert cred.kind == "token"
    assert cred.token is get.token  # type: ignore[attr-defined]
    assert cred.origin == "azxfer login"
    assert [c.account for c in calls] == ["myacct"]


def test_connection_string_naming_no_account_applies() -> None:
    env = {CONNECTION_STRING_ENV: f"AccountKey={KEY_C}"}
    cred = resolve_credential(loc(), "source", env)
    assert (cred.kind, cred.account, cred.key) == ("shared_key", "myacct", KEY_C)


def test_connection_string_with_sas() -> None:
    env = {
        CONNECTION_STRING_ENV: (
            f"BlobEndpoint=https://myacct.blob.core.windows.net/;SharedAccessSignature=?{SAS}"
        )
    }
    cred = resolve_credential(loc(), "source", env)
    assert (cred.kind, cred.sas, cred.origin) == ("sas", SAS, CONNECTION_STRING_ENV)


def test_connection_string_without_secret_falls_through() -> None:
    env = {CONNECTION_STRING_ENV: "AccountName=myacct;EndpointSuffix=core.windows.net"}
    assert resolve_credential(loc(), "source", env).kind == "anonymous"


def test_use_development_storage_for_emulator_account() -> None:
    emulator = parse_location("http://127.0.0.1:10000/devstoreaccount1/cont/x")
    env = {CONNECTION_STRING_ENV: "UseDevelopmentStorage=true"}
    cred = resolve_credential(emulator, "dest", env)
    assert (cred.kind, cred.account, cred.key, cred.origin) == (
        "shared_key",
        "devstoreaccount1",
        AZURITE_KEY,
        CONNECTION_STRING_ENV,
    )


def test_use_development_storage_case_insensitive_value() -> None:
    emulator = parse_location("http://127.0.0.1:10000/devstoreaccount1/cont/x")
    env = {CONNECTION_STRING_ENV: "UseDevelopmentStorage=True"}
    assert resolve_credential(emulator, "dest", env).key == AZURITE_KEY


def test_use_development_storage_does_not_apply_to_other_accounts() -> None:
    env = {CONNECTION_STRING_ENV: "UseDevelopmentStorage=true"}
    assert resolve_credential(loc(), "source", env).kind == "anonymous"


def test_token_provider_returning_none_gives_anonymous() -> None:
    cred = resolve_credential(loc(), "source", {}, token_provider=lambda _loc: None)
    assert cred == Credential("anonymous", "myacct")
    assert cred.for_sdk() is None


def test_anonymous_when_nothing_is_given() -> None:
    cred = resolve_credential(loc(), "source", {})
    assert (cred.kind, cred.account, cred.sas, cred.key, cred.token, cred.origin) == (
        "anonymous",
        "myacct",
        None,
        None,
        None,
        "",
    )


def test_resolve_credentials_skips_local_sides(tmp_path: Path) -> None:
    local = parse_location(str(tmp_path))
    env = {"AZXFER_DEST_KEY": KEY_B}
    src, dst = resolve_credentials(local, loc(), env, None, None)
    assert src is None
    assert dst is not None and (dst.kind, dst.key) == ("shared_key", KEY_B)
    src, dst = resolve_credentials(loc(), local, {"AZXFER_SOURCE_KEY": KEY_A}, None, None)
    assert src is not None and src.key == KEY_A
    assert dst is None


def test_resolve_credentials_uses_each_sides_key_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text(KEY_A)
    b.write_text(KEY_B)
    src, dst = resolve_credentials(loc(), loc(), {}, a, b)
    assert src is not None and dst is not None
    assert (src.key, dst.key) == (KEY_A, KEY_B)


# --- bad keys -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["not base64!!", "abc", "Zm9v YmFy", "   "])
def test_bad_base64_env_key(bad: str) -> None:
    with pytest.raises(CredentialError) as info:
        resolve_credential(loc(), "source", {"AZXFER_SOURCE_KEY": bad})
    assert str(info.value) == "AZXFER_SOURCE_KEY does not hold a base64 storage account key"


def test_bad_base64_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("definitely-not-a-key!")
    with pytest.raises(CredentialError) as info:
        resolve_credential(loc(), "source", {}, key_file)
    assert str(info.value) == f"{key_file} does not hold a base64 storage account key"
    assert "definitely-not-a-key" not in str(info.value)


def test_empty_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("\n")
    with pytest.raises(CredentialError, match="does not hold a base64 storage account key"):
        resolve_credential(loc(), "source", {}, key_file)


def test_bad_base64_in_connection_string() -> None:
    env = {CONNECTION_STRING_ENV: "AccountName=myacct;AccountKey=%%%bad%%%"}
    with pytest.raises(CredentialError) as info:
        resolve_credential(loc(), "source", env)
    assert str(info.value) == (
        f"{CONNECTION_STRING_ENV} does not hold a base64 storage account key"
    )


def test_missing_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "absent"
    with pytest.raises(CredentialError) as info:
        resolve_credential(loc(), "source", {}, key_file)
    assert str(info.value) == f"cannot read key file {key_file}: No such file or directory"


def test_key_file_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(CredentialError) as info:
        resolve_credential(loc(), "source", {}, tmp_path)
    assert str(info.value) == f"cannot read key file {tmp_path}: Is a directory"


def test_key_file_that_is_not_text(tmp_path: Path) -> None:
    """A binary file is unreadable as a key: a CredentialError, not a UnicodeDecodeError."""
    key_file = tmp_path / "key.bin"
    key_file.write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(CredentialError):
        resolve_credential(loc(), "source", {}, key_file)


# --- SAS expiry -----------------------------------------------------------------------------


def test_expired_sas_on_url_fails_at_resolution() -> None:
    sas = f"sv=2023-11-03&sp=rl&se={PAST}&sig=abc"
    with pytest.raises(CredentialError) as info:
        resolve_credential(loc(sas), "source", {})
    assert str(info.value) == (
        "the SAS token for account 'myacct' expired at 2001-01-01T00:00:00+00:00"
    )
    assert "abc" not in str(info.value).replace("myacct", "")


def test_expired_sas_in_connection_string_fails_at_resolution() -> None:
    sas = f"sv=2023-11-03&sp=rl&se={PAST}&sig=abc"
    env = {CONNECTION_STRING_ENV: f"AccountName=myacct;SharedAccessSignature={sas}"}
    with pytest.raises(CredentialError, match="expired"):
        resolve_credential(loc(), "source", env)


def test_sas_without_expiry_or_unparsable_expiry_is_accepted() -> None:
    assert resolve_credential(loc("sv=1&sig=abc"), "source", {}).kind == "sas"
    assert resolve_credential(loc("se=garbage&sig=abc"), "source", {}).kind == "sas"


@pytest.mark.parametrize(
    ("se", "expected"),
    [
        ("2030-05-06T07:08:09Z", datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("2030-05-06", datetime(2030, 5, 6, tzinfo=UTC)),
        ("2030-05-06T07:08:09%2B02:00", datetime(2030, 5, 6, 5, 8, 9, tzinfo=UTC)),
        ("nonsense", None),
    ],
)
def test_sas_expiry_parsing(se: str, expected: datetime | None) -> None:
    cred = Credential("sas", "a", sas=f"sv=1&se={se}&sig=x")
    assert cred.sas_expiry() == expected


def test_check_not_expired_boundary() -> None:
    cred = Credential("sas", "acct", sas="se=2030-01-01T00:00:00Z&sig=x")
    expiry = datetime(2030, 1, 1, tzinfo=UTC)
    cred.check_not_expired(now=expiry - timedelta(seconds=1))
    with pytest.raises(CredentialError):
        cred.check_not_expired(now=expiry)


def test_sas_expiry_is_none_for_other_kinds() -> None:
    assert Credential("shared_key", "a", key=KEY_A).sas_expiry() is None
    Credential("shared_key", "a", key=KEY_A).check_not_expired(now=datetime(2200, 1, 1, tzinfo=UTC))


# --- describe / repr / for_sdk --------------------------------------------------------------


def test_describe_and_repr_never_hold_secrets(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY_A)
    creds = {
        "SAS token from the URL": resolve_credential(loc(SAS), "source", {}),
        f"account key from {key_file}": resolve_credential(loc(), "source", {}, key_file),
        "account key from AZXFER_DEST_KEY": resolve_credential(
            loc(), "dest", {"AZXFER_DEST_KEY": KEY_B}
        ),
        "Entra ID token from azxfer login": resolve_credential(
            loc(),
            "source",
            {},
            token_provider=lambda _l: SignedInToken("TOKEN-SECRET", "azxfer login"),
        ),
        "anonymous access": resolve_credential(loc(), "source", {}),
    }
    for description, cred in creds.items():
        assert cred.describe() == description
        assert repr(cred) == f"Credential({description!r}, account='myacct')"
        for shown in (repr(cred), str(cred), f"{cred}", cred.describe()):
            for secret in (KEY_A, KEY_B, "U0FTc2lnbmF0dXJl", "TOKEN-SECRET"):
                assert secret not in shown


def test_describe_without_origin() -> None:
    assert Credential("shared_key", "a", key=KEY_A).describe() == "account key"
    assert Credential("sas", "a", sas="sig=x").describe() == "SAS token"


def test_for_sdk() -> None:
    token = Token()
    assert Credential("sas", "acct", sas=SAS).for_sdk() == SAS
    assert Credential("shared_key", "acct", key=KEY_A).for_sdk() == {
        "account_name": "acct",
        "account_key": KEY_A,
    }
    assert Credential("token", "acct", token=token).for_sdk() is token
    assert Credential("anonymous", "acct").for_sdk() is None


def test_parse_connection_string() -> None:
    text = " AccountName = acct ;AccountKey=abc==;junk;BlobEndpoint=http://h:1/a;"
    assert parse_connection_string(text) == {
        "AccountName": "acct",
        "AccountKey": "abc==",
        "BlobEndpoint": "http://h:1/a",
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("garbage", "part 1 of 1 is not Name=Value"),
        (f"AccountName=myacct;{KEY_A.rstrip('=')}", "part 2 of 2 is not Name=Value"),
        ("AccountName=myacct;=x", "part 2 of 2 is not Name=Value"),
        ("AcountKey=abc", "'AcountKey' is not a connection string setting"),
        (f"AccountName=myacct;X{KEY_A}", "part 2 is not a connection string setting"),
        ("AccountName=myacct;AccountKey=", "AccountKey is empty"),
        (";;", "it holds no settings"),
    ],
)
def test_malformed_connection_string_names_the_part_not_the_key(text: str, problem: str) -> None:
    with pytest.raises(CredentialError) as info:
        resolve_credential(loc(), "source", {CONNECTION_STRING_ENV: text})
    assert str(info.value) == f"{CONNECTION_STRING_ENV} is malformed: {problem}"
    assert KEY_A[:12] not in str(info.value)


def test_connection_string_names_are_case_insensitive() -> None:
    env = {CONNECTION_STRING_ENV: f"accountname=myacct;ACCOUNTKEY={KEY_C}"}
    cred = resolve_credential(loc(), "source", env)
    assert (cred.kind, cred.key) == ("shared_key", KEY_C)


def test_path_style_services_from_the_connection_string() -> None:
    text = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
        "FileEndpoint=http://LOCALHOST:10004/devstoreaccount1;"
    )
    env = {"AZURE_STORAGE_CONNECTION_STRING": text}
    assert path_style_services(env) == {
        "127.0.0.1:10000": Service.BLOB,
        "localhost:10004": Service.FILE,
    }
    url = "http://localhost:10004/devstoreaccount1/share/f"
    assert parse_location(url, path_style=path_style_services(env)).service is Service.FILE
    assert path_style_services({}) == {}
    assert path_style_services({"AZURE_STORAGE_CONNECTION_STRING": "garbage"}) == {}
