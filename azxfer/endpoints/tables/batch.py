"""Entity Group Transactions, sans-IO: the multipart/mixed body of one batch (one changeset of
up to 100 operations on entities of one partition), and what its answer says.

The service runs a changeset atomically: if one operation fails, none is applied, and the
answer holds that one operation's error, whose message starts with the operation's index
("1:The specified entity already exists."). So a caller can drop (or count as skipped) that
one entity and send the others again, losing and doubling none.
"""

from __future__ import annotations

import enum
import re
import uuid
from urllib.parse import quote

from msgspec import Struct

# The service's limits for one batch.
MAX_OPERATIONS = 100
MAX_BATCH_BYTES = 4 * 1024 * 1024
# What one operation adds to a body besides its entity (boundary, headers, request line),
# with room for a long endpoint and two keys of 1 KiB percent-encoded.
OPERATION_OVERHEAD = 8 * 1024

_INNER_STATUS = re.compile(rb"^HTTP/1\.1 (\d{3})", re.MULTILINE)
_ERROR_CODE = re.compile(rb'"code"\s*:\s*"([A-Za-z]+)"')
_ERROR_INDEX = re.compile(rb'"value"\s*:\s*"(\d+):')
_ERROR_TEXT = re.compile(rb'"value"\s*:\s*"(?:\d+:)?([^"\\]*)')


class EntityOperation(enum.Enum):
    """What an import does with each entity (AzCopy v8's /EntityOperation)."""

    INSERT_OR_SKIP = "InsertOrSkip"
    INSERT_OR_MERGE = "InsertOrMerge"
    INSERT_OR_REPLACE = "InsertOrReplace"


# Each operation's method, and whether it addresses the entity (else the table).
_METHOD = {
    EntityOperation.INSERT_OR_SKIP: ("POST", False),
    EntityOperation.INSERT_OR_MERGE: ("MERGE", True),
    EntityOperation.INSERT_OR_REPLACE: ("PUT", True),
}


class BatchEntity(Struct, frozen=True):
    """One entity of a batch: its keys and its JSON body (a line of an export file, through
    `escape_separators`)."""

    partition_key: str
    row_key: str
    body: bytes


class BatchFailure(Struct, frozen=True):
    """The failed operation of a changeset: its status, error code, index (None when the
    service does not say) and the service's words."""

    status: int
    code: str
    index: int | None
    message: str


def entity_path(table: str, partition_key: str, row_key: str) -> str:
    """The percent-encoded path of one entity: /table(PartitionKey='p',RowKey='r')."""
    pk = quote(partition_key.replace("'", "''"), safe="")
    rk = quote(row_key.replace("'", "''"), safe="")
    return f"/{table}(PartitionKey='{pk}',RowKey='{rk}')"


def batch_body(
    table_url: str, table: str, operation: EntityOperation, entities: list[BatchEntity]
) -> tuple[str, bytes]:
    """The Content-Type and body of a batch applying `operation` to `entities`;
    `table_url` is the table's URL without a query ("https://acct.table.…/t")."""
    batch, changeset = f"batch_{uuid.uuid4()}", f"changeset_{uuid.uuid4()}"
    method, addressed = _METHOD[operation]
    base = table_url[: -len(table) - 1]
    parts = [f"--{batch}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n".encode()]
    for number, entity in enumerate(entities):
        url = table_url
        if addressed:
            url = base + entity_path(table, entity.partition_key, entity.row_key)
        parts.append(
            (
                f"--{changeset}\r\nContent-Type: application/http\r\n"
                "Content-Transfer-Encoding: binary\r\n\r\n"
                f"{method} {url} HTTP/1.1\r\nContent-ID: {number}\r\n"
                "Content-Type: application/json\r\n"
                "Accept: application/json;odata=minimalmetadata\r\n"
                "Prefer: return-no-content\r\nDataServiceVersion: 3.0;\r\n\r\n"
            ).encode()
        )
        parts.append(entity.body)
        parts.append(b"\r\n")
    parts.append(f"--{changeset}--\r\n--{batch}--\r\n".encode())
    return f"multipart/mixed; boundary={batch}", b"".join(parts)


def escape_separators(body: bytes) -> bytes:
    """U+2028 and U+2029 as JSON escapes: the same string, but Azurite's batch parser takes
    them raw for line ends and refuses the entity (PropertiesNeedValue). Outside strings JSON
    has neither, so replacing every one is exact."""
    if b"\xe2\x80" not in body:
        return body
    return body.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")


def batch_failure(answer: bytes) -> BatchFailure | None:
    """The failed operation a batch's answer reports, or None when every one succeeded."""
    for match in _INNER_STATUS.finditer(answer):
        status = int(match.group(1))
        if status < 300:
            continue
        rest = answer[match.end() :]
        code = _ERROR_CODE.search(rest)
        index = _ERROR_INDEX.search(rest)
        text = _ERROR_TEXT.search(rest)
        return BatchFailure(
            status,
            code.group(1).decode() if code else "",
            int(index.group(1)) if index else None,
            text.group(1).decode("utf-8", "replace") if text else "",
        )
    return None


def answered_operations(answer: bytes) -> int:
    """How many operations a batch's answer reports on (each has its own status line)."""
    return len(_INNER_STATUS.findall(answer))
