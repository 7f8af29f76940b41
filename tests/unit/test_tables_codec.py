"""The sans-IO parts of Table export/import: the export form of entities, key checks, batch
bodies and answers, and the layout's names."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from azxfer.endpoints.tables.batch import (
    BatchEntity,
    EntityOperation,
    batch_body,
    batch_failure,
    entity_path,
    escape_separators,
)
from azxfer.endpoints.tables.entities import export_line, keys_of
from azxfer.errors import UsageError
from azxfer.tables.manifest import data_file_name, export_stem


def test_export_line_annotates_what_json_cannot_carry():
    entity = {
        "odata.etag": "W/x",
        "PartitionKey": "p",
        "RowKey": "r",
        "Timestamp": "2026-01-01T00:00:00Z",
        "i": 5,
        "half": 0.5,
        "one": 1.0,
        "neg0": -0.0,
        "big": 1e300,
        "n@odata.type": "Edm.Double",
        "n": "NaN",
        "d@odata.type": "Edm.Double",
        "d": 7,
        "l@odata.type": "Edm.Int64",
        "l": "9223372036854775807",
        "t@odata.type": "Edm.DateTime",
        "t": "1601-01-01T00:00:00.0000001Z",
    }
    line = export_line(entity)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    out = json.loads(line)
    assert "odata.etag" not in out and "Timestamp" not in out
    assert "i@odata.type" not in out and "half@odata.type" not in out
    for name in ("one", "neg0", "big", "n", "d"):
        assert out[f"{name}@odata.type"] == "Edm.Double", name
    assert b'"d":7.0' in line and b'"neg0":-0.0' in line
    assert out["l@odata.type"] == "Edm.Int64" and out["t"] == "1601-01-01T00:00:00.0000001Z"


def test_export_line_keeps_strings_on_one_line():
    line = export_line({"PartitionKey": "a\nb", "RowKey": "\r", "s": "x\u2028\x00"})
    assert line.count(b"\n") == 1
    assert json.loads(line)["s"] == "x\u2028\x00"


@pytest.mark.parametrize("key", ["a/b", "a\\b", "a#b", "a?b", "a\x01b", "a\x7fb", "a\x9fb"])
def test_keys_with_forbidden_characters_are_refused(key):
    line = json.dumps({"PartitionKey": "ok", "RowKey": key}).encode()
    with pytest.raises(UsageError, match="forbids"):
        keys_of(line, "f.json:3")


def test_keys_of_a_line_that_is_no_entity():
    with pytest.raises(UsageError, match=r"f\.json:1: not a JSON entity"):
        keys_of(b"{nope", "f.json:1")
    with pytest.raises(UsageError, match="not an entity"):
        keys_of(b'{"PartitionKey": "a"}', "f.json:1")
    assert keys_of(b'{"PartitionKey":"\xc3\xa9","RowKey":"1","x":1}', "f").PartitionKey == "é"


def test_entity_path_doubles_quotes_and_encodes():
    assert (
        entity_path("t", "it's", "a b/é") == "/t(PartitionKey='it%27%27s',RowKey='a%20b%2F%C3%A9')"
    )


_ENTITY = "t(PartitionKey='p',RowKey='r')"


@pytest.mark.parametrize(
    ("operation", "line"),
    [
        (EntityOperation.INSERT_OR_SKIP, "POST http://h/acct/t HTTP/1.1"),
        (EntityOperation.INSERT_OR_MERGE, f"MERGE http://h/acct/{_ENTITY} HTTP/1.1"),
        (EntityOperation.INSERT_OR_REPLACE, f"PUT http://h/acct/{_ENTITY} HTTP/1.1"),
    ],
)  # fmt: skip
def test_batch_body(operation, line):
    entities = [BatchEntity("p", "r", b'{"PartitionKey":"p","RowKey":"r"}')] * 2
    content_type, body = batch_body("http://h/acct/t", "t", operation, entities)
    boundary = content_type.removeprefix("multipart/mixed; boundary=")
    text = body.decode()
    assert text.startswith(f"--{boundary}\r\n") and text.endswith(f"--{boundary}--\r\n")
    assert text.count(line) == 2
    assert text.count('{"PartitionKey":"p","RowKey":"r"}\r\n') == 2


def test_batch_failure_reads_the_failed_operation():
    ok = b"--b\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n--b\r\n\r\nHTTP/1.1 204 No Content\r\n"
    assert batch_failure(ok) is None
    failed = (
        b"--c\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 409 Conflict\r\nContent-ID: 2\r\n"
        b'\r\n{"odata.error":{"code":"EntityAlreadyExists","message":{"lang":"en-US",'
        b'"value":"17:The specified entity already exists.\\nRequestId:x"}}}\r\n--c--'
    )
    failure = batch_failure(failed)
    assert failure is not None
    assert (failure.status, failure.code, failure.index) == (409, "EntityAlreadyExists", 17)
    assert failure.message == "The specified entity already exists."
    unindexed = failed.replace(b'"value":"17:', b'"value":"')
    assert batch_failure(unindexed).index is None


def test_escape_separators_keeps_the_value():
    body = json.dumps({"s": "a\u2028b\u2029"}, ensure_ascii=False).encode()
    assert b"\xe2\x80\xa8" not in escape_separators(body)
    assert json.loads(escape_separators(body)) == json.loads(body)
    plain = b'{"s":"\xe2\x80\x99"}'
    assert escape_separators(plain) is plain or escape_separators(plain) == plain


def test_layout_names():
    stem = export_stem("acct", "orders", datetime(2026, 12, 6, 18, 16, 4, 519279, tzinfo=UTC))
    assert stem == "acct_orders_20261206T181604519Z"
    assert data_file_name(stem, 0, 0, 0x1ABC, "json") == f"{stem}_0_0_00001ABC.json"
