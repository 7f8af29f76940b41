"""Acting on the objects of a bulk job (`azxfer remove`, `azxfer set-properties`): each page of
selected objects is handed to the service in as few requests as it allows (a Blob Batch of up
to 256 deletes or tier changes; else one request per object, `concurrency` at a time), several
pages at once; folders go last, a depth at a time, deepest first (`engine.folderdeletes`).

The driver is used by capability (`endpoints.bulkcaps`): `BatchDeleter`, `TierSetter`,
`MetadataSetter`, `TagSetter`; else `DirectoryDeletes` or plain `Endpoint.delete`
(`endpoints.base`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Generic, TypeVar

from azxfer.endpoints.base import DirectoryDeletes, Endpoint
from azxfer.endpoints.bulkcaps import (
    BatchDeleter,
    BulkOutcome,
    MetadataSetter,
    TagSetter,
    TierSetter,
)
from azxfer.errors import (
    AzxferError,
    ContainerMissing,
    CredentialError,
    Interrupted,
    UnreachableError,
)
from azxfer.models import Entry
from azxfer.plan.bulk import BulkOperation

# Objects per page when every object is its own request.
SINGLES_PAGE = 64
T = TypeVar("T")
# Errors after which no other object can succeed: the job stops on them.
FATAL = (CredentialError, UnreachableError, ContainerMissing)


class BulkActions:
    """Does one bulk operation to pages of objects of one location."""

    def __init__(
        self,
        endpoint: Endpoint,
        operation: BulkOperation,
        concurrency: int,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.endpoint = endpoint
        # Asked before each single request starts: once the job is stopping, the objects of
        # a page not yet started stay undone (an `Interrupted` outcome), for a resume.
        self.stopping = stopping
        self.operation = operation
        self.concurrency = max(1, concurrency)
        self.slots = asyncio.Semaphore(self.concurrency)
        batched = isinstance(endpoint, BatchDeleter if operation.removes else TierSetter)
        self.page_size: int = endpoint.batch_size if batched else SINGLES_PAGE  # type: ignore[attr-defined]
        # Pages in flight: a batch is one request of many objects, a page of singles many.
        self.pages_in_flight = max(1, concurrency // 8) if batched else 2

    async def run_pages(
        self,
        pages: Iterable[Sequence[T]],
        entry_of: Callable[[T], Entry],
        done: Callable[[Sequence[T], Sequence[BulkOutcome]], None],
    ) -> None:
        """Act on the entry of every item of every page, `pages_in_flight` pages at a time,
        telling `done` of each page's outcomes, in its order."""
        runner = PageRunner(self, entry_of, done)
        try:
            for page in pages:
                await runner.submit(page)
            await runner.drain()
        finally:
            runner.cancel()

    async def act(self, page: Sequence[Entry]) -> list[BulkOutcome]:
        """The outcome of the operation on each object of `page`."""
        if self.operation.removes:
            return await self._remove(page)
        return await self._set_properties(page)

    async def remove_folder(self, entry: Entry) -> bool:
        """Remove a folder if it is empty: False if something is still in it (it stays). A
        service without folders (Blob) holds them as marker blobs, removed as objects."""
        if isinstance(self.endpoint, DirectoryDeletes):
            return await self.endpoint.delete_directory(entry.ref)
        (outcome,) = await self._remove([entry])
        if outcome is not None:
            raise outcome
        return True

    # -- remove ------------------------------------------------------------------------------

    async def _remove(self, page: Sequence[Entry]) -> list[BulkOutcome]:
        endpoint = self.endpoint
        if isinstance(endpoint, BatchDeleter):
            return _checked(await endpoint.delete_many(page, self.operation.snapshots))
        return await self._each(page, lambda entry: endpoint.delete(entry.ref))

    # -- set-properties ----------------------------------------------------------------------

    async def _set_properties(self, page: Sequence[Entry]) -> list[BulkOutcome]:
        operation, endpoint = self.operation, self.endpoint
        outcomes: list[BulkOutcome] = [None] * len(page)
        if operation.tier:
            assert isinstance(endpoint, TierSetter)
            tiers = await endpoint.set_tiers(page, operation.tier, operation.rehydrate)
            outcomes = _checked(tiers)
        rest = [entry for entry, outcome in zip(page, outcomes, strict=True) if outcome is None]
        metadata, tags = operation.metadata, operation.tags
        if metadata is None and tags is None:
            return outcomes

        async def change(entry: Entry) -> None:
            if metadata is not None:
                assert isinstance(endpoint, MetadataSetter)
                await endpoint.set_metadata(entry.ref, metadata)
            if tags is not None:
                assert isinstance(endpoint, TagSetter)
                await endpoint.set_tags(entry.ref, tags)

        changed = await self._each(rest, change)
        by_ref = dict(zip((entry.ref for entry in rest), changed, strict=True))
        pairs = zip(page, outcomes, strict=True)
        return [by_ref.get(entry.ref, outcome) for entry, outcome in pairs]

    # -- one request per object ----------------------------------------------------------------

    async def _each(
        self, page: Sequence[Entry], request: Callable[[Entry], Awaitable[None]]
    ) -> list[BulkOutcome]:
        async def one(entry: Entry) -> BulkOutcome:
            async with self.slots:
                if self.stopping():
                    return Interrupted(f"'{entry.ref}': not started, the job is stopping")
                try:
                    await request(entry)
                except AzxferError as exc:
                    return exc
            return None

        return _checked(await asyncio.gather(*(one(entry) for entry in page)))


class PageRunner(Generic[T]):
    """Pages handed over one by one (from a list, or while a listing still runs), acted on
    `pages_in_flight` at a time: `submit` waits for a free slot, so whoever hands pages over
    waits while the service is busy."""

    def __init__(
        self,
        actions: BulkActions,
        entry_of: Callable[[T], Entry],
        done: Callable[[Sequence[T], Sequence[BulkOutcome]], None],
    ) -> None:
        self.actions = actions
        self.entry_of = entry_of
        self.done = done
        self.running: set[asyncio.Task[None]] = set()

    async def _one(self, page: Sequence[T]) -> None:
        self.done(page, await self.actions.act([self.entry_of(item) for item in page]))

    async def submit(self, page: Sequence[T]) -> None:
        """Start acting on `page` once fewer than `pages_in_flight` pages are in flight (so
        the last page handed over never waits for the ones before it), unless the job is
        stopping by then."""
        while len(self.running) >= self.actions.pages_in_flight:
            finished, self.running = await asyncio.wait(
                self.running, return_when=asyncio.FIRST_COMPLETED
            )
            for task in finished:
                task.result()
        if self.actions.stopping():  # stopped while waiting: the page stays pending
            return
        self.running.add(asyncio.ensure_future(self._one(page)))

    async def drain(self) -> None:
        """Wait for every page in flight (raising what one raised)."""
        if self.running:
            await asyncio.gather(*self.running)
        self.running = set()

    def cancel(self) -> None:
        """Stop the pages still in flight (after an error: their objects stay pending)."""
        for task in self.running:
            task.cancel()


def paged(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last one shorter)."""
    page: list[T] = []
    for item in items:
        page.append(item)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page


def _checked(outcomes: Sequence[BulkOutcome]) -> list[BulkOutcome]:
    """The outcomes, unless one says nothing else can succeed (no access, no service): that
    error ends the job (its objects stay pending, for a resume)."""
    for outcome in outcomes:
        if isinstance(outcome, FATAL):
            raise outcome
    return list(outcomes)
