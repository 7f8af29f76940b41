"""Error answers in the File service's form: an XML body and the x-ms-error-code header."""

from __future__ import annotations

from storage_errors import StorageError, auth_failed, error_body, permission_mismatch

# Answers the Blob stand-in gives too live in storage_errors; handlers reach all through here.
__all__ = ["StorageError", "auth_failed", "error_body", "permission_mismatch"]


# The documented answers, one constructor each, so every handler words them the same way.


def share_not_found() -> StorageError:
    return StorageError(404, "ShareNotFound", "The specified share does not exist.")


def share_exists() -> StorageError:
    return StorageError(409, "ShareAlreadyExists", "The specified share already exists.")


def parent_not_found() -> StorageError:
    return StorageError(404, "ParentNotFound", "The specified parent path does not exist.")


def resource_not_found() -> StorageError:
    return StorageError(404, "ResourceNotFound", "The specified resource does not exist.")


def resource_exists() -> StorageError:
    return StorageError(409, "ResourceAlreadyExists", "The specified resource already exists.")


def type_mismatch() -> StorageError:
    return StorageError(
        409,
        "ResourceTypeMismatch",
        "The specified resource type does not match the type of the existing resource.",
    )


def directory_not_empty() -> StorageError:
    return StorageError(409, "DirectoryNotEmpty", "The specified directory is not empty.")


def share_full() -> StorageError:
    return StorageError(413, "ShareSizeLimitReached", "The specified share is full.")


def invalid_range(size: int) -> StorageError:
    return StorageError(
        416,
        "InvalidRange",
        "The range specified is invalid for the current size of the resource.",
        headers={"Content-Range": f"bytes */{size}"},
    )


def md5_mismatch(sent: str, computed: str) -> StorageError:
    return StorageError(
        400,
        "Md5Mismatch",
        "The MD5 value specified in the request did not match with the MD5 value calculated "
        f"by the server. Sent: {sent}; computed: {computed}.",
    )


def invalid_header(name: str, value: str | None = None) -> StorageError:
    return StorageError(
        400,
        "InvalidHeaderValue",
        "The value for one of the HTTP headers is not in the correct format.",
        headers={"x-ms-invalid-header-name": name} if value is None else {},
    )


def missing_header(name: str) -> StorageError:
    return StorageError(
        400,
        "MissingRequiredHeader",
        f"An HTTP header that's mandatory for this request is not specified: {name}.",
    )


def invalid_query(name: str) -> StorageError:
    return StorageError(
        400,
        "InvalidQueryParameterValue",
        f"Value for one of the query parameters specified in the request URI is invalid: {name}.",
    )


def invalid_name() -> StorageError:
    return StorageError(
        400, "InvalidResourceName", "The specifed resource name contains invalid characters."
    )


def lease_id_missing() -> StorageError:
    return StorageError(
        412,
        "LeaseIdMissing",
        "There is currently a lease on the file and no lease ID was specified in the request.",
    )


def lease_mismatch(*, lease_op: bool = False) -> StorageError:
    """A lease id that is not the file's: 409 for a lease operation, 412 for any other."""
    if lease_op:
        return StorageError(
            409,
            "LeaseIdMismatchWithLeaseOperation",
            "The lease ID specified did not match the lease ID for the file.",
        )
    return StorageError(
        412,
        "LeaseIdMismatchWithFileOperation",
        "The lease ID specified did not match the lease ID for the file.",
    )


def lease_not_present(*, lease_op: bool = False) -> StorageError:
    if lease_op:
        return StorageError(
            409, "LeaseNotPresentWithLeaseOperation", "There is currently no lease on the file."
        )
    return StorageError(
        412, "LeaseNotPresentWithFileOperation", "There is currently no lease on the file."
    )


def sharing_violation() -> StorageError:
    return StorageError(
        409,
        "SharingViolation",
        "The specified resource is open in an SMB client and cannot be modified.",
    )


def unsupported(op: str) -> StorageError:
    return StorageError(
        400, "UnsupportedHttpVerb", f"The resource doesn't support the specified operation {op}."
    )
