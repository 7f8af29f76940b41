"""The live progress line on a terminal: rich is imported only when stderr is one."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, ProgressColumn, Task, TextColumn
from rich.table import Column
from rich.text import Text

# Below this many columns the bar and the sizes are left out: the activity, rate and ETA
# alone fit a 40-column terminal, and columns that do not fit wrap into a grid of lines.
NARROW_COLUMNS = 72


class RateEtaColumn(ProgressColumn):
    """The recent rate and the time left, computed when rich redraws (about ten times a
    second), so a stall shows even while no event arrives. `status(now)` says both."""

    def __init__(self, status: Callable[[float], str]) -> None:
        super().__init__(table_column=Column(no_wrap=True))
        self.status = status

    def render(self, task: Task) -> Text:
        return Text(self.status(time.monotonic()), style="progress.data.speed")


def live_progress(file: TextIO, status: Callable[[float], str], sizes: bool = True) -> Progress:
    """A transient, one-line progress display on `file`: activity, bar, sizes (when `sizes`:
    a job that moves bytes; a bulk job counts objects, in its activity), rate and ETA; on a
    narrow terminal only the activity, rate and ETA."""
    console = Console(file=file, highlight=False, soft_wrap=True)
    wide = console.width >= NARROW_COLUMNS
    columns: list[ProgressColumn] = [
        TextColumn("{task.description}", table_column=Column(no_wrap=True))
    ]
    if wide:
        columns.append(BarColumn())
    if sizes and wide:
        # binary_units: MiB like every other size and rate azxfer prints.
        columns.append(DownloadColumn(binary_units=True))
    columns.append(RateEtaColumn(status))
    return Progress(*columns, console=console, transient=True)
