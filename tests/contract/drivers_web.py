"""The Web driver in the contract suite: a loopback file server (tests/webfiles.py) serving a
fresh folder; objects are seeded as its files. A web endpoint is bound to one object."""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import quote

import pytest
from webfiles import serve_files

from azxfer.endpoints.web.endpoint import WebEndpoint
from azxfer.locations import Service, parse_location
from azxfer.transport.aio import aiohttp
from azxfer.transport.retry import RetryPolicy

from .harness import DriverHarness


class WebHarness(DriverHarness):
    """Objects are files under the server's /files/; there is no folder to list or write."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.folder: Path = request.getfixturevalue("tmp_path") / "www"
        self.folder.mkdir()
        stack = contextlib.ExitStack()
        request.addfinalizer(stack.close)
        self.server = stack.enter_context(serve_files(self.folder))
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.session = aiohttp.ClientSession(auto_decompress=False)

    async def stop(self) -> None:
        assert self.session is not None
        await self.session.close()

    async def root(self) -> WebEndpoint:
        raise NotImplementedError("a web endpoint names one object, never a folder")

    async def single(self, name: str) -> WebEndpoint:
        assert self.session is not None, "start() first"
        location = parse_location(f"{self.server.url}{self.ref(name)}", Service.WEB)
        return WebEndpoint(location, self.session, RetryPolicy(attempts=2, base_delay=0.01))

    async def missing_root(self) -> WebEndpoint:
        return await self.single("no-such-file")

    def ref(self, name: str) -> str:
        return "/files/" + quote(name)

    def put(self, name: str, data: bytes) -> None:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def remove(self, name: str) -> None:
        (self.folder / name).unlink()

    def get(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.is_file() else None
