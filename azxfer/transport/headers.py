"""Response headers as the connection parsed them."""

from __future__ import annotations

import collections.abc


class Headers:
    """Response headers, looked up case-insensitively; repeated headers joined with ", "."""

    __slots__ = ("_cased", "_values")

    def __init__(self, values: dict[str, str], cased: dict[str, str] | None = None) -> None:
        self._values = values  # lower-cased names
        self._cased = cased or {}  # lower-cased name -> the name as sent, where they differ

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def items(self) -> collections.abc.ItemsView[str, str]:
        return self._values.items()

    def with_prefix(self, prefix: str) -> dict[str, str]:
        """The headers named `prefix...`, keyed by the rest of the name as the server sent it
        (Azure's `x-ms-meta-` names keep their case)."""
        prefix = prefix.lower()
        cut = len(prefix)
        return {
            self._cased.get(name, name)[cut:]: value
            for name, value in self._values.items()
            if name.startswith(prefix)
        }
