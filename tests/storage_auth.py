"""Azure Storage request authentication, as the services compute it: shared by the stand-ins.

SharedKey (the string-to-sign of version 2009-09-19 and later, the same for Blob and Files),
service SAS (Blob's and Files' field orders differ), account SAS, and the small parsers they
need. Pure functions over plain data: the stand-ins decide what a mismatch answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import unquote

from azure.storage.blob._shared.authentication import _storage_header_sort

# The standard headers SharedKey signs, in the order it signs them.
SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


def parse_query(raw_query: str) -> dict[str, list[str]]:
    """Query parameters by lower-cased name, values percent-decoded (as the service signs them)."""
    out: dict[str, list[str]] = {}
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        out.setdefault(unquote(name).lower(), []).append(unquote(value))
    return out


def shared_key_string_to_sign(
    method: str,
    headers: Mapping[str, str],
    account: str,
    raw_path: str,
    query: Mapping[str, list[str]],
) -> str:
    """The SharedKey string-to-sign of the Blob and File services (version 2009-09-19 and later).

    `headers` has lower-cased names; `raw_path` is the URL path as sent (path style, so it starts
    with /account); `query` as from `parse_query`.
    """
    standard = []
    for name in SIGNED_HEADERS:
        value = headers.get(name, "")
        if name == "content-length" and value == "0":
            value = ""
        standard.append(value)
    x_ms = _storage_header_sort([(k, v) for k, v in headers.items() if k.startswith("x-ms-")])
    canonical_headers = "".join(f"{k}:{v.strip()}\n" for k, v in x_ms)
    resource = f"/{account}{raw_path or '/'}"
    for name in sorted(query):
        resource += f"\n{name}:{','.join(sorted(query[name]))}"
    return f"{method.upper()}\n" + "\n".join(standard) + "\n" + canonical_headers + resource


def sign(key_b64: str, string_to_sign: str) -> str:
    """Base64 HMAC-SHA256 of `string_to_sign` under the base64 account key."""
    digest = hmac.new(
        base64.b64decode(key_b64), string_to_sign.encode("utf-8"), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def sas_time(value: str) -> datetime:
    """A SAS `st`/`se` value (the ISO 8601 forms the service accepts); ValueError otherwise."""
    text = value.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"bad SAS time {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def service_sas_string_to_sign(fields: Mapping[str, str], canonical_resource: str) -> str:
    """Blob service SAS string-to-sign, as azure-storage-blob 12.x produces it (sv 2015-04-05+)."""
    sv = fields.get("sv", "")

    def f(name: str) -> str:
        return fields.get(name, "")

    parts = [f("sp"), f("st"), f("se"), canonical_resource, f("si"), f("sip"), f("spr"), sv]
    if sv >= "2018-11-09":
        parts += [f("sr"), f("snapshot")]
    if sv >= "2020-12-06":
        parts.append(f("ses"))
    parts += [f("rscc"), f("rscd"), f("rsce"), f("rscl"), f("rsct")]
    return "\n".join(parts)


def file_sas_string_to_sign(fields: Mapping[str, str], canonical_resource: str) -> str:
    """File service SAS string-to-sign (sv 2015-04-05+): unlike Blob's, no `sr` and no snapshot.

    `canonical_resource` is ``/file/{account}/{share}[/{path}]`` with the names unencoded.
    """
    names = ("sp", "st", "se")
    tail = ("si", "sip", "spr", "sv", "rscc", "rscd", "rsce", "rscl", "rsct")
    head = [fields.get(n, "") for n in names]
    return "\n".join([*head, canonical_resource, *(fields.get(n, "") for n in tail)])


def account_sas_string_to_sign(account: str, fields: Mapping[str, str]) -> str:
    """Account SAS string-to-sign (sv 2015-04-05+; the encryption scope from 2020-12-06)."""
    names = ["sp", "ss", "srt", "st", "se", "sip", "spr", "sv"]
    if fields.get("sv", "") >= "2020-12-06":
        names.append("ses")
    return account + "\n" + "".join(fields.get(n, "") + "\n" for n in names)


def ip_allowed(remote: str, sip: str) -> bool:
    """Whether `remote` is the SAS's `sip` address or inside its `low-high` range."""
    try:
        address = ipaddress.ip_address(remote)
        low, _, high = sip.partition("-")
        first = ipaddress.ip_address(low)
        last = ipaddress.ip_address(high) if high else first
    except ValueError:
        return False
    return first <= address <= last
