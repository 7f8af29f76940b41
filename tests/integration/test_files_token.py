"""Azure Files with a signed-in identity and no SAS or key, through the real CLI: `azxfer login`
(a service principal of the Entra ID stand-in), then local → share → local copies and syncs
against the File stand-in, which checks Bearer tokens as Azurite's `--oauth basic` does and
requires `x-ms-file-request-intent: backup` on file and directory operations, as Azure does.
A share copied to a share with only the token moves by Put Range From URL, the token handed on
in x-ms-copy-source-authorization."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from helpers import data_for
from sdk_clients import share_service

from azxfer.identity import record

SECRET = "s3cret-" + uuid.uuid4().hex
LOCAL_FILE = ("--from-to", "LocalFile")
FILE_LOCAL = ("--from-to", "FileLocal")
FILE_FILE = ("--from-to", "FileFile")
JSON = ("--output-type", "json")
TREE = {"a.txt": b"alpha\n" * 100, "sub/b.bin": data_for("b", 70_000), "sub/deep/c.bin": b""}


@pytest.fixture
def signed_in(run_azxfer, entra_standin, tmp_path) -> dict[str, str | None]:
    """`azxfer login --login-type spn` done; the environment of later jobs (no key)."""
    app = entra_standin.add_app(secret=SECRET)
    env: dict[str, str | None] = {
        "AZXFER_SOURCE_KEY": None,
        "AZXFER_DEST_KEY": None,
        "AZXFER_AUTO_LOGIN_TYPE": None,
        "AZURE_STORAGE_CONNECTION_STRING": None,
        "AZXFER_CLIENT_SECRET": SECRET,
        record.STATE_DIR_ENV: str(tmp_path / "state"),
        **entra_standin.tls_env(),
    }
    args = ("--tenant-id", entra_standin.tenant_id, "--application-id", app.client_id)
    run_azxfer(
        "login", "--login-type", "spn", *args, "--aad-endpoint", entra_standin.authority, env=env
    ).assert_ok()
    return env


@pytest.fixture
def new_share(file_standin, azurite):
    service = share_service(file_standin, azurite)

    def make() -> str:
        name = "s" + uuid.uuid4().hex[:20]
        service.create_share(name)
        return f"{file_standin.account_url(azurite.account)}/{name}"

    return make


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_copy_and_sync_with_a_share_by_the_signed_in_identity(
    run_azxfer, signed_in, file_standin, new_share, tmp_path, make_tree
) -> None:
    local = make_tree(tmp_path / "up", TREE)
    share = new_share()
    file_standin.clear()  # the share was made with the account key
    up = run_azxfer("copy", local, share, "-r", *LOCAL_FILE, *JSON, env=signed_in).assert_ok()
    (started,) = up.events_of("job_started")
    assert started["dest_credential"].startswith("Entra ID token from azxfer login")
    down = run_azxfer("copy", f"{share}/up", tmp_path / "down", "-r", *FILE_LOCAL, env=signed_in)
    down.assert_ok()
    assert _tree(tmp_path / "down" / "up") == TREE

    (local / "a.txt").write_bytes(b"changed\n")
    (local / "new.txt").write_bytes(b"new\n")
    synced = run_azxfer("sync", local, f"{share}/up", *LOCAL_FILE, *JSON, env=signed_in)
    synced.assert_ok()
    back = run_azxfer("sync", f"{share}/up", tmp_path / "down" / "up", *FILE_LOCAL, env=signed_in)
    back.assert_ok()
    assert _tree(tmp_path / "down" / "up") == _tree(local)

    recorded = file_standin.requests
    assert recorded and all(r.auth == "bearer" for r in recorded), {r.auth for r in recorded}
    assert not [r for r in recorded if r.status in (400, 401, 403)], [
        (r.op, r.status) for r in recorded if r.status in (400, 401, 403)
    ]
    text = "".join(r.stdout + r.stderr for r in (up, down, synced, back))
    assert SECRET not in text and "Bearer" not in text and "eyJ" not in text


def test_a_share_to_share_copy_hands_the_token_on(
    run_azxfer, signed_in, file_standin, new_share, tmp_path, make_tree
) -> None:
    """No SAS or key on either share: Put Range From URL, the source read with the token
    (x-ms-copy-source-authorization) and backup intent; nothing streams through here."""
    local = make_tree(tmp_path / "up", TREE)
    src, dst = new_share(), new_share()
    run_azxfer("copy", local, src, "-r", *LOCAL_FILE, env=signed_in).assert_ok()
    file_standin.clear()
    copied = run_azxfer(
        "copy", f"{src}/up", dst, "-r", *FILE_FILE, "--s2s-mode", "url", *JSON, env=signed_in
    ).assert_ok()
    assert copied.finished()["files_completed"] == len(TREE), copied.describe()
    notices = [e["message"] for e in copied.events_of("notice")]
    assert not [n for n in notices if "through this machine" in n], copied.describe()
    # --s2s-mode url: nothing may stream; the GetFile requests are the service's own reads.
    ranges = file_standin.requests_of("PutRangeFromURL")
    assert ranges and all(r.auth == "bearer" for r in ranges), [r.op for r in ranges]
    reads = file_standin.requests_of("GetFile")
    assert len(reads) == len(ranges) and all(r.auth == "bearer" for r in reads)
    run_azxfer("copy", f"{dst}/up", tmp_path / "back", "-r", *FILE_LOCAL, env=signed_in).assert_ok()
    assert _tree(tmp_path / "back" / "up") == TREE


def test_the_standin_wants_a_valid_token_and_backup_intent(
    entra_standin, file_standin, new_share
) -> None:
    """The File stand-in's checks, request by request (what Azure answers)."""
    from azure.identity import ClientSecretCredential

    app = entra_standin.add_app(secret=SECRET)
    credential = ClientSecretCredential(
        entra_standin.tenant_id,
        app.client_id,
        SECRET,
        authority=entra_standin.authority,
        disable_instance_discovery=True,
    )
    token = credential.get_token("https://storage.azure.com/.default").token
    share = new_share()

    def status(headers: dict[str, str]) -> tuple[int, str]:
        request = urllib.request.Request(
            f"{share}?restype=directory&comp=list",
            headers={"x-ms-version": "2025-11-05", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, ""
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("x-ms-error-code", "")

    bearer = {"Authorization": f"Bearer {token}"}
    intent = {"x-ms-file-request-intent": "backup"}
    assert status({**bearer, **intent}) == (200, "")
    assert status(bearer) == (400, "MissingRequiredHeader")
    assert status({**bearer, "x-ms-file-request-intent": "other"}) == (400, "InvalidHeaderValue")
    assert status({"Authorization": "Bearer not-a-jwt", **intent}) == (
        401,
        "InvalidAuthenticationInfo",
    )
    now = int(time.time())
    good = {"aud": "https://storage.azure.com", "iss": ISSUER, "nbf": now - 60, "exp": now + 600}
    assert status({"Authorization": f"Bearer {_jwt(good)}", **intent}) == (200, "")
    for bad in (
        {**good, "aud": "https://vault.azure.net"},
        {**good, "iss": "https://example.com/tenant/"},
        {**good, "exp": now - 1},
        {**good, "nbf": now + 600},
    ):
        assert status({"Authorization": f"Bearer {_jwt(bad)}", **intent}) == (
            401,
            "InvalidAuthenticationInfo",
        ), bad


ISSUER = "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"


def _jwt(claims: dict[str, object]) -> str:
    """An unsigned-looking JWT (the stand-in, like Azurite, does not check signatures)."""

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"
