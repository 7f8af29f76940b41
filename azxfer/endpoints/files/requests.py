"""How an Azure Files REST request is addressed and what its headers say: a share and a
path as a service path, the SMB times in the service's text form, and the content headers
of Create File and Set File Properties.

Sans-IO, standard library only (like `endpoints.blob.requests`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from azxfer.models import ContentProps, FileProps

# Not older than 2023-11-03: Put Range takes `x-ms-file-last-write-time: preserve` and
# Bearer tokens need `x-ms-file-request-intent`. The same version as the Blob fast path.
API_VERSION = "2025-11-05"
# Put Range writes at most 4 MiB per request.
MAX_RANGE = 4 * 1024 * 1024
# A file's size limit: refused before any request.
MAX_FILE_SIZE = 4 * 1024**4
# A file being written carries this last-write time until its commit sets the source's, so
# a half-written file never looks newer than its source (to sync), and a resume knows the
# file is one of ours, not a complete older one.
UNFINISHED_TIME = "1601-01-01T00:00:00.0000000Z"
# What a listing asks for besides names: times, ETags and attributes of every entry.
LIST_INCLUDE = "Timestamps,ETag,Attributes,PermissionKey"
LIST_PAGE = 5000

_TICKS = 10_000_000  # 100 ns ticks per second, the resolution of Files' times
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def file_path(share: str, path: str) -> str:
    """The service path of a share (no path) or of a directory or file in it."""
    return f"/{share}/{quote(path, safe='/~')}" if path else f"/{share}"


def format_file_time(seconds: float) -> str:
    """POSIX seconds as the service's ISO 8601 time with 100 ns ticks."""
    ticks = round(seconds * _TICKS)
    whole, fraction = divmod(ticks, _TICKS)
    stamp = datetime.fromtimestamp(whole, UTC)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{fraction:07d}Z"


def parse_file_time(text: str) -> float | None:
    """The service's ISO 8601 time as POSIX seconds (None if it is no such time)."""
    head, _, fraction = text.rstrip("Z").partition(".")
    try:
        stamp = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    digits = (fraction + "0000000")[:7]
    ticks = int(digits) if digits.isdigit() else 0
    return (stamp - _EPOCH).total_seconds() + ticks / _TICKS


def content_headers(content: ContentProps, md5: str | None) -> dict[str, str]:
    """The x-ms-content-* headers of Create File and Set File Properties (which replaces
    them all, so they are sent again on commit)."""
    headers: dict[str, str] = {}
    for header, value in (
        ("x-ms-content-type", content.content_type),
        ("x-ms-content-encoding", content.content_encoding),
        ("x-ms-content-language", content.content_language),
        ("x-ms-content-disposition", content.content_disposition),
        ("x-ms-cache-control", content.cache_control),
        ("x-ms-content-md5", md5),
    ):
        if value:
            headers[header] = value
    return headers


def smb_headers(props: FileProps) -> dict[str, str]:
    """The x-ms-file-* headers setting a file's SMB properties (those known; the last-write
    time is the writer's, which marks a file unfinished until its commit)."""
    headers: dict[str, str] = {}
    for header, value in (
        ("x-ms-file-attributes", props.attributes),
        ("x-ms-file-creation-time", props.creation_time),
        ("x-ms-file-change-time", props.change_time),
        ("x-ms-file-permission-key", props.permission_key),
    ):
        if value:
            headers[header] = value
    return headers


def metadata_headers(metadata: dict[str, str] | None) -> dict[str, str]:
    return {f"x-ms-meta-{key}": value for key, value in (metadata or {}).items()}


def list_query(marker: str, prefix: str = "", include: str = LIST_INCLUDE) -> dict[str, str]:
    """The query of one List Directories and Files page ('' `include`: names and sizes only)."""
    query = {
        "restype": "directory",
        "comp": "list",
        "maxresults": str(LIST_PAGE),
    }
    if include:
        query["include"] = include
    if prefix:
        query["prefix"] = prefix
    if marker:
        query["marker"] = marker
    return query
