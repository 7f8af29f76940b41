"""Entra ID's error answers: the OAuth error name, the AADSTS code, the status, the JSON body."""

from __future__ import annotations

import datetime as dt
import uuid


class EntraError(Exception):
    """One error answer of the token or device-code endpoint, as Entra ID words it."""

    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(f"{error}: AADSTS{code}: {description}")
        self.status = status
        self.error = error
        self.code = code
        self.description = description

    def body(self) -> dict[str, object]:
        """The JSON body: MSAL and azure-identity read `error`, `error_description` and
        `error_codes`; the trace lines are what Entra appends to every description."""
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.code}: {self.description} Trace ID: {trace} "
                f"Correlation ID: {correlation} Timestamp: {now}"
            ),
            "error_codes": [self.code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": "https://login.microsoftonline.com/error?code=" + str(self.code),
        }


def tenant_not_found(tenant: str) -> EntraError:
    return EntraError(
        400, "invalid_request", 90002, f"Tenant '{tenant}' not found. Check to make sure you "
        "have the correct tenant ID and are signing into the correct cloud."
    )  # fmt: skip


def missing(parameter: str) -> EntraError:
    return EntraError(
        400, "invalid_request", 900144,
        f"The request body must contain the following parameter: '{parameter}'.",
    )  # fmt: skip


def unknown_client(client_id: str, tenant: str) -> EntraError:
    return EntraError(
        400, "unauthorized_client", 700016,
        f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
    )  # fmt: skip


def disabled_client(client_id: str) -> EntraError:
    return EntraError(
        400, "unauthorized_client", 7000112, f"Application '{client_id}' is disabled."
    )


def bad_secret(client_id: str) -> EntraError:
    return EntraError(
        401, "invalid_client", 7000215,
        f"Invalid client secret provided. Ensure the secret being sent in the request is the "
        f"client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
    )  # fmt: skip


def credential_required() -> EntraError:
    return EntraError(
        401, "invalid_client", 7000218,
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'.",
    )  # fmt: skip


def bad_assertion(code: int, description: str) -> EntraError:
    return EntraError(401, "invalid_client", code, description)


def no_federated_match(issuer: str, subject: str) -> EntraError:
    return EntraError(
        400, "invalid_request", 70021,
        f"No matching federated identity record found for presented assertion. Assertion "
        f"Issuer: '{issuer}'. Assertion Subject: '{subject}'.",
    )  # fmt: skip


def invalid_scope(scope: str) -> EntraError:
    return EntraError(
        400, "invalid_scope", 1002012,
        f"The provided value for scope {scope} is not valid. Client credential flows must have "
        "a scope value with /.default suffixed to the resource identifier (application ID URI).",
    )  # fmt: skip


def unsupported_grant(grant_type: str) -> EntraError:
    return EntraError(
        400, "unsupported_grant_type", 70003,
        f"The app requested an unsupported grant type '{grant_type}'.",
    )  # fmt: skip


def revoked_grant() -> EntraError:
    return EntraError(
        400, "invalid_grant", 50173,
        "The provided grant has expired due to it being revoked, a fresh auth token is needed. "
        "The user might have changed or reset their password.",
    )  # fmt: skip


def unknown_refresh_token() -> EntraError:
    return EntraError(
        400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
    )


def authorization_pending() -> EntraError:
    return EntraError(
        400, "authorization_pending", 70016,
        "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
    )  # fmt: skip


def expired_device_code() -> EntraError:
    return EntraError(400, "expired_token", 70019, "Verification code expired.")


def declined_device_code() -> EntraError:
    return EntraError(
        400, "access_denied", 70020,
        "The user declined the authorization request, or the administrator denied consent.",
    )  # fmt: skip


def bad_device_code() -> EntraError:
    return EntraError(
        400, "invalid_grant", 70000,
        "The provided value for the input parameter 'device_code' is not valid.",
    )  # fmt: skip
