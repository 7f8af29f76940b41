"""The App Service managed-identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER).

GET ?resource=R&api-version=2019-08-01[&client_id=C|&mi_res_id=ID|&object_id=P] with the header
X-IDENTITY-HEADER answers {access_token, expires_on, resource, token_type, client_id}, where
expires_on is epoch seconds as a string, as App Service sends it. Errors are App Service's
{"statusCode", "message"} bodies.
"""

from __future__ import annotations

from collections.abc import Mapping

from .directory import Directory, Grant, ManagedIdentity
from .oauth import Settings
from .tokens import Signer, Subject

API_VERSION = "2019-08-01"
SELECTORS = {"client_id": "client_id", "mi_res_id": "resource_id", "object_id": "principal_id"}


def _error(status: int, message: str) -> tuple[int, dict[str, object]]:
    return status, {"statusCode": status, "message": message}


def answer(
    directory: Directory,
    signer: Signer,
    settings: Settings,
    *,
    query: Mapping[str, str],
    header: str | None,
    secret: str,
    system: ManagedIdentity,
) -> tuple[int, dict[str, object]]:
    """(status, JSON body) for one token request; every request is recorded as a grant."""
    resource = query.get("resource", "")
    status, body = _token(directory, signer, settings, query, header, secret, system)
    chosen = body.get("client_id") if status == 200 else query.get("client_id")
    directory.record(
        Grant(
            "managed_identity",
            str(chosen or ""),
            resource,
            directory.tenant_id,
            error=None if status == 200 else str(body.get("message")),
        )
    )
    return status, body


def _token(
    directory: Directory,
    signer: Signer,
    settings: Settings,
    query: Mapping[str, str],
    header: str | None,
    secret: str,
    system: ManagedIdentity,
) -> tuple[int, dict[str, object]]:
    if header != secret:
        return _error(401, "The X-IDENTITY-HEADER header is missing or does not match.")
    if query.get("api-version") != API_VERSION:
        return _error(400, f"Unsupported api-version {query.get('api-version')!r}.")
    resource = query.get("resource", "").removesuffix("/.default")
    if not resource:
        return _error(400, "Required query parameter 'resource' is missing.")
    identity = _select(directory, query, system)
    if identity is None:
        return _error(
            400, "No managed identity found for specified ClientId/ResourceId/PrincipalId."
        )
    who = Subject(
        identity.principal_id,
        directory.tenant_id,
        identity.client_id,
        mirid=identity.resource_id,
    )
    token, exp = signer.access_token(who, resource, settings.token_lifetime)
    return 200, {
        "access_token": token,
        "expires_on": str(exp),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": identity.client_id,
    }


def _select(
    directory: Directory, query: Mapping[str, str], system: ManagedIdentity
) -> ManagedIdentity | None:
    chosen = [(attr, query[name]) for name, attr in SELECTORS.items() if query.get(name)]
    if not chosen:
        return system
    if len(chosen) > 1:
        return None
    attr, value = chosen[0]
    with directory.lock:
        candidates = [system, *directory.identities]
    return next((i for i in candidates if getattr(i, attr).lower() == value.lower()), None)
