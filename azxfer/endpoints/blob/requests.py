"""How a Blob REST request is addressed (a container and a blob name as a service path) and
authorized, and how a listing is paged.

Sans-IO and light on imports (the standard library only): besides `rest`, the listing
started at process start (`early_listing`) builds its requests here before the engine, the
event loop or the SDK are loaded, and they must be exactly the requests `rest` sends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote
from xml.etree import ElementTree

from azxfer.transport.signer import Signer
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
    """Builds the URL and the signed headers of Blob requests to one account with one
    credential (`auth`: SharedKey, a SAS, a Bearer token, or none): a container and a blob
    name become a path (`blob_path`), the rest is `transport.signer`'s."""

    def __init__(self, endpoint: str, account: str, credential: Credential | None) -> None:
        self.requests = Signer(endpoint, authorizer_for(credential), API_VERSION)
        self.endpoint = self.requests.endpoint
        self.origin = self.requests.origin
        self.auth: Authorizer = self.requests.auth
        self.account = account
        self.credential = credential

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
        return self.requests.prepare(method, blob_path(container, name), query, headers, body)


def blob_path(container: str, name: str) -> str:
    """The service path of a container (no name) or of a blob in it."""
    return f"/{container}/{quote_name(name)}" if name else f"/{container}"


def list_query(
    prefix: str, delimiter: str | None, marker: str, size: int, include: str = "metadata"
) -> dict[str, str]:
    """The query of one List Blobs page (with metadata, unless `include` says otherwise: ''
    asks for no extra dataset)."""
    query = {
        "restype": "container",
        "comp": "list",
        "prefix": prefix,
        "maxresults": str(size),
    }
    if include:
        query["include"] = include
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
