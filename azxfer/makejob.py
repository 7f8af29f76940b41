"""The library facade of `azxfer make`: create a Blob container, an Azure Files share (with a
quota) or a table, by one REST request on the drivers' own clients (Create Container, Create
Share, Create Table), retried as every request is. One that exists already is an answer
(`MakeResult.created` False), or an `AlreadyExists` error when the caller says so.

`azxfer remove` of a table is its opposite, one request too (Delete Table): `table_exists`
and `remove_table` on a `TableRemoval`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from msgspec import Struct

from azxfer.credentials import Credential
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.endpoints.factory import JobConnections
from azxfer.endpoints.tables.rest import TableRestClient
from azxfer.errors import AlreadyExists, CredentialError, UsageError
from azxfer.locations import Location, Service
from azxfer.transport.retry import RetryPolicy

_T = TypeVar("_T")

# What each service's top-level resource is called in messages.
KINDS = {Service.BLOB: "container", Service.FILE: "share", Service.TABLE: "table"}


class MakeOptions(Struct, frozen=True):
    """What to create: a container, share or table `location` (no path below it), with its
    credential; a share's quota in GiB (None: the service's default); whether one that
    exists already is an error; the environment (its proxies)."""

    location: Location
    credential: Credential | None
    quota_gb: int | None = None
    fail_if_exists: bool = False
    env: dict[str, str] = {}


class MakeResult(Struct, frozen=True):
    """What `make` did: the kind ("container", "share", "table"), its name, its URL (no
    secret) and whether it was created (False: it existed already)."""

    kind: str
    name: str
    url: str
    created: bool


def check_make(options: MakeOptions) -> str:
    """The kind of resource `options` would create; a UsageError for anything else (before
    any request)."""
    location = options.location
    kind = KINDS.get(location.service)
    if kind is None:
        raise UsageError(
            f"'{location.display}': make creates a Blob container, an Azure Files share or a "
            "table; give its URL"
        )
    if location.path.strip("/") or location.snapshot or location.version_id:
        raise UsageError(f"'{location.display}': give the {kind}'s own URL, without a path")
    if options.quota_gb is not None and location.service is not Service.FILE:
        raise UsageError("--quota-gb applies to Azure Files shares only")
    return kind


def make(options: MakeOptions) -> MakeResult:
    """Create the container, share or table of `options`."""
    kind = check_make(options)
    location = options.location
    try:
        created = asyncio.run(_create(options))
    except CredentialError as err:
        raise _make_denied(err, kind, options) from None
    if not created and options.fail_if_exists:
        raise AlreadyExists(f"{kind} '{location.container}' already exists")
    return MakeResult(kind, location.container, location.url, created)


def _make_denied(err: CredentialError, kind: str, options: MakeOptions) -> CredentialError:
    """A denied create: a SAS made for one container, share, table or object (a service SAS,
    `sr=` or `tn=`) can never create one, whatever its permissions, so it says what can."""
    credential = options.credential
    if credential is None or not credential.is_service_sas():
        return err
    return CredentialError(
        f"cannot create {kind} '{options.location.container}' with a SAS made for one {kind} "
        "or object: use an account SAS with srt=c and the c (create) permission, or the "
        f"account key [used {credential.describe()}]"
    )


async def _create(options: MakeOptions) -> bool:
    location, credential = options.location, options.credential
    connections = JobConnections.for_job((location,), 2, options.env)
    retry = RetryPolicy()
    try:
        if location.service is Service.FILE:
            share = connections.files_rest(location, credential)
            return await share.create_share(options.quota_gb)
        if location.service is Service.TABLE:
            table = TableRestClient(
                connections.pool, location.endpoint, location.container, credential, retry
            )
            return await table.create_table(denial_is_final=True)
        blob = RestBlobClient(
            connections.pool, location.endpoint, location.account, credential, retry
        )
        return await blob.create_container(location.container)
    finally:
        await connections.close()


class TableRemoval(Struct, frozen=True):
    """A table to delete (`location` names it), with its credential and the environment (its
    proxies)."""

    location: Location
    credential: Credential | None
    env: dict[str, str] = {}


def table_exists(removal: TableRemoval) -> bool:
    """Whether the table exists (a dry run, or before asking whether to delete it)."""
    return asyncio.run(_on_table(removal, lambda table: table.table_exists()))


def remove_table(removal: TableRemoval) -> None:
    """Delete the table and every entity in it (ContainerMissing if there is none)."""
    asyncio.run(_on_table(removal, lambda table: table.delete_table()))


async def _on_table(
    removal: TableRemoval, request: Callable[[TableRestClient], Awaitable[_T]]
) -> _T:
    location = removal.location
    connections = JobConnections.for_job((location,), 2, removal.env)
    try:
        table = TableRestClient(
            connections.pool,
            location.endpoint,
            location.container,
            removal.credential,
            RetryPolicy(),
        )
        return await request(table)
    finally:
        await connections.close()
