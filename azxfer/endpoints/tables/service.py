"""The Table service's own requests, about no one table: Query Tables, page by page (the
service pages by table name, `x-ms-continuation-NextTableName`). Signing, sending, retries and
classification (with `TABLE_ERRORS`) are `transport.rest`'s."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec

from azxfer.credentials import Credential
from azxfer.endpoints.denials import denials_of
from azxfer.endpoints.tables.errors import TABLE_ERRORS
from azxfer.endpoints.tables.rest import API_VERSION, ODATA, table_authorizer
from azxfer.errors import TransferError
from azxfer.transport.pool import HttpPool
from azxfer.transport.rest import StorageRestClient
from azxfer.transport.retry import RetryPolicy
from azxfer.transport.signer import Signer


class _Table(msgspec.Struct):
    TableName: str


class _TablesPage(msgspec.Struct):
    value: list[_Table] = []


_decode_page = msgspec.json.Decoder(_TablesPage).decode


class TableAccountClient:
    """Signs and sends the requests about a Table service's tables with one credential."""

    def __init__(
        self, pool: HttpPool, endpoint: str, credential: Credential | None, retry: RetryPolicy
    ) -> None:
        signer = Signer(endpoint, table_authorizer(credential), API_VERSION)
        self.rest = StorageRestClient(
            pool, signer, retry, TABLE_ERRORS, denials_of(credential, "table")
        )
        self.endpoint = signer.endpoint

    async def tables_page(self, after: str | None) -> tuple[list[str], str | None]:
        """One page of Query Tables (up to 1,000 names, in name order) from the table
        `after` names (None: the first), and where the next page starts (None after the
        last)."""
        query = {"NextTableName": after} if after else {}
        _, headers, body = await self.rest.send(
            "GET", "/Tables", query, dict(ODATA), None, f"the tables of {self.endpoint}"
        )
        try:
            names = [table.TableName for table in _decode_page(body).value]
        except msgspec.DecodeError:
            raise TransferError(f"{self.endpoint}: Query Tables answered no table list") from None
        return names, headers.get("x-ms-continuation-NextTableName") or None

    async def table_names(self) -> AsyncIterator[str]:
        """Every table's name, in name order, a page at a time (memory: one page)."""
        after: str | None = None
        while True:
            names, after = await self.tables_page(after)
            for name in names:
                yield name
            if after is None:
                return
