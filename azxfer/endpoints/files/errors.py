"""Azure Files' own error codes (`FILE_ERRORS`, for `transport.classify`), and a denial
explained with the credential used (`explain`)."""

from __future__ import annotations

from azxfer.credentials import Credential
from azxfer.endpoints.denials import explain as explain_denial
from azxfer.errors import (
    AzxferError,
    ContainerMissing,
    CredentialError,
    DestinationFull,
    NotFoundError,
    TransferError,
)
from azxfer.transport.classify import ErrorAnswer, ErrorTable, copy_source_unreadable


def share_not_found(answer: ErrorAnswer) -> ContainerMissing:
    """ShareNotFound: no request of the job can succeed, so it is the job's one error line,
    naming the share ("'s' at URL")."""
    if answer.parent:
        return ContainerMissing(f"share {answer.parent} does not exist ({answer.what})")
    return ContainerMissing(f"{answer.what}: its share does not exist")


def _share_full(answer: ErrorAnswer) -> DestinationFull:
    where = f"share {answer.parent}" if answer.parent else f"the share of {answer.what}"
    return DestinationFull(
        f"{where} is full (ShareSizeLimitReached): raise its quota, then resume the job"
    )


# Azure Files' own error codes (the statuses' common meaning is `transport.classify`'s).
FILE_ERRORS = ErrorTable(
    rules={
        "ShareNotFound": share_not_found,
        "CannotVerifyCopySource": copy_source_unreadable,
        "ShareSizeLimitReached": _share_full,
        "ParentNotFound": lambda a: NotFoundError(f"{a.what}: its parent directory does not exist"),
        "ResourceNotFound": lambda a: NotFoundError(f"{a.what} not found"),
        "SharingViolation": lambda a: TransferError(
            f"{a.what} is open elsewhere (an SMB handle locks it): close it, then try again"
        ),
        "LeaseIdMissing": lambda a: TransferError(
            f"{a.what} is leased: break its lease (or wait for it to end), then try again"
        ),
        "InvalidResourceName": lambda a: TransferError(
            f"{a.what}: Azure Files does not allow this name"
        ),
        "ResourceTypeMismatch": lambda a: TransferError(
            f"{a.what}: a file and a directory of that name are in each other's way"
        ),
    }
)


def explain(err: BaseException, what: str, credential: Credential | None) -> BaseException:
    """`err` as the user reads it: a denial says which credential was used and why it most
    likely failed (as Blob's does); anything else is already classified."""
    if isinstance(err, CredentialError) and credential is not None and "[used" not in str(err):
        return CredentialError(explain_denial(err, what, credential, "file"))
    if isinstance(err, AzxferError):
        return err
    return TransferError(f"{what}: {type(err).__name__}: {err}")
