"""The MD5 of a transfer: computed in chunk order as chunks arrive (`OrderedHasher`), off the
event loop for large chunks, and from what a writer reads back for streamed chunks."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

from azxfer.engine.budget import MemoryBudget
from azxfer.errors import AzxferError
from azxfer.models import Chunk

# Hashing a chunk this large on the event loop would stall every other transfer.
_THREAD_HASH = 1024 * 1024
# Streamed chunks are read back for hashing in pieces of this size.
_READ_BACK = 2 * 1024 * 1024


async def update_md5(md5: hashlib._Hash, data: bytes) -> None:  # type: ignore[name-defined]
    if len(data) >= _THREAD_HASH:
        await asyncio.to_thread(md5.update, data)
    else:
        md5.update(data)


async def hash_back(
    md5: hashlib._Hash,  # type: ignore[name-defined]
    read_back: Callable[[Chunk], Awaitable[bytes | None]],
    chunk: Chunk,
) -> None:
    """Hash what a writer holds of `chunk`, reading it back in bounded pieces."""
    for offset in range(chunk.offset, chunk.offset + chunk.length, _READ_BACK):
        length = min(_READ_BACK, chunk.offset + chunk.length - offset)
        data = await read_back(Chunk(chunk.index, offset, length))
        if data is None or len(data) != length:
            raise AzxferError(f"chunk {chunk.index} could not be read back to hash it")
        await update_md5(md5, data)


def finish_md5(md5: hashlib._Hash, padding: int) -> bytes:  # type: ignore[name-defined]
    if padding:
        md5.update(bytes(padding))
    return md5.digest()


class OrderedHasher:
    """MD5 over chunks in index order, whatever order they arrive in.

    A chunk that arrives early waits here (its memory still counted) until its predecessors
    are hashed; nobody blocks on anybody, so a chunk that never comes (the job is stopping)
    cannot hold up the others. `discard()` returns what is left to the memory budget.

    A chunk is added either with its bytes or, when it was streamed to a writer that can read
    it back, as the Chunk itself: its bytes are then read back in pieces when its turn comes.

    One caller at a time hashes (the drainer); the others leave their chunk and return at
    once. Callers that waited on a lock instead kept their chunk's bytes alive after a drainer
    had hashed it and returned its memory to the budget: uploads held twice their budget.
    """

    def __init__(
        self,
        memory: MemoryBudget,
        enabled: bool = True,
        read_back: Callable[[Chunk], Awaitable[bytes | None]] | None = None,
    ) -> None:
        self.memory = memory
        self.enabled = enabled
        self.read_back = read_back
        self.md5 = hashlib.md5()
        self.next = 0
        self.waiting: dict[int, tuple[bytes | Chunk, int]] = {}
        self._draining = False

    async def add(self, index: int, data: bytes | Chunk, held: int) -> None:
        """Take chunk `index` (and its `held` memory); hash every chunk now in order."""
        if not self.enabled:
            self.memory.release(held)
            return
        self.waiting[index] = (data, held)
        del data
        if self._draining:
            return  # the drainer hashes it when its turn comes
        self._draining = True
        try:
            while self.next in self.waiting:
                item, amount = self.waiting.pop(self.next)
                try:
                    if isinstance(item, Chunk):
                        if self.read_back is None:
                            raise AssertionError("a streamed chunk needs a writer that reads back")
                        await hash_back(self.md5, self.read_back, item)
                    else:
                        await update_md5(self.md5, item)
                finally:
                    self.memory.release(amount)
                    del item
                self.next += 1
        finally:
            self._draining = False

    def digest(self, padding: int) -> bytes:
        """The MD5 of everything added plus `padding` zero bytes (empty when not hashing)."""
        return finish_md5(self.md5, padding) if self.enabled else b""

    def discard(self) -> None:
        """Release the memory of chunks that will never be hashed."""
        for _, held in self.waiting.values():
            self.memory.release(held)
        self.waiting.clear()
