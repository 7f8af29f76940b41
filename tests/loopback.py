"""An asyncio TCP server on 127.0.0.1 with its own event loop in a daemon thread: the life
cycle the test's stand-ins on a thread share (the fault proxy, the forward proxy)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Self

LOOPBACK = "127.0.0.1"


class LoopbackServer:
    """Subclasses implement `_serve(reader, writer)` for each connection; `with` starts and
    stops the server, `port` is where it listens. Connections still open at the stop are
    cancelled."""

    thread_name = "loopback-server"
    stream_limit = 1 << 20  # the longest line or head a connection's reader takes

    def __init__(self) -> None:
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._conns: set[asyncio.Task] = set()
        self._error: BaseException | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"{self.thread_name} did not start")
        if self._error is not None:
            raise RuntimeError(f"{self.thread_name} failed to start: {self._error}")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has already closed
            loop.call_soon_threadsafe(self._shutdown)
        thread.join(10)
        self._loop = self._thread = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            self._conns.discard(task)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._accepted, LOOPBACK, 0, limit=self.stream_limit)
            )
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = list(self._conns)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending, timeout=5))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _shutdown(self) -> None:
        assert self._loop is not None
        if self._server is not None:
            self._server.close()
        for task in list(self._conns):
            task.cancel()
        self._loop.stop()


class ThreadedService:
    """The life cycle of an HTTP stand-in (aiohttp or any asyncio server) that runs its own
    event loop in a daemon thread: `start` (or `with`) returns once it serves, `stop` ends it.

    A subclass sets `thread_name`, initialises `_thread`, `_loop`, `_stopped` (None),
    `_ready` (a threading.Event) and `_start_error` (None), and implements `_serve()`: it
    sets `_stopped` to an asyncio.Event, starts serving, sets `_ready`, and returns once
    `_stopped` is set (a start failure goes to `_start_error`, then `_ready`)."""

    thread_name = "stand-in"
    start_timeout = 10.0
    stop_timeout = 10.0
    _thread: threading.Thread | None
    _loop: asyncio.AbstractEventLoop | None
    _stopped: asyncio.Event | None
    _ready: threading.Event
    _start_error: BaseException | None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Self:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        if not self._ready.wait(self.start_timeout):
            raise RuntimeError(f"{self.thread_name} did not start")
        if self._start_error is not None:
            raise RuntimeError(f"{self.thread_name} failed to start: {self._start_error}")
        return self

    def stop(self) -> None:
        loop, thread, stopped = self._loop, self._thread, self._stopped
        if loop is not None and thread is not None and stopped is not None:
            with contextlib.suppress(RuntimeError):  # its loop already closed
                loop.call_soon_threadsafe(stopped.set)
            thread.join(self.stop_timeout)
        self._thread = self._loop = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(), or kept for debugging
            self._start_error = self._start_error or exc
            self._ready.set()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        raise NotImplementedError
