"""One reading of a storage service's error answers: an HTTP status and `x-ms-error-code` turned
into our errors (`azxfer.errors`), the same for the REST fast path and the SDK path.

The statuses mean the same in every Azure Storage service; what a service adds is its own error
codes (Blob's `ContainerNotFound`, `CannotVerifyCopySource`, ...), given here as an
`ErrorTable` that the service's driver owns. Each driver reads an answer into an `ErrorAnswer`
(from a response, or from an SDK exception) and asks `classify_answer`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from msgspec import Struct

from azxfer.errors import (
    AzxferError,
    CopySourceError,
    CredentialError,
    IntegrityError,
    NotFoundError,
    NotSupportedError,
    RetryableError,
    ServerError,
    TransferError,
)

# Throttling, timeouts and 5xx: transient as a rule, so retried.
BUSY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# Codes by which a service says it does not implement an operation (Azurite answers 501).
UNSUPPORTED_CODES = frozenset({"NotImplemented", "APINotImplemented", "FeatureNotSupported"})


class ErrorAnswer(Struct, frozen=True):
    """An answer of status 300 or more, and what it was about."""

    status: int
    code: str  # x-ms-error-code, or ""
    what: str  # what the request was about, as messages name it: "blob 'x'"
    retry_after: str | None = None  # the Retry-After header, as sent
    message: str = ""  # the service's own words, when the caller has them (the SDK's)
    parent: str = ""  # the request's container or share as messages name it ("'c' at URL")
    copy_source_status: str = ""  # what a copy's source answered the service, when told
    method: str = ""  # the request's HTTP method, when the caller knows it


# A rule for one error code of a service: the error its answers stand for.
CodeRule = Callable[[ErrorAnswer], AzxferError]


class ErrorTable(Struct, frozen=True):
    """A service's own error codes, each with the error it stands for."""

    rules: Mapping[str, CodeRule]
    unsupported: frozenset[str] = UNSUPPORTED_CODES


def classify_answer(answer: ErrorAnswer, table: ErrorTable) -> AzxferError:
    """The error an answer of status 300 or more stands for."""
    status, code, what = answer.status, answer.code, answer.what
    if status == 501 or code in table.unsupported:
        return NotSupportedError(f"{what}: the service does not support this operation", code)
    rule = table.rules.get(code)
    if rule is not None:
        return rule(answer)
    if status in BUSY_STATUS:
        text = f"{what}: service busy ({status} {code}) after retries"
        err = ServerError(text, status) if status >= 500 else RetryableError(text)
        err.retry_after = _seconds(answer.retry_after)  # type: ignore[attr-defined]
        return err
    if status == 412:
        return IntegrityError(f"{what} changed during the transfer")
    if status == 404:
        # "listing container 'c' at URL not found" reads wrong: what is missing is listed.
        return NotFoundError(f"{what.removeprefix('listing ')} not found")
    if status in (401, 403):
        denied = CredentialError(f"access to {what} denied ({code or 'forbidden'})")
        denied.needs = sas_permission(answer.method, what)
        return denied
    return TransferError(f"{what}: {status} {code or first_line(answer.message)}".rstrip())


# The SAS permission (its `sp` letter, and name) a request of each method needs. Listings
# need `l` whatever their method; a tag or tier change may need another letter than `w`, so
# a denial names the permission only when the token lacks it (see `endpoints.denials`).
_SAS_PERMISSIONS = {
    "GET": "r (read)",
    "HEAD": "r (read)",
    "PUT": "w (write)",
    "DELETE": "d (delete)",
    "POST": "a (add)",
    "MERGE": "u (update)",
    "PATCH": "u (update)",
}


def sas_permission(method: str, what: str) -> str:
    """The SAS permission a request of `method` about `what` needs ('' when unknown)."""
    if what.startswith("listing "):
        return "l (list)"
    return _SAS_PERMISSIONS.get(method, "")


def copy_source_unreadable(answer: ErrorAnswer) -> AzxferError:
    """CannotVerifyCopySource (a code Blob and Files share): the destination's service could
    not read a server-side copy's source; with what the source answered it when it says so,
    else the service's own words."""
    if answer.copy_source_status:
        detail = f"it answered {answer.copy_source_status}"
    elif answer.message:
        detail = f"{answer.status}: {first_line(answer.message).removesuffix('.')}"
    else:
        detail = ""
    return CopySourceError(
        f"{answer.what}: the service could not read the copy source"
        + (f" ({detail})" if detail else "")
    )


def first_line(text: str) -> str:
    """The first line of a service's message, at most 300 characters."""
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
