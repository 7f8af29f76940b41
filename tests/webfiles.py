"""A loopback aiohttp file server standing in for the web: a public file, or a presigned URL
of another cloud (it answers 403 under /private/ unless the query carries SIGNATURE). It
supports Range and ETag as real object stores do, and serves https when given a context."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

SIGNATURE = "topsecret0123456789"


@dataclass
class WebServer:
    """A running server; `requests` holds (method, path, Range header) of each request."""

    root: Path
    url: str = ""
    requests: list[tuple[str, str, str]] = field(default_factory=list)


@contextmanager
def serve_files(root: Path, tls: ssl.SSLContext | None = None) -> Iterator[WebServer]:
    """Serve `root` under /files and /private on a free loopback port, until the block ends."""
    server = WebServer(root)
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    @web.middleware
    async def presigned(request: web.Request, handler):  # type: ignore[no-untyped-def]
        server.requests.append((request.method, request.path, request.headers.get("Range", "")))
        if request.path.startswith("/private/") and (
            request.query.get("X-Amz-Signature") != SIGNATURE
        ):
            raise web.HTTPForbidden()
        return await handler(request)

    async def start() -> web.AppRunner:
        app = web.Application(middlewares=[presigned])
        app.router.add_static("/files", root)
        app.router.add_static("/private", root)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        server.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        return runner

    def run() -> None:
        asyncio.set_event_loop(loop)
        holder.append(loop.run_until_complete(start()))
        ready.set()
        loop.run_forever()

    holder: list[web.AppRunner] = []
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(holder[0].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
