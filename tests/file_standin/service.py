"""The state one stand-in serves: accounts, the store, the switches tests turn, lookups."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from . import errors
from .call import Call
from .store import Directory, File, Share, Store, fold, lookup, split_path


class Service:
    """What every handler gets: the store and the switches.

    pending_polls  None: Copy File completes at once; N: a copy stays pending for N polls
                   (Get File Properties of the destination) and completes on the next one.
    hold_pending   pending copies never complete (abort and interruption tests).
    open_handles   (account, share, path) triples that behave as if an SMB client held them
                   open: writes, resizes and deletes there answer 409 SharingViolation.
    """

    def __init__(
        self,
        accounts: Mapping[str, str],
        *,
        pending_polls: int | None = None,
        hold_pending: bool = False,
    ) -> None:
        self.accounts = dict(accounts)
        self.store = Store(list(self.accounts))
        self.pending_polls = pending_polls
        self.hold_pending = hold_pending
        self.open_handles: set[tuple[str, str, str]] = set()
        self.endpoint = ""
        self.session: aiohttp.ClientSession | None = None
        self.pending_data: dict[int, bytes] = {}  # file id -> the bytes its copy will write

    def account_url(self, account: str) -> str:
        return f"{self.endpoint}/{account}"

    def share(self, call: Call) -> Share:
        return self.store.share(call.account, call.share or "")

    def parts(self, call: Call) -> list[str]:
        return split_path(call.path, allow_trailing_dot=call.flag("x-ms-allow-trailing-dot"))

    def directory(self, call: Call) -> tuple[Share, Directory]:
        share = self.share(call)
        node = lookup(share, self.parts(call))
        if not isinstance(node, Directory):
            raise errors.resource_not_found()
        return share, node

    def file(self, call: Call) -> tuple[Share, File]:
        share = self.share(call)
        node = lookup(share, self.parts(call))
        if not isinstance(node, File):
            raise errors.resource_not_found()
        return share, node

    def check_handles(self, call: Call) -> None:
        if not self.open_handles:
            return
        held = {(a, s, fold(p)) for a, s, p in self.open_handles}
        if (call.account, call.share or "", fold(call.path)) in held:
            raise errors.sharing_violation()
