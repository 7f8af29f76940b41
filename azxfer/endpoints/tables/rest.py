"""The Table REST requests azxfer sends to one table: Query Entities page by page, Create
Table, Delete Table (and whether it exists), and Entity Group Transactions. Signing (Table's
own SharedKey string-to-sign), sending, retries and classification (with `TABLE_ERRORS`) are
`transport.rest`'s."""

from __future__ import annotations

import json

from msgspec import structs

from azxfer.credentials import Credential
from azxfer.endpoints.denials import denials_of
from azxfer.endpoints.tables.batch import (
    BatchEntity,
    BatchFailure,
    EntityOperation,
    answered_operations,
    batch_body,
    batch_failure,
)
from azxfer.endpoints.tables.errors import TABLE_ERRORS
from azxfer.errors import RetryableError, ServerError, TransferError
from azxfer.transport.classify import BUSY_STATUS, ErrorAnswer, classify_answer
from azxfer.transport.pool import HttpPool
from azxfer.transport.rest import StorageRestClient
from azxfer.transport.retry import RetryPolicy, with_retries
from azxfer.transport.signer import Signer
from azxfer.transport.signing import Authorizer, TableSharedKey, authorizer_for

API_VERSION = "2019-02-02"
# Minimal metadata: the service annotates every type JSON cannot carry (Int64, Guid,
# DateTime, Binary, a Double that is not a number), and nothing else, so pages are smallest.
_JSON = "application/json;odata=minimalmetadata"
ODATA = {"Accept": _JSON, "DataServiceVersion": "3.0;NetFx", "MaxDataServiceVersion": "3.0;NetFx"}
# Where the next page starts: (NextPartitionKey, NextRowKey), as the service gave them.
Continuation = tuple[str, str]
# The table exists already: what Create Table was asked for.
_EXISTS = frozenset({409})
# Create Table denied: a table SAS never allows it, yet may allow writing the table's entities.
_DENIED = frozenset({403})
# No such table: what a check of whether it exists may be told.
_MISSING = frozenset({404})


def table_authorizer(credential: Credential | None) -> Authorizer:
    """The authorizer of Table requests: an account key signs by Table's string-to-sign."""
    if credential is not None and credential.kind == "shared_key":
        return TableSharedKey(credential.account, credential.key or "")
    return authorizer_for(credential)


class TableRestClient:
    """Signs and sends Table requests about one table with one credential."""

    def __init__(
        self,
        pool: HttpPool,
        endpoint: str,
        table: str,
        credential: Credential | None,
        retry: RetryPolicy,
    ) -> None:
        signer = Signer(endpoint, table_authorizer(credential), API_VERSION)
        explain = denials_of(credential, "table")
        self.rest = StorageRestClient(pool, signer, retry, TABLE_ERRORS, explain)
        # A batch is retried whole, busy or not at the top, by `submit_batch`'s one loop.
        self._batch_rest = StorageRestClient(
            pool, signer, structs.replace(retry, attempts=1), TABLE_ERRORS, explain
        )
        self.retry = retry
        self.table = table
        self.table_url = f"{signer.endpoint}/{table}"
        # How messages name the table: "'t' at URL".
        self.where = f"'{table}' at {signer.endpoint}"
        # The table as a resource of the service (Delete Table, Query Tables of one name).
        self._table_path = f"/Tables('{table}')"

    async def query_page(
        self, filter_: str | None, select: str | None, at: Continuation | None
    ) -> tuple[bytes, Continuation | None]:
        """One page of Query Entities (up to 1,000 entities, in key order) from `at`, and
        where the next starts (None after the last)."""
        query: dict[str, str] = {}
        if filter_:
            query["$filter"] = filter_
        if select:
            query["$select"] = select
        if at is not None:
            query["NextPartitionKey"], query["NextRowKey"] = at
        _, headers, body = await self.rest.send(
            "GET",
            f"/{self.table}()",
            query,
            dict(ODATA),
            None,
            f"table {self.where}",
            parent=self.table,
            paced_answer=True,  # the entities are an export's data
        )
        next_pk = headers.get("x-ms-continuation-NextPartitionKey")
        next_rk = headers.get("x-ms-continuation-NextRowKey")
        return body, ((next_pk, next_rk or "") if next_pk else None)

    async def create_table(self, *, denial_is_final: bool = False) -> bool:
        """Create Table; False when it exists already, or (unless `denial_is_final`) when the
        credential may not create tables: a table SAS (`tn=`) may write entities but can
        never create a table, and the writes then say whether it is there."""
        body = json.dumps({"TableName": self.table}).encode()
        headers = {**ODATA, "Content-Type": "application/json", "Prefer": "return-no-content"}
        keep = _EXISTS if denial_is_final else _EXISTS | _DENIED
        status, _, _ = await self.rest.send(
            "POST", "/Tables", {}, headers, body, f"table {self.where}", keep=keep
        )
        return status not in keep

    async def table_exists(self) -> bool:
        """Whether the table exists (Query Tables of this one name)."""
        status, _, _ = await self.rest.send(
            "GET",
            self._table_path,
            {},
            dict(ODATA),
            None,
            f"table {self.where}",
            keep=_MISSING,
        )
        return status not in _MISSING

    async def delete_table(self) -> None:
        """Delete Table: the table and every entity in it. ContainerMissing if there is none."""
        await self.rest.send(
            "DELETE",
            self._table_path,
            {},
            dict(ODATA),
            None,
            f"table {self.where}",
            parent=self.table,
        )

    async def submit_batch(
        self, operation: EntityOperation, entities: list[BatchEntity]
    ) -> BatchFailure | None:
        """Apply `operation` to `entities` (one partition, ≤ 100, ≤ 4 MiB) as one Entity Group
        Transaction: None when all succeeded, else the failed operation (none was applied).

        A changeset refused as busy (throttled, 5xx) is sent again with backoff, like any
        request, by our retry policy."""
        first = entities[0]
        what = f"batch of {len(entities)} entities of partition {first.partition_key[:60]!r}"

        async def attempt() -> BatchFailure | None:
            content_type, body = batch_body(self.table_url, self.table, operation, entities)
            headers = {**ODATA, "Accept": "application/json", "Content-Type": content_type}
            _, _, answer = await self._batch_rest.send(
                "POST", "/$batch", {}, headers, body, what, parent=self.table
            )
            failure = batch_failure(answer)
            if failure is None and answered_operations(answer) != len(entities):
                raise TransferError(
                    f"{what}: the service answered for {answered_operations(answer)} of "
                    f"{len(entities)} operations"
                )
            if failure is not None and failure.status in BUSY_STATUS:
                text = f"{what}: service busy ({failure.status} {failure.code})"
                if failure.status >= 500:
                    raise ServerError(text, failure.status)
                raise RetryableError(text)
            if failure is not None and failure.code == "TableNotFound":
                # The whole job's error, not each entity's (a Create Table that was denied
                # leaves it to the writes to find the table missing).
                answer = ErrorAnswer(failure.status, failure.code, what, parent=self.where)
                raise classify_answer(answer, TABLE_ERRORS)
            return failure

        return await with_retries(
            attempt, self.retry, what, request=self.rest.request_of("POST", "/$batch")
        )
