"""The live progress line on a terminal: rich is imported only when stderr is one."""

from __future__ import annotations

import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

from azxfer.cli.progressline import Counts, RateWindow, eta_text, rate_text


class RateEtaColumn(ProgressColumn):
    """The recent rate and the time left, computed when rich redraws (about ten times a
    second), so a stall shows even while no event arrives."""

    def __init__(self, counts: Counts, window: RateWindow) -> None:
        super().__init__()
        self.counts = counts
        self.window = window

    def render(self, task: Task) -> Text:
        rate = self.window.rate(time.monotonic())
        return Text(
            f"{rate_text(rate)}  {eta_text(self.counts, rate)}", style="progress.data.speed"
        )


def live_progress(file: TextIO, counts: Counts, window: RateWindow) -> Progress:
    """A transient progress display on `file`: activity, bar, sizes, rate and ETA."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        # binary_units: MiB like every other size and rate azxfer prints.
        DownloadColumn(binary_units=True),
        RateEtaColumn(counts, window),
        console=Console(file=file, highlight=False, soft_wrap=True),
        transient=True,
    )
