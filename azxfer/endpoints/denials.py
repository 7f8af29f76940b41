"""What a denied request tells the user, the same for every storage service: the credential
used (never its secret) and what most likely went wrong (an expired SAS, a missing permission,
a wrong key, no credentials at all)."""

from __future__ import annotations

from datetime import UTC, datetime

from azxfer.credentials import Credential
from azxfer.errors import CredentialError
from azxfer.transport.rest import ExplainDenial


def denials_of(credential: Credential | None, service: str) -> ExplainDenial | None:
    """How a REST client of `service` ("blob", "file", "table") explains a denial, knowing
    the credential used (`transport.rest` asks it of every denied request)."""
    if credential is None:
        return None
    return lambda err, what: CredentialError(explain(err, what, credential, service))


def denied(err: CredentialError, what: str, credential: Credential) -> str:
    """The message of a denial of `what`, saying which credential was used and why it
    most likely failed (for a SAS token without the permission the request needs, which).
    A denial said so already (by the REST client) is kept as it is."""
    if "[used " in str(err):
        return str(err)
    if credential.kind == "sas":
        expiry = credential.sas_expiry()
        if expiry is not None and expiry <= datetime.now(UTC):
            return f"access to {what} denied: the SAS token expired at {expiry:%Y-%m-%d %H:%M:%S}Z"
        lacking = _lacking(credential, err.needs)
        if lacking:
            return f"access to {what} denied: {lacking} [used {credential.describe()}]"
    if credential.kind == "anonymous" and "no credentials" not in str(err):
        return f"{err} (no credentials were given)"
    if credential.kind != "anonymous" and "no credentials given" in str(err):
        return (
            f"access to {what} denied: the {credential.describe()} was rejected "
            "(wrong key, or a SAS token that is invalid for this resource)"
        )
    return f"{err} [used {credential.describe()}]"


# The built-in roles that grant data access to a signed-in identity, by service.
DATA_ROLES = {
    "blob": "Storage Blob Data Reader to read, Storage Blob Data Contributor to write",
    "file": (
        "Storage File Data Privileged Reader to read, Storage File Data Privileged "
        "Contributor to write"
    ),
    "table": "Storage Table Data Reader to read, Storage Table Data Contributor to write",
}


def explain(err: CredentialError, what: str, credential: Credential, service: str) -> str:
    """The message of the denial `err` of `what`, as the user reads it: which credential was
    used and why it most likely failed."""
    code = str(err).rpartition("(")[2].rstrip(")")
    message = CredentialError(auth_message(code, what, str(err), credential, service))
    message.needs = err.needs
    return denied(message, what, credential)


def auth_message(
    code: str, what: str, text: str, credential: Credential | None = None, service: str = "blob"
) -> str:
    """The message of a denial of `what` by its error code and the service's words; for an
    Entra ID token, in a signed-in user's terms (the role to ask for, or to sign in again)."""
    lowered = text.lower()
    if credential is not None and credential.kind == "token":
        return _token_denied(code, what, lowered, service)
    if "expir" in lowered or ("signed expiry" in lowered):
        return f"access to {what} denied: the SAS token has expired"
    if code == "AuthorizationPermissionMismatch" or "permission" in lowered:
        return f"access to {what} denied: the SAS token lacks the permission for this operation"
    if code == "AuthenticationFailed":
        return (
            f"access to {what} denied: authentication failed (wrong account key, or a "
            "malformed or expired SAS token)"
        )
    if code in ("NoAuthenticationInformation", "AuthorizationFailure") or "anonymous" in lowered:
        return (
            f"access to {what} denied: no credentials given (run `azxfer login`, or give a "
            "SAS token, AZXFER_SOURCE_KEY/AZXFER_DEST_KEY or AZURE_STORAGE_CONNECTION_STRING)"
        )
    return f"access to {what} denied ({code or 'forbidden'})"


def _lacking(credential: Credential | None, needs: str) -> str:
    """What a SAS token lacks for a request that `needs` a permission ("l (list)"); '' when
    it grants it (or either is unknown): then the denial has another cause."""
    granted = credential.sas_permissions() if credential is not None else None
    if not needs or granted is None or needs[0] in granted:
        return ""
    return (
        f"the SAS token lacks the {needs} permission (it grants sp={granted}): make a SAS "
        f"that includes '{needs[0]}'"
    )


def _token_denied(code: str, what: str, lowered: str, service: str) -> str:
    if code in ("AuthorizationPermissionMismatch", "AuthorizationFailure") or (
        "permission" in lowered
    ):
        return (
            f"access to {what} denied: the signed-in identity has no data role that allows "
            f"this (usually {DATA_ROLES.get(service, DATA_ROLES['blob'])})"
        )
    if code in ("AuthenticationFailed", "InvalidAuthenticationInfo", "") or "expir" in lowered:
        return (
            f"access to {what} denied: the Entra ID token was rejected (an expired or "
            "revoked sign-in: run `azxfer login`)"
        )
    return f"access to {what} denied ({code or 'forbidden'})"
