"""How a request to any Azure Storage service is addressed and authorized: the URL of an
already-quoted service path under one endpoint, and the headers every request carries
(x-ms-version, x-ms-date, Content-Length) with what its `Authorizer` adds.

Sans-IO and light on imports (the standard library only): the listing started at process
start (`endpoints.blob.early_listing`) builds its requests here before the event loop is
loaded, and they must be exactly the requests `transport.rest` sends.
"""

from __future__ import annotations

import functools
import time
from urllib.parse import quote, urlsplit

from azxfer.transport.dates import format_http_date
from azxfer.transport.signing import Authorizer


class Signer:
    """Builds the URL and the signed headers of requests to one endpoint ("https://acct.
    blob.core.windows.net", or an emulator's "http://127.0.0.1:10000/devstoreaccount1") with
    one authorizer and one API version."""

    def __init__(self, endpoint: str, auth: Authorizer, api_version: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        url = urlsplit(self.endpoint)
        # Parsed once: every request's URL and signature start with these.
        self.base_path = url.path.rstrip("/")
        self.origin = f"{url.scheme}://{url.netloc}"
        self.auth = auth
        self.api_version = api_version

    async def signed(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[str, dict[str, str]]:
        """`prepare`, once the authorizer is ready (a Bearer token fetched or renewed)."""
        await self.auth.ready()
        return self.prepare(method, path, query, headers, body)

    def prepare(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[str, dict[str, str]]:
        """The URL and the signed headers of one attempt (each attempt is dated anew) to
        `path` below the endpoint ("/container/name", percent-encoded as it is sent)."""
        path = f"{self.base_path}{path}"
        request_headers = dict(headers)
        request_headers["x-ms-version"] = self.api_version
        request_headers["x-ms-date"] = _request_date(int(time.time()))
        request_headers["Content-Length"] = str(len(body) if body else 0)
        if body is not None:
            # Signed, as the service expects the Content-Type it receives to be; a body of
            # another kind (Table's JSON and batches) names its own.
            request_headers.setdefault("Content-Type", "application/octet-stream")
        query_string = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        extra = self.auth.apply(method, path, query, request_headers)
        if extra:
            query_string = f"{query_string}&{extra}" if query_string else extra
        url = f"{self.origin}{path}{'?' + query_string if query_string else ''}"
        return url, request_headers

    def url_of(self, path: str) -> str:
        """The URL of `path` without a query (no SAS): how logs and messages name it."""
        return f"{self.origin}{self.base_path}{path}"


@functools.lru_cache(maxsize=2)
def _request_date(second: int) -> str:
    """x-ms-date for requests sent in this second (formatted once per second, not per request)."""
    return format_http_date(second)
