"""Retries are visible: a `retry` event per retried request, counted in the text summary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faultproxy import FaultProxy, Rule


@pytest.fixture
def fault_proxy(azurite) -> Iterator[FaultProxy]:
    proxy = FaultProxy(azurite.blob_port, seed=7)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def test_throttled_put_is_reported_as_a_retry(
    tmp_path, make_tree, run_azxfer, azurite, fault_proxy, container, container_client
):
    src = make_tree(tmp_path / "src", {"one.txt": 100})
    fault_proxy.add(Rule("status", method="PUT", path="one.txt", status=503, retry_after=0.2))
    url = fault_proxy.url(azurite.account, container)
    result = run_azxfer("copy", src / "one.txt", url, "--output-type", "json").assert_ok()
    retries = result.events_of("retry")
    assert len(retries) == 1, result.describe()
    assert retries[0]["attempt"] == 2
    assert retries[0]["wait_seconds"] >= 0.2
    assert "503" in retries[0]["reason"] or "busy" in retries[0]["reason"].lower()
    assert container_client.download_blob("one.txt").readall() == (src / "one.txt").read_bytes()


def test_text_summary_counts_retries(
    tmp_path, make_tree, run_azxfer, azurite, fault_proxy, container
):
    src = make_tree(tmp_path / "src", {"a.txt": 10, "b.txt": 20})
    fault_proxy.add(
        Rule(
            "status",
            method="PUT",
            path=".txt",
            status=500,
            retry_after=0.1,
            times=2,
            same_request=False,
        )
    )
    url = fault_proxy.url(azurite.account, container)
    result = run_azxfer("copy", src, url, "-r").assert_ok()
    assert "Retries: 2 requests sent again" in result.stdout, result.describe()
