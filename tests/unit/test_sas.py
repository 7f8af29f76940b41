"""Container SAS tokens minted by azxfer.endpoints.blob.sas, checked against the storage SDK's own
(`BlobSharedAccessSignature`, the code behind `generate_container_sas`), field by field."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
from azure.storage.blob._shared_access_signature import BlobSharedAccessSignature

from azxfer.endpoints.blob.requests import API_VERSION
from azxfer.endpoints.blob.sas import container_sas

ACCOUNT = "myacct"
KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef-not-a-real-key-000").decode()
START = datetime(2026, 11, 22, 5, 45, 7, 123456, tzinfo=UTC)
EXPIRY = datetime(2026, 11, 22, 10, 0, 7, tzinfo=UTC)


def sdk_token(container: str, permission: str, version: str) -> dict[str, str]:
    sdk = BlobSharedAccessSignature(ACCOUNT, KEY)
    sdk.x_ms_version = version  # the SDK signs with its own newest version unless told
    return dict(parse_qsl(sdk.generate_container(container, permission, EXPIRY, START)))


@pytest.mark.parametrize("permission", ["r", "rl"])
@pytest.mark.parametrize("version", [API_VERSION, "2020-12-06"])
@pytest.mark.parametrize("container", ["src", "a-b-0123456789"])
def test_the_token_is_the_sdks(container: str, permission: str, version: str) -> None:
    ours = container_sas(ACCOUNT, KEY, container, permission, START, EXPIRY, version)
    assert dict(parse_qsl(ours)) == sdk_token(container, permission, version)


def test_fields_and_quoting() -> None:
    token = container_sas(ACCOUNT, KEY, "src", "r", START, EXPIRY)
    fields = dict(parse_qsl(token))
    assert fields["st"] == "2026-11-22T05:45:07Z" and fields["se"] == "2026-11-22T10:00:07Z"
    assert (fields["sp"], fields["sr"], fields["sv"]) == ("r", "c", API_VERSION)
    assert "+" not in token and "/" not in token  # the base64 signature is percent-encoded
    assert len(base64.b64decode(fields["sig"])) == 32


def test_every_signed_part_changes_the_signature() -> None:
    base = dict(parse_qsl(container_sas(ACCOUNT, KEY, "src", "r", START, EXPIRY)))["sig"]
    other_key = base64.b64encode(b"another key").decode()
    variants = [
        container_sas("other", KEY, "src", "r", START, EXPIRY),
        container_sas(ACCOUNT, other_key, "src", "r", START, EXPIRY),
        container_sas(ACCOUNT, KEY, "dst", "r", START, EXPIRY),
        container_sas(ACCOUNT, KEY, "src", "rl", START, EXPIRY),
        container_sas(ACCOUNT, KEY, "src", "r", EXPIRY, EXPIRY),
        container_sas(ACCOUNT, KEY, "src", "r", START, START),
        container_sas(ACCOUNT, KEY, "src", "r", START, EXPIRY, "2021-08-06"),
    ]
    assert all(dict(parse_qsl(v))["sig"] != base for v in variants)
