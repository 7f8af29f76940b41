"""Directory operations: create, properties, metadata, delete, list."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from . import errors
from .call import Call, reply
from .props import check_metadata, metadata_headers, new_smb, smb_headers, update_smb
from .service import Service
from .store import Directory, File, Node, fold, http_date, now_ticks, parent_dir, smb_time

MAX_LIST = 5000
INCLUDES = {"timestamps", "etag", "attributes", "permissionkey"}


def _headers(node: Node) -> dict[str, str]:
    out = {
        "ETag": node.etag,
        "Last-Modified": http_date(node.last_modified),
        "x-ms-server-encrypted": "true",
    }
    out.update(smb_headers(node))
    return out


async def create(svc: Service, call: Call) -> web.Response:
    share = svc.share(call)
    parts = svc.parts(call)
    if not parts:
        raise errors.resource_exists()
    parent = parent_dir(share, parts)
    key = fold(parts[-1])
    if key in parent.children:
        raise errors.resource_exists()
    now = now_ticks()
    node = Directory(
        name=parts[-1],
        file_id=svc.store.new_id(),
        parent_id=parent.file_id,
        smb=new_smb(call, share, parent, directory=True),
        etag=svc.store.etag(),
        last_modified=now,
        metadata=check_metadata(call.metadata()),
    )
    parent.children[key] = node
    parent.entry_added(now)
    headers = _headers(node)
    headers["x-ms-request-server-encrypted"] = headers.pop("x-ms-server-encrypted")
    return reply(call, 201, headers)


async def get_properties(svc: Service, call: Call) -> web.Response:
    _, node = svc.directory(call)
    headers = _headers(node)
    headers.update(metadata_headers(node.metadata))
    return reply(call, 200, headers)


async def set_properties(svc: Service, call: Call) -> web.Response:
    share, node = svc.directory(call)
    update_smb(call, share, node, directory=True)
    node.etag, node.last_modified = svc.store.etag(), now_ticks()
    headers = _headers(node)
    headers["x-ms-request-server-encrypted"] = headers.pop("x-ms-server-encrypted")
    return reply(call, 200, headers)


async def set_metadata(svc: Service, call: Call) -> web.Response:
    _, node = svc.directory(call)
    node.metadata = check_metadata(call.metadata())
    node.etag, node.last_modified = svc.store.etag(), now_ticks()
    return reply(call, 200, {"ETag": node.etag, "x-ms-request-server-encrypted": "true"})


async def delete(svc: Service, call: Call) -> web.Response:
    share, node = svc.directory(call)
    parts = svc.parts(call)
    if not parts:
        raise errors.StorageError(
            400, "InvalidUri", "The requested URI does not represent any resource on the server."
        )
    if node.children:
        raise errors.directory_not_empty()
    svc.check_handles(call)
    del parent_dir(share, parts).children[fold(parts[-1])]
    return reply(call, 202)


def _entry_xml(node: Node, include: set[str], extended: bool) -> str:
    is_file = isinstance(node, File)
    tag = "File" if is_file else "Directory"
    parts = [f"<{tag}>"]
    if extended:
        parts.append(f"<FileId>{node.file_id}</FileId>")
    parts.append(f"<Name>{escape(node.name)}</Name><Properties>")
    if is_file:
        parts.append(f"<Content-Length>{node.size}</Content-Length>")
    if "timestamps" in include:
        smb = node.smb
        parts.append(
            f"<CreationTime>{smb_time(smb.creation)}</CreationTime>"
            f"<LastAccessTime>{smb_time(smb.last_access or smb.last_write)}</LastAccessTime>"
            f"<LastWriteTime>{smb_time(smb.last_write)}</LastWriteTime>"
            f"<ChangeTime>{smb_time(smb.change)}</ChangeTime>"
            f"<Last-Modified>{http_date(node.last_modified)}</Last-Modified>"
        )
    if "etag" in include:
        parts.append(f"<Etag>{node.etag}</Etag>")
    parts.append("</Properties>")
    if "attributes" in include:
        parts.append(f"<Attributes>{node.smb.attributes}</Attributes>")
    if "permissionkey" in include:
        parts.append(f"<PermissionKey>{escape(node.smb.permission_key)}</PermissionKey>")
    parts.append(f"</{tag}>")
    return "".join(parts)


def _max_results(call: Call) -> int:
    raw = call.q("maxresults")
    if raw is None:
        return MAX_LIST
    if not raw.isdigit() or int(raw) < 1:
        raise errors.invalid_query("maxresults")
    return min(int(raw), MAX_LIST)


async def list_entries(svc: Service, call: Call) -> web.Response:
    _, node = svc.directory(call)
    prefix = call.q("prefix") or ""
    marker = call.q("marker") or ""
    limit = _max_results(call)
    include = {i.strip().lower() for i in (call.q("include") or "").split(",") if i.strip()}
    if not include <= INCLUDES:
        raise errors.invalid_query("include")
    extended = call.flag("x-ms-file-extended-info")
    fold_prefix, fold_marker = fold(prefix), fold(marker)
    keys = sorted(k for k in node.children if k.startswith(fold_prefix) and k >= fold_marker)
    page, rest = keys[:limit], keys[limit:]
    head = [
        '<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint='
        f"{quoteattr(svc.account_url(call.account) + '/')} ShareName={quoteattr(call.share or '')}"
        f" DirectoryPath={quoteattr(call.path)}>",
        f"<Prefix>{escape(prefix)}</Prefix>" if prefix else "",
        f"<Marker>{escape(marker)}</Marker>" if marker else "",
        f"<MaxResults>{limit}</MaxResults>" if call.q("maxresults") else "",
        f"<DirectoryId>{node.file_id}</DirectoryId>" if extended else "",
        "<Entries>",
    ]
    entries = [_entry_xml(node.children[k], include, extended) for k in page]
    next_marker = escape(node.children[rest[0]].name) if rest else ""
    tail = f"</Entries><NextMarker>{next_marker}</NextMarker></EnumerationResults>"
    body = "".join(head) + "".join(entries) + tail
    return reply(call, 200, None, body.encode(), "application/xml")
