"""User delegation SAS tokens minted by azxfer.endpoints.blob.sas, checked against the storage
SDK's `generate_blob_sas` / `generate_container_sas(user_delegation_key=...)`: the string-to-sign
byte for byte (the SDK's `sts_hook`), and every field of the token."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
from azure.storage.blob import UserDelegationKey, generate_blob_sas, generate_container_sas
from azure.storage.blob._shared.constants import X_MS_VERSION

from azxfer.endpoints.blob.sas import (
    DELEGATION_SAS_VERSION,
    DelegationKey,
    delegation_sas,
    delegation_string_to_sign,
)

ACCOUNT = "myacct"
START = datetime(2026, 11, 22, 5, 45, 7, 123456, tzinfo=UTC)
EXPIRY = datetime(2026, 11, 22, 10, 0, 7, tzinfo=UTC)
KEY = DelegationKey(
    signed_oid="6d7e0f3a-1b2c-4d5e-8f90-a1b2c3d4e5f6",
    signed_tid="72f988bf-86f1-41af-91ab-2d7cd011db47",
    signed_start="2026-11-22T05:30:00Z",
    signed_expiry="2026-11-22T13:45:00Z",
    signed_service="b",
    signed_version="2026-06-06",
    value=base64.b64encode(b"a user delegation key of 32 byte").decode(),
)


def _sdk_key(key: DelegationKey) -> UserDelegationKey:
    sdk = UserDelegationKey()
    sdk.signed_oid, sdk.signed_tid = key.signed_oid, key.signed_tid
    sdk.signed_start, sdk.signed_expiry = key.signed_start, key.signed_expiry
    sdk.signed_service, sdk.signed_version = key.signed_service, key.signed_version
    sdk.value = key.value
    return sdk


def _sdk(container: str, blob: str | None, permission: str, key: DelegationKey):
    """The SDK's token and string-to-sign (it signs with its own newest version)."""
    signed: list[str] = []
    common = {
        "account_name": ACCOUNT,
        "container_name": container,
        "user_delegation_key": _sdk_key(key),
        "permission": permission,
        "expiry": EXPIRY,
        "start": START,
        "sts_hook": signed.append,
    }
    if blob:
        token = generate_blob_sas(blob_name=blob, **common)
    else:
        token = generate_container_sas(**common)
    return dict(parse_qsl(token)), signed[0]


@pytest.mark.parametrize("permission", ["r", "rl"])
@pytest.mark.parametrize("blob", [None, "a.txt", "dir/b c.bin"])
@pytest.mark.parametrize("container", ["src", "a-b-0123456789"])
def test_the_token_and_string_to_sign_are_the_sdks(
    container: str, blob: str | None, permission: str
) -> None:
    sdk_token, sdk_signed = _sdk(container, blob, permission, KEY)
    args = (ACCOUNT, container, blob, permission, START, EXPIRY, KEY, X_MS_VERSION)
    assert delegation_string_to_sign(*args) == sdk_signed
    assert dict(parse_qsl(delegation_sas(*args))) == sdk_token


def test_our_version_signs_what_the_sdk_would_at_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The version sent (DELEGATION_SAS_VERSION) has the SDK's layout too."""
    import azure.storage.blob._shared_access_signature as sdk_sas

    monkeypatch.setattr(sdk_sas, "X_MS_VERSION", DELEGATION_SAS_VERSION)
    sdk_token, sdk_signed = _sdk("src", None, "r", KEY)
    args = (ACCOUNT, "src", None, "r", START, EXPIRY, KEY)
    assert sdk_token["sv"] == DELEGATION_SAS_VERSION
    assert delegation_string_to_sign(*args) == sdk_signed
    assert dict(parse_qsl(delegation_sas(*args))) == sdk_token


def test_every_signed_part_changes_the_signature() -> None:
    def sig(**change: object) -> str:
        args: dict[str, object] = {
            "account": ACCOUNT,
            "container": "src",
            "blob": None,
            "permission": "r",
            "start": START,
            "expiry": EXPIRY,
            "key": KEY,
        }
        args.update(change)
        return dict(parse_qsl(delegation_sas(**args)))["sig"]  # type: ignore[arg-type]

    base = sig()
    other_keys = [
        KEY.__class__(**{**{f: getattr(KEY, f) for f in KEY.__struct_fields__}, field: value})
        for field, value in (
            ("signed_oid", "other"),
            ("signed_tid", "other"),
            ("signed_start", "2026-11-22T05:31:00Z"),
            ("signed_expiry", "2026-11-22T13:46:00Z"),
            ("signed_version", "2026-04-06"),
            ("value", base64.b64encode(b"another key").decode()),
        )
    ]
    variants = [sig(key=k) for k in other_keys] + [
        sig(account="other"),
        sig(container="dst"),
        sig(blob="a.txt"),
        sig(permission="rl"),
        sig(start=EXPIRY),
        sig(expiry=START),
    ]
    assert all(v != base for v in variants)


def test_an_older_version_is_refused() -> None:
    with pytest.raises(ValueError, match="2025-11-05"):
        delegation_sas(ACCOUNT, "src", None, "r", START, EXPIRY, KEY, "2025-11-05")


def test_the_key_never_shows_its_value() -> None:
    assert KEY.value not in repr(KEY)
