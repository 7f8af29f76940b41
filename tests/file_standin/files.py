"""File operations: create, Put Range, Get File, properties, metadata, range list, delete."""

from __future__ import annotations

import base64
import hashlib

from aiohttp import web

from . import errors
from .call import STREAM_PIECE, Call, reply, stream_reply
from .props import (
    check_metadata,
    content_from,
    lease_headers,
    metadata_headers,
    new_smb,
    smb_headers,
    update_smb,
)
from .service import Service
from .store import (
    CopyInfo,
    Directory,
    File,
    Share,
    fold,
    http_date,
    now_ticks,
    parent_dir,
    parse_smb_time,
    smb_time,
)

MAX_RANGE = 4 * 1024 * 1024
MAX_FILE = 4 * 1024**4


def parse_range(call: Call, *, required: bool = False, open_end: bool = False):
    """(first, last) of x-ms-range (preferred) or Range; None when absent and not required."""
    name = "x-ms-range" if call.h("x-ms-range") else "range"
    value = call.h(name)
    if value is None:
        if required:
            raise errors.missing_header("Range")
        return None
    return parse_byte_range(value, name, open_end=open_end)


def parse_byte_range(value: str, name: str, *, open_end: bool = False) -> tuple[int, int | None]:
    text = value.strip()
    if not text.startswith("bytes="):
        raise errors.invalid_header(name)
    first_s, _, last_s = text[6:].partition("-")
    try:
        first = int(first_s)
        last = int(last_s) if last_s or not open_end else None
    except ValueError:
        raise errors.invalid_header(name) from None
    if first < 0 or (last is not None and last < first):
        raise errors.invalid_header(name)
    return first, last


def check_lease(call: Call, file: File, *, write: bool) -> None:
    """A leased file takes writes only with its lease id; a wrong id fails any request."""
    lease_id = call.h("x-ms-lease-id")
    if file.lease.state == "leased":
        if lease_id is None:
            if write:
                raise errors.lease_id_missing()
            return
        if lease_id != file.lease.id:
            raise errors.lease_mismatch()
    elif lease_id is not None:
        raise errors.lease_not_present()


def file_headers(file: File) -> dict[str, str]:
    """What Get File and Get File Properties say about a file (not its length)."""
    out = {
        "ETag": file.etag,
        "Last-Modified": http_date(file.last_modified),
        "x-ms-type": "File",
        "x-ms-server-encrypted": "true",
        "Accept-Ranges": "bytes",
        "Content-Type": file.content.get("Content-Type", "application/octet-stream"),
    }
    for name in ("Content-Encoding", "Content-Language", "Content-Disposition", "Cache-Control"):
        if name in file.content:
            out[name] = file.content[name]
    out.update(metadata_headers(file.metadata))
    out.update(smb_headers(file))
    out.update(lease_headers(file))
    if file.copy is not None:
        out.update(copy_headers(file.copy))
    return out


def copy_headers(copy: CopyInfo) -> dict[str, str]:
    out = {
        "x-ms-copy-id": copy.id,
        "x-ms-copy-source": copy.source,
        "x-ms-copy-status": copy.status,
        "x-ms-copy-progress": f"{copy.copied}/{copy.total}",
    }
    if copy.completion is not None:
        out["x-ms-copy-completion-time"] = http_date(copy.completion)
    if copy.description:
        out["x-ms-copy-status-description"] = copy.description
    return out


def poll(svc: Service, file: File) -> None:
    """A Get File Properties of a pending copy's destination: the copy advances, or completes."""
    copy = file.copy
    assert copy is not None
    copy.polls += 1
    if svc.hold_pending or copy.polls <= (svc.pending_polls or 0):
        copy.copied = copy.total * copy.polls // (copy.polls + 1)
        return
    finish_copy(svc, file)


def finish_copy(svc: Service, file: File) -> None:
    """Write what a pending copy read from its source, and mark it done."""
    copy = file.copy
    assert copy is not None
    file.data.write(0, svc.pending_data.pop(file.file_id, b""))
    copy.status, copy.copied, copy.completion = "success", copy.total, now_ticks()
    file.etag, file.last_modified = svc.store.etag(), now_ticks()


def touch(svc: Service, file: File, call: Call | None = None) -> None:
    """A content write: new ETag, and LastWriteTime moves unless the request says 'preserve'."""
    now = now_ticks()
    file.etag, file.last_modified = svc.store.etag(), now
    wanted = call.h("x-ms-file-last-write-time") if call is not None else None
    if wanted is None or wanted.lower() == "now":
        file.smb.last_write = now
    elif wanted.lower() != "preserve":
        try:
            file.smb.last_write = parse_smb_time(wanted)
        except ValueError:
            raise errors.invalid_header("x-ms-file-last-write-time") from None
    file.smb.change = now


def new_file(svc: Service, call: Call, share: Share, parent: Directory, name: str, size: int):
    """A fresh file in `parent` (replacing a file of that name), its size counted in the quota."""
    key = fold(name)
    old = parent.children.get(key)
    if isinstance(old, Directory):
        raise errors.resource_exists()
    if isinstance(old, File):
        check_lease(call, old, write=True)
        svc.check_handles(call)
    share.resize(old.size if isinstance(old, File) else 0, size)
    file = File(
        name=name,
        file_id=old.file_id if old is not None else svc.store.new_id(),
        parent_id=parent.file_id,
        smb=new_smb(call, share, parent, directory=False),
        etag=svc.store.etag(),
        last_modified=now_ticks(),
        size=size,
    )
    parent.children[key] = file
    parent.entry_added(file.last_modified)
    return file


async def create(svc: Service, call: Call) -> web.Response:
    share = svc.share(call)
    parts = svc.parts(call)
    if not parts:
        raise errors.invalid_name()
    if (call.h("x-ms-type") or "").lower() != "file":
        raise errors.invalid_header("x-ms-type")
    size = call.int_header("x-ms-content-length", required=True)
    assert size is not None
    if size > MAX_FILE:
        raise errors.StorageError(400, "OutOfRangeInput", "The file is larger than 4 TiB.")
    file = new_file(svc, call, share, parent_dir(share, parts), parts[-1], size)
    file.metadata = check_metadata(call.metadata())
    file.content = content_from(call)
    headers = {"ETag": file.etag, "Last-Modified": http_date(file.last_modified)}
    headers["x-ms-request-server-encrypted"] = "true"
    headers.update(smb_headers(file))
    return reply(call, 201, headers)


async def read_body(request: web.BaseRequest, length: int) -> memoryview:
    """The request body, copied once from the socket buffers into its final place."""
    buffer = bytearray(length)
    view = memoryview(buffer)
    pos = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            break
        end = pos + len(chunk)
        if end > length:
            raise errors.invalid_header("Content-Length")
        view[pos:end] = chunk
        pos = end
    if pos != length:
        raise errors.invalid_header("Content-Length")
    return view


async def put_range(svc: Service, call: Call) -> web.Response:
    _, file = svc.file(call)
    check_lease(call, file, write=True)
    svc.check_handles(call)
    first, last = parse_range(call, required=True)
    assert last is not None
    write = (call.h("x-ms-write") or "").lower()
    length = call.int_header("content-length") or 0
    if last >= file.size:
        raise errors.invalid_range(file.size)
    headers: dict[str, str] = {}
    if write == "update":
        if last - first + 1 > MAX_RANGE:
            raise errors.StorageError(
                413, "RequestBodyTooLarge", "The request body is too large and exceeds 4 MiB."
            )
        if length != last - first + 1:
            raise errors.invalid_header("Content-Length")
        body = await read_body(call.request, length)
        sent = call.h("content-md5")
        if sent is not None:
            computed = base64.b64encode(hashlib.md5(body).digest()).decode()
            if computed != sent:
                raise errors.md5_mismatch(sent, computed)
            headers["Content-MD5"] = computed
        file.data.write(first, body)
    elif write == "clear":
        if length:
            raise errors.invalid_header("Content-Length")
        file.data.clear(first, last + 1)
    else:
        raise errors.invalid_header("x-ms-write")
    touch(svc, file, call)
    headers.update(
        {
            "ETag": file.etag,
            "Last-Modified": http_date(file.last_modified),
            "x-ms-request-server-encrypted": "true",
            "x-ms-file-last-write-time": smb_time(file.smb.last_write),
        }
    )
    return reply(call, 201, headers)


async def get(svc: Service, call: Call) -> web.Response:
    _, file = svc.file(call)
    check_lease(call, file, write=False)
    wanted = parse_range(call, open_end=True)
    headers = file_headers(file)
    stored_md5 = file.content.get("Content-MD5")
    if wanted is None:
        headers["Content-Length"] = str(file.size)
        if stored_md5:
            headers["Content-MD5"] = stored_md5
        if call.method == "GET" and file.size > STREAM_PIECE:
            return await stream_reply(call, 200, headers, file.data.pieces(0, file.size))
        body = file.data.read(0, file.size) if call.method == "GET" else None
        return reply(call, 200, headers, body)
    first, last = wanted
    if first >= file.size:
        raise errors.invalid_range(file.size)
    last = file.size - 1 if last is None else min(last, file.size - 1)
    headers["Content-Length"] = str(last - first + 1)
    large = last - first + 1 > STREAM_PIECE
    if call.method == "GET" and large and not call.flag("x-ms-range-get-content-md5"):
        headers["Content-Range"] = f"bytes {first}-{last}/{file.size}"
        if stored_md5:
            headers["x-ms-content-md5"] = stored_md5
        return await stream_reply(call, 206, headers, file.data.pieces(first, last + 1))
    body = file.data.read(first, last + 1)
    headers["Content-Range"] = f"bytes {first}-{last}/{file.size}"
    if stored_md5:
        headers["x-ms-content-md5"] = stored_md5
    if call.flag("x-ms-range-get-content-md5"):
        if last - first + 1 > MAX_RANGE:
            raise errors.StorageError(
                400,
                "OutOfRangeInput",
                "The requested range is larger than 4 MiB: no Content-MD5 can be returned.",
            )
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    return reply(call, 206, headers, body)


async def get_properties(svc: Service, call: Call) -> web.Response:
    _, file = svc.file(call)
    check_lease(call, file, write=False)
    if file.copy is not None and file.copy.status == "pending":
        poll(svc, file)
    headers = file_headers(file)
    headers["Content-Length"] = str(file.size)
    if file.content.get("Content-MD5"):
        headers["Content-MD5"] = file.content["Content-MD5"]
    return reply(call, 200, headers)


async def set_properties(svc: Service, call: Call) -> web.Response:
    share, file = svc.file(call)
    check_lease(call, file, write=True)
    size = call.int_header("x-ms-content-length")
    if size is not None and size != file.size:
        svc.check_handles(call)
        if size > MAX_FILE:
            raise errors.StorageError(400, "OutOfRangeInput", "The file is larger than 4 TiB.")
        share.resize(file.size, size)
        file.size = size
        file.data.truncate(size)
    update_smb(call, share, file, directory=False)
    # Set File Properties replaces the content headers: one not sent is cleared (documented).
    file.content = content_from(call)
    file.etag, file.last_modified = svc.store.etag(), now_ticks()
    headers = {"ETag": file.etag, "Last-Modified": http_date(file.last_modified)}
    headers["x-ms-request-server-encrypted"] = "true"
    headers.update(smb_headers(file))
    return reply(call, 200, headers)


async def set_metadata(svc: Service, call: Call) -> web.Response:
    _, file = svc.file(call)
    check_lease(call, file, write=True)
    file.metadata = check_metadata(call.metadata())
    file.etag, file.last_modified = svc.store.etag(), now_ticks()
    return reply(call, 200, {"ETag": file.etag, "x-ms-request-server-encrypted": "true"})


async def delete(svc: Service, call: Call) -> web.Response:
    share, file = svc.file(call)
    check_lease(call, file, write=True)
    svc.check_handles(call)
    parts = svc.parts(call)
    share.resize(file.size, 0)
    del parent_dir(share, parts).children[fold(parts[-1])]
    svc.pending_data.pop(file.file_id, None)
    return reply(call, 202)


async def list_ranges(svc: Service, call: Call) -> web.Response:
    _, file = svc.file(call)
    check_lease(call, file, write=False)
    wanted = parse_range(call)
    start, end = (0, file.size) if wanted is None else (wanted[0], (wanted[1] or 0) + 1)
    ranges = file.data.ranges(start, min(end, file.size))
    marker = call.q("marker")
    if marker:
        if not marker.isdigit():
            raise errors.invalid_query("marker")
        ranges = [r for r in ranges if r[0] >= int(marker)]
    limit = call.q("maxresults")
    if limit is not None and (not limit.isdigit() or int(limit) < 1):
        raise errors.invalid_query("maxresults")
    rest: list[tuple[int, int]] = []
    if limit is not None:
        ranges, rest = ranges[: int(limit)], ranges[int(limit) :]
    # The marker of the next page is the offset its first range starts at.
    next_marker = f"<NextMarker>{rest[0][0]}</NextMarker>" if rest else ""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Ranges>'
        + "".join(f"<Range><Start>{s}</Start><End>{e}</End></Range>" for s, e in ranges)
        + next_marker
        + "</Ranges>"
    )
    headers = {
        "ETag": file.etag,
        "Last-Modified": http_date(file.last_modified),
        "x-ms-content-length": str(file.size),
    }
    return reply(call, 200, headers, body.encode(), "application/xml")
