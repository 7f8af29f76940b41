"""A test hook: make the process kill itself with SIGKILL at a reproducible point.

`AZXFER_TEST_CRASH=KIND:N` (documented as a test hook, not a feature) kills the process right
after the Nth event of KIND has been committed to the journal. KIND is one of:
`enumerated` (transfers journaled by enumeration), `chunks` (chunks journaled),
`committed` (objects committed at the destination, before the journal records them), and
`completed` (transfers journaled as completed).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

ENV = "AZXFER_TEST_CRASH"
KINDS = ("enumerated", "chunks", "committed", "completed", "exported", "imported")


class CrashHook:
    """Counts events of one kind and SIGKILLs the process at the configured count."""

    def __init__(self, kind: str | None = None, at: int = 0) -> None:
        self.kind = kind
        self.at = at
        self.seen = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CrashHook:
        """The hook described by AZXFER_TEST_CRASH, or an inert one."""
        spec = env.get(ENV, "")
        kind, _, count = spec.partition(":")
        if kind not in KINDS or not count.isdigit():
            return cls()
        return cls(kind, int(count))

    def tick(self, kind: str) -> None:
        """Count one event; die when the configured one is reached."""
        if kind != self.kind:
            return
        self.seen += 1
        if self.seen >= self.at:
            os.kill(os.getpid(), signal.SIGKILL)
