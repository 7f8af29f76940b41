"""How a Blob REST request is addressed and authorized, and how a listing is paged.

Sans-IO and light on imports (the standard library only): besides `rest`, the listing
started at process start (`early_listing`) builds its requests here before the engine, the
event loop or the SDK are loaded, and they must be exactly the requests `rest` sends.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

from azxfer.transport.dates import format_http_date
from azxfer.transport.signing import Authorizer, authorizer_for

if TYPE_CHECKING:
    from azxfer.credentials import Credential

API_VERSION = "2025-11-05"
# Listing page sizes: the first page small, so work starts early; each next one twice as
# large, up to the service's maximum. While a page is turned into entries (and compared, or
# its transfers started) the service builds the next one, so what waits for the last answer
# is only the last page; with one page of thousands after the first, all of them waited.
FIRST_PAGE = 250
MAX_PAGE = 5000


class RequestSigner:
    """Builds the URL and the signed headers of requests to one account with one credential
    (`auth`: SharedKey, a SAS, a Bearer token, or none)."""

    def __init__(self, endpoint: str, account: str, credential: Credential | None) -> None:
        self.endpoint = endpoint.rstrip("/")
        url = urlsplit(self.endpoint)
        # Parsed once: every request's URL and signature start with these.
        self.base_path = url.path.rstrip("/")
        self.origin = f"{url.scheme}://{url.netloc}"
        self.account = account
        self.credential = credential
        self.auth: Authorizer = authorizer_for(credential)

    async def signed(
        self,
        method: str,
        container: str,
        name: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[str, dict[str, str]]:
        """`prepare`, once the authorizer is ready (a Bearer token fetched or renewed)."""
        await self.auth.ready()
        return self.prepare(method, container, name, query, headers, body)

    def prepare(
        self,
        method: str,
        container: str,
        name: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[str, dict[str, str]]:
        """The URL and the signed headers of one attempt (each attempt is dated anew)."""
        path = f"{self.base_path}/{container}"
        if name:
            path += f"/{quote_name(name)}"
        request_headers = dict(headers)
        request_headers["x-ms-version"] = API_VERSION
        request_headers["x-ms-date"] = _request_date(int(time.time()))
        request_headers["Content-Length"] = str(len(body) if body else 0)
        if body is not None:
            # Signed, as the service expects the Content-Type it receives to be.
            request_headers["Content-Type"] = "application/octet-stream"
        query_string = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
        extra = self.auth.apply(method, path, query, request_headers)
        if extra:
            query_string = f"{query_string}&{extra}" if query_string else extra
        url = f"{self.origin}{path}{'?' + query_string if query_string else ''}"
        return url, request_headers


def list_query(prefix: str, delimiter: str | None, marker: str, size: int) -> dict[str, str]:
    """The query of one List Blobs page (with metadata)."""
    query = {
        "restype": "container",
        "comp": "list",
        "prefix": prefix,
        "maxresults": str(size),
        "include": "metadata",
    }
    if delimiter:
        query["delimiter"] = delimiter
    if marker:
        query["marker"] = marker
    return query


def next_page_size(size: int) -> int:
    """The size asked for the page after one of `size` entries."""
    return min(size * 2, MAX_PAGE)


def next_marker(page: bytes) -> str:
    """The NextMarker of a List Blobs page, read from its end without parsing the page (the
    service writes it as the page's last element). Names and values in the page are escaped
    XML text, so the element's tag cannot occur in them; a page that ends any other way is
    parsed whole."""
    body = page.rstrip()
    if not body.endswith(_PAGE_END):
        return _parsed_marker(page)
    last = body[: -len(_PAGE_END)]
    if last.endswith((b"<NextMarker />", b"<NextMarker/>")):
        return ""
    start = last.rfind(b"<NextMarker>")
    if start >= 0 and last.endswith(b"</NextMarker>"):
        return ElementTree.fromstring(last[start:]).text or ""
    return _parsed_marker(page)


_PAGE_END = b"</EnumerationResults>"


def _parsed_marker(page: bytes) -> str:
    if b"<NextMarker" not in page:
        return ""
    return ElementTree.fromstring(page).findtext("NextMarker") or ""


def quote_name(name: str) -> str:
    """Percent-encode a blob name for the URL path; '.' segments are encoded so that nothing
    between here and the service resolves them."""
    segments = []
    for segment in name.split("/"):
        if segment in (".", ".."):
            segments.append(segment.replace(".", "%2E"))
        else:
            segments.append(quote(segment, safe="~"))
    return "/".join(segments)


@functools.lru_cache(maxsize=2)
def _request_date(second: int) -> str:
    """x-ms-date for requests sent in this second (formatted once per second, not per request)."""
    return format_http_date(second)
