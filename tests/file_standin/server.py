"""The stand-in server: request parsing and dispatch, the daemon-thread runner, the fixture."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

import aiohttp
from aiohttp import web
from loopback import ThreadedService
from storage_auth import parse_query

from . import errors
from .auth import authenticate, authorize, check_version
from .call import Call, error_reply
from .routes import ROUTES, classify
from .service import Service
from .store import lookup

LOOPBACK = "127.0.0.1"
WELL_KNOWN_ACCOUNT = "devstoreaccount1"
WELL_KNOWN_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
SOURCE_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10, sock_read=60)


@dataclass(slots=True)
class Recorded:
    """One request: raw `path`, decoded `query` (last value of each name), the operation
    name it was classified as, the status the client got, and how it was authenticated
    ("sharedkey", "sas", "account-sas", "bearer"; None when it was not)."""

    method: str
    path: str
    query: dict[str, str]
    op: str
    status: int = 0
    auth: str | None = None


class FileStandIn(ThreadedService):
    """An in-memory File service on a loopback port, served from a daemon thread.

    accounts       {account name: base64 key}; default: the emulator's well-known account.
    pending_polls, hold_pending: see Service. `open_handles` (a set of (account, share, path))
    simulates SMB handles. `requests` records every request; `errors` lists unexpected handler
    exceptions (tests assert it stays empty). `delays` {operation: seconds} holds each request
    of an operation that long before answering it (so concurrent requests overlap, as on a
    real service); `max_in_flight(op)` is the most requests of `op` the stand-in was
    answering at once.
    """

    thread_name = "file-standin"

    def __init__(
        self,
        accounts: Mapping[str, str] | None = None,
        *,
        port: int = 0,
        pending_polls: int | None = None,
        hold_pending: bool = False,
    ) -> None:
        self.service = Service(
            accounts or {WELL_KNOWN_ACCOUNT: WELL_KNOWN_KEY},
            pending_polls=pending_polls,
            hold_pending=hold_pending,
        )
        self.port = port
        self.errors: list[str] = []
        self._log: list[Recorded] = []
        self.delays: dict[str, float] = {}
        self._in_flight: Counter[str] = Counter()
        self._max_in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._start_error: BaseException | None = None

    # -- what tests use -------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def account_url(self, account: str = WELL_KNOWN_ACCOUNT) -> str:
        return f"{self.endpoint}/{account}"

    def connection_string(self, account: str = WELL_KNOWN_ACCOUNT) -> str:
        key = self.service.accounts[account]
        return (
            f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};"
            f"FileEndpoint={self.account_url(account)};"
        )

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._log)

    def requests_of(self, *ops: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self._log if r.op in ops]

    def clear(self) -> None:
        with self._lock:
            self._log.clear()
            self._max_in_flight.clear()

    def max_in_flight(self, op: str) -> int:
        with self._lock:
            return self._max_in_flight[op]

    @property
    def pending_polls(self) -> int | None:
        return self.service.pending_polls

    @pending_polls.setter
    def pending_polls(self, value: int | None) -> None:
        self.service.pending_polls = value

    @property
    def hold_pending(self) -> bool:
        return self.service.hold_pending

    @hold_pending.setter
    def hold_pending(self, value: bool) -> None:
        self.service.hold_pending = value

    @property
    def open_handles(self) -> set[tuple[str, str, str]]:
        return self.service.open_handles

    # -- life cycle -----------------------------------------------------------------------------

    async def _serve(self) -> None:
        await self.serve()

    async def serve(self, stop: asyncio.Event | None = None) -> None:
        """Serve until `stop` (or stop()) is set; the port is known once `_ready` is set."""
        self._stopped = stop or asyncio.Event()
        runner = web.ServerRunner(web.Server(self._handle), shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, LOOPBACK, self.port, backlog=1024)
            await site.start()
            self.port = runner.addresses[0][1]
            self.service.endpoint = self.endpoint
            self.service.session = aiohttp.ClientSession(
                timeout=SOURCE_TIMEOUT, auto_decompress=False
            )
        except BaseException as exc:
            self._start_error = exc
            self._ready.set()
            await runner.cleanup()
            return
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            await runner.cleanup()
            await self.service.session.close()

    # -- dispatch -------------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        raw_path, _, raw_query = request.raw_path.partition("?")
        segments = raw_path.split("/", 3)
        headers = {k.lower(): v for k, v in request.headers.items()}
        call = Call(
            request=request,
            method=request.method,
            raw_path=raw_path,
            query=parse_query(raw_query),
            headers=headers,
            account=unquote(segments[1]) if len(segments) > 1 else "",
            share=unquote(segments[2]) if len(segments) > 2 and segments[2] else None,
            path=unquote(segments[3]).rstrip("/") if len(segments) > 3 else "",
        )
        call.op = classify(call)
        rec = Recorded(request.method, raw_path, {k: v[-1] for k, v in call.query.items()}, call.op)
        with self._lock:
            self._log.append(rec)
            self._in_flight[call.op] += 1
            self._max_in_flight[call.op] = max(
                self._max_in_flight[call.op], self._in_flight[call.op]
            )
        try:
            if delay := self.delays.get(call.op):
                await asyncio.sleep(delay)
            response = await self._dispatch(call)
        except errors.StorageError as exc:
            response = error_reply(call, exc)
        except ConnectionError:
            # The client went away mid-request (a killed job, a fault test): as a real service,
            # nothing to answer and nothing wrong with the stand-in.
            raise
        except Exception as exc:
            self.errors.append(
                f"{call.op} {request.method} {raw_path}: {type(exc).__name__}: {exc}"
            )
            response = error_reply(
                call, errors.StorageError(500, "InternalError", f"Stand-in error: {exc!r}")
            )
        finally:
            with self._lock:
                self._in_flight[call.op] -= 1
        rec.status = response.status
        rec.auth = call.auth
        return response

    async def _dispatch(self, call: Call) -> web.StreamResponse:
        check_version(call)
        authenticate(call, self.service.accounts)
        route = ROUTES.get(call.op)
        if route is None:
            raise errors.unsupported(call.op)
        creates = route.creates and not _exists(self.service, call)
        authorize(call, route.sas, route.resource, creates=creates)
        return await route.handler(self.service, call)


def _exists(svc: Service, call: Call) -> bool:
    """Whether the target of a create already exists (a SAS's 'c' allows only new ones)."""
    if call.auth == "sharedkey":
        return False
    try:
        share = svc.share(call)
        return not call.path or lookup(share, svc.parts(call)) is not None
    except errors.StorageError:
        return False
