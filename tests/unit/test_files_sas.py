"""Share SAS tokens minted by azxfer.endpoints.files.sas, checked against the storage SDK's
own (`FileSharedAccessSignature.generate_share`, the code behind `generate_share_sas`): the
string-to-sign byte for byte, and the token field by field."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
from azure.storage.fileshare._shared_access_signature import FileSharedAccessSignature

from azxfer.endpoints.files.requests import API_VERSION
from azxfer.endpoints.files.sas import share_sas

ACCOUNT = "myacct"
KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef-not-a-real-key-000").decode()
START = datetime(2026, 11, 22, 5, 45, 7, 123456, tzinfo=UTC)
EXPIRY = datetime(2026, 11, 22, 10, 0, 7, tzinfo=UTC)


def sdk_token(share: str, permission: str, version: str) -> tuple[dict[str, str], str]:
    """The SDK's token and the string it signed."""
    sdk = FileSharedAccessSignature(ACCOUNT, KEY)
    sdk.x_ms_version = version  # the SDK signs with its own newest version unless told
    signed: list[str] = []
    token = sdk.generate_share(share, permission, EXPIRY, START, sts_hook=signed.append)
    return dict(parse_qsl(token)), signed[0]


def our_string_to_sign(share: str, permission: str, version: str) -> str:
    st, se = "2026-11-22T05:45:07Z", "2026-11-22T10:00:07Z"
    return "\n".join((permission, st, se, f"/file/{ACCOUNT}/{share}", "", "", "", version)) + (
        "\n" * 5
    )


@pytest.mark.parametrize("permission", ["r", "rl"])
@pytest.mark.parametrize("version", [API_VERSION, "2020-12-06"])
@pytest.mark.parametrize("share", ["src", "a-b-0123456789"])
def test_the_token_and_its_string_to_sign_are_the_sdks(
    share: str, permission: str, version: str
) -> None:
    ours = share_sas(ACCOUNT, KEY, share, permission, START, EXPIRY, version)
    token, signed = sdk_token(share, permission, version)
    assert signed == our_string_to_sign(share, permission, version)
    assert dict(parse_qsl(ours)) == token


def test_fields_and_quoting() -> None:
    token = share_sas(ACCOUNT, KEY, "src", "r", START, EXPIRY)
    fields = dict(parse_qsl(token))
    assert fields["st"] == "2026-11-22T05:45:07Z" and fields["se"] == "2026-11-22T10:00:07Z"
    assert (fields["sp"], fields["sr"], fields["sv"]) == ("r", "s", API_VERSION)
    assert "+" not in token and "/" not in token  # the base64 signature is percent-encoded
    assert len(base64.b64decode(fields["sig"])) == 32


def test_every_signed_part_changes_the_signature() -> None:
    base = dict(parse_qsl(share_sas(ACCOUNT, KEY, "src", "r", START, EXPIRY)))["sig"]
    other_key = base64.b64encode(b"another key").decode()
    variants = [
        share_sas("other", KEY, "src", "r", START, EXPIRY),
        share_sas(ACCOUNT, other_key, "src", "r", START, EXPIRY),
        share_sas(ACCOUNT, KEY, "dst", "r", START, EXPIRY),
        share_sas(ACCOUNT, KEY, "src", "rl", START, EXPIRY),
        share_sas(ACCOUNT, KEY, "src", "r", EXPIRY, EXPIRY),
        share_sas(ACCOUNT, KEY, "src", "r", START, START),
        share_sas(ACCOUNT, KEY, "src", "r", START, EXPIRY, "2021-08-06"),
    ]
    assert all(dict(parse_qsl(v))["sig"] != base for v in variants)
