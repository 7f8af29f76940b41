"""Table storage's own error codes (`TABLE_ERRORS`, for `transport.classify`)."""

from __future__ import annotations

from azxfer.errors import ContainerMissing, TransferError, UsageError
from azxfer.transport.classify import CodeRule, ErrorAnswer, ErrorTable


def _table_not_found(answer: ErrorAnswer) -> ContainerMissing:
    where = f"table {answer.parent}" if answer.parent else f"the table of {answer.what}"
    return ContainerMissing(f"{where} does not exist")


def _refused(reason: str) -> CodeRule:
    return lambda a: TransferError(f"{a.what}: {reason} ({a.code})")


# Table storage's own error codes (the statuses' common meaning is `transport.classify`'s).
TABLE_ERRORS = ErrorTable(
    rules={
        "TableNotFound": _table_not_found,
        "ResourceNotFound": lambda a: (
            _table_not_found(a) if a.parent else TransferError(f"{a.what} not found")
        ),
        "InvalidInput": lambda a: UsageError(
            f"{a.what}: the service refused the request as invalid input (a malformed "
            "--filter or --select?)"
        ),
        "EntityTooLarge": _refused("the entity is larger than the service's 1 MiB"),
        "PropertyValueTooLarge": _refused("a property value is larger than the service allows"),
        "TooManyProperties": _refused("the entity has more than 252 properties"),
        "KeyValueTooLarge": _refused("a key is longer than the service's 1 KiB"),
        "OutOfRangeInput": _refused("a value is out of the range the service accepts"),
        "InvalidDuplicateRow": _refused("the batch names one entity twice"),
        "TableBeingDeleted": _refused("the table is being deleted: try again in a minute"),
    }
)
