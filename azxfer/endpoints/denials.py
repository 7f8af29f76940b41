"""What a denied request tells the user, the same for every storage service: the credential
used (never its secret) and what most likely went wrong (an expired SAS, a missing permission,
a wrong key, no credentials at all)."""

from __future__ import annotations

from datetime import UTC, datetime

from azxfer.credentials import Credential
from azxfer.errors import CredentialError


def denied(err: CredentialError, what: str, credential: Credential) -> str:
    """The message of a denial of `what`, saying which credential was used and why it
    most likely failed."""
    if credential.kind == "sas":
        expiry = credential.sas_expiry()
        if expiry is not None and expiry <= datetime.now(UTC):
            return f"access to {what} denied: the SAS token expired at {expiry:%Y-%m-%d %H:%M:%S}Z"
    if credential.kind == "anonymous" and "no credentials" not in str(err):
        return f"{err} (no credentials were given)"
    if credential.kind != "anonymous" and "no credentials given" in str(err):
        return (
            f"access to {what} denied: the {credential.describe()} was rejected "
            "(wrong key, or a SAS token that is invalid for this resource)"
        )
    return f"{err} [used {credential.describe()}]"


def auth_message(code: str, what: str, text: str) -> str:
    """The message of a denial of `what` by its error code and the service's words."""
    lowered = text.lower()
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
            f"access to {what} denied: no credentials given (set AZXFER_SOURCE_KEY/"
            "AZXFER_DEST_KEY, a SAS token, or AZURE_STORAGE_CONNECTION_STRING)"
        )
    return f"access to {what} denied ({code or 'forbidden'})"
