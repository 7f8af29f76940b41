"""Listings started before the job is built (azxfer/early.py, endpoints/blob/early_listing.py),
against Azurite: the job's listing takes their pages and goes on from the last, and any
listing they cannot serve (a failure, a budget spent, another request) is the job's own."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from seed import seed_blobs

from azxfer.credentials import Credential
from azxfer.early import start_listings
from azxfer.endpoints.blob import early_listing
from azxfer.endpoints.blob.early_listing import EarlyListing, EarlyListings
from azxfer.endpoints.blob.requests import RequestSigner
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.transport.pool import HttpPool
from azxfer.transport.retry import RetryPolicy

NO_KEY_FILES: dict = {"source": None, "dest": None}


def _key(azurite) -> Credential:
    return Credential("shared_key", azurite.account, key=azurite.key, origin="AZXFER_DEST_KEY")


def _listed(azurite, early: EarlyListings | None, container: str, prefix: str = "") -> list[str]:
    async def run() -> list[str]:
        pool = HttpPool(8)
        rest = RestBlobClient(
            pool, azurite.blob_endpoint, azurite.account, _key(azurite), RetryPolicy(), early
        )
        try:
            return [blob.name async for blob in rest.list_blobs(container, prefix, None)]
        finally:
            await pool.close()

    return asyncio.run(run())


def counting_pages(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the pages the job's listing took from an early listing."""
    taken: list[int] = []
    original = EarlyListing.next_page

    async def next_page(self):
        page = await original(self)
        if page is not None:
            taken.append(len(page[0]))
        return page

    monkeypatch.setattr(EarlyListing, "next_page", next_page)
    return taken


def _sync_listings(azurite, container: str, tmp_path: Path, path: str = "") -> EarlyListings:
    url = f"{azurite.blob_endpoint}/{container}" + (f"/{path}" if path else "")
    env = {"AZXFER_DEST_KEY": azurite.key}
    return start_listings("sync", str(tmp_path), url, False, NO_KEY_FILES, env)


def test_the_job_takes_every_page_fetched_early(
    azurite, container, container_client, tmp_path, monkeypatch
) -> None:
    names = sorted(f"d{i % 3}/f{i:04d}" for i in range(600))  # pages of 250, 500
    seed_blobs(container_client, dict.fromkeys(names, b"x"), workers=8)
    taken = counting_pages(monkeypatch)
    early = _sync_listings(azurite, container, tmp_path)
    assert _listed(azurite, early, container) == names
    assert len(taken) == 2
    assert _listed(azurite, early, container) == names  # taken once: the next is the job's own
    assert len(taken) == 2


def test_after_the_early_budget_the_job_goes_on_from_the_last_page(
    azurite, container, container_client, tmp_path, monkeypatch
) -> None:
    names = sorted(f"f{i:04d}" for i in range(1100))  # pages of 250, then 500 and 1000
    seed_blobs(container_client, dict.fromkeys(names, b"x"), workers=8)
    monkeypatch.setattr(early_listing, "EARLY_PAGES", 1)
    taken = counting_pages(monkeypatch)
    early = _sync_listings(azurite, container, tmp_path)
    assert _listed(azurite, early, container) == names
    assert len(taken) == 1


def test_a_failed_early_listing_leaves_the_listing_to_the_job(
    azurite, blob_service, tmp_path, monkeypatch
) -> None:
    name = "late-container"
    taken = counting_pages(monkeypatch)
    early = _sync_listings(azurite, name, tmp_path)  # no such container yet: a 404
    (listing,) = early._listings
    deadline = time.monotonic() + 10
    while not listing._ended and time.monotonic() < deadline:
        time.sleep(0.01)
    assert listing._ended
    blob_service.create_container(name)
    try:
        seed_blobs(blob_service.get_container_client(name), dict.fromkeys(["a", "b/c"], b"x"))
        assert _listed(azurite, early, name) == ["a", "b/c"]
        assert taken == []
    finally:
        blob_service.delete_container(name)


def test_an_early_listing_serves_only_its_own_request(
    azurite, container, container_client, tmp_path, monkeypatch
) -> None:
    seed_blobs(container_client, dict.fromkeys(["top", "sub/one", "sub/two"], b"x"))
    taken = counting_pages(monkeypatch)
    early = _sync_listings(azurite, container, tmp_path, "sub")
    assert _listed(azurite, early, container, "") == ["sub/one", "sub/two", "top"]
    assert taken == []  # it listed "sub/", and the job asked for the whole container
    assert _listed(azurite, early, container, "sub/") == ["sub/one", "sub/two"]
    assert len(taken) == 1
    other = RequestSigner(
        azurite.blob_endpoint, azurite.account, Credential("sas", azurite.account, sas="sig=x")
    )
    assert early.take(other, container, "sub/", None) is None


@pytest.mark.parametrize(
    ("command", "recursive", "sides"),
    [("sync", False, 2), ("copy", True, 1), ("copy", False, 0)],
)
def test_what_a_command_lists(azurite, container, command, recursive, sides) -> None:
    url = f"{azurite.blob_endpoint}/{container}"
    env = {"AZXFER_SOURCE_KEY": azurite.key, "AZXFER_DEST_KEY": azurite.key}
    early = start_listings(command, url, url + "/copy", recursive, NO_KEY_FILES, env)
    assert len(early._listings) == sides


@pytest.mark.parametrize(
    "location",
    ["{url}/*.txt", "{url}/b?snapshot=2026-01-01T00:00:00.0000000Z", "./local", "{anon}"],
)
def test_uncertain_listings_are_not_started(azurite, container, location, tmp_path) -> None:
    url = f"{azurite.blob_endpoint}/{container}"
    text = location.format(url=url, anon=url)
    env = {} if location == "{anon}" else {"AZXFER_SOURCE_KEY": azurite.key}
    early = start_listings("copy", text, str(tmp_path), True, NO_KEY_FILES, env)
    assert early._listings == []
