"""Authentication as the File service does it: SharedKey, File service SAS, account SAS and
Entra ID (OAuth) Bearer tokens.

Each operation names the SAS permission letters that allow it and the account-SAS resource
type it touches (see routes.py); `authenticate` checks who signed, `authorize` what they may do.

Bearer tokens are checked as Azurite's `--oauth basic` checks them: `aud` is
https://storage.azure.com (or the account's file endpoint), `iss` starts with
https://sts.windows.net/, and `nbf`/`iat`/`exp` hold now; the signature is not checked (the
token's issuer is the test's Entra ID stand-in, which this stand-in does not know), and any
identity may do anything (no RBAC roles). As Azure does, a token-authorized file or directory
operation must say `x-ms-file-request-intent: backup` (400 MissingRequiredHeader without it,
400 InvalidHeaderValue for another value). Azure accepts Bearer tokens over https only; this
stand-in serves plain http, which the REST fast path allows (the SDK's pipeline does not).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from storage_auth import (
    account_sas_string_to_sign,
    file_sas_string_to_sign,
    ip_allowed,
    sas_time,
    shared_key_string_to_sign,
    sign,
)

from . import errors
from .call import Call

MAX_CLOCK_SKEW = timedelta(minutes=15)
STORAGE_AUDIENCES = ("https://storage.azure.com", "https://storage.azure.com/")
TOKEN_ISSUER_PREFIX = "https://sts.windows.net/"
INTENT = "x-ms-file-request-intent"
OLDEST_VERSION = "2019-02-02"


def check_version(call: Call) -> None:
    """Refuse versions older than the stand-in implements (the SDK sends 2026-xx; any newer ok)."""
    version = call.h("x-ms-version")
    if version is None:
        return
    if len(version) != 10 or version < OLDEST_VERSION:
        raise errors.StorageError(
            400,
            "InvalidHeaderValue",
            "The value for one of the HTTP headers is not in the correct format.",
            headers={"x-ms-invalid-header-name": "x-ms-version"},
        )


def authenticate(call: Call, accounts: Mapping[str, str]) -> None:
    """Sets `call.auth` (and `call.permissions` for a SAS), or raises the service's answer."""
    authorization = call.h("authorization")
    if authorization and authorization.strip().startswith("Bearer "):
        _check_bearer(call, authorization.strip()[len("Bearer ") :])
        call.auth = "bearer"
        return
    if authorization:
        _check_shared_key(call, accounts, authorization)
        call.auth = "sharedkey"
        return
    if call.q("sig") is not None:
        _check_sas(call, accounts)
        return
    raise errors.StorageError(
        401 if call.account in accounts else 403,
        "NoAuthenticationInformation",
        "Server failed to authenticate the request. "
        "Please refer to the information in the www-authenticate header.",
    )


def authorize(call: Call, letters: str, resource: str, *, creates: bool = False) -> None:
    """A SAS must grant one of `letters` ('c' counts only when the request `creates`);
    an account SAS must also cover the resource type ('s' service, 'c' share, 'o' object)."""
    if call.auth == "sharedkey":
        return
    if call.auth == "bearer":
        if resource == "o" or call.op == "ListDirectoriesAndFiles":
            _check_intent(call)
        return
    granted = call.permissions
    if not any(p in granted for p in letters if p != "c" or creates):
        raise errors.permission_mismatch()
    if call.auth == "account-sas" and resource not in (call.q("srt") or ""):
        raise errors.StorageError(
            403,
            "AuthorizationResourceTypeMismatch",
            "This request is not authorized to perform this operation using this resource type.",
        )


def _invalid_token(detail: str) -> errors.StorageError:
    return errors.StorageError(
        401,
        "InvalidAuthenticationInfo",
        f"Server failed to authenticate the request. {detail}",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _check_bearer(call: Call, token: str) -> None:
    """The token's audience, issuer and times, as Azurite's `--oauth basic` checks them."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        raise _invalid_token("The token is not a JWT.") from None
    if not isinstance(claims, dict):
        raise _invalid_token("The token is not a JWT.")
    audiences = (*STORAGE_AUDIENCES, f"https://{call.account}.file.core.windows.net")
    if claims.get("aud") not in audiences:
        raise _invalid_token(f"The audience {claims.get('aud')!r} is not accepted.")
    if not str(claims.get("iss", "")).startswith(TOKEN_ISSUER_PREFIX):
        raise _invalid_token(f"The issuer {claims.get('iss')!r} is not accepted.")
    now = datetime.now(UTC).timestamp()
    try:
        not_before = float(claims.get("nbf", claims.get("iat", 0)))
        expires = float(claims["exp"])
    except (KeyError, TypeError, ValueError):
        raise _invalid_token("The token's times are not valid.") from None
    if now < not_before:
        raise _invalid_token("The token is not yet valid.")
    if now >= expires:
        raise _invalid_token("Lifetime validation failed. The token is expired.")


def _check_intent(call: Call) -> None:
    intent = call.h(INTENT)
    if intent is None:
        raise errors.missing_header(INTENT)
    if intent.strip().lower() != "backup":
        raise errors.invalid_header(INTENT, intent)


def _check_shared_key(call: Call, accounts: Mapping[str, str], authorization: str) -> None:
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme != "SharedKey":
        raise errors.auth_failed(f"Authentication scheme {scheme} is not supported here.")
    account, _, signature = credentials.strip().rpartition(":")
    if account != call.account or account not in accounts:
        raise errors.auth_failed(f"The account {account!r} does not match the request.")
    if not call.h("x-ms-version"):
        raise errors.missing_header("x-ms-version")
    when = call.h("x-ms-date") or call.h("date")
    if not when:
        raise errors.auth_failed("Request date header not specified.")
    try:
        sent = parsedate_to_datetime(when)
    except (TypeError, ValueError):
        raise errors.auth_failed(f"The date header {when!r} is not valid.") from None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    if abs(datetime.now(UTC) - sent) > MAX_CLOCK_SKEW:
        raise errors.auth_failed(f"Request date header too old: '{when}'")
    to_sign = shared_key_string_to_sign(
        call.method, call.headers, account, call.raw_path, call.query
    )
    if not hmac.compare_digest(sign(accounts[account], to_sign), signature):
        raise errors.auth_failed(
            f"The MAC signature found in the HTTP request '{signature}' is not the same as "
            f"any computed signature. Server used following string to sign: '{to_sign}'."
        )


def _sas_resource(call: Call, sr: str) -> str:
    if sr == "s":
        return f"/file/{call.account}/{call.share or ''}"
    if sr == "f":
        return f"/file/{call.account}/{call.share or ''}/{call.path}"
    raise errors.auth_failed(f"The signed resource {sr!r} is not valid for the File service.")


def _check_sas(call: Call, accounts: Mapping[str, str]) -> None:
    fields = {k: v[-1] for k, v in call.query.items()}
    key = accounts.get(call.account)
    if key is None:
        raise errors.auth_failed(f"Unknown account {call.account!r}.")
    sv = fields.get("sv", "")
    if sv < "2015-04-05":
        raise errors.auth_failed(f"The signed version {sv!r} is not supported here.")
    if "skoid" in fields or "si" in fields:
        raise errors.auth_failed("User delegation and stored-policy SAS are not implemented.")
    account_sas = "ss" in fields or "srt" in fields
    if account_sas:
        to_sign = account_sas_string_to_sign(call.account, fields)
    else:
        to_sign = file_sas_string_to_sign(fields, _sas_resource(call, fields.get("sr", "")))
    if not hmac.compare_digest(sign(key, to_sign), fields.get("sig", "")):
        raise errors.auth_failed(f"Signature did not match. String to sign used was {to_sign!r}")
    st, se = fields.get("st"), fields.get("se")
    try:
        start = sas_time(st) if st else None
        expiry = sas_time(se) if se else None
    except ValueError as exc:
        raise errors.auth_failed(str(exc)) from None
    now = datetime.now(UTC)
    if expiry is None or not fields.get("sp"):
        raise errors.auth_failed("The SAS must give an expiry and permissions.")
    if (start is not None and now < start) or now >= expiry:
        raise errors.auth_failed(
            f"Signed expiry time [{se}] must be after signed start time [{st or ''}] and the "
            "current time."
        )
    if fields.get("spr") and "http" not in fields["spr"].replace("https", "").split(","):
        raise errors.StorageError(
            403,
            "AuthorizationProtocolMismatch",
            "This request is not authorized to perform this operation using this protocol.",
        )
    if fields.get("sip") and not ip_allowed(call.request.remote or "", fields["sip"]):
        raise errors.StorageError(
            403,
            "AuthorizationSourceIPMismatch",
            "This request is not authorized to perform this operation using this source IP "
            f"{call.request.remote}.",
        )
    if account_sas and "f" not in fields.get("ss", ""):
        raise errors.StorageError(
            403,
            "AuthorizationServiceMismatch",
            "This request is not authorized to perform this operation using this service.",
        )
    call.auth = "account-sas" if account_sas else "sas"
    call.permissions = fields["sp"]
