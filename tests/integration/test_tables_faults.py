"""Throttling and broken connections between azxfer and the Table service (through
tests/faultproxy.py in front of Azurite's table port): query pages and Entity Group
Transactions answered 503 ServerBusy or 429 with Retry-After, a connection reset before the
answer, and answers cut off mid-body. Export and import still give exactly the table's and
the files' entities, none lost and none twice, and every retry is a `retry` event."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from faultproxy import FaultProxy
from seed import seed_table
from test_tables import fresh, only_manifest, table_contents, tables  # noqa: F401 - a fixture

pytestmark = pytest.mark.timeout(300)

# Three query pages (1,000 entities each at most) and 25 batches (100 each, one partition).
PARTITIONS, ROWS = 4, 600
BUSY = {"status": 503, "error_code": "ServerBusy", "retry_after": 1}
THROTTLED = {"status": 429, "error_code": "TooManyRequests", "retry_after": 1}


@pytest.fixture
def table_proxy(azurite) -> Iterator[FaultProxy]:
    proxy = FaultProxy(azurite.table_port, seed=20261206)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def _seeded(tables) -> str:  # noqa: F811 - the fixture imported above
    name = fresh()
    rows = [
        {"PartitionKey": f"p{p}", "RowKey": f"{r:05d}", "v": r, "s": "x" * (r % 50)}
        for p in range(PARTITIONS)
        for r in range(ROWS)
    ]
    seed_table(tables, name, rows, batch=100)
    return name


def _url(proxy: FaultProxy, azurite, table: str) -> str:
    return f"http://127.0.0.1:{proxy.port}/{azurite.account}/{table}"


def _retries_cover(result, fired: int) -> None:
    retries = result.events_of("retry")
    assert len(retries) == fired, result.describe()
    assert all(r["attempt"] >= 1 and r["reason"] for r in retries), retries


@pytest.mark.parametrize("operation", ["InsertOrSkip", "InsertOrReplace"])
def test_throttled_pages_and_batches_lose_nothing_and_double_nothing(
    run_azxfer,
    azurite,
    tables,  # noqa: F811 - the fixture imported above
    table_proxy,
    tmp_path,
    operation,
) -> None:
    source, dest = _seeded(tables), fresh()
    page = f"/{source}()"
    rules = [
        table_proxy.rule("status", method="GET", path=page, **BUSY),
        table_proxy.rule("status", method="GET", path=page, query="NextPartitionKey", **THROTTLED),
        table_proxy.rule("truncate", method="GET", path=page, query="NextPartitionKey", skip=1),
    ]
    folder = tmp_path / "export"
    exported = run_azxfer(
        "export", _url(table_proxy, azurite, source), folder, "--output-type", "json"
    ).assert_ok()
    assert [r.fired for r in rules] == [1, 1, 1], table_proxy.requests
    # Three pages, each fault costing one more request: no page asked for twice beyond that.
    assert table_proxy.count(method="GET", path=page) == 3 + 3
    _retries_cover(exported, 3)
    manifest = only_manifest(folder)
    assert json.loads(manifest.read_text())["totals"]["entities"] == PARTITIONS * ROWS
    lines = [line for f in folder.glob("*.json") for line in f.read_bytes().splitlines()]
    keys = [(e["PartitionKey"], e["RowKey"]) for e in map(json.loads, lines)]
    assert len(keys) == len(set(keys)) == PARTITIONS * ROWS  # none lost, none twice

    table_proxy.clear()
    table_proxy.reset_log()
    rules = [
        table_proxy.rule("status", method="POST", path="$batch", skip=2, **BUSY),
        table_proxy.rule("status", method="POST", path="$batch", skip=5, **THROTTLED),
        table_proxy.rule("reset", method="POST", path="$batch", skip=8),
        # Azurite applies this batch; its answer is cut off, so the batch is sent again.
        table_proxy.rule("truncate", method="POST", path="$batch", skip=11),
    ]
    imported = run_azxfer(
        "import",
        folder,
        _url(table_proxy, azurite, dest),
        "--manifest",
        manifest.name,
        "--entity-operation",
        operation,
        "--concurrency",
        "4",
        "--output-type",
        "json",
    ).assert_ok()
    assert [r.fired for r in rules] == [1, 1, 1, 1], table_proxy.requests
    batches = table_proxy.count(method="POST", path="$batch")
    if operation == "InsertOrReplace":
        assert batches == PARTITIONS * ROWS // 100 + 4  # each fault: the batch once more
    else:
        # The applied batch whose answer was cut off conflicts whole when sent again;
        # InsertOrSkip then drops one conflicting entity per send (tables/ batch code).
        assert batches <= PARTITIONS * ROWS // 100 + 4 + 99, batches
    # A reset before any answer on a reused connection is what a server closing an idle
    # keep-alive connection looks like: the pool sends it once more on a new connection,
    # without a retry event (transport/pool.py). The other three are the retry policy's.
    _retries_cover(imported, 3)
    (done,) = imported.events_of("entities_done")
    assert done["entities_total"] == PARTITIONS * ROWS
    assert done["entities_written"] + done["entities_skipped"] == PARTITIONS * ROWS
    assert done["entities_failed"] == 0
    # The applied-but-unanswered batch counts as skipped under InsertOrSkip (it was ours).
    assert done["entities_skipped"] == (100 if operation == "InsertOrSkip" else 0)
    assert table_contents(tables, dest) == table_contents(tables, source)
