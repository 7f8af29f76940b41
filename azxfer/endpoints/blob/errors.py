"""Blob storage's errors: its own error codes (`BLOB_ERRORS`, for `transport.classify`), and
SDK exceptions classified, once, at the driver boundary, by the same classifier."""

from __future__ import annotations

from azxfer.credentials import Credential
from azxfer.endpoints.denials import auth_message as _auth_message
from azxfer.endpoints.denials import denied as _denied
from azxfer.endpoints.denials import explain as _explain
from azxfer.errors import (
    AzxferError,
    ContainerMissing,
    CredentialError,
    RetryableError,
    TransferError,
    UnreachableError,
)
from azxfer.transport.classify import (
    ErrorAnswer,
    ErrorTable,
    classify_answer,
    copy_source_unreadable,
    first_line,
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
        return CredentialError(_explain(exc, what, credential, "blob"))
    if isinstance(exc, AzxferError):
        return exc
    err = _classify(exc, what, host, container)
    if isinstance(err, CredentialError) and credential is not None:
        return CredentialError(_denied(err, what, credential))
    return err


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

    if isinstance(exc, ServiceRequestError):
        reason = _root_reason(exc)
        return UnreachableError(f"cannot reach {host or 'the service'}: {reason}")
    if isinstance(exc, ServiceResponseError):
        return RetryableError(f"{what}: connection failed: {_root_reason(exc)}")
    if not isinstance(exc, HttpResponseError):
        return TransferError(f"{what}: {type(exc).__name__}: {first_line(str(exc))}")
    code = error_code(exc)
    status = exc.status_code or 0
    if isinstance(exc, ResourceNotFoundError) and not status:
        status = 404
    if isinstance(exc, ClientAuthenticationError) and status not in (401, 403):
        status = 403
    message = str(getattr(exc, "message", None) or exc)
    method = getattr(getattr(exc.response, "request", None), "method", "") or ""
    answer = ErrorAnswer(status, code, what, None, message, container, method=method)
    err = classify_answer(answer, BLOB_ERRORS)
    if isinstance(err, CredentialError):
        denial = CredentialError(_auth_message(code, what, str(exc)))
        denial.needs = err.needs
        return denial
    return err


def _other_blob_type(answer: ErrorAnswer) -> AzxferError:
    return TransferError(
        f"{answer.what} exists as another blob type: delete it first, or pick its type with "
        "--blob-type"
    )


# Blob storage's own error codes (the statuses' common meaning is `transport.classify`'s).
BLOB_ERRORS = ErrorTable(
    rules={
        "CannotVerifyCopySource": copy_source_unreadable,
        "InvalidBlobType": _other_blob_type,
        "ContainerNotFound": lambda answer: container_not_found(answer.what, answer.parent),
    }
)


def _root_reason(exc: BaseException) -> str:
    inner: BaseException | None = exc
    while inner is not None and inner.__cause__ is not None:
        inner = inner.__cause__
    text = str(inner) if inner is not None else str(exc)
    return first_line(text) or type(inner).__name__
