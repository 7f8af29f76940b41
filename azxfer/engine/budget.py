"""A byte budget shared by every transfer of a job, so memory stays bounded."""

from __future__ import annotations

import asyncio


class MemoryBudget:
    """Async counting of bytes held in flight, FIFO-fair.

    A request larger than the whole budget is granted when nothing else is held, so one huge
    block can never deadlock the job.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self.held = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    async def acquire(self, amount: int) -> int:
        """Wait until `amount` bytes fit; returns the amount to pass to release()."""
        amount = min(amount, self.capacity)
        if not self._waiters and self.held + amount <= self.capacity:
            self.held += amount
            return amount
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((amount, future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(amount)  # granted just as we were cancelled
            else:
                self._waiters.remove((amount, future))
                self._wake()
            raise
        return amount

    def release(self, amount: int) -> None:
        """Return bytes to the budget and wake whoever now fits."""
        self.held -= amount
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            amount, future = self._waiters[0]
            if self.held + amount > self.capacity and self.held > 0:
                return
            self._waiters.pop(0)
            if not future.done():
                self.held += amount
                future.set_result(None)
