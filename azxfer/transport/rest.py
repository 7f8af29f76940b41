"""A REST client for any Azure Storage service: signs a request to a service path, sends it
through azxfer's own connection pool, classifies the answer and retries it; and streams a
ranged GET into a consumer, resuming mid-body after a broken connection.

The services differ in how a name becomes a path, which queries they take and which error
codes they add; the rest is this, shared by every driver's hot path (Blob's `RestBlobClient`
today). A request is addressed by `transport.signer` (x-ms-version, x-ms-date, the
authorizer), answers of status 300 or more are classified by `transport.classify` with the
service's `ErrorTable`, and retries follow `transport.retry`.

This is the hot path (a small file is one request): a request costs one signing, one pool
exchange and one retry frame, and builds the text that names it in a retry only on a retry.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Container

from azxfer.errors import AzxferError, CredentialError, RetryableError, ServerError
from azxfer.transport.classify import BUSY_STATUS, ErrorAnswer, ErrorTable, classify_answer
from azxfer.transport.headers import Headers
from azxfer.transport.http import connection_failure
from azxfer.transport.pool import HttpError, HttpPool, HttpResponse, Pace
from azxfer.transport.retry import RetryPolicy, with_retries
from azxfer.transport.signer import Signer
from azxfer.transport.wire import body_of, check_etag, paced_body, read_headers, short_answer

# Handed each piece of a streamed body: (its position in the object, the piece).
Consumer = Callable[[int, bytes], Awaitable[None]]
# Asked on a 5xx answer how often to try the request in all (None: the retry policy's).
ServerErrorAttempts = Callable[[], int | None]
# An answer: (status, headers, body).
Answer = tuple[int, Headers, bytes]
# Turns a denial of the request about `what` into what the user reads (the credential used
# and why it most likely failed): a driver that knows its credential gives one.
ExplainDenial = Callable[[CredentialError, str], AzxferError]


class _AllButBusy:
    """Every status but the busy ones (which are retried)."""

    def __contains__(self, status: object) -> bool:
        return status not in BUSY_STATUS


# For `send(keep=...)`: every answer is the caller's to judge, busy ones are still retried.
ALL_BUT_BUSY: Container[int] = _AllButBusy()


class StorageRestClient:
    """Sends signed requests to one endpoint with one authorizer, retried by one policy."""

    def __init__(
        self,
        pool: HttpPool,
        signer: Signer,
        retry: RetryPolicy,
        errors: ErrorTable,
        explain_denial: ExplainDenial | None = None,
    ) -> None:
        self.pool = pool
        self.explain_denial = explain_denial
        # The job's bandwidth cap, if any (pools stood in for by tests have none).
        self.pace: Pace | None = getattr(pool, "pace", None)
        self.signer = signer
        self.retry = retry
        self.errors = errors

    async def send(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes | None,
        what: str,
        *,
        parent: str = "",
        keep: Container[int] = (),
        expect: int | None = None,
        expect_end: int = 0,
        expect_etag: str | None = None,
        server_error_attempts: ServerErrorAttempts | None = None,
        paced_answer: bool = False,
    ) -> Answer:
        """Send a request to `path` (already percent-encoded, below the endpoint), retried as
        the policy says; its answer once it has one of status below 300 or in `keep`.

        `what` names the request's object in errors ("blob 'x'"); `parent` its container or
        share, for an answer saying that is missing. `expect`: the body must have this many
        bytes, of an object that extends to at least `expect_end` (see `short_answer`).
        `expect_etag`: the answer's ETag must be this one. Under a bandwidth cap (the pool's
        `pace`) the body is paced as it is sent, and so is the answer of a ranged read
        (`expect`) or one `paced_answer` marks as data."""
        pace = self.pace
        answer_pace = pace if expect is not None or paced_answer else None

        async def attempt() -> Answer:
            url, request_headers = await self.signer.signed(method, path, query, headers, body)
            data = body_of(body) if pace is None else await paced_body(body, pace)
            try:
                async with self.pool.request(method, url, request_headers, data) as response:
                    if answer_pace is not None:
                        payload = await _paced_read(response, answer_pace)
                    else:
                        payload = await response.read()
                    status = response.status
                    answer_headers = response.headers
                    if status >= 300 and status not in keep:
                        raise self._error(response, method, what, parent, server_error_attempts)
                    if expect_etag:
                        check_etag(answer_headers.get("ETag"), expect_etag, what)
            except (HttpError, TimeoutError) as exc:
                raise connection_failure(exc, what) from None
            finally:
                if isinstance(data, AsyncGenerator):
                    # Closed now: left to the garbage collector, a sliced body keeps the whole
                    # chunk it views alive after the request (memory beyond the job's budget).
                    await data.aclose()
            if expect is not None and len(payload) != expect:
                raise self._wrong_length(what, payload, expect, expect_end, answer_headers, headers)
            return status, answer_headers, payload

        return await with_retries(attempt, self.retry, what, request=self.request_of(method, path))

    async def get_range_to(
        self,
        path: str,
        offset: int,
        length: int,
        etag: str | None,
        consume: Consumer,
        what: str,
        whole: bool = False,
        parent: str = "",
        etag_in_answer: bool = False,
        on_headers: Callable[[Headers], None] | None = None,
    ) -> None:
        """GET bytes [offset, offset+length) of `path`, streamed: each piece of the body goes
        to `consume(position, piece)` as it arrives, so the range is never held in memory.

        Conditional on `etag` if given. `whole`: the range is the entire object, so it is
        asked for without a range or a condition, and the answer's ETag is checked instead
        (see `read_headers`). `etag_in_answer`: the service takes no If-Match on reads (Azure
        Files), so every answer's ETag is checked instead. A connection lost mid-body is
        retried from the first byte not yet consumed (asking for a range again), so every
        byte is consumed exactly once and in order. Errors raised by `consume` end the call.
        `on_headers` sees the headers of every successful answer, before its body."""
        end = offset + length
        position = offset
        pace = self.pace

        async def attempt() -> None:
            nonlocal position
            content_range: str | None = None
            unranged = whole and position == offset
            headers = read_headers(position, end, None if etag_in_answer else etag, unranged)
            url, request_headers = await self.signer.signed("GET", path, {}, headers, None)
            try:
                async with self.pool.request("GET", url, request_headers) as response:
                    if response.status >= 300:
                        await response.read()
                        raise self._error(response, "GET", what, parent)
                    if unranged or etag_in_answer:
                        check_etag(response.headers.get("ETag"), etag, what)
                    if on_headers is not None:
                        on_headers(response.headers)
                    content_range = response.headers.get("Content-Range")
                    while position < end:
                        piece = await response.readany()
                        if not piece:
                            break
                        if len(piece) > end - position:
                            raise RetryableError(f"{what}: got more than the {length} bytes asked")
                        if pace is not None:
                            await pace(len(piece))
                        await consume(position, piece)
                        position += len(piece)
            except (HttpError, TimeoutError) as exc:
                raise connection_failure(exc, what) from None
            if position < end:
                raise short_answer(
                    what, position - offset, length, end, content_range, not unranged
                )

        await with_retries(attempt, self.retry, what, request=self.request_of("GET", path))

    def request_of(self, method: str, path: str) -> Callable[[], str]:
        """What a retry of this request is named: its method and URL without the query
        (built only when asked, on a retry)."""
        return lambda: f"{method} {self.signer.url_of(path)}"

    def answer_error(
        self, response: HttpResponse, what: str, parent: str = "", method: str = ""
    ) -> AzxferError:
        """The error an answer of status 300 or more stands for, by this service's codes;
        `parent` names the request's container or share, for a missing one; `method` the
        request's, for the permission a denied SAS lacks."""
        where = f"'{parent}' at {self.signer.endpoint}" if parent else ""
        err = answer_error(response, what, self.errors, where, method)
        if self.explain_denial is not None and isinstance(err, CredentialError):
            return self.explain_denial(err, what)
        return err

    def _error(
        self,
        response: HttpResponse,
        method: str,
        what: str,
        parent: str,
        server_error_attempts: ServerErrorAttempts | None = None,
    ) -> AzxferError:
        err = self.answer_error(response, what, parent, method)
        if server_error_attempts is not None and isinstance(err, ServerError):
            err.attempts = server_error_attempts()
        return err

    @staticmethod
    def _wrong_length(
        what: str,
        payload: bytes,
        expect: int,
        expect_end: int,
        answer_headers: Headers,
        headers: dict[str, str],
    ) -> AzxferError:
        if len(payload) > expect:
            return RetryableError(f"{what}: got {len(payload)} of {expect} bytes")
        ranged = "x-ms-range" in headers or "Range" in headers
        content_range = answer_headers.get("Content-Range")
        return short_answer(what, len(payload), expect, expect_end, content_range, ranged)


async def _paced_read(response: HttpResponse, pace: Pace) -> bytes:
    """The whole body, each piece paced as it arrives (an answer of megabytes, such as a page
    of entities, is held to the cap as it streams, not let through whole)."""
    pieces = []
    while piece := await response.readany():
        await pace(len(piece))
        pieces.append(bytes(piece))  # a view is valid only until the next piece
    return b"".join(pieces)


def answer_error(
    response: HttpResponse, what: str, errors: ErrorTable, parent: str = "", method: str = ""
) -> AzxferError:
    """The error an answer of status 300 or more stands for by a service's error codes;
    `parent` ("'c' at URL") names the request's container or share, for a missing one."""
    headers = response.headers
    answer = ErrorAnswer(
        response.status,
        headers.get("x-ms-error-code", ""),
        what,
        headers.get("Retry-After"),
        parent=parent,
        copy_source_status=headers.get("x-ms-copy-source-status-code", ""),
        method=method,
    )
    return classify_answer(answer, errors)
