"""Server-side copies from a source only an Entra ID token can read, and denials said alike,
through the real CLI.

The source is on Azurite `--oauth basic` over https (it implements Get User Delegation Key and
checks user delegation SAS signatures); the signed-in identity is an spn against the Entra ID
stand-in (auto-login from the environment). The destinations are written with the account key,
so only the source needs the token.
"""

from __future__ import annotations

import uuid

NO_CREDENTIALS = {"AZXFER_SOURCE_KEY": None, "AZXFER_DEST_KEY": None}


def test_a_denied_single_blob_says_what_a_denied_listing_says(
    run_azxfer, blob_service, azurite, tmp_path
) -> None:
    name = "c" + uuid.uuid4().hex[:12]
    container = blob_service.create_container(name)  # private: no anonymous access
    container.upload_blob("a.txt", b"alpha")
    url = f"{azurite.blob_endpoint}/{name}"
    single = run_azxfer("copy", f"{url}/a.txt", tmp_path / "a.txt", env=NO_CREDENTIALS)
    listing = run_azxfer("copy", url, tmp_path / "all", "-r", env=NO_CREDENTIALS)
    for failed, what in ((single, "blob 'a.txt'"), (listing, f"listing container '{name}'")):
        assert failed.returncode == 1, failed.describe()
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("azxfer: error: "), failed.describe()
        assert f"access to {what}" in lines[0]
        assert "denied: no credentials given (run `azxfer login`, or give a SAS token" in lines[0]
        assert lines[0].endswith("[used anonymous access]"), failed.describe()
    assert not (tmp_path / "a.txt").exists()


SECRET = "s3cret-" + uuid.uuid4().hex
JSON = ("--output-type", "json")
THROUGH_THIS_MACHINE = "through this machine"


def _spn_env(entra_standin, tmp_path, **extra: str | None) -> dict[str, str | None]:
    """Auto-login as a service principal of the Entra ID stand-in; no source key."""
    app = entra_standin.add_app(secret=SECRET)
    env: dict[str, str | None] = {
        "AZXFER_SOURCE_KEY": None,
        "AZXFER_AUTO_LOGIN_TYPE": "SPN",
        "AZURE_TENANT_ID": entra_standin.tenant_id,
        "AZURE_CLIENT_ID": app.client_id,
        "AZURE_CLIENT_SECRET": SECRET,
        "AZURE_AUTHORITY_HOST": entra_standin.authority,
        "AZXFER_STATE_DIR": str(tmp_path / "state"),
        **entra_standin.tls_env(),
    }
    env.update(extra)
    return env


def test_a_blob_source_only_a_token_reads_is_copied_server_side_by_a_delegation_sas(
    run_azxfer, entra_standin, entra_azurite, tmp_path, make_tree
) -> None:
    """Azurite 3.37 `--oauth basic` answers Get User Delegation Key and checks the SAS
    signed with it: --s2s-mode url (no streaming) copies every blob server side, by Copy
    Blob From URL (blobs of one block: over https, Azurite's Put Block From URL cannot read
    itself when its certificate is issued by a CA rather than self-signed, whatever the
    SAS)."""
    tree = {"a.txt": b"alpha\n" * 100, "sub/b.bin": 70_000, "big.bin": 5 * 1024 * 1024}
    local = make_tree(tmp_path / "up", tree)
    base = entra_azurite.blob_endpoint
    src, dst = f"{base}/s{uuid.uuid4().hex[:12]}", f"{base}/d{uuid.uuid4().hex[:12]}"
    tls = entra_standin.tls_env()
    run_azxfer("copy", local, src, "-r", env=tls).assert_ok()  # written with the account key
    env = _spn_env(entra_standin, tmp_path)
    log = tmp_path / "copy.log"
    copied = run_azxfer(
        "copy", f"{src}/up", dst, "-r", "--s2s-mode", "url", "--block-size-mb", "8", *JSON,
        "--log-file", log, env=env,
    )  # fmt: skip
    copied.assert_ok()
    (started,) = copied.events_of("job_started")
    assert started["source_credential"].startswith("Entra ID token from"), copied.describe()
    assert started["dest_credential"].startswith("account key"), copied.describe()
    assert copied.finished()["files_completed"] == 3, copied.describe()
    notices = [e["message"] for e in copied.events_of("notice")]
    assert not [n for n in notices if THROUGH_THIS_MACHINE in n], copied.describe()
    down = run_azxfer("copy", f"{dst}/up", tmp_path / "down", "-r", env=tls).assert_ok()
    assert down.returncode == 0
    for name in tree:
        assert (tmp_path / "down" / "up" / name).read_bytes() == (local / name).read_bytes()
    logged = log.read_text()
    # Once per job: the same key signs every blob's SAS.
    assert logged.count("a user delegation key from") == 1, logged
    assert "no user delegation SAS" not in logged, logged
    text = copied.stdout + copied.stderr + logged
    assert "sig=" not in text and SECRET not in text and "skoid" not in text


def test_azurite_checks_the_delegation_sas_we_sign(entra_standin, entra_azurite) -> None:
    """What the job above relies on, shown directly: Azurite 3.37 `--oauth basic` gives a user
    delegation key for a token, reads a blob through a
    SAS signed with it, and refuses the SAS when a signed field is changed."""
    import ssl
    import urllib.error
    import urllib.request
    from datetime import UTC, datetime, timedelta

    from azure.identity import ClientSecretCredential
    from azure.storage.blob import BlobServiceClient

    from azxfer.endpoints.blob.sas import DelegationKey, delegation_sas

    app = entra_standin.add_app(secret=SECRET)
    credential = ClientSecretCredential(
        entra_standin.tenant_id,
        app.client_id,
        SECRET,
        authority=entra_standin.authority,
        disable_instance_discovery=True,
    )
    service = BlobServiceClient(entra_azurite.blob_endpoint, credential=credential)
    name = "u" + uuid.uuid4().hex[:12]
    service.create_container(name).upload_blob("a.txt", b"delegated")
    now = datetime.now(UTC)
    sdk_key = service.get_user_delegation_key(now - timedelta(minutes=5), now + timedelta(hours=1))
    key = DelegationKey(
        sdk_key.signed_oid or "", sdk_key.signed_tid or "", sdk_key.signed_start or "",
        sdk_key.signed_expiry or "", sdk_key.signed_service or "", sdk_key.signed_version or "",
        sdk_key.value or "",
    )  # fmt: skip
    start, expiry = now - timedelta(minutes=5), now + timedelta(minutes=30)
    sas = delegation_sas(entra_azurite.account, name, None, "r", start, expiry, key)
    url = f"{entra_azurite.blob_endpoint}/{name}/a.txt"
    context = ssl.create_default_context(cafile=entra_standin.tls_env()["SSL_CERT_FILE"])
    with urllib.request.urlopen(f"{url}?{sas}", context=context, timeout=30) as answer:
        assert answer.read() == b"delegated"
    forged = sas.replace("sp=r", "sp=rw")
    try:
        urllib.request.urlopen(f"{url}?{forged}", context=context, timeout=30)
    except urllib.error.HTTPError as exc:
        assert exc.code == 403
    else:
        raise AssertionError("Azurite accepted a SAS whose signed permission was changed")
