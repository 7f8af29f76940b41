"""The source side of a server-side copy: a source blob's page ranges, tags and lease, and the
user delegation keys that a source read with an Entra ID token signs its SAS tokens with."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from azxfer.endpoints.blob.endpoint import BlobEndpoint
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.endpoints.blob.sas import DelegationKey
from azxfer.endpoints.service_sas import CLOCK_SKEW, SAS_LIFETIME, sas_time
from azxfer.errors import TransferError
from azxfer.models import Entry, blob_props

if TYPE_CHECKING:  # the SDK is imported only when a copy needs it (see `connections`)
    from azure.storage.blob.aio import BlobClient, BlobLeaseClient

log = logging.getLogger("azxfer.s2s")

# A user delegation key is asked for this long, and replaced when less than one SAS lifetime
# is left of it: a job of a few hours asks once per source account.
KEY_LIFETIME = 2 * SAS_LIFETIME

# A leased source is renewed this often (leases last 60 s).
LEASE_SECONDS = 60
LEASE_RENEW_EVERY = 40


class SourceBlobs:
    """Source-side helpers of a server-side copy: page ranges, tags, leases."""

    def __init__(
        self,
        endpoint: BlobEndpoint,
        classify_error: Callable[[BaseException, str], Exception],
    ) -> None:
        self.endpoint = endpoint  # its SDK client is built only if these helpers are used
        self.classify = classify_error

    def _blob(self, entry: Entry) -> BlobClient:
        return self.endpoint.container.get_blob_client(
            entry.ref, snapshot=blob_props(entry).snapshot
        )

    async def page_ranges(self, entry: Entry) -> list[tuple[int, int]]:
        """The written (non-empty) ranges of a page blob as (offset, length)."""
        ranges: list[tuple[int, int]] = []
        try:
            async for page in self._blob(entry).list_page_ranges():
                if not page.cleared:
                    ranges.append((page.start, page.end - page.start + 1))
        except Exception as exc:
            raise self.classify(exc, f"blob '{entry.ref}'") from None
        return ranges

    async def tags(self, entry: Entry) -> dict[str, str]:
        """The blob's index tags."""
        try:
            return dict(
                await self._blob(entry).get_blob_tags(version_id=blob_props(entry).version_id)
            )
        except Exception as exc:
            raise self.classify(exc, f"tags of blob '{entry.ref}'") from None

    @contextlib.asynccontextmanager
    async def leased(self, entry: Entry) -> AsyncIterator[None]:
        """Hold a lease on the source blob for the body (renewed as it runs), then release.

        Nobody else can change or delete the blob meanwhile; reads need no lease ID.
        """
        if entry.is_point_in_time:
            yield  # snapshots and versions are read-only already
            return
        from azure.storage.blob.aio import BlobLeaseClient

        lease = BlobLeaseClient(self._blob(entry))
        try:
            await lease.acquire(lease_duration=LEASE_SECONDS)
        except Exception as exc:
            err = self.classify(exc, f"blob '{entry.ref}'")
            raise TransferError(f"cannot lease the source: {err}") from None
        renewing = asyncio.create_task(_renew(lease))
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await renewing
            with contextlib.suppress(Exception):
                await lease.release()


async def _renew(lease: BlobLeaseClient) -> None:
    while True:
        await asyncio.sleep(LEASE_RENEW_EVERY)
        with contextlib.suppress(Exception):
            await lease.renew()


class DelegationKeys:
    """The user delegation key of one source account, asked for with the signed-in token
    (Get User Delegation Key) when first needed and again before it expires."""

    def __init__(self, rest: RestBlobClient) -> None:
        self.rest = rest
        self._key: DelegationKey | None = None

    async def key(self) -> DelegationKey:
        """A key valid for at least one more SAS lifetime (the caller serializes calls)."""
        now = datetime.now(UTC)
        key = self._key
        if key is None or _expiry(key) - now < SAS_LIFETIME:
            start, expiry = sas_time(now - CLOCK_SKEW), sas_time(now + KEY_LIFETIME)
            key = self._key = await self.rest.user_delegation_key(start, expiry)
            log.info("a user delegation key from %s, valid until %s", self.rest.endpoint, expiry)
        return key


def _expiry(key: DelegationKey) -> datetime:
    return datetime.fromisoformat(key.signed_expiry.replace("Z", "+00:00"))
