"""Plain helpers for the integration tests (import as `from helpers import ...`)."""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schema_check import check_stdout


@dataclass
class CliResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    _events: list[dict[str, Any]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """Every JSON event line a run prints must match schema/events.schema.json: checked
        here, so no test's run escapes it. A killed run (negative exit) may end in a cut line."""
        try:
            check_stdout(self.stdout, killed=self.returncode < 0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.describe()}") from None

    def events(self) -> list[dict[str, Any]]:
        """Parse stdout as NDJSON: every non-empty line must be one JSON object."""
        if self._events is None:
            out = []
            for n, line in enumerate(self.stdout.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise AssertionError(
                        f"stdout line {n} is not JSON ({exc}): {line!r}\n{self.describe()}"
                    ) from None
                assert isinstance(obj, dict), f"stdout line {n} is not a JSON object: {line!r}"
                out.append(obj)
            self._events = out
        return self._events

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("event") == kind]

    def finished(self) -> dict[str, Any]:
        done = self.events_of("job_finished")
        assert len(done) == 1, f"expected one job_finished event\n{self.describe()}"
        return done[0]

    def describe(self) -> str:
        return (
            f"argv: {self.argv[2:]}\nexit: {self.returncode}\n"
            f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}"
        )

    def assert_ok(self) -> CliResult:
        assert self.returncode == 0, self.describe()
        assert "Traceback" not in self.stderr, self.describe()
        return self

    def assert_exit(self, code: int) -> CliResult:
        assert self.returncode == code, self.describe()
        assert "Traceback" not in self.stderr, self.describe()
        assert "Traceback" not in self.stdout, self.describe()
        return self

    def assert_usage_error(self, code: int = 2) -> CliResult:
        """A command-line/job error: exit code, exactly one stderr line, no traceback."""
        self.assert_exit(code)
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, f"expected exactly one stderr line\n{self.describe()}"
        assert lines[0].startswith("azxfer: error: "), self.describe()
        return self


def data_for(name: str, size: int) -> bytes:
    """Deterministic pseudo-random bytes for a file name and size."""
    return random.Random(name).randbytes(size)


def make_tree(root: str | os.PathLike, files: dict[str, bytes | int]) -> Path:
    """Write files under root: value bytes → content, int → deterministic random bytes."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data_for(rel, content) if isinstance(content, int) else content)
    return root


def tree_contents(root: str | os.PathLike) -> dict[str, bytes]:
    """All regular files under root as {posix relative path: bytes}."""
    root = Path(root)
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def tree_files(root: str | os.PathLike) -> set[str]:
    return set(tree_contents(root))


def md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def blob_names(container_client, prefix: str | None = None) -> set[str]:
    return {b.name for b in container_client.list_blobs(name_starts_with=prefix)}


def blob_contents(container_client) -> dict[str, bytes]:
    return {
        b.name: container_client.download_blob(b.name).readall()
        for b in container_client.list_blobs()
    }
