"""Entities as CSV, sans-IO: the rows of a CSV data file and the `.schema.csv` beside it.

Tables are schemaless, so a data file's columns are the (property name, EDM type) pairs its
entities have, in the order they first appear: PartitionKey and RowKey first, and a name may
come twice with two types. The schema file lists them, one row per column (`"column","type"`
after a header row); the data file has no header row of its own, so it can be written as the
entities stream in, its schema once it is complete.

Cells (RFC 4180, rows end in CRLF): every present value is quoted, `"` doubled, so an absent
property is an empty *unquoted* cell and an empty string is `""`; trailing absent cells are
left out. Table storage has no null: a property set to null is not stored, so it is absent.
Values are the service's own text: Boolean `true`/`false`, integers in decimal, a Double as
Python's shortest exact form or `NaN`/`Infinity`/`-Infinity`, DateTime with its 100 ns digits,
Guid, Binary in base64.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from azxfer.endpoints.tables.batch import escape_separators
from azxfer.endpoints.tables.entities import (
    ANNOTATION,
    DOUBLE,
    check_keys,
    entity_body,
    typed_properties,
)
from azxfer.errors import IntegrityError

STRING = "Edm.String"
INT32 = "Edm.Int32"
BOOLEAN = "Edm.Boolean"
# The type of a value JSON carries without an annotation.
_PLAIN = {str: STRING, bool: BOOLEAN, int: INT32, float: DOUBLE}
# Types whose text is sent as a string with its annotation.
_ANNOTATED_TEXT = frozenset({"Edm.Int64", "Edm.Guid", "Edm.DateTime", "Edm.Binary"})
TYPES = frozenset({STRING, INT32, BOOLEAN, DOUBLE, *_ANNOTATED_TEXT})
_NOT_FINITE = frozenset({"NaN", "Infinity", "-Infinity"})
SCHEMA_HEADER = ("column", "type")
# A cell: quoted (its text, the separator after it) or absent (only the separator).
_CELL = re.compile(r'"([^"]*(?:""[^"]*)*)"(,|\r\n)|(,|\r\n)')
# A row longer than this (as text) is no row of ours: an entity is at most 1 MiB, its Binary
# base64 and its quotes doubled at worst.
_MAX_ROW_CHARS = 8 * 1024 * 1024

Column = tuple[str, str]
Row = list[str | None]


def _cell(text: str | None) -> str:
    return "" if text is None else '"' + text.replace('"', '""') + '"'


def format_row(cells: list[str | None]) -> str:
    """One CSV row (CRLF included)."""
    return ",".join([_cell(text) for text in cells]) + "\r\n"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else _non_finite(value)
    return str(value)


def _non_finite(value: float) -> str:
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


class CsvColumns:
    """The columns of one CSV data file as its entities reveal them."""

    def __init__(self) -> None:
        self.columns: list[Column] = []
        self.index: dict[Column, int] = {}
        for key in ("PartitionKey", "RowKey"):
            self._add((key, STRING))

    def _add(self, column: Column) -> int:
        self.index[column] = len(self.columns)
        self.columns.append(column)
        return len(self.columns) - 1

    def row(self, entity: dict[str, Any]) -> bytes:
        """The CSV row of an entity of a Query Entities answer (decoded)."""
        cells: list[str | None] = []
        for name, edm, value in typed_properties(entity):
            column = (name, edm or _PLAIN[type(value)])
            at = self.index.get(column)
            if at is None:
                at = self._add(column)
            if at >= len(cells):
                cells.extend([None] * (at + 1 - len(cells)))
            cells[at] = _text(value)
        return format_row(cells).encode()

    def schema(self) -> bytes:
        """The `.schema.csv` of the data file."""
        rows = [format_row(list(SCHEMA_HEADER))]
        rows.extend(format_row([name, edm]) for name, edm in self.columns)
        return "".join(rows).encode()


class RowParser:
    """Splits CSV text, fed in pieces of any size, into rows."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.rest = ""
        self.rows = 0

    def feed(self, text: str) -> Iterator[Row]:
        """The rows `text` completes (a row cut at the end waits for the next piece)."""
        buffer = self.rest + text if self.rest else text
        pos = start = 0
        row: Row = []
        match = _CELL.match
        while (cell := match(buffer, pos)) is not None:
            quoted, after_quoted, after_absent = cell.groups()
            if after_absent is None:
                row.append(quoted.replace('""', '"') if '""' in quoted else quoted)
            else:
                row.append(None)
            pos = cell.end()
            if (after_absent or after_quoted) == "\r\n":
                self.rows += 1
                yield row
                row, start = [], pos
        self.rest = buffer[start:]
        if len(self.rest) > _MAX_ROW_CHARS:
            raise IntegrityError(f"{self.where}: row {self.rows + 1} is not CSV of ours")

    def finish(self) -> None:
        """Raise unless the text ended with a complete row."""
        if self.rest:
            raise IntegrityError(f"{self.where}: row {self.rows + 1} is not CSV of ours")


def parse_schema(data: bytes, where: str) -> list[Column]:
    """The columns a `.schema.csv` names; IntegrityError if it is not one."""
    parser = RowParser(where)
    try:
        rows = list(parser.feed(data.decode()))
    except UnicodeDecodeError:
        raise IntegrityError(f"{where} is not UTF-8") from None
    parser.finish()
    if not rows or tuple(rows[0]) != SCHEMA_HEADER:
        raise IntegrityError(f"{where}: not a schema (its first row must be column,type)")
    columns: list[Column] = []
    for number, row in enumerate(rows[1:], 2):
        if len(row) != 2 or row[0] is None or row[1] not in TYPES:
            raise IntegrityError(f"{where}:{number}: not a column name and an EDM type")
        columns.append((row[0], row[1]))  # type: ignore[arg-type]
    if columns[:2] != [("PartitionKey", STRING), ("RowKey", STRING)]:
        raise IntegrityError(f"{where}: the first columns must be PartitionKey and RowKey")
    return columns


def _value(edm: str, text: str) -> tuple[Any, bool]:
    """A cell's value as an entity body carries it, and whether it needs its annotation."""
    if edm == STRING:
        return text, False
    if edm in _ANNOTATED_TEXT:
        return text, True
    if edm == BOOLEAN:
        if text not in ("true", "false"):
            raise ValueError(text)
        return text == "true", False
    if edm == INT32:
        value = int(text)
        if not -(2**31) <= value < 2**31:
            raise ValueError(text)
        return value, False
    return (text if text in _NOT_FINITE else float(text)), True


def row_entity(row: Row, columns: list[Column], where: str) -> tuple[str, str, bytes]:
    """The keys and JSON body (as a batch sends it) of a CSV row; UsageError/IntegrityError
    naming `where`."""
    if len(row) > len(columns) or len(row) < 2 or row[0] is None or row[1] is None:
        raise IntegrityError(f"{where}: not a row of its schema's columns")
    check_keys(row[0], row[1], where)
    properties: dict[str, Any] = {}
    for (name, edm), text in zip(columns, row, strict=False):
        if text is None:
            continue
        try:
            value, annotated = _value(edm, text)
        except ValueError:
            raise IntegrityError(f"{where}: {name} {text[:40]!r} is no {edm}") from None
        if annotated:
            properties[name + ANNOTATION] = edm
        properties[name] = value
    return row[0], row[1], escape_separators(entity_body(properties))
