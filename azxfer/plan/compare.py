"""Pure overwrite decisions: (source, existing destination) -> transfer or skip, with a reason."""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

from azxfer.models import Entry
from azxfer.options import Overwrite

# Asked "overwrite X?"; answers 'y' yes, 'n' no, 'a' yes to all, 'N' no to all.
Ask = Callable[[str], str]


class Decision(Struct, frozen=True):
    """Whether to transfer; `reason` says why not (or why, when it is not obvious)."""

    transfer: bool
    reason: str | None = None


class OverwritePolicy:
    """Applies --overwrite; remembers 'all'/'none' answers in prompt mode."""

    def __init__(self, mode: Overwrite, ask: Ask | None) -> None:
        self.mode = mode
        self.ask = ask
        self._answer_all: bool | None = None

    @property
    def needs_destination(self) -> bool:
        """Whether decide() needs the destination looked up."""
        return self.mode is not Overwrite.TRUE

    def decide(self, source: Entry, existing: Entry | None, dest_display: str) -> Decision:
        """Transfer or skip `source`, given what already exists at the destination."""
        if existing is None or self.mode is Overwrite.TRUE:
            return Decision(True)
        if self.mode is Overwrite.FALSE:
            return Decision(False, "the destination exists (--overwrite=false)")
        if self.mode is Overwrite.IF_SOURCE_NEWER:
            if source.mtime is None or existing.mtime is None or source.mtime > existing.mtime:
                return Decision(True)
            return Decision(False, "the destination is not older than the source")
        return self._prompt(dest_display)

    def _prompt(self, dest_display: str) -> Decision:
        if self._answer_all is None:
            answer = self.ask(dest_display) if self.ask else "N"
            if answer in ("a", "N"):
                self._answer_all = answer == "a"
            elif answer == "y":
                return Decision(True)
            else:
                return Decision(False, "the destination exists (declined at the prompt)")
        if self._answer_all:
            return Decision(True)
        return Decision(False, "the destination exists (declined at the prompt)")
