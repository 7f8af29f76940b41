"""The rows of a job's journal as plain data: a job as `azxfer jobs` shows it, a journaled
transfer, and the states a transfer goes through.

Apart from `store` (which reads and writes them) because the planner, the recorders and
`azxfer jobs` use them without the database.
"""

from __future__ import annotations

import json
from typing import Any

from msgspec import Struct


class TransferState:
    """States of a transfer row (plain strings, as stored)."""

    PENDING = "pending"
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ALL = (PENDING, ACTIVE, COMPLETED, FAILED, SKIPPED)
    UNFINISHED = (PENDING, ACTIVE, FAILED)


class JobRecord(Struct, frozen=True):
    """A job as `azxfer jobs` shows it."""

    id: str
    command: str
    source: str
    destination: str
    options: dict[str, Any]
    created: float
    updated: float
    status: str
    enumerated: bool
    counts: dict[str, int]


class TransferRow(Struct, frozen=True):
    """One journaled transfer, with its serialized entry and write properties."""

    id: int
    source_ref: str
    dest_ref: str
    dest_display: str
    size: int
    mtime: float | None
    entry: dict[str, Any]
    props: dict[str, Any]
    chunk_size: int
    state: str
    reason: str | None


def transfer_row(r: tuple[Any, ...]) -> TransferRow:
    """A TransferRow from `SELECT id, source_ref, dest_ref, dest_display, size, mtime, entry,
    props, chunk_size, state, reason`."""
    return TransferRow(
        r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), json.loads(r[7]), r[8], r[9], r[10]
    )
