"""The export layout, as AzCopy v8 names it: a manifest `<account>_<table>_<timestamp>.manifest`
and data files `<account>_<table>_<timestamp>_<range>_<split>_<CRC>.json` (or `.csv`, each with
its `<...>_<CRC>.schema.csv` beside it).

`<range>` is the partition-key range index (0 without `--pkrs`) and `<split>` the split index
(0 without `--split-size`); `<CRC>` is the CRC-32 (zlib's, the one of gzip and PNG) of the
file's bytes, as 8 upper-case hex digits, which the manifest repeats with the file's size and
entity count (and a schema's size and CRC). Import trusts nothing that does not match it.
"""

from __future__ import annotations

import os
from datetime import datetime

import msgspec

from azxfer.errors import IntegrityError

FORMAT = "azxfer-table-export/1"
PAYLOAD_JSON = "json"
PAYLOAD_CSV = "csv"
PAYLOADS = frozenset({PAYLOAD_JSON, PAYLOAD_CSV})


class SchemaFile(msgspec.Struct, frozen=True):
    """The `.schema.csv` of a CSV data file: its name, size and CRC-32."""

    name: str
    size: int
    crc32: str


class DataFile(msgspec.Struct, frozen=True):
    """One data file: its name (in the manifest's folder), range and split, size in bytes,
    entity count, and CRC-32 as 8 hex digits."""

    name: str
    range: int
    split: int
    size: int
    entities: int
    crc32: str
    schema: SchemaFile | None = None


class Source(msgspec.Struct, frozen=True):
    """What was exported: the table (its URL without a SAS) and the query's filter/select."""

    account: str
    table: str
    url: str
    filter: str | None = None
    select: list[str] | None = None


class Totals(msgspec.Struct, frozen=True):
    """The sums over every data file."""

    files: int
    entities: int
    bytes: int


class Manifest(msgspec.Struct, frozen=True):
    """An export's manifest."""

    format: str
    payload: str
    created: str
    source: Source
    ranges: list[list[str | None]]
    files: list[DataFile]
    totals: Totals


def export_stem(account: str, table: str, now: datetime) -> str:
    """`<account>_<table>_<timestamp>` (UTC, to the millisecond)."""
    return f"{account}_{table}_{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z"


def data_file_name(stem: str, range_index: int, split: int, crc: int, payload: str) -> str:
    """`<stem>_<range>_<split>_<CRC>.json` (or `.csv`)."""
    return f"{stem}_{range_index}_{split}_{crc:08X}.{payload}"


def schema_file_name(data_name: str) -> str:
    """The `.schema.csv` beside the CSV data file `data_name`."""
    return data_name.removesuffix(".csv") + ".schema.csv"


def encode_manifest(manifest: Manifest) -> bytes:
    """The manifest file's bytes (JSON, indented for people to read)."""
    return msgspec.json.format(msgspec.json.encode(manifest), indent=2) + b"\n"


def read_manifest(data: bytes, where: str) -> Manifest:
    """The manifest of bytes `data` (read from `where`); IntegrityError if not one of ours."""
    try:
        manifest = msgspec.json.decode(data, type=Manifest)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise IntegrityError(f"{where} is not an azxfer table manifest ({exc})") from None
    if manifest.format != FORMAT or manifest.payload not in PAYLOADS:
        raise IntegrityError(
            f"{where}: format {manifest.format!r} payload {manifest.payload!r} is not one this "
            f"azxfer reads ({FORMAT!r}, one of {sorted(PAYLOADS)})"
        )
    for item in manifest.files:
        names = [item.name] + ([item.schema.name] if item.schema is not None else [])
        if any(os.path.basename(n) != n or n in ("", ".", "..") for n in names):
            raise IntegrityError(f"{where}: data file name {item.name!r} is not a plain file name")
        if (item.schema is None) != (manifest.payload == PAYLOAD_JSON):
            raise IntegrityError(f"{where}: {item.name} and its schema do not match the payload")
    sums = Totals(
        len(manifest.files),
        sum(f.entities for f in manifest.files),
        sum(f.size for f in manifest.files),
    )
    if sums != manifest.totals:
        raise IntegrityError(f"{where}: its totals do not match the files it lists")
    return manifest
