"""`azxfer list`'s pure parts: --properties names, JSON keys, and the renderer's lines."""

from __future__ import annotations

import io
import json

import pytest

from azxfer.cli.list import Renderer
from azxfer.errors import UsageError
from azxfer.listjob import Listed, ListField, json_key, parse_properties


def test_properties_any_case_each_once_in_order():
    fields = parse_properties(" contentmd5;LASTMODIFIEDTIME;;ContentMD5;metadata ")
    assert fields == (ListField.CONTENT_MD5, ListField.LAST_MODIFIED, ListField.METADATA)
    assert parse_properties(None) == ()


def test_unknown_property_names_the_valid_ones():
    with pytest.raises(UsageError) as caught:
        parse_properties("BlobType;Colour")
    message = str(caught.value)
    assert "'Colour'" in message
    assert all(field.value in message for field in ListField)


def test_json_keys_are_snake_case():
    keys = {json_key(field) for field in ListField}
    assert {"last_modified_time", "content_md5", "blob_access_tier", "etag"} <= keys
    assert {"version_id", "last_write_time", "archive_status"} <= keys


def test_text_lines():
    out = io.StringIO()
    fields = (ListField.CONTENT_TYPE, ListField.METADATA)
    render = Renderer(out, json_output=False, machine=False, fields=fields)
    render.entry(Listed("a/b.txt", 1536, properties={"ContentType": "text/plain"}))
    render.entry(Listed("dir", 0, is_directory=True))
    render.summary(1, 1, 1536, tally=True)
    assert out.getvalue().splitlines() == [
        "a/b.txt\t1.5 KiB\tContentType=text/plain\tMetadata=",
        "dir/\t-\tMetadata=",
        "Files: 1; directories: 1; total size: 1.5 KiB",
    ]


def test_json_lines():
    out = io.StringIO()
    render = Renderer(out, json_output=True, machine=True, fields=(ListField.LAST_MODIFIED,))
    props = {"LastModifiedTime": "2024-01-02T03:04:05Z"}
    render.entry(Listed("x", 3, properties=props, metadata={"k": "v"}))
    render.summary(1, 0, 3, tally=False)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [
        {
            "event": "list_entry",
            "name": "x",
            "size": 3,
            "type": "file",
            "last_modified_time": "2024-01-02T03:04:05Z",
            "metadata": {"k": "v"},
        },
        {"event": "list_summary", "files": 1, "directories": 0, "bytes": 3},
    ]
