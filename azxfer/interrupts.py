"""Ctrl-C and SIGTERM while a job runs: every kind of job (copy, sync, remove, set-properties)
takes them through the running loop, and ignores them once it is over.

Apart from `jobrun` because the bulk jobs (`bulkrun`) share it without `JobRun`'s lifecycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable


def install_interrupts(handler: Callable[[], None]) -> None:
    """Call `handler` on every SIGINT or SIGTERM while the running loop runs a job (each job
    kind decides what a first and a second interrupt do)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, handler)


def remove_interrupts() -> None:
    """The job is over: an interrupt arriving now changes nothing, so it is ignored (rather
    than killing the process while it reports)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signum)
        with contextlib.suppress(ValueError):
            signal.signal(signum, signal.SIG_IGN)
