"""Property test: random entities of random EDM types come back exactly after export → import
through the CLI, in JSON and in CSV (a small run: 30 examples each, one table each)."""

from __future__ import annotations

import uuid

import pytest
from seed import seed_table

hypothesis = pytest.importorskip("hypothesis")  # a test dependency (pyproject: test extras)
from azure.data.tables import EdmType, EntityProperty  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_tables import (  # noqa: E402
    fresh,
    only_manifest,
    table_contents,
    table_url,  # noqa: F401 - a fixture
    tables,  # noqa: F401 - a fixture
)

# Keys: any text the service takes (no / \ # ? or control characters; ≤ 512 UTF-16 units).
_KEY_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\#?\x7f\u2028\u2029"
)
_keys = st.text(_KEY_CHARS, min_size=1, max_size=40)
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
_datetimes = st.builds(
    lambda y, mo, d, h, mi, s, f: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{f:07d}Z",
    st.integers(1601, 9999), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23),
    st.integers(0, 59), st.integers(0, 59), st.integers(0, 9_999_999),
)  # fmt: skip
_values = st.one_of(
    _text,
    st.booleans(),
    st.integers(-(2**31), 2**31 - 1),
    st.integers(-(2**63), 2**63 - 1).map(lambda v: EntityProperty(v, EdmType.INT64)),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: v != 0.0 or str(v) == "0.0"),
    st.uuids(),
    _datetimes.map(lambda v: EntityProperty(v, EdmType.DATETIME)),
    st.binary(max_size=300),
)
_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True).filter(
    lambda n: n not in ("PartitionKey", "RowKey", "Timestamp")
)
_entities = st.lists(
    st.tuples(_keys, _keys, st.dictionaries(_names, _values, max_size=8)),
    min_size=1,
    max_size=6,
    unique_by=lambda e: (e[0], e[1]),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.parametrize("payload", ["json", "csv"])
@given(entities=_entities)
def test_random_entities_round_trip(run_azxfer, tables, table_url, tmp_path, payload, entities):  # noqa: F811
    source, dest = fresh(), fresh()
    seed_table(
        tables, source, [{"PartitionKey": pk, "RowKey": rk, **props} for pk, rk, props in entities]
    )
    folder = tmp_path / uuid.uuid4().hex
    run_azxfer("export", table_url(source), folder, "--payload-format", payload).assert_ok()
    manifest = only_manifest(folder)
    run_azxfer("import", folder, table_url(dest), "--manifest", manifest.name).assert_ok()
    assert table_contents(tables, dest) == table_contents(tables, source)
