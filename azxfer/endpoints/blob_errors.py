"""Classifying Azure SDK errors into azxfer errors, once, at the driver boundary."""

from __future__ import annotations

from datetime import UTC, datetime

from azxfer.credentials import Credential
from azxfer.errors import (
    AzxferError,
    ContainerMissing,
    CopySourceError,
    CredentialError,
    NotFoundError,
    NotSupportedError,
    RetryableError,
    ServerError,
    TransferError,
    UnreachableError,
)


def error_code(exc: BaseException) -> str:
    """The service's x-ms-error-code, or '' when there is none."""
    code = getattr(exc, "error_code", None)
    if code:
        return str(getattr(code, "value", code))
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    return str(headers.get("x-ms-error-code", ""))


def container_not_found(what: str, container: str = "") -> ContainerMissing:
    """A ContainerNotFound answer to a request about `what` ("listing container 'c'", or
    "blob 'x'"): a listing names the container itself; otherwise `container` ("'c' at URL")
    does, when the caller knows it, since it is the job's error line."""
    if what.startswith("listing "):
        return ContainerMissing(f"{what.removeprefix('listing ')} does not exist")
    if container:
        return ContainerMissing(f"container {container} does not exist ({what})")
    return ContainerMissing(f"{what}: its container does not exist")


def classify(
    exc: BaseException,
    what: str,
    host: str = "",
    credential: Credential | None = None,
    container: str = "",
) -> AzxferError:
    """Turn an SDK exception about `what` (e.g. "blob 'x'") into one of ours.

    Knowing the credential used (never its secret) makes a denial actionable, and knowing
    the container ("'c' at URL") names it when it is missing.
    """
    if isinstance(exc, CredentialError) and credential is not None and "[used" not in str(exc):
        code = str(exc).rpartition("(")[2].rstrip(")")
        return CredentialError(
            _denied(CredentialError(_auth_message(code, what, str(exc))), what, credential)
        )
    if isinstance(exc, AzxferError):
        return exc
    err = _classify(exc, what, host, container)
    if isinstance(err, CredentialError) and credential is not None:
        return CredentialError(_denied(err, what, credential))
    return err


def _denied(err: CredentialError, what: str, credential: Credential) -> str:
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


def _classify(exc: BaseException, what: str, host: str, container: str) -> AzxferError:
    # Imported here, on an error path: azure.core costs ~25 ms of start-up, and the REST fast
    # path (most runs) never needs it.
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    code = error_code(exc)
    status = getattr(exc, "status_code", None)
    if isinstance(exc, ServiceRequestError):
        reason = _root_reason(exc)
        return UnreachableError(f"cannot reach {host or 'the service'}: {reason}")
    if isinstance(exc, ServiceResponseError):
        return RetryableError(f"{what}: connection failed: {_root_reason(exc)}")
    by_code = classify_code(status or 0, code, what, _service_message(exc))
    if by_code is not None:
        return by_code
    if code == "ContainerNotFound":
        return container_not_found(what, container)
    if isinstance(exc, ResourceNotFoundError) or status == 404:
        return NotFoundError(f"{what} not found")
    if isinstance(exc, ClientAuthenticationError) or status == 403:
        return CredentialError(_auth_message(code, what, str(exc)))
    if isinstance(exc, HttpResponseError):
        if status in (408, 429, 500, 502, 503, 504):
            message = f"{what}: service busy ({status} {code}) after retries"
            return ServerError(message, status) if status >= 500 else RetryableError(message)
        return TransferError(f"{what}: {status} {code or _first_line(str(exc))}")
    return TransferError(f"{what}: {type(exc).__name__}: {_first_line(str(exc))}")


_UNSUPPORTED_CODES = {"NotImplemented", "APINotImplemented", "FeatureNotSupported"}


def classify_code(status: int, code: str, what: str, detail: str = "") -> AzxferError | None:
    """Errors told by the service's status and error code alone (shared with the REST path):
    an operation it does not implement, a copy source it cannot read, a blob-type clash."""
    if status == 501 or code in _UNSUPPORTED_CODES:
        return NotSupportedError(f"{what}: the service does not support this operation", code)
    if code == "CannotVerifyCopySource":
        return CopySourceError(
            f"{what}: the service could not read the copy source"
            + (f" ({detail})" if detail else "")
        )
    if code == "InvalidBlobType":
        return TransferError(
            f"{what} exists as another blob type: delete it first, or pick its type with "
            "--blob-type"
        )
    return None


def _service_message(exc: BaseException) -> str:
    """The status and first line of the service's own message (no request IDs or times)."""
    message = getattr(exc, "message", None) or str(exc)
    status = getattr(exc, "status_code", None)
    return f"{status}: {_first_line(str(message)).removesuffix('.')}"


def _auth_message(code: str, what: str, text: str) -> str:
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


def _root_reason(exc: BaseException) -> str:
    inner: BaseException | None = exc
    while inner is not None and inner.__cause__ is not None:
        inner = inner.__cause__
    text = str(inner) if inner is not None else str(exc)
    return _first_line(text) or type(inner).__name__


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""
