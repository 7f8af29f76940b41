"""The optional capabilities of endpoints.base: what a driver offers is what its endpoints
are; URLs another service can read; copies from such URLs."""

from __future__ import annotations

import urllib.request

import pytest
from helpers import data_for

from azxfer.endpoints.copycaps import CopyKind, CopyMethod, UrlSource, UrlTarget
from azxfer.endpoints.web.endpoint import WebEndpoint
from azxfer.engine.budget import MemoryBudget
from azxfer.engine.job import NullRecorder
from azxfer.engine.transfer import RequestSlots, TransferContext
from azxfer.errors import NotSupportedError
from azxfer.events import CollectingSink
from azxfer.locations import Service, parse_location
from azxfer.models import Entry, Planned, Transfer
from azxfer.transport.aio import aiohttp
from azxfer.transport.retry import RetryPolicy

from .harness import CHUNK, OFFERED, Can, DriverHarness, chunks_of, drive, md5, requires

NAME = "src/ünï #1.bin"
SIZE = 3 * CHUNK + 5


def test_what_a_driver_offers_is_what_its_endpoints_are(driver):
    """The suite derives offered capabilities from the driver's class; the engine checks its
    endpoints at run time: both must agree."""

    async def body(h: DriverHarness) -> dict[Can, bool]:
        endpoint = await h.single("x.bin")
        return {can: isinstance(endpoint, protocol) for can, protocol in OFFERED.items()}

    assert drive(driver, body) == {can: can in driver.capabilities for can in OFFERED}


@requires(Can.URL_SOURCE, Can.STAT)
def test_a_url_source_gives_a_url_another_service_can_read(driver):
    data = data_for(NAME, SIZE)
    driver.put(NAME, data)

    async def body(h: DriverHarness) -> tuple[str | None, str, str]:
        endpoint = await h.single(NAME)
        assert isinstance(endpoint, UrlSource)
        entry = await endpoint.stat(h.ref(NAME))
        assert entry is not None
        source = await endpoint.copy_source(entry)
        return endpoint.url_unreadable(), source.url, repr(source)

    unreadable, url, shown = drive(driver, body)
    assert unreadable is None  # the harnesses use keys or no credential, never Entra ID
    with urllib.request.urlopen(url, timeout=30) as answer:  # no credential of ours
        assert answer.read() == data
    assert url not in shown and "sig=" not in shown  # the URL may carry a secret


async def _written_source(h: DriverHarness, name: str, data: bytes) -> Entry:
    """An object written by the driver's own writer (so it is of the type its writers make),
    as its endpoint lists it."""
    endpoint = await h.root()
    transfer = Transfer(1, Entry(f"seed/{name}", name, len(data)), h.ref(name), name)
    writer = await endpoint.open_writer(transfer, len(data), h.write_props, CHUNK)
    for chunk in chunks_of(len(data), writer.chunk_size):
        await writer.write_chunk(chunk, data[chunk.offset : chunk.offset + chunk.length])
    await writer.commit(md5(data))
    entry = await endpoint.stat(h.ref(name))
    assert entry is not None
    return entry


def _item(h: DriverHarness, entry: Entry, transfer_id: int, name: str) -> Planned:
    return Planned(Transfer(transfer_id, entry, h.ref(name), name), h.write_props)


@requires(Can.URL_TARGET, Can.URL_SOURCE, Can.WRITE, Can.STAT)
def test_a_url_target_offers_methods_best_first_that_copy_the_object(driver):
    """Every method offered for one of the driver's own objects copies it exactly, or says
    the service does not implement it (the engine then drops it); at least one copies."""
    data = data_for(NAME, SIZE)

    async def body(h: DriverHarness) -> tuple[list[str], list[str], bytes | None]:
        entry = await _written_source(h, NAME, data)
        source, dest = await h.root(), await h.root()
        assert isinstance(source, UrlSource) and isinstance(dest, UrlTarget)
        methods = list(dest.copy_methods(source, _item(h, entry, 2, "copy"), CHUNK))
        assert methods, "a destination offers some method for its own kind of object"
        assert all(isinstance(m.kind, CopyKind) for m in methods)
        copied: list[str] = []
        for index, method in enumerate(methods):
            name = f"copy-{index}.bin"
            item = _item(h, entry, 10 + index, name)
            try:
                await _run(method, item)
            except NotSupportedError:
                continue
            assert h.get(name) == h.get(NAME), method.name
            copied.append(method.name)
        return [m.name for m in methods], copied, h.get(NAME)

    names, copied, stored = drive(driver, body)
    assert len(set(names)) == len(names)
    assert copied, f"none of {names} copied the object"
    assert stored is not None and stored[: len(data)] == data


@requires(Can.URL_TARGET, Can.URL_SOURCE, Can.WRITE, Can.STAT)
def test_a_web_source_gets_only_methods_that_read_any_url(driver):
    """A web URL is no storage object: of the methods for a storage source of the same
    object, it gets at most those that read a URL in synchronous requests."""
    data = data_for(NAME, CHUNK)

    async def body(h: DriverHarness) -> tuple[list[str], list[str], set[CopyKind]]:
        entry = await _written_source(h, NAME, data)
        dest = await h.root()
        assert isinstance(dest, UrlTarget)
        own = dest.copy_methods(dest, _item(h, entry, 2, "copy"), CHUNK)  # type: ignore[arg-type]
        async with aiohttp.ClientSession() as session:
            web = WebEndpoint(
                parse_location("https://files.example.com/ünï.bin", Service.WEB),
                session,
                RetryPolicy(attempts=1),
            )
            web_entry = Entry("ünï.bin", "ünï.bin", entry.size, md5=entry.md5)
            offered = dest.copy_methods(web, _item(h, web_entry, 3, "copy"), CHUNK)
        return [m.name for m in own], [m.name for m in offered], {m.kind for m in offered}

    own, web, kinds = drive(driver, body)
    assert set(web) <= set(own)
    assert kinds <= {CopyKind.URL}


async def _run(method: CopyMethod, item: Planned) -> None:
    """Run one copy method as the engine does, with a job's context of its own."""
    ctx = TransferContext(RequestSlots(4), MemoryBudget(1 << 20), CollectingSink(), _no_verify)
    await method.run(ctx, item, CHUNK, NullRecorder(), lambda: None)


def _no_verify(transfer: Transfer, digest: bytes) -> None:
    """Server-side copies compute no MD5 here (the service keeps the source's)."""


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib fetches the emulator or the loopback server directly."""
    monkeypatch.setenv("NO_PROXY", "*")
