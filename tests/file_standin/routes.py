"""Which operation a request is, and what a SAS needs to perform it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from . import copies, directories, files, leases, shares
from .call import Call
from .service import Service

Handler = Callable[[Service, Call], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """`sas`: the permission letters any one of which allows it ('c' only for a new resource);
    `resource`: the account-SAS resource type (s service, c share, o directory or file)."""

    handler: Handler
    sas: str
    resource: str
    creates: bool = False  # whether 'c' may allow it (the target does not exist yet)


ROUTES: dict[str, Route] = {
    "ListShares": Route(shares.list_shares, "l", "s"),
    "CreateShare": Route(shares.create, "cw", "c", creates=True),
    "GetShareProperties": Route(shares.get_properties, "r", "c"),
    "SetShareProperties": Route(shares.set_properties, "w", "c"),
    "SetShareMetadata": Route(shares.set_metadata, "w", "c"),
    "DeleteShare": Route(shares.delete, "d", "c"),
    "GetShareStats": Route(shares.stats, "r", "c"),
    "CreatePermission": Route(shares.create_permission, "cw", "c", creates=True),
    "GetPermission": Route(shares.get_permission, "r", "c"),
    "CreateDirectory": Route(directories.create, "cw", "o", creates=True),
    "GetDirectoryProperties": Route(directories.get_properties, "r", "o"),
    "SetDirectoryProperties": Route(directories.set_properties, "w", "o"),
    "SetDirectoryMetadata": Route(directories.set_metadata, "w", "o"),
    "DeleteDirectory": Route(directories.delete, "d", "o"),
    "ListDirectoriesAndFiles": Route(directories.list_entries, "l", "c"),
    "CreateFile": Route(files.create, "cw", "o", creates=True),
    "PutRange": Route(files.put_range, "w", "o"),
    "GetFile": Route(files.get, "r", "o"),
    "GetFileProperties": Route(files.get_properties, "r", "o"),
    "SetFileProperties": Route(files.set_properties, "w", "o"),
    "SetFileMetadata": Route(files.set_metadata, "w", "o"),
    "DeleteFile": Route(files.delete, "d", "o"),
    "ListRanges": Route(files.list_ranges, "r", "o"),
    "LeaseFile": Route(leases.lease, "w", "o"),
    "CopyFile": Route(copies.copy_file, "cw", "o", creates=True),
    "AbortCopyFile": Route(copies.abort_copy, "w", "o"),
    "PutRangeFromURL": Route(copies.put_range_from_url, "w", "o"),
}


def classify(call: Call) -> str:
    """The operation name of a request (Azure's names), or "Unsupported"."""
    method, restype, comp = call.method, call.q("restype"), call.q("comp")
    if call.share is None:
        if comp == "list" and method == "GET":
            return "ListShares"
        return "Unsupported"
    if restype == "share" and not call.path:
        return _share_op(method, comp)
    if restype == "directory":
        return _directory_op(method, comp)
    if not call.path:
        return "Unsupported"
    return _file_op(call, method, comp)


def _share_op(method: str, comp: str | None) -> str:
    table = {
        ("PUT", None): "CreateShare",
        ("GET", None): "GetShareProperties",
        ("HEAD", None): "GetShareProperties",
        ("DELETE", None): "DeleteShare",
        ("PUT", "properties"): "SetShareProperties",
        ("PUT", "metadata"): "SetShareMetadata",
        ("GET", "metadata"): "GetShareProperties",
        ("GET", "stats"): "GetShareStats",
        ("PUT", "filepermission"): "CreatePermission",
        ("GET", "filepermission"): "GetPermission",
    }
    return table.get((method, comp), "Unsupported")


def _directory_op(method: str, comp: str | None) -> str:
    table = {
        ("PUT", None): "CreateDirectory",
        ("GET", None): "GetDirectoryProperties",
        ("HEAD", None): "GetDirectoryProperties",
        ("GET", "metadata"): "GetDirectoryProperties",
        ("HEAD", "metadata"): "GetDirectoryProperties",
        ("DELETE", None): "DeleteDirectory",
        ("PUT", "properties"): "SetDirectoryProperties",
        ("PUT", "metadata"): "SetDirectoryMetadata",
        ("GET", "list"): "ListDirectoriesAndFiles",
    }
    return table.get((method, comp), "Unsupported")


def _file_op(call: Call, method: str, comp: str | None) -> str:
    from_url = call.h("x-ms-copy-source") is not None
    table = {
        ("PUT", None): "CopyFile" if from_url else "CreateFile",
        ("PUT", "range"): "PutRangeFromURL" if from_url else "PutRange",
        ("GET", None): "GetFile",
        ("HEAD", None): "GetFileProperties",
        ("GET", "metadata"): "GetFileProperties",
        ("HEAD", "metadata"): "GetFileProperties",
        ("DELETE", None): "DeleteFile",
        ("PUT", "properties"): "SetFileProperties",
        ("PUT", "metadata"): "SetFileMetadata",
        ("GET", "rangelist"): "ListRanges",
        ("PUT", "lease"): "LeaseFile",
        ("PUT", "copy"): "AbortCopyFile",
    }
    return table.get((method, comp), "Unsupported")
