"""`azxfer login`: turn the command's options into a sign-in, prove it with one Storage
token, and save what signs in again silently (never a secret)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azxfer.errors import UsageError
from azxfer.identity import cache, record
from azxfer.identity.signin import Prompt, Proven, authority_of, prove

# Which options each login type takes (besides --tenant-id and --aad-endpoint).
_ONLY_FOR = {
    "certificate_path": ("spn",),
    "identity_client_id": ("msi",),
    "identity_resource_id": ("msi",),
    "application_id": ("device", "spn", "workload"),
}


def login(login_type: str, opts: Mapping[str, Any], env: Mapping[str, str], prompt: Prompt):
    """Sign in as `login_type` with the command's options; save and return the sign-in."""
    sign_in = sign_in_from_options(login_type, opts, env)
    proven = prove(sign_in, env, prompt)
    if login_type != "device":
        # Only user sign-ins keep tokens in the cache: a previous user's go with them.
        cache.clear(env, unencrypted=False)
    record.save(env, proven.sign_in)
    return proven


def sign_in_from_options(
    login_type: str, opts: Mapping[str, Any], env: Mapping[str, str]
) -> record.SignIn:
    """The sign-in the options describe, refused when an option does not fit the type."""
    for name, types in _ONLY_FOR.items():
        if opts.get(name) and login_type not in types:
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{flag} applies to --login-type {' or '.join(types)} only")
    if opts.get("identity_client_id") and opts.get("identity_resource_id"):
        raise UsageError("give --identity-client-id or --identity-resource-id, not both")
    user_type = login_type in ("spn", "workload")
    return record.SignIn(
        login_type=login_type,
        tenant_id=opts.get("tenant_id") or env.get("AZURE_TENANT_ID") or None,
        authority=authority_of(opts.get("aad_endpoint") or env.get("AZURE_AUTHORITY_HOST")),
        application_id=opts.get("application_id")
        or (env.get("AZURE_CLIENT_ID") if user_type else None)
        or None,
        certificate_path=str(opts["certificate_path"]) if opts.get("certificate_path") else None,
        token_file=env.get("AZURE_FEDERATED_TOKEN_FILE") if login_type == "workload" else None,
        identity_client_id=opts.get("identity_client_id") or None,
        identity_resource_id=opts.get("identity_resource_id") or None,
        unencrypted_cache=login_type == "device"
        and cache.unencrypted_allowed(env, bool(opts.get("allow_unencrypted_cache"))),
    )


__all__ = ["Proven", "login", "sign_in_from_options"]
