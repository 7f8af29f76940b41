"""The live progress line on a terminal: rich is imported only when stderr is one."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text


class RateEtaColumn(ProgressColumn):
    """The recent rate and the time left, computed when rich redraws (about ten times a
    second), so a stall shows even while no event arrives. `status(now)` says both."""

    def __init__(self, status: Callable[[float], str]) -> None:
        super().__init__()
        self.status = status

    def render(self, task: Task) -> Text:
        return Text(self.status(time.monotonic()), style="progress.data.speed")


def live_progress(file: TextIO, status: Callable[[float], str], sizes: bool = True) -> Progress:
    """A transient progress display on `file`: activity, bar, sizes (when `sizes`: a job
    that moves bytes; a bulk job counts objects, in its activity), rate and ETA."""
    columns: list[ProgressColumn] = [TextColumn("{task.description}"), BarColumn()]
    if sizes:
        # binary_units: MiB like every other size and rate azxfer prints.
        columns.append(DownloadColumn(binary_units=True))
    columns.append(RateEtaColumn(status))
    return Progress(
        *columns,
        console=Console(file=file, highlight=False, soft_wrap=True),
        transient=True,
    )
