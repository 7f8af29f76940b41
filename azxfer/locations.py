"""Parsing what a user types as a source or destination into a typed Location.

Recognised without hints: local paths (with an optional wildcard in the last component),
`https://ACCOUNT.blob.core.windows.net/CONTAINER[/PATH][?SAS]` (any Azure cloud suffix),
`https://ACCOUNT.file.core.windows.net/SHARE[/PATH][?SAS]` (Azure Files),
`https://ACCOUNT-secondary.blob…` (RA-GRS secondary, read-only), and path-style emulator URLs
`http://HOST:PORT/ACCOUNT/CONTAINER[/PATH]` where HOST is an IP address or `localhost`: Blob,
unless the caller names another service for that HOST:PORT (a connection string's
`FileEndpoint`, say: `path_style`). A custom domain needs the service named by the caller
(`--from-to`, `--source-type`, …).
"""

from __future__ import annotations

import enum
import ipaddress
import os
import re
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from azxfer.errors import LocationError


class Service(enum.Enum):
    """The kind of endpoint a location addresses."""

    LOCAL = "Local"
    BLOB = "Blob"
    FILE = "File"
    TABLE = "Table"
    WEB = "Web"  # any other http(s) URL: one object, read-only


_SERVICE_BY_LABEL = {"blob": Service.BLOB, "file": Service.FILE, "table": Service.TABLE}
_AZURE_HOST = re.compile(
    r"^(?P<account>[a-z0-9]{3,24})(?P<secondary>-secondary)?\."
    r"(?P<service>blob|file|table|queue|dfs|web)\.(?P<suffix>core\.[a-z0-9.-]+)$"
)
_CONTAINER_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$")
_TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,62}$")
_SPECIAL_CONTAINERS = {"$root", "$web", "$logs"}
_WILDCARD = re.compile(r"[*?\[]")
# Query parameters that address a blob version rather than authorize the request.
_ADDRESSING_PARAMS = {"snapshot", "versionid"}
MAX_BLOB_NAME = 1024
MAX_FILE_PATH = 2048  # Azure Files: a path's characters
MAX_FILE_COMPONENT = 255  # Azure Files: one directory or file name's characters
# Which service a path-style endpoint (lowercase "host:port") serves, when it is not Blob.
PathStyleServices = Mapping[str, Service]


class Location(NamedTuple):
    """A parsed source or destination. Remote fields are empty for local locations.

    A NamedTuple, not a Struct: the early listings are started from it before msgspec is
    loaded (see `models`)."""

    service: Service
    display: str
    local_path: str = ""
    pattern: str | None = None
    endpoint: str = ""
    account: str = ""
    container: str = ""
    path: str = ""
    sas: str | None = None
    snapshot: str | None = None
    version_id: str | None = None
    read_only: bool = False

    @property
    def is_local(self) -> bool:
        """True for a local file system location."""
        return self.service is Service.LOCAL

    @property
    def web_url(self) -> str:
        """A web object's URL with its query (may hold a secret: never log it)."""
        return f"{self.endpoint}{self.path}" + (f"?{self.sas}" if self.sas else "")

    @property
    def url(self) -> str:
        """The container-or-blob URL without any query (safe to log)."""
        if self.service is Service.WEB:
            return f"{self.endpoint}{self.path}"
        tail = "/".join(p for p in (self.container, self.path) if p)
        return f"{self.endpoint}/{quote(tail, safe='/~')}" if tail else self.endpoint


def redact(text: str) -> str:
    """Hide SAS signatures and other secret query values in any text that may hold a URL."""
    if "=" not in text:  # every secret below follows a "=": most paths need no scan
        return text
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=REDACTED", text)


_SECRET_QUERY = re.compile(r"(?i)\b(sig|signature|se?k|accountkey|token)=([^&\s;\"']+)")


def parse_location(
    text: str,
    service: Service | None = None,
    allow_web: bool = False,
    path_style: PathStyleServices | None = None,
    table_service: bool = False,
) -> Location:
    """Parse a user-typed location; `service` overrides detection (for custom domains).

    With `allow_web`, an http(s) URL that is no storage endpoint is a plain web object (a
    public file, a presigned URL of another cloud); its whole query is treated as a secret.
    `path_style`: the service of path-style endpoints that do not serve Blob, by "host:port".
    `table_service`: a Table URL may name the service itself, no table (`list` lists tables).
    """
    if not text:
        raise LocationError("a location may not be empty")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        if service is Service.WEB or (allow_web and service is None):
            web = _parse_web(text, forced=service is Service.WEB)
            if web is not None:
                return web
        return _parse_url(text, service, path_style or {}, table_service)
    if service not in (None, Service.LOCAL):
        raise LocationError(f"'{text}' is not a URL, but {service.value} was named for it")
    _refuse_mistyped_url(text)
    return _parse_local(text)


# An http(s) URL with its '://' mistyped ('http//h/p', 'https:/h/p', 'http:\\h\\p'), taken
# as a local path, made a copy "from Local to Local". ('http/x' is a plain folder.)
_MISTYPED_URL = re.compile(r"^(https?)(?::[/\\]{0,3}|[/\\]{2,3})(?=[^/\\])", re.IGNORECASE)


def _refuse_mistyped_url(text: str) -> None:
    """Refuse a local path that is no file or folder here but a mistyped URL, saying so."""
    match = _MISTYPED_URL.match(text)
    if match is None or os.path.lexists(text):
        return
    meant = f"{match[1].lower()}://{text[match.end() :].replace(chr(92), '/')}"
    raise LocationError(
        f"'{redact(text)}' is not a URL (did you mean '{redact(meant)}'?) nor a local path "
        "that exists"
    )


def _parse_local(text: str) -> Location:
    head, tail = os.path.split(text)
    if _WILDCARD.search(head):
        raise LocationError(f"'{text}': wildcards are allowed only in the last path component")
    if _WILDCARD.search(tail):
        return Location(Service.LOCAL, text, local_path=head or ".", pattern=tail)
    return Location(Service.LOCAL, text, local_path=text)


def _parse_url(
    text: str, service: Service | None, path_style: PathStyleServices, table_service: bool
) -> Location:
    display = redact(text)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise LocationError(f"'{display}' is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise LocationError(f"'{display}': only http and https URLs are supported")
    host = (parts.hostname or "").lower()
    if not host:
        raise LocationError(f"'{display}': the URL has no host")
    segments = [unquote(s) for s in parts.path.split("/")[1:]]
    trailing = parts.path.endswith("/") and len(segments) > 1
    netloc = parts.netloc.rsplit("@", 1)[-1]
    match = _AZURE_HOST.match(host)
    if match:
        detected = _SERVICE_BY_LABEL.get(match["service"])
        if detected is None:
            raise LocationError(f"'{display}': the {match['service']} service is not supported")
        endpoint = f"{parts.scheme}://{netloc}"
        account, read_only = match["account"], bool(match["secondary"])
    elif _is_path_style_host(host):
        if not segments or not segments[0]:
            raise LocationError(f"'{display}': an emulator URL needs /ACCOUNT/CONTAINER")
        account = segments.pop(0)
        endpoint = f"{parts.scheme}://{netloc}/{account}"
        detected = path_style.get(netloc.lower()) or _service_of_sas(parts.query)
        read_only = False
    elif service is not None:
        endpoint = f"{parts.scheme}://{netloc}"
        account, detected, read_only = host.split(".")[0], service, False
    else:
        raise LocationError(
            f"'{display}': {host} is not an Azure Storage endpoint; for a custom domain name "
            "the service with --from-to (e.g. LocalBlob)"
        )
    chosen = service or detected
    if chosen is Service.LOCAL:
        raise LocationError(f"'{display}' is a URL, not a local path")
    container = segments[0] if segments else ""
    path = "/".join(segments[1:])
    if trailing and path and not path.endswith("/"):
        path += "/"
    query = parse_qsl(parts.query, keep_blank_values=True)
    addressing = {k.lower(): v for k, v in query if k.lower() in _ADDRESSING_PARAMS}
    auth = [(k, v) for k, v in query if k.lower() not in _ADDRESSING_PARAMS]
    sas = urlencode(auth) if any(k == "sig" for k, _ in auth) else None
    if auth and sas is None:
        raise LocationError(f"'{display}': the query is not a SAS token (it has no 'sig')")
    location = Location(
        chosen,
        display,
        endpoint=endpoint,
        account=account,
        container=container,
        path=path,
        sas=sas,
        snapshot=addressing.get("snapshot"),
        version_id=addressing.get("versionid"),
        read_only=read_only,
    )
    if chosen is Service.BLOB:
        validate_blob_location(location)
    elif chosen is Service.FILE:
        validate_file_location(location)
    elif chosen is Service.TABLE:
        # A path-style URL's service is Blob unless said otherwise: naming Table decides it.
        if detected is Service.FILE or (match and detected is not Service.TABLE):
            raise LocationError(f"'{display}' is a {detected.value} URL, not a table's")
        if not (table_service and not container and not path):
            validate_table_location(location)
    return location


def _parse_web(text: str, forced: bool = False) -> Location | None:
    """A web object location, or None when the URL is a storage endpoint (or malformed);
    `forced` (the service was named) takes emulator-like hosts (IP addresses) as web too."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return None
    if not forced and (_AZURE_HOST.match(host) or _is_path_style_host(host)):
        return None
    if not parts.path.strip("/"):
        raise LocationError(f"'{redact_web(text)}': a web source must name a file")
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return Location(
        Service.WEB,
        redact_web(text),
        endpoint=f"{parts.scheme}://{netloc}",
        path=parts.path,
        sas=parts.query or None,
    )


def redact_web(text: str) -> str:
    """A web URL without its query, which may hold a signature in any cloud's spelling."""
    parts = urlsplit(text)
    shown = parts._replace(query="", fragment="", netloc=parts.netloc.rsplit("@", 1)[-1])
    return shown.geturl() + ("?REDACTED" if parts.query else "")


def _service_of_sas(query: str) -> Service:
    """The service of an emulator's path-style URL that no connection string names: a table
    SAS (`tn=`) says Table; anything else is taken for Blob, the emulators' first service."""
    return Service.TABLE if re.search(r"(?:^|&)tn=", query) else Service.BLOB


def _is_path_style_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def validate_blob_location(location: Location) -> None:
    """Raise LocationError if the container or blob name cannot exist in Blob storage."""
    name = location.container
    if not name:
        raise LocationError(f"'{location.display}': a container name is required")
    if name not in _SPECIAL_CONTAINERS and not _CONTAINER_NAME.match(name):
        raise LocationError(
            f"'{name}' is not a valid container name: use 3-63 lowercase letters, digits and "
            "single hyphens, starting and ending with a letter or digit"
        )
    if len(location.path) > MAX_BLOB_NAME:
        raise LocationError(
            f"'{location.display}': blob names are at most {MAX_BLOB_NAME} characters"
        )


def validate_file_location(location: Location) -> None:
    """Raise LocationError if the share or path cannot exist in Azure Files (the characters
    Files forbids in names are the planner's to translate, not a location error)."""
    share = location.container
    if not share:
        raise LocationError(f"'{location.display}': a share name is required")
    if not _CONTAINER_NAME.match(share):
        raise LocationError(
            f"'{share}' is not a valid share name: use 3-63 lowercase letters, digits and "
            "single hyphens, starting and ending with a letter or digit"
        )
    path = location.path.rstrip("/")
    if len(path) > MAX_FILE_PATH:
        raise LocationError(
            f"'{location.display}': Azure Files paths are at most {MAX_FILE_PATH} characters"
        )
    if any(len(part) > MAX_FILE_COMPONENT for part in path.split("/")):
        raise LocationError(
            f"'{location.display}': Azure Files names are at most {MAX_FILE_COMPONENT} "
            "characters each"
        )
    if location.snapshot or location.version_id:
        raise LocationError(f"'{location.display}': share snapshots are not supported")


def validate_table_location(location: Location) -> None:
    """Raise LocationError unless the location names one table, by a name Table storage
    allows (3-63 letters and digits, starting with a letter)."""
    name = location.container
    if not name or location.path.strip("/"):
        raise LocationError(f"'{location.display}': a table URL is ENDPOINT/TABLE")
    if not _TABLE_NAME.match(name):
        raise LocationError(
            f"'{name}' is not a valid table name: use 3-63 letters and digits, starting with "
            "a letter"
        )


def container_name_error(name: str) -> str | None:
    """Why `name` is not a valid container name, or None if it is."""
    if name in _SPECIAL_CONTAINERS or _CONTAINER_NAME.match(name):
        return None
    return f"'{name}' is not a valid container name"


def check_local_source(location: Location) -> None:
    """Raise LocationError if a local source (or a wildcard's folder) does not exist."""
    if not location.is_local:
        return
    path = location.local_path
    if location.pattern is not None and not os.path.isdir(path):
        raise LocationError(f"local folder '{path}' does not exist")
    if location.pattern is None and not os.path.lexists(path):
        raise LocationError(f"local path '{path}' does not exist")


def without_secrets(text: str) -> str:
    """A location as typed, minus any SAS token (snapshot/version addressing is kept)."""
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        return text
    parts = urlsplit(text)
    kept = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() in _ADDRESSING_PARAMS
    ]
    return parts._replace(query=urlencode(kept)).geturl()


def with_sas(text: str, sas: str | None) -> str:
    """A URL with `sas` added to its query (a SAS given separately, e.g. on resume)."""
    if not sas:
        return text
    sas = sas.lstrip("?")
    return f"{text}{'&' if '?' in text else '?'}{sas}"
