"""`azxfer login` through the real CLI, against the Entra ID stand-in (tests/entra_standin)
and Azurite `--oauth basic` over https: each login type signs in, shows in `login status`,
copies up and down with no SAS or key, and logs out; auto-login from the environment; a
token that expires mid-job; a revoked sign-in; no secret in anything azxfer writes."""

from __future__ import annotations

import stat
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from helpers import CliResult

from azxfer.identity import record
from azxfer.identity.cache import PLAIN_NAME

UPN = "ann@contoso.com"
SECRET = "s3cret-" + uuid.uuid4().hex


def _env(standin, tmp_path: Path, **extra: str | None) -> dict[str, str | None]:
    """No key, no connection string, no ambient Azure identity; a private state directory."""
    env: dict[str, str | None] = {
        "AZXFER_SOURCE_KEY": None,
        "AZXFER_DEST_KEY": None,
        "AZXFER_AUTO_LOGIN_TYPE": None,
        "AZURE_TENANT_ID": None,
        "AZURE_CLIENT_ID": None,
        "AZURE_CLIENT_SECRET": None,
        "AZURE_AUTHORITY_HOST": None,
        "AZURE_FEDERATED_TOKEN_FILE": None,
        "IDENTITY_ENDPOINT": None,
        "IDENTITY_HEADER": None,
        record.STATE_DIR_ENV: str(tmp_path / "state"),
        **standin.tls_env(),
    }
    env.update(extra)
    return env


def _round_trip(run: Callable[..., CliResult], azurite, env, tmp_path: Path, make_tree) -> None:
    """Upload a tree and download it again with no SAS or key; both jobs say they used the
    signed-in identity."""
    source = make_tree(tmp_path / "up", {"a.txt": b"alpha\n" * 100, "sub/b.bin": 70_000})
    url = f"{azurite.blob_endpoint}/c{uuid.uuid4().hex[:12]}"
    up = run("copy", source, url, "-r", "--output-type", "json", env=env).assert_ok()
    (started,) = up.events_of("job_started")
    assert started["dest_credential"].startswith("Entra ID token from"), up.describe()
    down = run("copy", f"{url}/up", tmp_path / "down", "-r", "--output-type", "json", env=env)
    down.assert_ok()
    assert down.events_of("job_started")[0]["source_credential"].startswith("Entra ID token")
    for name in ("a.txt", "sub/b.bin"):
        assert (tmp_path / "down" / "up" / name).read_bytes() == (source / name).read_bytes()


def _status_then_logout(run, env, kind: str, name: str) -> None:
    status = run("login", "status", env=env).assert_ok()
    assert kind in status.stdout and name in status.stdout, status.describe()
    assert "Token expires:" in status.stdout
    run("logout", env=env).assert_ok()
    gone = run("login", "status", env=env)
    gone.assert_usage_error(1)
    assert "not logged in" in gone.stderr


def _device_login(run, standin, env, *extra: str) -> CliResult:
    """Run `azxfer login --login-type device` and approve its code as the user would."""
    result: list[CliResult] = []
    args = ("login", "--login-type", "device", "--tenant-id", standin.tenant_id)
    args += ("--aad-endpoint", standin.authority, *extra)
    thread = threading.Thread(target=lambda: result.append(run(*args, env=env, timeout=120)))
    thread.start()
    deadline = time.monotonic() + 60
    while not standin.pending_user_codes() and thread.is_alive():
        assert time.monotonic() < deadline, "no device code was requested"
        time.sleep(0.05)
    if thread.is_alive():
        standin.approve(standin.pending_user_codes()[0], UPN)
    thread.join()
    return result[0]


def test_device_code_signs_in_copies_and_signs_out(
    run_azxfer, entra_standin, entra_azurite, tmp_path, make_tree
) -> None:
    env = _env(entra_standin, tmp_path)
    login = _device_login(run_azxfer, entra_standin, env, "--allow-unencrypted-cache").assert_ok()
    assert "enter the code" in login.stderr and UPN in login.stdout, login.describe()
    state = tmp_path / "state"
    for name in (record.RECORD_NAME, PLAIN_NAME):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600
    _round_trip(run_azxfer, entra_azurite, env, tmp_path, make_tree)
    _status_then_logout(run_azxfer, env, "device code", UPN)
    assert not (state / PLAIN_NAME).exists() and not (state / record.RECORD_NAME).exists()


def test_device_code_without_a_keyring_is_refused_naming_the_opt_in(
    run_azxfer, entra_standin, tmp_path
) -> None:
    env = _env(entra_standin, tmp_path)
    args = ("login", "--login-type", "device", "--aad-endpoint", entra_standin.authority)
    refused = run_azxfer(*args, env=env)
    refused.assert_usage_error(1)
    assert "--allow-unencrypted-cache" in refused.stderr
    assert "AZXFER_ALLOW_UNENCRYPTED_TOKEN_CACHE=1" in refused.stderr
    assert not entra_standin.grants and not (tmp_path / "state" / PLAIN_NAME).exists()


def test_a_service_principal_with_a_secret(
    run_azxfer, entra_standin, entra_azurite, tmp_path, make_tree
) -> None:
    app = entra_standin.add_app(secret=SECRET)
    env = _env(entra_standin, tmp_path, AZXFER_CLIENT_SECRET=SECRET)
    args = ("--tenant-id", entra_standin.tenant_id, "--application-id", app.client_id)
    login = run_azxfer(
        "login", "--login-type", "spn", *args, "--aad-endpoint", entra_standin.authority, env=env
    ).assert_ok()
    assert app.client_id in login.stdout
    saved = (tmp_path / "state" / record.RECORD_NAME).read_text()
    assert SECRET not in saved and app.client_id in saved
    # The secret is read again from the environment by every job, never from the record.
    _round_trip(run_azxfer, entra_azurite, env, tmp_path, make_tree)
    _status_then_logout(run_azxfer, env, "service principal", app.client_id)


def _rsa_certificate() -> tuple[bytes, bytes]:
    """A self-signed RSA certificate and its key, PEM (Entra ID signs assertions RS256)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "azxfer-tests")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def test_a_service_principal_with_a_certificate(
    run_azxfer, entra_standin, entra_azurite, tmp_path, make_tree
) -> None:
    key_pem, cert_pem = _rsa_certificate()
    pem = tmp_path / "app.pem"
    pem.write_bytes(key_pem + cert_pem)
    app = entra_standin.add_app(certificate=cert_pem)
    env = _env(entra_standin, tmp_path)
    run_azxfer(
        "login",
        "--login-type",
        "spn",
        "--tenant-id",
        entra_standin.tenant_id,
        "--application-id",
        app.client_id,
        "--certificate-path",
        pem,
        "--aad-endpoint",
        entra_standin.authority,
        env=env,
    ).assert_ok()
    _round_trip(run_azxfer, entra_azurite, env, tmp_path, make_tree)
    _status_then_logout(run_azxfer, env, "service principal", app.client_id)


def test_a_managed_identity(run_azxfer, entra_standin, entra_azurite, tmp_path, make_tree):
    env = _env(entra_standin, tmp_path, **entra_standin.managed_identity_env())
    run_azxfer("login", "--login-type", "msi", env=env).assert_ok()
    _round_trip(run_azxfer, entra_azurite, env, tmp_path, make_tree)
    _status_then_logout(run_azxfer, env, "managed identity", "system-assigned")
    user = entra_standin.add_managed_identity()
    login = run_azxfer(
        "login", "--login-type", "msi", "--identity-client-id", user.client_id, env=env
    ).assert_ok()
    assert user.client_id in login.stdout


def test_the_azure_cli(run_azxfer, entra_standin, fake_az, entra_azurite, tmp_path, make_tree):
    env = _env(entra_standin, tmp_path)
    signed_out = run_azxfer("login", "--login-type", "azcli", env=env)
    signed_out.assert_usage_error(1)
    assert "az login" in signed_out.stderr
    fake_az.login(UPN)
    login = run_azxfer("login", "--login-type", "azcli", env=env).assert_ok()
    assert UPN in login.stdout
    _round_trip(run_azxfer, entra_azurite, env, tmp_path, make_tree)
    _status_then_logout(run_azxfer, env, "Azure CLI", UPN)


def _workload_env(standin, tmp_path: Path) -> dict[str, str | None]:
    issuer, subject = "https://oidc.aks.example/issuer", "system:serviceaccount:ns:azxfer"
    app = standin.add_app(federated=[(issuer, subject)])
    token_file = tmp_path / "federated-token"
    token_file.write_text(standin.mint_federated_token(issuer, subject))
    return _env(
        standin,
        tmp_path,
        AZURE_TENANT_ID=standin.tenant_id,
        AZURE_CLIENT_ID=app.client_id,
        AZURE_FEDERATED_TOKEN_FILE=str(token_file),
    )


def test_workload_identity(run_azxfer, entra_standin, entra_azurite, tmp_path, make_tree):
    env = _workload_env(entra_standin, tmp_path)
    args = ("login", "--login-type", "workload", "--aad-endpoint", entra_standin.authority)
    run_azxfer(*args, env=env).assert_ok()
    _round_trip(run_azxfer, entra_azurite, env, tmp_path, make_tree)
    _status_then_logout(run_azxfer, env, "workload identity", str(env["AZURE_CLIENT_ID"]))


def test_auto_login_from_the_environment(
    run_azxfer, entra_standin, entra_azurite, tmp_path, make_tree
) -> None:
    app = entra_standin.add_app(secret=SECRET)
    env = _env(
        entra_standin,
        tmp_path,
        AZXFER_AUTO_LOGIN_TYPE="SPN",
        AZURE_TENANT_ID=entra_standin.tenant_id,
        AZURE_CLIENT_ID=app.client_id,
        AZURE_CLIENT_SECRET=SECRET,
        AZURE_AUTHORITY_HOST=entra_standin.authority,
    )
    _round_trip(run_azxfer, entra_azurite, env, tmp_path, make_tree)
    status = run_azxfer("login", "status", env=env).assert_ok()
    assert "AZXFER_AUTO_LOGIN_TYPE=SPN" in status.stdout
    assert not (tmp_path / "state" / record.RECORD_NAME).exists()  # nothing was saved


def test_a_token_that_expires_mid_job_does_not_fail_it(
    run_azxfer, entra_standin, entra_azurite, tmp_path, make_tree
) -> None:
    app = entra_standin.add_app(secret=SECRET)
    env = _env(
        entra_standin,
        tmp_path,
        AZXFER_AUTO_LOGIN_TYPE="SPN",
        AZURE_TENANT_ID=entra_standin.tenant_id,
        AZURE_CLIENT_ID=app.client_id,
        AZURE_CLIENT_SECRET=SECRET,
        AZURE_AUTHORITY_HOST=entra_standin.authority,
    )
    # Tokens live 2 s (renewed at half their life); the job, one file at a time, runs longer.
    entra_standin.token_lifetime = 2
    source = make_tree(tmp_path / "many", {f"f{i:04}.txt": b"x" * 100 for i in range(2000)})
    url = f"{entra_azurite.blob_endpoint}/c{uuid.uuid4().hex[:12]}"
    started = time.monotonic()
    job = run_azxfer(
        "copy", source, url, "-r", "--concurrency", "1", "--output-type", "json", env=env
    ).assert_ok()
    took = time.monotonic() - started
    assert job.finished()["files_completed"] == 2000, job.describe()
    grants = entra_standin.grants_of("client_credentials")
    assert took > entra_standin.token_lifetime and len(grants) >= 2, (took, len(grants))
    assert all(g.error is None for g in grants)


def test_a_revoked_sign_in_is_one_line_saying_to_log_in_again(
    run_azxfer, entra_standin, entra_azurite, tmp_path, make_tree
) -> None:
    env = _env(entra_standin, tmp_path, AZXFER_ALLOW_UNENCRYPTED_TOKEN_CACHE="1")
    entra_standin.token_lifetime = 2  # the access token from login is gone by the copy
    _device_login(run_azxfer, entra_standin, env).assert_ok()
    assert entra_standin.revoke_refresh_tokens(upn=UPN) >= 1
    time.sleep(2.5)
    source = make_tree(tmp_path / "up", {"a.txt": b"a"})
    url = f"{entra_azurite.blob_endpoint}/c{uuid.uuid4().hex[:12]}"
    failed = run_azxfer("copy", source, url, "-r", env=env)
    failed.assert_usage_error(1)
    assert "run `azxfer login`" in failed.stderr, failed.describe()
    status = run_azxfer("login", "status", env=env)
    status.assert_usage_error(1)
    assert "run `azxfer login`" in status.stderr


def test_no_sign_in_for_a_private_container_says_to_log_in(
    run_azxfer, entra_standin, entra_azurite, tmp_path
) -> None:
    env = _env(entra_standin, tmp_path)
    url = f"{entra_azurite.blob_endpoint}/c{uuid.uuid4().hex[:12]}"
    failed = run_azxfer("copy", url, tmp_path / "down", "-r", env=env)
    assert failed.returncode == 1, failed.describe()
    assert "azxfer login" in failed.stderr, failed.describe()


def test_an_unreachable_identity_endpoint_is_named(run_azxfer, entra_standin, tmp_path):
    env = _env(entra_standin, tmp_path, AZXFER_CLIENT_SECRET=SECRET)
    unreachable = "https://127.0.0.1:9"
    failed = run_azxfer(
        "login", "--login-type", "spn", "--tenant-id", "t", "--application-id", "a",
        "--aad-endpoint", unreachable, env=env,
    )  # fmt: skip
    failed.assert_usage_error(1)
    assert f"cannot reach the identity endpoint {unreachable}" in failed.stderr


def test_a_non_terminal_login_without_a_type_is_one_clear_error(
    run_azxfer, entra_standin, tmp_path
) -> None:
    refused = run_azxfer("login", env=_env(entra_standin, tmp_path))
    refused.assert_usage_error(2)
    assert "--login-type" in refused.stderr


def test_nothing_azxfer_writes_holds_a_token_or_secret(
    run_azxfer, entra_standin, entra_azurite, tmp_path, make_tree
) -> None:
    app = entra_standin.add_app(secret=SECRET)
    jobs = tmp_path / "jobs"
    env = _env(entra_standin, tmp_path, AZXFER_CLIENT_SECRET=SECRET, AZXFER_JOB_DIR=str(jobs))
    log = tmp_path / "azxfer.log"
    outputs: list[str] = []
    for args in (
        ("login", "--login-type", "spn", "--tenant-id", entra_standin.tenant_id,
         "--application-id", app.client_id, "--aad-endpoint", entra_standin.authority),
        ("login", "status"),
    ):  # fmt: skip
        result = run_azxfer(*args, env=env).assert_ok()
        outputs += [result.stdout, result.stderr]
    source = make_tree(tmp_path / "up", {"a.txt": b"alpha"})
    url = f"{entra_azurite.blob_endpoint}/c{uuid.uuid4().hex[:12]}"
    for args in (
        ("copy", source, url, "-r"),
        ("copy", f"{url}/up", tmp_path / "down", "-r"),
    ):
        result = run_azxfer(
            *args, "--output-type", "json", "--log-file", log, "--log-level", "DEBUG", env=env
        ).assert_ok()
        outputs += [result.stdout, result.stderr]
    written = [*outputs, log.read_text()]
    for folder in (jobs, tmp_path / "state"):
        written += [p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file()]
    assert "Entra ID token from" in outputs[-4]  # the job said which credential it used
    for text in written:
        assert SECRET not in text
        assert "eyJ" not in text  # no JWT: access token, id token or client assertion
