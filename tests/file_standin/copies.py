"""Server-side copies: Copy File (pending switch, abort) and Put Range From URL.

The source, a file or a blob, is read by an HTTP GET of its URL, authorized by its own SAS,
by x-ms-copy-source-authorization, or (a Copy File of a source in an account the stand-in
knows, the request SharedKey-signed) by the stand-in signing with that account's key.
Sources must be on loopback: the stand-in never reaches the network.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import urlsplit

from aiohttp import web
from multidict import CIMultiDictProxy
from storage_auth import parse_query, shared_key_string_to_sign, sign
from yarl import URL

from . import errors
from .call import Call, reply
from .files import (
    MAX_RANGE,
    check_lease,
    finish_copy,
    new_file,
    parse_byte_range,
    parse_range,
    touch,
)
from .props import check_metadata, smb_headers
from .service import Service
from .store import CopyInfo, File, http_date, now_ticks, parent_dir, parse_smb_time

SMB_TIMES = (
    "x-ms-file-attributes",
    "x-ms-file-creation-time",
    "x-ms-file-last-write-time",
    "x-ms-file-change-time",
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SIGNING_VERSION = "2025-05-05"
# Source response header -> stored content property.
SOURCE_CONTENT = (
    "Content-Type",
    "Content-Encoding",
    "Content-Language",
    "Content-Disposition",
    "Cache-Control",
    "Content-MD5",
)


@dataclass
class Source:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


def _cannot_verify(status: int, detail: str) -> errors.StorageError:
    return errors.StorageError(
        status if 400 <= status < 500 else 400,
        "CannotVerifyCopySource",
        f"Could not verify the copy source within the specified time. {detail}",
        headers={"x-ms-copy-source-status-code": str(status)},
    )


async def read_source(
    svc: Service, call: Call, url: str, byte_range: str | None, *, may_sign: bool
) -> Source:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOOPBACK_HOSTS:
        raise errors.invalid_header("x-ms-copy-source")
    headers = {"x-ms-version": SIGNING_VERSION, "x-ms-date": formatdate(usegmt=True)}
    if byte_range:
        headers["x-ms-range"] = byte_range
    source_auth = call.h("x-ms-copy-source-authorization")
    query = parse_query(parts.query)
    account = parts.path.split("/")[1] if parts.path.count("/") >= 1 else ""
    if source_auth:
        headers["Authorization"] = source_auth
        if call.h("x-ms-file-request-intent"):  # a file source read with a token
            headers["x-ms-file-request-intent"] = call.h("x-ms-file-request-intent") or ""
    elif "sig" not in query and may_sign and account in svc.accounts:
        to_sign = shared_key_string_to_sign(
            "GET", {k.lower(): v for k, v in headers.items()}, account, parts.path, query
        )
        headers["Authorization"] = f"SharedKey {account}:{sign(svc.accounts[account], to_sign)}"
    assert svc.session is not None
    async with svc.session.get(URL(url, encoded=True), headers=headers) as response:
        body = await response.read()
        if response.status >= 300:
            code = response.headers.get("x-ms-error-code", "")
            raise _cannot_verify(response.status, f"Source answered {response.status} {code}.")
        return Source(response.status, response.headers, body)


def _smb_from_source(call: Call, file: File, source: Source, asked: dict[str, str]) -> None:
    """x-ms-file-* headers of a copy: 'source' takes the source file's value."""
    smb = file.smb
    for header, attr in (
        ("x-ms-file-creation-time", "creation"),
        ("x-ms-file-last-write-time", "last_write"),
        ("x-ms-file-change-time", "change"),
    ):
        if asked.get(header, "").lower() == "source" and source.headers.get(header):
            setattr(smb, attr, parse_smb_time(source.headers[header]))
    if asked.get("x-ms-file-attributes", "").lower() == "source":
        smb.attributes = source.headers.get("x-ms-file-attributes", smb.attributes)


async def copy_file(svc: Service, call: Call) -> web.Response:
    share = svc.share(call)
    parts = svc.parts(call)
    if not parts:
        raise errors.invalid_name()
    parent = parent_dir(share, parts)
    url = call.h("x-ms-copy-source") or ""
    source = await read_source(svc, call, url, None, may_sign=call.auth == "sharedkey")
    asked = dict(call.headers)
    for header in SMB_TIMES:
        if (call.h(header) or "").lower() == "source":
            call = _without(call, header)  # applied from the source once the file exists
    file = new_file(svc, call, share, parent, parts[-1], len(source.body))
    _smb_from_source(call, file, source, asked)
    meta = call.metadata()
    if not meta:
        meta = {k[10:]: v for k, v in source.headers.items() if k.lower().startswith("x-ms-meta-")}
    file.metadata = check_metadata(meta)
    file.content = {n: source.headers[n] for n in SOURCE_CONTENT if source.headers.get(n)}
    copy_id = str(uuid.uuid4())
    file.copy = CopyInfo(copy_id, url, "pending", len(source.body))
    svc.pending_data[file.file_id] = source.body
    if svc.pending_polls is None and not svc.hold_pending:
        finish_copy(svc, file)
    headers = {
        "ETag": file.etag,
        "Last-Modified": http_date(file.last_modified),
        "x-ms-copy-id": copy_id,
        "x-ms-copy-status": file.copy.status,
    }
    return reply(call, 202, headers)


def _without(call: Call, header: str) -> Call:
    """The call without one header (a 'source' SMB value is applied after the file exists)."""
    headers = {k: v for k, v in call.headers.items() if k != header}
    return Call(
        call.request,
        call.method,
        call.raw_path,
        call.query,
        headers,
        call.account,
        call.share,
        call.path,
        call.op,
        call.request_id,
        call.auth,
        call.permissions,
    )


async def abort_copy(svc: Service, call: Call) -> web.Response:
    share, file = svc.file(call)
    if (call.h("x-ms-copy-action") or "").lower() != "abort":
        raise errors.invalid_header("x-ms-copy-action")
    check_lease(call, file, write=True)
    copy = file.copy
    if copy is None or copy.status != "pending":
        raise errors.StorageError(
            409, "NoPendingCopyOperation", "There is currently no pending copy operation."
        )
    if copy.id != call.q("copyid"):
        raise errors.StorageError(
            409,
            "CopyIdMismatch",
            "The specified copy ID did not match the copy ID for the pending copy operation.",
        )
    svc.pending_data.pop(file.file_id, None)
    # An aborted copy leaves the destination empty (its metadata stays).
    share.resize(file.size, 0)
    file.size = 0
    file.data.truncate(0)
    copy.status, copy.completion = "aborted", now_ticks()
    file.etag, file.last_modified = svc.store.etag(), now_ticks()
    return reply(call, 204)


async def put_range_from_url(svc: Service, call: Call) -> web.Response:
    _, file = svc.file(call)
    check_lease(call, file, write=True)
    svc.check_handles(call)
    if (call.h("x-ms-write") or "").lower() != "update":
        raise errors.invalid_header("x-ms-write")
    first, last = parse_range(call, required=True)
    source_range = call.h("x-ms-source-range")
    if source_range is None:
        raise errors.missing_header("x-ms-source-range")
    src_first, src_last = parse_byte_range(source_range, "x-ms-source-range")
    assert last is not None and src_last is not None
    length = last - first + 1
    if src_last - src_first + 1 != length or length > MAX_RANGE:
        raise errors.invalid_header("x-ms-source-range")
    if last >= file.size:
        raise errors.invalid_range(file.size)
    url = call.h("x-ms-copy-source") or ""
    source = await read_source(svc, call, url, source_range, may_sign=False)
    if len(source.body) != length:
        raise _cannot_verify(416, "The source range is past the end of the source.")
    file.data.write(first, source.body)
    touch(svc, file, call)
    headers = {"ETag": file.etag, "Last-Modified": http_date(file.last_modified)}
    headers["x-ms-request-server-encrypted"] = "true"
    headers.update({k: v for k, v in smb_headers(file).items() if "last-write" in k})
    return reply(call, 201, headers)
