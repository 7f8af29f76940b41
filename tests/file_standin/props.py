"""SMB properties, content headers and metadata: parsing them from requests, writing answers."""

from __future__ import annotations

import json

from . import errors
from .call import Call
from .store import (
    DEFAULT_SDDL,
    FILE_ATTRIBUTES,
    Directory,
    File,
    Node,
    Share,
    Smb,
    now_ticks,
    parse_smb_time,
    smb_time,
)

# Request header -> stored content property (Create File, Set File Properties).
CONTENT_HEADERS = {
    "x-ms-content-type": "Content-Type",
    "x-ms-content-encoding": "Content-Encoding",
    "x-ms-content-language": "Content-Language",
    "x-ms-content-disposition": "Content-Disposition",
    "x-ms-cache-control": "Cache-Control",
    "x-ms-content-md5": "Content-MD5",
}
MAX_INLINE_PERMISSION = 8 * 1024  # longer descriptors go through Create Permission


def attributes(value: str, *, directory: bool) -> str:
    """The canonical 'A | B' form of an x-ms-file-attributes value; InvalidHeaderValue if bad."""
    names = [p.strip() for p in value.split("|") if p.strip()]
    out = []
    for name in names:
        canonical = FILE_ATTRIBUTES.get(name.lower())
        if canonical is None:
            raise errors.invalid_header("x-ms-file-attributes")
        if canonical not in out:
            out.append(canonical)
    out = [a for a in out if a != "None"]
    if directory and "Directory" not in out:
        out.insert(0, "Directory")
    if not directory:
        if "Directory" in out:
            raise errors.invalid_header("x-ms-file-attributes")
        if not out:
            out = ["Archive"]  # what a new SMB file gets, and what Azure reports for "None"
    return " | ".join(out)


def _time(call: Call, name: str, current: int, now: int) -> int:
    value = call.h(name)
    if value is None or value.lower() == "preserve":
        return current
    if value.lower() == "now":
        return now
    try:
        return parse_smb_time(value)
    except ValueError:
        raise errors.invalid_header(name) from None


def permission_key(call: Call, share: Share, current: str | None, inherited: str) -> str:
    """The permission key a create or set request asks for (x-ms-file-permission[-key])."""
    sddl = call.h("x-ms-file-permission")
    key = call.h("x-ms-file-permission-key")
    if sddl is not None and key is not None:
        raise errors.invalid_header("x-ms-file-permission-key")
    if key is not None:
        if key not in share.permissions:
            raise errors.StorageError(
                400, "FileInvalidPermission", "The specified file permission key is not valid."
            )
        return key
    if sddl is None or sddl.lower() == "preserve":
        return current or inherited
    if sddl.lower() == "inherit":
        return inherited
    if len(sddl.encode()) > MAX_INLINE_PERMISSION:
        raise errors.StorageError(
            400,
            "FileInvalidPermission",
            "The permission is larger than 8 KiB: use Create Permission and its key.",
        )
    if not sddl.startswith(("O:", "G:", "D:", "S:")):
        raise errors.StorageError(
            400, "FileInvalidPermission", "The specified file permission is not valid."
        )
    return share.add_permission(sddl)


def new_smb(call: Call, share: Share, parent: Directory, *, directory: bool) -> Smb:
    now = now_ticks()
    raw = call.h("x-ms-file-attributes")
    attrs = attributes(raw if raw and raw.lower() != "preserve" else "None", directory=directory)
    inherited = parent.smb.permission_key or share.add_permission(DEFAULT_SDDL)
    return Smb(
        attributes=attrs,
        creation=_time(call, "x-ms-file-creation-time", now, now),
        last_write=_time(call, "x-ms-file-last-write-time", now, now),
        change=_time(call, "x-ms-file-change-time", now, now),
        permission_key=permission_key(call, share, None, inherited),
        last_access=now,
    )


def update_smb(call: Call, share: Share, node: Node, *, directory: bool) -> None:
    """Set Properties: every x-ms-file-* header absent or 'preserve' keeps its value."""
    now = now_ticks()
    smb = node.smb
    raw = call.h("x-ms-file-attributes")
    if raw is not None and raw.lower() != "preserve":
        smb.attributes = attributes(raw, directory=directory)
    smb.creation = _time(call, "x-ms-file-creation-time", smb.creation, now)
    smb.last_write = _time(call, "x-ms-file-last-write-time", smb.last_write, now)
    # Any property change is a change: ChangeTime moves unless the request sets it.
    smb.change = _time(call, "x-ms-file-change-time", now, now)
    smb.permission_key = permission_key(call, share, smb.permission_key, smb.permission_key)


def smb_headers(node: Node) -> dict[str, str]:
    smb = node.smb
    return {
        "x-ms-file-attributes": smb.attributes,
        "x-ms-file-creation-time": smb_time(smb.creation),
        "x-ms-file-last-write-time": smb_time(smb.last_write),
        "x-ms-file-change-time": smb_time(smb.change),
        "x-ms-file-permission-key": smb.permission_key,
        "x-ms-file-id": str(node.file_id),
        "x-ms-file-parent-id": str(node.parent_id),
    }


def content_from(call: Call) -> dict[str, str]:
    """The content properties a Create File or Set File Properties request gives."""
    return {
        stored: call.headers[header]
        for header, stored in CONTENT_HEADERS.items()
        if call.headers.get(header)
    }


def metadata_headers(node_metadata: dict[str, str]) -> dict[str, str]:
    return {f"x-ms-meta-{k}": v for k, v in node_metadata.items()}


def check_metadata(metadata: dict[str, str]) -> dict[str, str]:
    for name in metadata:
        if not name.isidentifier():
            raise errors.StorageError(
                400,
                "InvalidMetadata",
                "The metadata specified is invalid. It has characters that are not permitted.",
            )
    return metadata


def lease_headers(file: File) -> dict[str, str]:
    lease = file.lease
    out = {
        "x-ms-lease-status": "locked" if lease.state == "leased" else "unlocked",
        "x-ms-lease-state": lease.state,
    }
    if lease.state == "leased":
        out["x-ms-lease-duration"] = "infinite"
    return out


def permission_json(sddl: str) -> bytes:
    return json.dumps({"permission": sddl}).encode()
