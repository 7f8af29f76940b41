"""The Entra ID stand-in against the real azure-identity credentials, unmodified: each signs in,
its token works on Azurite (`--oauth basic`, https) through the Blob SDK, a short lifetime makes
it fetch a new one, and refusals surface as azure-identity's own exceptions."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    AuthenticationRequiredError,
    AzureCliCredential,
    CertificateCredential,
    ClientSecretCredential,
    CredentialUnavailableError,
    DeviceCodeCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from conftest import Azurite
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from entra_standin import EntraStandIn, FakeAz

STORAGE_SCOPE = "https://storage.azure.com/.default"
USER = "alice@contoso.test"


def blob_round_trip(azurite: Azurite, credential: object) -> None:
    """Create a container, upload and download a blob with `credential` alone (no key, no SAS)."""
    from azure.storage.blob import BlobServiceClient

    data = uuid.uuid4().bytes * 1000
    with BlobServiceClient(azurite.blob_endpoint, credential=credential) as service:
        container = service.create_container("c" + uuid.uuid4().hex[:16])
        container.upload_blob("signed-in.bin", data)
        assert container.download_blob("signed-in.bin").readall() == data


def fresh_token_each_call(standin: EntraStandIn, credential, grant_type: str) -> None:
    """With tokens shorter than azure-identity's 5-minute margin (the test set
    `token_lifetime = 120` before signing in), every get_token asks the stand-in again."""
    assert standin.token_lifetime == 120
    before = len(standin.grants_of(grant_type))
    first = credential.get_token(STORAGE_SCOPE)
    second = credential.get_token(STORAGE_SCOPE)
    assert first.token != second.token
    assert len(standin.grants_of(grant_type)) == before + 2
    claims = standin.verify(second.token)
    assert claims["exp"] - claims["iat"] <= 125
    assert claims["aud"] == "https://storage.azure.com"
    assert claims["iss"] == f"https://sts.windows.net/{standin.tenant_id}/"


def _secret_credential(standin: EntraStandIn, client_id: str, secret: str):
    return ClientSecretCredential(
        standin.tenant_id,
        client_id,
        secret,
        authority=standin.authority,
        disable_instance_discovery=True,
    )


# -- client secret -------------------------------------------------------------------------------


def test_client_secret_signs_in_and_its_token_writes_and_reads_blobs(
    entra_standin: EntraStandIn, entra_azurite: Azurite
) -> None:
    entra_standin.token_lifetime = 120
    app = entra_standin.add_app(secret="s3cr3t-value")
    credential = _secret_credential(entra_standin, app.client_id, "s3cr3t-value")
    blob_round_trip(entra_azurite, credential)
    grant = entra_standin.grants_of("client_credentials")[0]
    assert (grant.client_id, grant.scope, grant.error) == (app.client_id, STORAGE_SCOPE, None)
    fresh_token_each_call(entra_standin, credential, "client_credentials")


def test_a_wrong_secret_and_a_disabled_app_are_refused_with_entra_codes(
    entra_standin: EntraStandIn,
) -> None:
    app = entra_standin.add_app(secret="right")
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        _secret_credential(entra_standin, app.client_id, "wrong").get_token(STORAGE_SCOPE)
    entra_standin.disable_app(app.client_id)
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000112"):
        _secret_credential(entra_standin, app.client_id, "right").get_token(STORAGE_SCOPE)
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        _secret_credential(entra_standin, str(uuid.uuid4()), "x").get_token(STORAGE_SCOPE)
    assert [g.error for g in entra_standin.grants] == [
        "invalid_client",
        "unauthorized_client",
        "unauthorized_client",
    ]


# -- certificate ---------------------------------------------------------------------------------


def make_certificate(directory: Path, name: str) -> tuple[Path, bytes]:
    """A self-signed certificate; returns (PEM file with key and certificate, certificate PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = directory / f"{name}.pem"
    path.write_bytes(key_pem + cert_pem)
    return path, cert_pem


def _certificate_credential(standin: EntraStandIn, client_id: str, path: Path):
    return CertificateCredential(
        standin.tenant_id,
        client_id,
        str(path),
        authority=standin.authority,
        disable_instance_discovery=True,
    )


def test_certificate_signs_in_with_a_verified_assertion(
    entra_standin: EntraStandIn, entra_azurite: Azurite, tmp_path: Path
) -> None:
    entra_standin.token_lifetime = 120
    path, cert_pem = make_certificate(tmp_path, "registered")
    app = entra_standin.add_app(certificate=cert_pem)
    credential = _certificate_credential(entra_standin, app.client_id, path)
    blob_round_trip(entra_azurite, credential)
    fresh_token_each_call(entra_standin, credential, "client_credentials")


def test_an_assertion_signed_by_an_unregistered_certificate_is_refused(
    entra_standin: EntraStandIn, tmp_path: Path
) -> None:
    _, registered = make_certificate(tmp_path, "registered")
    other, _ = make_certificate(tmp_path, "other")
    app = entra_standin.add_app(certificate=registered)
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        _certificate_credential(entra_standin, app.client_id, other).get_token(STORAGE_SCOPE)


# -- device code ---------------------------------------------------------------------------------


def _device_credential(standin: EntraStandIn, respond, **kwargs) -> DeviceCodeCredential:
    """A DeviceCodeCredential whose prompt hands the user code to `respond` in a thread, a
    moment later, as a person would after reading the prompt (so MSAL polls pending first)."""

    def prompt(verification_uri: str, user_code: str, expires_on: dt.datetime) -> None:
        assert verification_uri == "https://microsoft.com/devicelogin"
        assert expires_on > dt.datetime.now(dt.UTC)
        threading.Timer(0.3, respond, (user_code,)).start()

    return DeviceCodeCredential(
        tenant_id=standin.tenant_id,
        authority=standin.authority,
        disable_instance_discovery=True,
        prompt_callback=prompt,
        **kwargs,
    )


def test_device_code_signs_in_once_then_refreshes_silently(
    entra_standin: EntraStandIn, entra_azurite: Azurite
) -> None:
    entra_standin.token_lifetime = 120
    credential = _device_credential(
        entra_standin,
        lambda code: entra_standin.approve(code, USER),
        disable_automatic_authentication=True,
    )
    record = credential.authenticate(scopes=[STORAGE_SCOPE])
    assert (record.username, record.tenant_id) == (USER, entra_standin.tenant_id)
    assert entra_standin.grants_of("urn:ietf:params:oauth:grant-type:device_code")[-1].user == USER
    blob_round_trip(entra_azurite, credential)
    fresh_token_each_call(entra_standin, credential, "refresh_token")
    claims = entra_standin.verify(credential.get_token(STORAGE_SCOPE).token)
    assert (claims["upn"], claims["idtyp"]) == (USER, "user")

    assert entra_standin.revoke_refresh_tokens(upn=USER) > 0
    with pytest.raises(AuthenticationRequiredError) as caught:
        credential.get_token(STORAGE_SCOPE)
    assert isinstance(caught.value, ClientAuthenticationError)
    assert entra_standin.grants[-1].error == "invalid_grant"


def test_device_code_declined_or_expired_fails_with_entra_errors(
    entra_standin: EntraStandIn,
) -> None:
    declined = _device_credential(entra_standin, entra_standin.decline)
    with pytest.raises(ClientAuthenticationError, match="AADSTS70020"):
        declined.get_token(STORAGE_SCOPE)

    # MSAL stops polling on its own clock when the code expires, so which of the two it
    # reports is a race; the stand-in's own answer is pinned down by the protocol test below.
    entra_standin.device_code_lifetime = 2
    ignored = _device_credential(entra_standin, lambda code: None)
    with pytest.raises(
        ClientAuthenticationError, match=r"AADSTS70019|Timed out waiting for user to authenticate"
    ):
        ignored.get_token(STORAGE_SCOPE)
    errors = [
        g.error for g in entra_standin.grants_of("urn:ietf:params:oauth:grant-type:device_code")
    ]
    assert "authorization_pending" in errors and "access_denied" in errors


def _post(standin: EntraStandIn, path: str, form: dict[str, str]) -> tuple[int, dict]:
    import ssl
    from urllib.parse import urlencode

    context = ssl.create_default_context(cafile=standin.ca_bundle)
    url = f"{standin.authority}/{standin.tenant_id}/oauth2/v2.0/{path}"
    try:
        with urllib.request.urlopen(url, urlencode(form).encode(), context=context) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_device_code_protocol_pending_approved_redeemed_and_expired(
    entra_standin: EntraStandIn,
) -> None:
    client = {"client_id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"}
    status, flow = _post(entra_standin, "devicecode", {**client, "scope": STORAGE_SCOPE})
    assert status == 200 and flow["interval"] == 1 and len(flow["user_code"]) == 9
    poll = {
        **client,
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": flow["device_code"],
    }
    status, answer = _post(entra_standin, "token", poll)
    assert (status, answer["error"], answer["error_codes"]) == (
        400,
        "authorization_pending",
        [70016],
    )
    entra_standin.approve(flow["user_code"], USER)
    status, answer = _post(entra_standin, "token", poll)
    assert status == 200
    assert {"access_token", "refresh_token", "id_token", "client_info"} <= set(answer)
    status, answer = _post(entra_standin, "token", poll)
    assert (status, answer["error"]) == (400, "invalid_grant")

    entra_standin.device_code_lifetime = 0
    _, flow = _post(entra_standin, "devicecode", {**client, "scope": STORAGE_SCOPE})
    status, answer = _post(entra_standin, "token", {**poll, "device_code": flow["device_code"]})
    assert (status, answer["error"], answer["error_codes"]) == (400, "expired_token", [70019])


# -- workload identity ---------------------------------------------------------------------------

ISSUER = "https://oidc.prod-aks.azure.com/tenant/cluster/"
SUBJECT = "system:serviceaccount:transfers:azxfer"


def _workload_credential(standin: EntraStandIn, client_id: str, token_file: Path):
    return WorkloadIdentityCredential(
        tenant_id=standin.tenant_id,
        client_id=client_id,
        token_file_path=str(token_file),
        authority=standin.authority,
    )


def test_workload_identity_signs_in_with_the_federated_token_file(
    entra_standin: EntraStandIn, entra_azurite: Azurite, tmp_path: Path
) -> None:
    # azure-identity's assertion credentials keep a token until it expires, or refresh it in
    # its last 5 minutes at most every 30 s: a 4 s token shows the refresh without waiting.
    entra_standin.token_lifetime = 4
    app = entra_standin.add_app(federated=[(ISSUER, SUBJECT)])
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(entra_standin.mint_federated_token(ISSUER, SUBJECT))
    credential = _workload_credential(entra_standin, app.client_id, token_file)
    blob_round_trip(entra_azurite, credential)
    first = credential.get_token(STORAGE_SCOPE)
    grants = len(entra_standin.grants_of("client_credentials"))
    time.sleep(max(0.0, first.expires_on - time.time()) + 0.5)
    second = credential.get_token(STORAGE_SCOPE)
    assert second.token != first.token and second.expires_on > time.time()
    assert len(entra_standin.grants_of("client_credentials")) == grants + 1
    assert entra_standin.verify(second.token)["appid"] == app.client_id


def test_workload_identity_with_another_subject_is_refused(
    entra_standin: EntraStandIn, tmp_path: Path
) -> None:
    app = entra_standin.add_app(federated=[(ISSUER, SUBJECT)])
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(entra_standin.mint_federated_token(ISSUER, "system:serviceaccount:x:y"))
    with pytest.raises(ClientAuthenticationError, match="AADSTS70021"):
        _workload_credential(entra_standin, app.client_id, token_file).get_token(STORAGE_SCOPE)


# -- managed identity ----------------------------------------------------------------------------


def test_system_and_user_assigned_managed_identities_sign_in(
    entra_standin: EntraStandIn, entra_azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> None:
    entra_standin.token_lifetime = 120
    for name, value in entra_standin.managed_identity_env().items():
        monkeypatch.setenv(name, value)
    user_assigned = entra_standin.add_managed_identity()

    system = ManagedIdentityCredential()
    blob_round_trip(entra_azurite, system)
    fresh_token_each_call(entra_standin, system, "managed_identity")
    by_client = ManagedIdentityCredential(client_id=user_assigned.client_id)
    by_resource = ManagedIdentityCredential(
        identity_config={"resource_id": user_assigned.resource_id}
    )
    for credential in (by_client, by_resource):
        claims = entra_standin.verify(credential.get_token(STORAGE_SCOPE).token)
        assert claims["appid"] == user_assigned.client_id
        assert claims["xms_mirid"] == user_assigned.resource_id
    assert entra_standin.grants[-1].client_id == user_assigned.client_id
    with pytest.raises(ClientAuthenticationError):
        ManagedIdentityCredential(client_id=str(uuid.uuid4())).get_token(STORAGE_SCOPE)


def test_the_identity_endpoint_wants_its_header(entra_standin: EntraStandIn) -> None:
    url = (
        entra_standin.identity_endpoint
        + "?resource=https://storage.azure.com&api-version=2019-08-01"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(urllib.request.Request(url, headers={"X-IDENTITY-HEADER": "no"}))
    assert caught.value.code == 401
    reply = urllib.request.urlopen(
        urllib.request.Request(url, headers={"X-IDENTITY-HEADER": entra_standin.identity_header})
    )
    body = json.load(reply)
    assert set(body) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
    assert body["client_id"] == entra_standin.system_identity.client_id


# -- Azure CLI -----------------------------------------------------------------------------------


def test_azure_cli_credential_uses_the_fake_az(
    entra_standin: EntraStandIn, entra_azurite: Azurite, fake_az: FakeAz
) -> None:
    entra_standin.token_lifetime = 120
    with pytest.raises(CredentialUnavailableError, match="az login"):
        AzureCliCredential().get_token(STORAGE_SCOPE)

    fake_az.login(USER)
    credential = AzureCliCredential()
    blob_round_trip(entra_azurite, credential)
    fresh_token_each_call(entra_standin, credential, "refresh_token")
    token = credential.get_token(STORAGE_SCOPE, tenant_id=entra_standin.tenant_id)
    assert entra_standin.verify(token.token)["upn"] == USER

    entra_standin.revoke_refresh_tokens(upn=USER)
    with pytest.raises(ClientAuthenticationError, match="AADSTS50173"):
        credential.get_token(STORAGE_SCOPE)
