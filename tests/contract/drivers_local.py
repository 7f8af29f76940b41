"""The local file system driver in the contract suite: a fresh folder per test."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import pytest

from azxfer.endpoints.local.endpoint import LocalEndpoint
from azxfer.errors import AzxferError, LocationError
from azxfer.models import WriteProps

from .harness import DriverHarness


class LocalHarness(DriverHarness):
    """Objects are files under a fresh folder; seeded and inspected with plain file I/O."""

    # The local driver reports a missing path as a usage error (exit 2), as base.py allows.
    missing_root_error: ClassVar[type[AzxferError]] = LocationError
    write_props = WriteProps(mtime=1_000_000.0)

    def __init__(self, request: pytest.FixtureRequest) -> None:
        tmp: Path = request.getfixturevalue("tmp_path")
        self.folder = tmp / "root"
        self.folder.mkdir()
        self.nowhere = tmp / "no-such-folder"

    async def root(self) -> LocalEndpoint:
        return LocalEndpoint(str(self.folder), None, "azxfer-c0ffee00")

    async def single(self, name: str) -> LocalEndpoint:
        return LocalEndpoint(self.ref(name), None, "azxfer-c0ffee00")

    async def missing_root(self) -> LocalEndpoint:
        return LocalEndpoint(str(self.nowhere))

    def ref(self, name: str) -> str:
        return os.path.join(self.folder, *name.split("/"))

    def put(self, name: str, data: bytes) -> None:
        path = Path(self.ref(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def remove(self, name: str) -> None:
        os.unlink(self.ref(name))

    def get(self, name: str) -> bytes | None:
        path = Path(self.ref(name))
        return path.read_bytes() if path.is_file() else None

    def names(self) -> set[str]:
        return {
            p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*") if p.is_file()
        }
