"""Destination directories, each created once, parents first, concurrently across branches.

Directories are real in Azure Files: a file can be created only in one that exists. A job
writing a thousand files into one new folder must send one Create Directory for it, and the
first file of every folder must not wait for folders of other branches; so each path gets
one future, awaited by everything that needs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

# Create Directory for a path with SMB headers (None: the service's defaults), succeeding if
# it exists already.
CreateDirectory = Callable[[str, "dict[str, str] | None"], Awaitable[None]]


class DirectoryMaker:
    """Makes sure directories exist, creating each at most once per job."""

    def __init__(self, create: CreateDirectory) -> None:
        self._create = create
        self._made: dict[str, asyncio.Future[None]] = {}

    async def ensure(self, path: str, smb: dict[str, str] | None = None) -> bool:
        """Return once directory `path` ('/'-separated, in the share) and its parents exist:
        True if this call asked for it (created with `smb`), False if another did (or it was
        known), so `smb` was not sent."""
        if not path:  # the share's root is always there
            return False
        made = self._made.get(path)
        asked = made is None
        if made is None:
            made = self._made[path] = asyncio.ensure_future(self._make(path, smb))
        await asyncio.shield(made)
        return asked

    def known(self, path: str) -> None:
        """`path` exists (and so do its parents): nothing need be created for it."""
        while path and path not in self._made:
            self._made[path] = _done()
            path = path.rpartition("/")[0]

    async def _make(self, path: str, smb: dict[str, str] | None) -> None:
        await self.ensure(path.rpartition("/")[0])
        await self._create(path, smb)


def _done() -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future
