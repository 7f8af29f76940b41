"""Transient faults on server-side copy requests (through tests/faultproxy.py).

A 503 with Retry-After and a connection reset, on Put Block From URL, on Copy Blob From URL
(the synchronous Copy Blob) and on the asynchronous Copy Blob: each is retried, shows as a
`retry` event, and the copy completes with the source's bytes.

aiohttp itself re-sends an idempotent request (PUT) once when a reused keep-alive connection
is reset, without the retry policy seeing it; so a reset rule fires twice on the same
request, and the second reset reaches azxfer's retry policy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from faultproxy import FaultProxy
from helpers import CliResult, data_for
from seed import temporary_container

MiB = 1024 * 1024
JSON = ("--output-type", "json")


@pytest.fixture
def fault_proxy(azurite) -> Iterator[FaultProxy]:
    with FaultProxy(azurite.blob_port, seed=4) as proxy:
        yield proxy


@pytest.fixture
def dest(blob_service) -> Iterator:
    """A second, empty container in the main account (a ContainerClient)."""
    with temporary_container(blob_service, "d") as client:
        yield client


def _completed(result: CliResult, count: int) -> None:
    result.assert_ok()
    finished = result.finished()
    assert (finished["status"], finished["files_completed"]) == ("Completed", count), (
        result.describe()
    )


def _retries(result: CliResult, blob: str) -> list[dict]:
    """Retry events about `blob` (the SDK path names the request, the REST path the blob)."""
    return [
        e
        for e in result.events_of("retry")
        if e["what"].endswith(f"/{blob}") or f"'{blob}'" in e["what"]
    ]


def _busy(event: dict) -> bool:
    return "503" in event["reason"]


def _contents(container_client) -> dict[str, bytes]:
    return {
        b.name: container_client.download_blob(b.name).readall()
        for b in container_client.list_blobs()
    }


def test_put_block_and_sync_copy_faults_are_retried(
    azurite, fault_proxy, container, container_client, dest, run_azxfer
):
    seeded = {"big.bin": data_for("big", 3 * MiB + 11), "small.txt": data_for("small", 1500)}
    for name, data in seeded.items():
        container_client.upload_blob(name, data)
    d = f"/{dest.container_name}"
    busy = fault_proxy.rule(
        "status", method="PUT", path=f"{d}/big.bin", query="comp=block&", status=503,
        error_code="ServerBusy", retry_after=1,
    )  # fmt: skip
    reset = fault_proxy.rule(
        "reset", method="PUT", path=f"{d}/big.bin", query="comp=block&", skip=1, times=2
    )
    # small.txt: Put Blob From URL (501 at Azurite, not retried), then Copy Blob From URL
    sync_busy = fault_proxy.rule(
        "status", method="PUT", path=f"{d}/small.txt", skip=1, status=503, retry_after=1
    )
    acct = azurite.account
    result = run_azxfer(
        "copy", fault_proxy.url(acct, container), fault_proxy.url(acct, dest.container_name),
        "-r", "--as-subdir=false", "--block-size-mb", "1", *JSON,
    )  # fmt: skip
    _completed(result, 2)
    assert (busy.fired, reset.fired, sync_busy.fired) == (1, 2, 1)
    assert _contents(dest) == seeded
    committed, _ = dest.get_blob_client("big.bin").get_block_list()
    assert len(committed) == 4
    md5 = dest.get_blob_client("big.bin").get_blob_properties().content_settings.content_md5
    assert bytes(md5) == hashlib.md5(seeded["big.bin"]).digest()

    big = _retries(result, "big.bin")
    assert [e for e in big if _busy(e)], result.describe()
    assert [e for e in big if not _busy(e)], f"no retry after the reset\n{result.describe()}"
    assert all(e["wait_seconds"] >= 1 for e in big if _busy(e))  # Retry-After: 1
    small = _retries(result, "small.txt")
    assert len(small) == 1 and _busy(small[0]), result.describe()
    # the sync copy was sent twice (the 503, then the retry); Put Blob From URL once (501)
    sent = [r.status for r in fault_proxy.requests if r.path.endswith(f"{d}/small.txt")]
    assert sent == [501, 503, 202], sent


def test_async_copy_blob_faults_are_retried(
    azurite, fault_proxy, container, container_client, dest, run_azxfer
):
    seeded = {"a.bin": data_for("a", 4000), "b.bin": data_for("b", MiB + 1)}
    for name, data in seeded.items():
        container_client.upload_blob(name, data)
    d = f"/{dest.container_name}"
    busy = fault_proxy.rule("status", method="PUT", path=f"{d}/a.bin", status=503, retry_after=1)
    reset = fault_proxy.rule("reset", method="PUT", path=f"{d}/b.bin", times=2)
    acct = azurite.account
    result = run_azxfer(
        "copy", fault_proxy.url(acct, container), fault_proxy.url(acct, dest.container_name),
        "-r", "--as-subdir=false", "--s2s-mode", "async", *JSON,
    )  # fmt: skip
    _completed(result, 2)
    assert (busy.fired, reset.fired) == (1, 2)
    assert _contents(dest) == seeded
    for name in seeded:
        assert dest.get_blob_client(name).get_blob_properties().copy.status == "success"
    a_retries = _retries(result, "a.bin")
    assert len(a_retries) == 1 and _busy(a_retries[0]), result.describe()
    b_retries = _retries(result, "b.bin")
    assert b_retries and not any(_busy(e) for e in b_retries), result.describe()
    # each Copy Blob ended as exactly one accepted copy
    for name in seeded:
        accepted = [
            r
            for r in fault_proxy.requests
            if r.method == "PUT" and r.path.endswith(f"{d}/{name}") and r.status == 202
        ]
        assert len(accepted) == 1, name


def test_5xx_of_a_method_that_worked_in_the_job_stays_transient(
    azurite, fault_proxy, container, container_client, dest, run_azxfer
):
    """Copy Blob From URL copies a.txt, so the 500s to it for b.txt are retried in full (two
    retries, more than a method not yet proven gets) rather than b.txt going down the ladder."""
    seeded = {"a.txt": data_for("a", 900), "b.txt": data_for("b", 1100)}
    for name, data in seeded.items():
        container_client.upload_blob(name, data)
    d = f"/{dest.container_name}"
    # One request slot, taken in turn: a.txt's and b.txt's Put Blob From URL (501), then a.txt's
    # Copy Blob From URL (202: the method worked), then b.txt's, answered 500 twice.
    busy = fault_proxy.rule(
        "status", method="PUT", path=f"{d}/b.txt", header="x-ms-requires-sync", status=500,
        times=2,
    )  # fmt: skip
    acct = azurite.account
    result = run_azxfer(
        "copy", fault_proxy.url(acct, container), fault_proxy.url(acct, dest.container_name),
        "-r", "--as-subdir=false", "--concurrency", "1", *JSON,
    )  # fmt: skip
    _completed(result, 2)
    assert busy.fired == 2
    assert _contents(dest) == seeded
    sent0 = [(r.status, r.query) for r in fault_proxy.requests if r.path.endswith(f"{d}/b.txt")]
    assert len(_retries(result, "b.txt")) == 2, sent0
    sent = [r.status for r in fault_proxy.requests if r.path.endswith(f"{d}/b.txt")]
    assert sent == [501, 500, 500, 202], sent  # no Put Block From URL: it kept its method
