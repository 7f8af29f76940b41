"""Entities in the JSON form azxfer's export files hold, one per line: the Table service's
minimal-metadata JSON, with an `@odata.type` annotation wherever JSON alone cannot carry the
type. Sans-IO: bytes in, bytes out.

What JSON carries by itself: String, Boolean, Int32 (an integer) and a Double that is not
integral (0.5, 5e-324). Everything else is annotated: Int64 (a string), Guid, DateTime (its
100 ns digits kept as text, never parsed), Binary (base64), and a Double that is integral
(1.0, 1e300, -0.0) or not finite ("NaN", "Infinity", "-Infinity"): a service reading `1.0`
without its annotation stores an Int32 (Azurite does). Values are never reformatted except
an integral Double the service wrote without a decimal point.

The service's own fields (`odata.etag`, `odata.metadata`, ...) and `Timestamp` (set by the
service on every write, so it cannot be imported) are left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import msgspec

from azxfer.errors import UsageError

ANNOTATION = "@odata.type"
DOUBLE = "Edm.Double"
_SYSTEM = frozenset({"Timestamp"})
# What the service forbids in PartitionKey and RowKey: / \ # ? and control characters.
_FORBIDDEN_KEY = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")
_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


class EntityKeys(msgspec.Struct):
    """The keys of an entity line (the rest of it is skipped unread)."""

    PartitionKey: str
    RowKey: str


_decode_keys = msgspec.json.Decoder(EntityKeys).decode


def export_line(entity: dict[str, Any]) -> bytes:
    """One entity of a Query Entities answer (decoded) as a line of an export file."""
    out: dict[str, Any] = {}
    for name, edm, value in typed_properties(entity):
        if edm is not None:
            out[name + ANNOTATION] = edm
        out[name] = value
    return _encode(out) + b"\n"


def typed_properties(entity: dict[str, Any]) -> Iterator[tuple[str, str | None, Any]]:
    """The properties of a Query Entities answer's entity (decoded) to export: (name, the
    annotation it needs or None where JSON carries its type, value), the service's own fields
    left out, a Double the service wrote as an integer made a float again."""
    for name, value in entity.items():
        if name.startswith("odata.") or name in _SYSTEM or name.endswith(ANNOTATION):
            continue
        edm = entity.get(name + ANNOTATION)
        if edm is None and isinstance(value, float):
            edm = DOUBLE if not math.isfinite(value) or value.is_integer() else None
        elif edm == DOUBLE and isinstance(value, int):
            value = float(value)
        yield name, edm, value


def entity_body(properties: dict[str, Any]) -> bytes:
    """The JSON body of an entity (annotations included), as a batch sends it."""
    return _encode(properties)


def page_entities(body: bytes) -> list[dict[str, Any]]:
    """The entities of one Query Entities answer."""
    return list(_decode(body).get("value", ()))


def keys_of(line: bytes, where: str) -> EntityKeys:
    """The keys of an export line; UsageError naming `where` (file:line) if the line is no
    entity or a key holds a character the service forbids."""
    try:
        keys = _decode_keys(line)
    except msgspec.ValidationError as exc:
        raise UsageError(f"{where}: not an entity ({exc})") from None
    except msgspec.DecodeError:
        raise UsageError(f"{where}: not a JSON entity") from None
    check_keys(keys.PartitionKey, keys.RowKey, where)
    return keys


def check_keys(partition_key: str, row_key: str, where: str) -> None:
    """UsageError naming `where` if a key holds a character the service forbids."""
    for name, key in (("PartitionKey", partition_key), ("RowKey", row_key)):
        bad = _FORBIDDEN_KEY.search(key)
        if bad is not None:
            raise UsageError(
                f"{where}: the {name} {key[:60]!r} holds {bad.group()!r}, which Table storage "
                "forbids in keys (/ \\ # ? and control characters)"
            )
