"""Request authorization for every storage service, as one small interface.

An `Authorizer` adds what authorizes one attempt of a request: a header (SharedKey, Bearer)
or a query string (a SAS). The variants:

- `SharedKey`: the Blob, File and Queue services' string-to-sign ("Authorize with Shared
  Key": the verb, eleven standard headers, the canonical x-ms-* headers, the resource);
- `TableSharedKey`: the Table service's shorter one (verb, Content-MD5, Content-Type, date,
  the resource with only `comp` of the query);
- `Sas`: a SAS token appended to the query;
- `Anonymous`: nothing;
- `transport.bearer.Bearer`: an Entra ID token, refreshed before it expires.

Sans-IO and light on imports (the standard library only), like the request builders that use
it: the listing started at process start signs its requests here before asyncio is loaded.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote

if TYPE_CHECKING:
    from azxfer.credentials import Credential

_SIGNED_HEADERS = (
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


class Authorizer(Protocol):
    """Authorizes attempts of requests to one account."""

    async def ready(self) -> None:
        """Make sure `apply` can authorize now (a token is fetched or refreshed here)."""

    def apply(self, method: str, path: str, query: dict[str, str], headers: dict[str, str]) -> str:
        """Authorize one attempt to URL path `path` (as sent, percent-encoded) with `query`
        (unencoded values): add headers to `headers` in place, and return what to append to
        the query string ('' for nothing). `headers` must already hold every header sent."""


class Anonymous:
    """No authorization (public containers, presigned URLs whose query is their own)."""

    async def ready(self) -> None:
        """Nothing to prepare."""

    def apply(self, method: str, path: str, query: dict[str, str], headers: dict[str, str]) -> str:
        """Nothing to add."""
        return ""


class Sas:
    """A shared access signature, sent as the query string."""

    def __init__(self, token: str) -> None:
        self.token = token.lstrip("?")

    async def ready(self) -> None:
        """Nothing to prepare."""

    def apply(self, method: str, path: str, query: dict[str, str], headers: dict[str, str]) -> str:
        """The token, to append to the query."""
        return self.token


class SharedKey:
    """An account key, by the Blob, File and Queue services' string-to-sign."""

    scheme = "SharedKey"

    def __init__(self, account: str, key: str) -> None:
        self.account = account
        self._key = base64.b64decode(key)

    async def ready(self) -> None:
        """Nothing to prepare."""

    def apply(self, method: str, path: str, query: dict[str, str], headers: dict[str, str]) -> str:
        """Add the Authorization header."""
        headers["Authorization"] = self.authorization(method, path, query, headers)
        return ""

    def authorization(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> str:
        """The Authorization header's value: the HMAC-SHA256 of the string-to-sign."""
        to_sign = self.string_to_sign(method, path, query, headers).encode("utf-8")
        digest = hmac.new(self._key, to_sign, hashlib.sha256).digest()
        return f"{self.scheme} {self.account}:{base64.b64encode(digest).decode()}"

    def string_to_sign(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> str:
        """The documented string-to-sign (version 2009-09-19 and later)."""
        lowered = {k.lower(): v for k, v in headers.items() if v}
        if lowered.get("content-length") == "0":
            del lowered["content-length"]
        names = signing_order(tuple(sorted(k for k in lowered if k.startswith("x-ms-"))))
        canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
        resource = f"/{self.account}{path}"
        for name in sorted(query):
            resource += f"\n{name.lower()}:{unquote(query[name])}"
        return (
            f"{method}\n"
            + "\n".join(lowered.get(h, "") for h in _SIGNED_HEADERS)
            + "\n"
            + canonical_headers
            + resource
        )


class TableSharedKey(SharedKey):
    """An account key, by the Table service's string-to-sign: the date is x-ms-date (or
    Date), and of the query only `comp` is part of the resource."""

    def string_to_sign(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> str:
        """The Table service's string-to-sign."""
        lowered = {k.lower(): v for k, v in headers.items()}
        date = lowered.get("x-ms-date") or lowered.get("date", "")
        resource = f"/{self.account}{path}"
        if "comp" in query:
            resource += f"?comp={unquote(query['comp'])}"
        return "\n".join(
            (
                method,
                lowered.get("content-md5", ""),
                lowered.get("content-type", ""),
                date,
                resource,
            )
        )


def authorizer_for(credential: Credential | None) -> Authorizer:
    """The Blob/File authorizer for `credential` (None: anonymous)."""
    if credential is None or credential.kind == "anonymous":
        return Anonymous()
    if credential.kind == "sas":
        return Sas(credential.sas or "")
    if credential.kind == "shared_key":
        return SharedKey(credential.account, credential.key or "")
    from azxfer.transport.bearer import Bearer  # asyncio: only jobs that use a token

    return Bearer(credential.token)


@functools.lru_cache(maxsize=1024)
def signing_order(names: tuple[str, ...]) -> tuple[str, ...]:
    """x-ms-* header names in the service's canonical order (its own collation).

    A request type always carries the same few names, so the sort runs once each.
    """
    return tuple(sorted(names, key=_collation_key))


# The service sorts canonical header names by a culture-aware collation, not by code point:
# at the first level '-' and "'" are ignored, case is ignored, and punctuation sorts before
# digits before letters; ties are broken by where the ignored characters stand. These are
# the weights of the Azure SDK's table (azure.storage.blob._shared.authentication), as ranks:
# importing that module would load the whole SDK.
_PRIMARY = "!#$%&*.^_`|~+0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PRIMARY_RANK = {c: rank for rank, c in enumerate(_PRIMARY, start=2)}
_PRIMARY_RANK.update({c.lower(): rank for c, rank in _PRIMARY_RANK.items() if c.isalpha()})
_SECONDARY_RANK = {"'": 2, "-": 3}  # every other character 0; 1 marks the end of the name


def _collation_key(name: str) -> tuple[list[int], list[int]]:
    primary = [_PRIMARY_RANK[c] for c in name if c in _PRIMARY_RANK]
    secondary = [_SECONDARY_RANK.get(c, 0) for c in name]
    return [*primary, 1], [*secondary, 1]
