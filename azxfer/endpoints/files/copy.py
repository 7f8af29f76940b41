"""The Files driver's server-side copy capabilities: as a source, file URLs another service can
read (`UrlSource`); as a destination, the methods by which the File service writes a file from
a file's or a blob's URL (`UrlTarget`, see `copy_methods`); and, share to share, the source's
security descriptors carried over by key (`SecurityDescriptors`).

The modules doing the work are imported on first use: jobs that never copy server side (most)
do not pay for importing them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from azxfer.credentials import Credential
from azxfer.endpoints.copycaps import CopyMethod, CopySource, SecurityDescriptors, UrlSource
from azxfer.endpoints.files.rest import FileRestClient
from azxfer.endpoints.files.sas import share_sas
from azxfer.endpoints.service_sas import ReadGrant, bearer_authorization
from azxfer.locations import Location
from azxfer.models import Entry, Planned

if TYPE_CHECKING:
    from datetime import datetime

    from azxfer.endpoints.files.copy_methods import FileCopies


class FilesUrlCopies:
    """Mixed into `FilesEndpoint`: what a server-side copy asks of it, on either side."""

    location: Location
    credential: Credential | None
    rest: FileRestClient
    _grant: ReadGrant | None
    _file_copies: dict[int, FileCopies]
    _permissions: PermissionCopier | None

    def _init_url_copies(self) -> None:
        self._grant = None
        self._file_copies = {}  # by id() of the source: one set of methods per job's pair
        self._permissions = None

    # -- as a source ---------------------------------------------------------------------------

    def _read_grant(self) -> ReadGrant:
        if self._grant is None:
            token = self.credential is not None and self.credential.kind == "token"
            # Files has no user delegation SAS: a token is handed on as it is.
            bearer = functools.partial(bearer_authorization, self.rest.rest.signer.auth)
            self._grant = ReadGrant(self.credential, self._mint, None, bearer if token else None)
        return self._grant

    def _mint(self, start: datetime, expiry: datetime) -> str:
        credential = self.credential
        assert credential is not None
        share = self.location.container
        return share_sas(credential.account, credential.key or "", share, "r", start, expiry)

    def url_unreadable(self) -> str | None:
        """Why another service cannot read this share's URLs: shares have no anonymous
        access (an Entra ID token is handed on in the copy request, where it takes one)."""
        credential = self.credential
        if credential is not None and self._read_grant().server_readable:
            return None
        used = credential.describe() if credential is not None else "no credential"
        return (
            f"the source share is authorized with {used}, which the destination service cannot "
            "use to read it: copying through this machine (give the source a SAS or account "
            "key for a server-side copy)"
        )

    async def copy_source(self, entry: Entry) -> CopySource:
        """The file's URL, read-authorized by the source's SAS or a share SAS minted from its
        account key, else by its Entra ID token (read with backup semantics, as every
        token-authorized file operation is)."""
        location = self.location
        url = f"{location.endpoint}/{location.container}/{quote(entry.ref, safe='/~')}"
        sas, authorization = await self._read_grant().read()
        if authorization:
            return CopySource(url, entry, authorization, token_intent="backup")
        return CopySource(f"{url}?{sas}" if sas else url, entry)

    # -- security descriptors (SecurityDescriptors) ------------------------------------------

    async def permission(self, key: str) -> str:
        """The security descriptor (SDDL) that `key` names in this share."""
        return await self.rest.get_permission(key)

    def carry_permissions_from(self, source: SecurityDescriptors) -> None:
        """Give each written file the permission its source file has in `source`'s share
        (made once per key in this share, and named by this share's key)."""
        self._permissions = PermissionCopier(source, self.rest)

    # -- as a destination ----------------------------------------------------------------------

    def copy_methods(
        self, source: UrlSource, item: Planned, block_size: int
    ) -> Sequence[CopyMethod]:
        """The File service's methods that can copy `item` from `source`, best first."""
        copies = self._file_copies.get(id(source))
        if copies is None:
            from azxfer.endpoints.files.copy_methods import FileCopies

            copies = FileCopies(self, source)  # type: ignore[arg-type]
            self._file_copies[id(source)] = copies
        if item.transfer.source.service is None:
            # No storage object (a web URL): Copy File reads only files and blobs.
            return copies.methods[:1]
        return copies.methods


class PermissionCopier:
    """A source share's permission keys as the destination share's keys: Get Permission on
    the source, Create Permission on the destination, once per key per job."""

    def __init__(self, source: SecurityDescriptors, dest: FileRestClient) -> None:
        self.source = source
        self.dest = dest
        self._keys: dict[str, asyncio.Future[str]] = {}

    async def key_for(self, source_key: str) -> str:
        """The destination share's key for the descriptor `source_key` names at the source."""
        made = self._keys.get(source_key)
        if made is None:
            made = self._keys[source_key] = asyncio.ensure_future(self._carry(source_key))
        try:
            return await asyncio.shield(made)
        except BaseException:
            if made.done():  # a failure is not cached: the next file asks again
                self._keys.pop(source_key, None)
            raise

    async def _carry(self, source_key: str) -> str:
        return await self.dest.create_permission(await self.source.permission(source_key))
