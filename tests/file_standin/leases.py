"""Lease File: acquire, release, change, break (infinite leases only, as the service has)."""

from __future__ import annotations

import uuid

from aiohttp import web

from . import errors
from .call import Call, reply
from .service import Service
from .store import http_date


async def lease(svc: Service, call: Call) -> web.Response:
    _, file = svc.file(call)
    action = (call.h("x-ms-lease-action") or "").lower()
    current = file.lease
    lease_id = call.h("x-ms-lease-id")
    headers = {"ETag": file.etag, "Last-Modified": http_date(file.last_modified)}
    if action == "acquire":
        if (call.h("x-ms-lease-duration") or "").strip() != "-1":
            raise errors.invalid_header("x-ms-lease-duration")
        proposed = call.h("x-ms-proposed-lease-id") or str(uuid.uuid4())
        if current.state == "leased" and current.id != proposed:
            raise errors.StorageError(
                409, "LeaseAlreadyPresent", "There is already a lease present."
            )
        current.id, current.state = proposed, "leased"
        headers["x-ms-lease-id"] = proposed
        return reply(call, 201, headers)
    if action == "break":
        if current.state != "leased":
            raise errors.lease_not_present(lease_op=True)
        current.id, current.state = None, "broken"
        headers["x-ms-lease-time"] = "0"
        return reply(call, 202, headers)
    if action not in ("release", "change"):
        raise errors.invalid_header("x-ms-lease-action")
    if lease_id is None:
        raise errors.missing_header("x-ms-lease-id")
    if current.state != "leased":
        raise errors.lease_not_present(lease_op=True)
    if lease_id != current.id:
        raise errors.lease_mismatch(lease_op=True)
    if action == "release":
        current.id, current.state = None, "available"
        return reply(call, 200, headers)
    proposed = call.h("x-ms-proposed-lease-id")
    if not proposed:
        raise errors.missing_header("x-ms-proposed-lease-id")
    current.id = proposed
    headers["x-ms-lease-id"] = proposed
    return reply(call, 200, headers)
