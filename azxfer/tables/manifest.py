"""The export layout, as AzCopy v8 names it: a manifest `<account>_<table>_<timestamp>.manifest`
and data files `<account>_<table>_<timestamp>_<range>_<split>_<CRC>.json`.

`<range>` is the partition-key range index and `<split>` the split index (both 0 until ranges
and splits exist); `<CRC>` is the CRC-32 (zlib's, the one of gzip and PNG) of the file's bytes,
as 8 upper-case hex digits, which the manifest repeats with the file's size and entity count.
Import trusts nothing that does not match the manifest.
"""

from __future__ import annotations

import os
import zlib
from datetime import datetime
from pathlib import Path

import msgspec

from azxfer.errors import IntegrityError, UsageError

FORMAT = "azxfer-table-export/1"
PAYLOAD_JSON = "json"
_READ_PIECE = 1024 * 1024


class DataFile(msgspec.Struct, frozen=True):
    """One data file: its name (in the manifest's folder), range and split, size in bytes,
    entity count, and CRC-32 as 8 hex digits."""

    name: str
    range: int
    split: int
    size: int
    entities: int
    crc32: str


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


def data_file_name(stem: str, range_index: int, split: int, crc: int) -> str:
    """`<stem>_<range>_<split>_<CRC>.json`."""
    return f"{stem}_{range_index}_{split}_{crc:08X}.json"


def encode_manifest(manifest: Manifest) -> bytes:
    """The manifest file's bytes (JSON, indented for people to read)."""
    return msgspec.json.format(msgspec.json.encode(manifest), indent=2) + b"\n"


def read_manifest(path: Path) -> Manifest:
    """The manifest at `path`; UsageError if it is missing or not one of ours."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"manifest {path} does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot read manifest {path}: {exc.strerror}") from None
    try:
        manifest = msgspec.json.decode(data, type=Manifest)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise IntegrityError(f"{path} is not an azxfer table manifest ({exc})") from None
    if manifest.format != FORMAT or manifest.payload != PAYLOAD_JSON:
        raise IntegrityError(
            f"{path}: format {manifest.format!r} payload {manifest.payload!r} is not one this "
            f"azxfer reads ({FORMAT!r}, {PAYLOAD_JSON!r})"
        )
    for item in manifest.files:
        if os.path.basename(item.name) != item.name or item.name in ("", ".", ".."):
            raise IntegrityError(f"{path}: data file name {item.name!r} is not a plain file name")
    sums = Totals(
        len(manifest.files),
        sum(f.entities for f in manifest.files),
        sum(f.size for f in manifest.files),
    )
    if sums != manifest.totals:
        raise IntegrityError(f"{path}: its totals do not match the files it lists")
    return manifest


def check_data_file(folder: Path, item: DataFile) -> None:
    """Raise IntegrityError unless the data file is there with the manifest's size and CRC."""
    path = folder / item.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise IntegrityError(f"data file {path} is missing") from None
    if size != item.size:
        raise IntegrityError(
            f"data file {path} has {size} bytes, the manifest says {item.size}: "
            "it is truncated or was changed"
        )
    crc = 0
    with path.open("rb") as stream:
        while piece := stream.read(_READ_PIECE):
            crc = zlib.crc32(piece, crc)
    if f"{crc:08X}" != item.crc32.upper():
        raise IntegrityError(
            f"data file {path} has CRC-32 {crc:08X}, the manifest says {item.crc32}: it was changed"
        )
