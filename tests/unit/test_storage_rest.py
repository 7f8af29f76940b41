"""`azxfer.transport.rest`, the service-neutral storage REST client, against real loopback
servers (asyncio.start_server on 127.0.0.1, port 0; the client's pool is the real one).

Requests go to a File-service style path (a share, a directory, a file), not a Blob one, to
show that nothing here is Blob's: the request arrives at that path with its query, signed by
the documented SharedKey algorithm (computed here independently); answers are classified by
the service's own error table; a ranged GET cut mid-body resumes from the first byte not yet
received, conditional on the ETag, and the retry names the request without its SAS.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest

from azxfer.errors import AzxferError, NotFoundError, TransferError
from azxfer.transport.classify import ErrorAnswer, ErrorTable
from azxfer.transport.pool import HttpPool
from azxfer.transport.rest import StorageRestClient
from azxfer.transport.retry import RetryPolicy
from azxfer.transport.signer import Signer
from azxfer.transport.signing import Authorizer, Sas, SharedKey

ACCOUNT = "devstoreaccount1"
RAW_KEY = b"0123456789abcdef0123456789abcdef-not-a-real-key-000"
KEY = base64.b64encode(RAW_KEY).decode()
VERSION = "2025-11-05"
DEADLINE = 5.0
STANDARD_HEADERS = (
    "content-encoding", "content-language", "content-length", "content-md5", "content-type",
    "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range",
)  # fmt: skip


@dataclass
class Received:
    method: str
    target: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


Serve = Callable[[int, Received, asyncio.StreamWriter], Awaitable[None]]


class Loopback:
    """Answers each request by `serve(connection number, request, writer)`."""

    def __init__(self, serve: Serve) -> None:
        self.serve = serve
        self.received: list[Received] = []
        self.connections = 0

    async def __aenter__(self) -> Loopback:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.connections += 1
        number = self.connections
        try:
            while not writer.is_closing():
                head = await reader.readuntil(b"\r\n\r\n")
                line, *lines = head[:-4].decode("latin-1").split("\r\n")
                method, target, _ = line.split(" ")
                headers = {}
                for header in lines:
                    name, _, value = header.partition(":")
                    headers[name.lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Received(method, target, headers, body)
                self.received.append(request)
                await self.serve(number, request, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} Whatever", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    if "Content-Length" not in (headers or {}):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def documented_signature(request: Received) -> str:
    """The SharedKey Authorization of a request as received, by the documented algorithm."""
    path, _, query = request.target.partition("?")
    headers = request.headers
    lines = [request.method]
    for name in STANDARD_HEADERS:
        value = headers.get(name, "")
        lines.append("" if name == "content-length" and value == "0" else value)
    canonical = "".join(
        f"{name}:{value}\n" for name, value in sorted(headers.items()) if name.startswith("x-ms-")
    )
    resource = f"/{ACCOUNT}{path}"
    for name, value in sorted(parse_qsl(query)):
        resource += f"\n{name}:{value}"
    to_sign = "\n".join(lines) + "\n" + canonical + resource
    digest = hmac.new(RAW_KEY, to_sign.encode(), hashlib.sha256).digest()
    return f"SharedKey {ACCOUNT}:{base64.b64encode(digest).decode()}"


def file_not_found(answer: ErrorAnswer) -> AzxferError:
    return TransferError(f"{answer.what}: its share {answer.parent} does not exist")


FILE_ERRORS = ErrorTable({"ShareNotFound": file_not_found})


def client(port: int, auth: Authorizer, on_retry=None) -> tuple[HttpPool, StorageRestClient]:
    pool = HttpPool(4)
    signer = Signer(f"http://127.0.0.1:{port}/{ACCOUNT}/", auth, VERSION)
    retry = RetryPolicy(base_delay=0.001, max_delay=0.001, on_retry=on_retry)
    return pool, StorageRestClient(pool, signer, retry, FILE_ERRORS)


def run(main: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(DEADLINE):
            await main()

    asyncio.run(bounded())


def test_a_request_to_a_file_path_is_signed_and_sent_as_built() -> None:
    async def serve(_: int, request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(201, headers={"x-ms-request-server-encrypted": "true"}))

    async def main() -> None:
        async with Loopback(serve) as server:
            pool, rest = client(server.port, SharedKey(ACCOUNT, KEY))
            status, headers, payload = await rest.send(
                "PUT",
                "/share/dir/a%20b.txt",
                {"comp": "range"},
                {"x-ms-range": "bytes=0-4", "x-ms-write": "update"},
                b"hello",
                "file 'dir/a b.txt'",
            )
            await pool.close()
        assert (status, headers.get("x-ms-request-server-encrypted"), payload) == (201, "true", b"")
        [request] = server.received
        assert request.method == "PUT"
        assert request.target == f"/{ACCOUNT}/share/dir/a%20b.txt?comp=range"
        assert request.body == b"hello"
        sent = request.headers
        assert (sent["x-ms-version"], sent["content-length"], sent["x-ms-write"]) == (
            VERSION, "5", "update",
        )  # fmt: skip
        assert sent["x-ms-date"].endswith(" GMT")
        assert sent["authorization"] == documented_signature(request)

    run(main)


@pytest.mark.parametrize(
    ("code", "kind", "message"),
    [
        (
            "ShareNotFound",
            TransferError,
            f"file 'f': its share 'share' at http://127.0.0.1:PORT/{ACCOUNT} does not exist",
        ),
        ("ResourceNotFound", NotFoundError, "file 'f' not found"),
    ],
)
def test_answers_are_classified_by_the_services_table(code: str, kind: type, message: str) -> None:
    async def serve(_: int, request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(answer(404, headers={"x-ms-error-code": code}))

    async def main() -> None:
        async with Loopback(serve) as server:
            pool, rest = client(server.port, SharedKey(ACCOUNT, KEY))
            with pytest.raises(kind) as raised:
                await rest.send("GET", "/share/f", {}, {}, None, "file 'f'", parent="share")
            # kept: an answer for the caller to judge, not an error
            kept = await rest.send("HEAD", "/share/f", {}, {}, None, "file 'f'", keep={404})
            await pool.close()
        assert str(raised.value) == message.replace("PORT", str(server.port))
        assert kept[0] == 404 and kept[1].get("x-ms-error-code") == code
        assert len(server.received) == 2  # neither was retried

    run(main)


def test_a_ranged_get_cut_mid_body_resumes_from_the_first_missing_byte() -> None:
    data = bytes(range(256)) * 40
    etag = '"0x8DFILE"'
    cut = 4000

    async def serve(connection: int, request: Received, writer: asyncio.StreamWriter) -> None:
        first, last = (int(n) for n in request.headers["x-ms-range"][6:].split("-"))
        headers = {
            "Content-Length": str(last - first + 1),
            "Content-Range": f"bytes {first}-{last}/{len(data)}",
            "ETag": etag,
        }
        if connection == 1:  # the head promises the whole range; the body stops short
            writer.write(answer(206, data[first : first + cut], headers))
            await writer.drain()
            writer.close()
        else:
            writer.write(answer(206, data[first : last + 1], headers))

    retries: list[str] = []
    got: list[tuple[int, bytes]] = []

    async def consume(position: int, piece: bytes) -> None:
        got.append((position, bytes(piece)))

    async def main() -> None:
        async with Loopback(serve) as server:
            auth = Sas("sv=2025-11-05&sig=SECRET%2B")
            pool, rest = client(server.port, auth, lambda what, *_: retries.append(what))
            path = "/share/dir/big.bin"
            await rest.get_range_to(path, 100, len(data) - 100, etag, consume, "file 'big.bin'")
            await pool.close()
        first, second = server.received
        assert first.headers["x-ms-range"] == f"bytes=100-{len(data) - 1}"
        assert second.headers["x-ms-range"] == f"bytes={100 + cut}-{len(data) - 1}"
        assert first.headers["if-match"] == second.headers["if-match"] == etag
        for request in (first, second):
            target = urlsplit(request.target)
            assert target.path == f"/{ACCOUNT}/share/dir/big.bin"
            assert dict(parse_qsl(target.query)) == {"sv": "2025-11-05", "sig": "SECRET+"}
        assert retries == [f"GET http://127.0.0.1:{server.port}/{ACCOUNT}/share/dir/big.bin"]

    run(main)
    assert b"".join(piece for _, piece in got) == data[100:]
    positions = [position for position, _ in got]
    assert positions[0] == 100 and positions == sorted(positions)
    assert 100 + cut in positions  # the second answer's first piece starts where the cut was
