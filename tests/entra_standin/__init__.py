"""A loopback Entra ID stand-in, an App Service managed-identity endpoint and a fake `az`:
what the real azure-identity credentials (1.27, MSAL 1.39) sign in against, offline (issue 24).

What it implements
------------------
Entra ID     https://127.0.0.1:PORT (TLS from a trustme CA; `ca_bundle` is its PEM), one tenant
             (`tenant_id`; users may also use `organizations` / `common`):
  GET  /{tenant}/v2.0/.well-known/openid-configuration   (MSAL's tenant discovery)
  GET  /{tenant}/discovery/v2.0/keys                      (JWKS: the stand-in's RS256 key)
  POST /{tenant}/oauth2/v2.0/devicecode                   (public clients only: user_code,
       device_code, verification_uri, expires_in, interval, message)
  POST /{tenant}/oauth2/v2.0/token, grant types
       client_credentials   with client_secret; or client_assertion (jwt-bearer): iss = the
                            client -> a certificate assertion, its signature (RS256 or PS256,
                            as MSAL signs) checked against the registered certificates' keys,
                            aud = this token endpoint, sub = client, exp/nbf with 5 min skew;
                            any other iss -> a federated (workload identity) assertion, checked
                            against the app's registered (issuer, subject), audience
                            api://AzureADTokenExchange, exp, and the stand-in's signature
                            (mint_federated_token() writes what a token file holds).
       urn:ietf:params:oauth:grant-type:device_code   pending until approve()/decline().
       refresh_token        rotates the refresh token; a revoked one fails.
  Tokens: access tokens are v1 JWTs shaped for Storage (aud = the scope's resource, e.g.
  https://storage.azure.com; iss https://sts.windows.net/{tenant}/; oid, sub, tid, appid,
  idtyp; upn/unique_name/name/scp for users; xms_mirid for managed identities; iat/nbf/exp),
  signed RS256 (`verify(token)` checks one). User flows also get id_token (v2, aud = client),
  client_info (uid.utid) and a refresh token, which MSAL needs to build and refresh an account.
  Errors are Entra's JSON (error, error_description "AADSTSnnnn: ...", error_codes, trace ids):
    authorization_pending 70016, expired_token 70019, access_denied 70020 (declined),
    invalid_grant 70000 (device code unknown/redeemed), 50173 (revoked refresh token),
    9002313 (unknown refresh token), invalid_client 7000215 (bad secret, 401), 7000218 (no
    credential), 700027 (assertion signature / unregistered certificate), 700024 (assertion
    expired), 700212 (assertion audience), 50027 (malformed JWT), unauthorized_client 700016
    (unknown client), 7000112 (disabled app), invalid_request 70021 (no federated match),
    90002 (unknown tenant), 900144 (missing parameter), invalid_scope 1002012 (client
    credentials without /.default), unsupported_grant_type 70003. Error names and the
    common codes (70016, 70019, 50173, 7000215, 700016, 700027, 70021, 90002) follow Entra;
    the rarer codes (70020, 700212, 9002313, 7000112) are plausible but unverified, and a
    declined device code is answered access_denied (Entra's docs also name
    authorization_declined): tests should match on the error name, not the number.
Managed identity  http://127.0.0.1:PORT2/msi/token, App Service style (`managed_identity_env()`
             gives IDENTITY_ENDPOINT and IDENTITY_HEADER): GET ?resource=&api-version=2019-08-01
             [&client_id=|&mi_res_id=|&object_id=] with X-IDENTITY-HEADER -> {access_token,
             expires_on (epoch seconds, a string), resource, token_type, client_id}. The system
             identity (`system_identity`) always exists; add_managed_identity() adds user-assigned
             ones. Wrong header 401, unknown identity 400, as {"statusCode", "message"}.
Fake az      FakeAz(bin_dir, standin) writes an `az` script (fixture `fake_az` puts it first on
             PATH). `az account get-access-token --output json --resource R | --scope S
             [--tenant T] [--subscription S]` prints {accessToken, expiresOn, expires_on,
             subscription, tenant, tokenType} by redeeming the refresh token `fake_az.login(upn)`
             left (so revocation and lifetimes apply); signed out it prints "ERROR: Please run
             'az login' to setup account." and exits 1 (AzureCliCredential ->
             CredentialUnavailableError); a refused refresh prints the AADSTS line and exits 1
             (-> ClientAuthenticationError).

Switches and inspection (EntraStandIn, while it runs)
------------------------------------------------------
token_lifetime (s, default 3600; e.g. 120 to make tokens expire mid-job), device_code_lifetime,
settings.device_interval (poll interval, default 1 s); add_app(client_id=None, secret=,
certificate= (PEM bytes or x509), federated=[(issuer, subject)], public=), add_user(upn),
add_managed_identity(client_id=, resource_id=), disable_app(client_id),
revoke_refresh_tokens(upn=None, client_id=None), approve(user_code, upn), decline(user_code),
pending_user_codes(), sign_in(upn, client_id) (a refresh token, as an interactive sign-in
leaves). `grants` / grants_of(type): every token request as Grant(grant_type, client_id,
scope, tenant, user, error) -- "managed_identity" for the identity endpoint. `errors` lists
unexpected handler exceptions (the fixture fails a test that leaves any). The Azure CLI's
client id (DEVELOPER_CLIENT_ID, azure-identity's default for DeviceCodeCredential) is
registered as a public client.

How to start it
---------------
Fixtures (tests/conftest.py): `entra_standin` (started; SSL_CERT_FILE and REQUESTS_CA_BUNDLE
set for the test), `entra_azurite` (Azurite https `--oauth basic`, certificate from the same
CA `entra_ca`, so one bundle trusts both), `fake_az`. Or
``with EntraStandIn(ca=trustme.CA()) as standin: ...``.

What the credentials need against a loopback authority (the CLI must do the same)
--------------------------------------------------------------------------------
- authority=standin.authority ("https://127.0.0.1:PORT", host only; tenant_id separately), or
  AZURE_AUTHORITY_HOST=that in the environment (azure-identity's default authority).
- disable_instance_discovery=True on ClientSecretCredential, CertificateCredential and
  DeviceCodeCredential (MSAL-based): without it MSAL asks login.microsoftonline.com
  /common/discovery/instance about any host it does not know -> ClientAuthenticationError
  "Failed to resolve 'login.microsoftonline.com'". The stand-in cannot answer that (MSAL never
  sends it to the authority's host), and there is no environment variable for it: azxfer
  should pass the flag when the authority host is not one of
  msal.authority.WELL_KNOWN_AUTHORITY_HOSTS (real clouds, sovereign ones included, are).
  WorkloadIdentityCredential (no MSAL) accepts and ignores it. validate_authority is not an
  azure-identity option.
- TLS trust: requests-based (sync) credentials read REQUESTS_CA_BUNDLE per request; aiohttp
  (azure.identity.aio) builds its default context when aiohttp is imported, so set
  SSL_CERT_FILE before the process starts (subprocess env: `tls_env()`) or pass
  connection_verify=standin.ca_bundle.
- Managed identity: only the IDENTITY_ENDPOINT/IDENTITY_HEADER variables. Azure CLI: `az` on
  PATH (`fake_az.path_env()`).
- azure-identity's own refresh rules: MSAL-based credentials and managed identity ignore cached
  tokens with under 5 minutes left (so with token_lifetime=120 every get_token asks again);
  assertion credentials (workload identity) reuse a token until it expires, refreshing in its
  last 5 minutes at most every 30 s. A revoked refresh token: DeviceCodeCredential with
  disable_automatic_authentication=True raises azure.identity.AuthenticationRequiredError (a
  ClientAuthenticationError): "Interactive authentication is required to get a token. Call
  'authenticate' to begin."; without that flag it starts a new device-code prompt.

What it does not do
-------------------
Interactive browser / authorization-code flow (/authorize), username-password (ROPC),
on-behalf-of, instance discovery (see above), client_secret_basic, multiple tenants, CAE and
claims challenges, PoP tokens, IMDS / Azure Arc / Service Fabric / Cloud Shell managed
identities, real external OIDC issuers (federated tokens are trusted only when the stand-in
signed them), consent and role checks (Azurite `--oauth basic` does not check roles either),
persistence. The fake az knows only `account get-access-token`.
"""

from .directory import (
    DEVELOPER_CLIENT_ID,
    TOKEN_EXCHANGE_AUDIENCE,
    App,
    Grant,
    ManagedIdentity,
    User,
)
from .fake_az import FakeAz
from .server import DEFAULT_TENANT, SUBSCRIPTION, EntraStandIn

__all__ = [
    "DEFAULT_TENANT",
    "DEVELOPER_CLIENT_ID",
    "SUBSCRIPTION",
    "TOKEN_EXCHANGE_AUDIENCE",
    "App",
    "EntraStandIn",
    "FakeAz",
    "Grant",
    "ManagedIdentity",
    "User",
]
