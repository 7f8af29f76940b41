"""The tests' own SDK clients, signed with the account key: how a test looks at the emulator's
Table service (http, or https for the Entra ID emulator: the endpoint carries the scheme) and at
the File stand-in, without going through azxfer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.data.tables import TableServiceClient
    from azure.storage.fileshare import ShareServiceClient
    from conftest import Azurite
    from file_standin import FileStandIn


def table_service(
    emulator: Azurite, account: str | None = None, key: str | None = None
) -> TableServiceClient:
    """A TableServiceClient for `account` (the emulator's main account by default) on the
    emulator's Table port, signed with `key` (by default that account's own)."""
    from azure.core.credentials import AzureNamedKeyCredential
    from azure.data.tables import TableServiceClient

    account = account or emulator.account
    if key is None:  # one of the emulator's two accounts
        key = {emulator.account: emulator.key, emulator.acct2: emulator.acct2_key}[account]
    endpoint = f"{emulator.scheme}://{emulator.host}:{emulator.table_port}/{account}"
    return TableServiceClient(endpoint, credential=AzureNamedKeyCredential(account, key))


def share_service(standin: FileStandIn, emulator: Azurite) -> ShareServiceClient:
    """A ShareServiceClient for the File stand-in, as the emulator's main account."""
    from azure.storage.fileshare import ShareServiceClient

    return ShareServiceClient(
        account_url=standin.account_url(emulator.account),
        credential={"account_name": emulator.account, "account_key": emulator.key},
    )
