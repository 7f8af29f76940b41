"""Signing in with Entra ID (`azxfer login`), for jobs that have no SAS token or key.

- `record`: the saved sign-in (`SignIn`, 0600 in the state directory): what it takes to sign
  in again silently, never a secret;
- `cache`: azure-identity's persistent token cache, encrypted by the platform's keyring, or
  (only when the user opts in) a 0600 file in the state directory;
- `signin`: the azure-identity credential of each login type, and `login` itself;
- `guarded`: a credential wrapper that turns azure-identity's failures into our one-line
  CredentialErrors (expired or revoked sign-in, unreachable endpoint);
- `provider`: the `token_provider` jobs pass to `resolve_credentials`: the saved sign-in, or
  the identity `AZXFER_AUTO_LOGIN_TYPE` names, made once per process;
- `status`: what `azxfer login status` shows.

Credentials are azure-identity's synchronous ones: `transport.bearer.Bearer` calls them on a
worker thread about once an hour. The aio flavours would need closing inside the job's event
loop (their aiohttp sessions otherwise warn on stderr at exit), which the authorizer has no
hook for, and DeviceCodeCredential has no aio flavour at all.
"""
