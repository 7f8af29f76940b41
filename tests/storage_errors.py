"""Error answers in Azure Storage's form, shared by the stand-ins (blob_standin, file_standin):
the exception a handler raises and the XML body it becomes."""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import escape


class StorageError(Exception):
    """An error answer: `status`, Azure's error `code` and message, extra response headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = dict(headers or {})


def error_body(exc: StorageError, request_id: str, time_text: str) -> bytes:
    """The `<Error>` document: code, message with the request id and time (as the service
    words it), and the authentication detail when there is one."""
    detail = ""
    if exc.detail:
        detail = f"<AuthenticationErrorDetail>{escape(exc.detail)}</AuthenticationErrorDetail>"
    return (
        '<?xml version="1.0" encoding="utf-8"?><Error>'
        f"<Code>{escape(exc.code)}</Code><Message>{escape(exc.message)}\n"
        f"RequestId:{request_id}\nTime:{time_text}</Message>{detail}</Error>"
    ).encode()


# The answers both services word alike.


def auth_failed(detail: str) -> StorageError:
    """403 AuthenticationFailed, `detail` saying what did not match."""
    return StorageError(
        403,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization "
        "header is formed correctly including the signature.",
        detail=detail,
    )


def permission_mismatch() -> StorageError:
    """403 AuthorizationPermissionMismatch: the credential does not grant this operation."""
    return StorageError(
        403,
        "AuthorizationPermissionMismatch",
        "This request is not authorized to perform this operation using this permission.",
    )
