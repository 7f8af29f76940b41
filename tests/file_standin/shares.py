"""Share and account operations: create, properties, quota, metadata, delete, list, permissions."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from . import errors
from .call import Call, reply
from .props import check_metadata, metadata_headers, permission_json
from .service import Service
from .store import DEFAULT_QUOTA_GIB, MAX_QUOTA_GIB, Share, http_date, now_ticks, valid_share_name

MAX_LIST = 5000


def _quota(call: Call) -> int | None:
    quota = call.int_header("x-ms-share-quota")
    if quota is not None and not 1 <= quota <= MAX_QUOTA_GIB:
        raise errors.StorageError(
            400,
            "OutOfRangeInput",
            "One of the request inputs is out of range.",
            headers={"x-ms-invalid-header-name": "x-ms-share-quota"},
        )
    return quota


def _share_headers(share: Share) -> dict[str, str]:
    return {"ETag": share.etag, "Last-Modified": http_date(share.last_modified)}


async def create(svc: Service, call: Call) -> web.Response:
    assert call.share is not None
    if not valid_share_name(call.share):
        raise errors.StorageError(
            400, "InvalidResourceName", "The specifed resource name contains invalid characters."
        )
    share = svc.store.new_share(call.account, call.share, _quota(call) or DEFAULT_QUOTA_GIB)
    share.metadata = check_metadata(call.metadata())
    return reply(call, 201, _share_headers(share))


async def get_properties(svc: Service, call: Call) -> web.Response:
    share = svc.share(call)
    headers = _share_headers(share)
    headers.update(metadata_headers(share.metadata))
    headers.update(
        {
            "x-ms-share-quota": str(share.quota_gib),
            "x-ms-access-tier": "TransactionOptimized",
            "x-ms-enabled-protocols": "SMB",
            "x-ms-lease-status": "unlocked",
            "x-ms-lease-state": "available",
        }
    )
    return reply(call, 200, headers)


async def set_properties(svc: Service, call: Call) -> web.Response:
    share = svc.share(call)
    quota = _quota(call)
    if quota is not None:
        share.quota_gib = quota
    share.etag, share.last_modified = svc.store.etag(), now_ticks()
    return reply(call, 200, _share_headers(share))


async def set_metadata(svc: Service, call: Call) -> web.Response:
    share = svc.share(call)
    share.metadata = check_metadata(call.metadata())
    share.etag, share.last_modified = svc.store.etag(), now_ticks()
    return reply(call, 200, _share_headers(share))


async def delete(svc: Service, call: Call) -> web.Response:
    svc.share(call)
    assert call.share is not None
    del svc.store.shares[call.account][call.share]
    return reply(call, 202)


async def stats(svc: Service, call: Call) -> web.Response:
    share = svc.share(call)
    body = (
        '<?xml version="1.0" encoding="utf-8"?><ShareStats>'
        f"<ShareUsageBytes>{share.used_bytes}</ShareUsageBytes></ShareStats>"
    )
    return reply(call, 200, _share_headers(share), body.encode(), "application/xml")


async def create_permission(svc: Service, call: Call) -> web.Response:
    share = svc.share(call)
    try:
        sddl = json.loads(await call.request.read())["permission"]
    except (ValueError, KeyError, TypeError):
        raise errors.StorageError(
            400, "InvalidXmlDocument", "The permission body is not valid JSON."
        ) from None
    if not isinstance(sddl, str) or not sddl.startswith(("O:", "G:", "D:", "S:")):
        raise errors.StorageError(
            400, "FileInvalidPermission", "The specified file permission is not valid."
        )
    return reply(call, 201, {"x-ms-file-permission-key": share.add_permission(sddl)})


async def get_permission(svc: Service, call: Call) -> web.Response:
    share = svc.share(call)
    key = call.h("x-ms-file-permission-key")
    if key is None:
        raise errors.missing_header("x-ms-file-permission-key")
    sddl = share.permissions.get(key)
    if sddl is None:
        raise errors.StorageError(
            404, "FilePermissionNotFound", "The specified file permission key was not found."
        )
    return reply(call, 200, None, permission_json(sddl), "application/json; charset=utf-8")


async def list_shares(svc: Service, call: Call) -> web.Response:
    prefix = call.q("prefix") or ""
    marker = call.q("marker") or ""
    limit = _max_results(call)
    include = {i.strip().lower() for i in (call.q("include") or "").split(",")}
    names = sorted(
        n for n in svc.store.shares.get(call.account, {}) if n.startswith(prefix) and n >= marker
    )
    page, rest = names[:limit], names[limit:]
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint='
        f"{quoteattr(svc.account_url(call.account) + '/')}>",
        f"<Prefix>{escape(prefix)}</Prefix>" if prefix else "",
        f"<Marker>{escape(marker)}</Marker>" if marker else "",
        f"<MaxResults>{limit}</MaxResults>" if call.q("maxresults") else "",
        "<Shares>",
    ]
    for name in page:
        share = svc.store.shares[call.account][name]
        parts.append(
            f"<Share><Name>{escape(name)}</Name><Properties>"
            f"<Last-Modified>{http_date(share.last_modified)}</Last-Modified>"
            f"<Etag>{share.etag}</Etag><Quota>{share.quota_gib}</Quota>"
            "<AccessTier>TransactionOptimized</AccessTier></Properties>"
        )
        if "metadata" in include:
            meta = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in share.metadata.items())
            parts.append(f"<Metadata>{meta}</Metadata>")
        parts.append("</Share>")
    parts.append(f"</Shares><NextMarker>{escape(rest[0]) if rest else ''}</NextMarker>")
    parts.append("</EnumerationResults>")
    return reply(call, 200, None, "".join(parts).encode(), "application/xml")


def _max_results(call: Call) -> int:
    raw = call.q("maxresults")
    if raw is None:
        return MAX_LIST
    if not raw.isdigit() or int(raw) < 1:
        raise errors.invalid_query("maxresults")
    return min(int(raw), MAX_LIST)
