"""The Blob driver's server-side copy capabilities: as a source, URLs another service can read
(`UrlSource`), leases and tags (`SourceLeases`, `SourceTags`); as a destination, the copy
methods for a source's blobs (`UrlTarget`).

The modules doing the work are imported on first use: jobs that never copy server side (most)
do not pay for importing them.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from azxfer.credentials import Credential
from azxfer.endpoints.copycaps import CopyMethod, CopySource, UrlSource
from azxfer.locations import Location
from azxfer.models import Entry, Planned

if TYPE_CHECKING:
    from azxfer.endpoints.blob.copy import SourceAuthority
    from azxfer.endpoints.blob.copy_methods import BlobCopies
    from azxfer.endpoints.blob.copy_sources import SourceBlobs
    from azxfer.endpoints.blob.endpoint import BlobEndpoint
    from azxfer.endpoints.blob.rest import RestBlobClient


class BlobUrlCopies:
    """Mixed into `BlobEndpoint`: what a server-side copy asks of it, on either side."""

    location: Location
    credential: Credential | None
    rest: RestBlobClient | None
    _authority: SourceAuthority | None
    _source_blobs: SourceBlobs | None
    _copies: dict[int, BlobCopies]

    def _init_url_copies(self) -> None:
        self._authority = None
        self._source_blobs = None
        self._copies = {}  # by id() of the source: one set of methods per job's pair

    # -- as a source ---------------------------------------------------------------------------

    def _sources(self) -> SourceAuthority:
        if self._authority is None:
            from azxfer.endpoints.blob.copy import SourceAuthority

            self._authority = SourceAuthority(self.location, self.credential, self.rest)
        return self._authority

    def url_unreadable(self) -> str | None:
        """Why another service cannot read this container's blobs (None: it can)."""
        if self._sources().server_readable:
            return None
        return (
            "the source is authorized with an Entra ID token, which the destination service "
            "cannot use to read it: copying through this machine (give the source a SAS or "
            "account key for a server-side copy)"
        )

    async def copy_source(self, entry: Entry) -> CopySource:
        """The blob's URL, read-authorized by the source's SAS, one minted from its key or
        from a user delegation key (an Entra ID token), else by the token itself."""
        return await self._sources().source(entry)

    def source_blobs(self) -> SourceBlobs:
        """Page ranges, tags and leases of this container's blobs."""
        if self._source_blobs is None:
            from azxfer.endpoints.blob.copy_sources import SourceBlobs

            endpoint: BlobEndpoint = self  # type: ignore[assignment]
            self._source_blobs = SourceBlobs(endpoint, endpoint.classify)
        return self._source_blobs

    def leased(self, entry: Entry) -> AbstractAsyncContextManager[None]:
        """A lease on the source blob, renewed while the body runs."""
        return self.source_blobs().leased(entry)

    async def tags(self, entry: Entry) -> dict[str, str]:
        """The blob's index tags."""
        return await self.source_blobs().tags(entry)

    # -- as a destination ----------------------------------------------------------------------

    def copy_methods(
        self, source: UrlSource, item: Planned, block_size: int
    ) -> Sequence[CopyMethod]:
        """Blob storage's methods that can copy `item` from `source`, best first."""
        copies = self._copies.get(id(source))
        if copies is None:
            from azxfer.endpoints.blob.copy_methods import BlobCopies

            copies = BlobCopies(self, source)  # type: ignore[arg-type]
            self._copies[id(source)] = copies
        return copies.methods(item, block_size)
