"""Blob Batch: up to 256 Delete Blob or Set Blob Tier requests of one container in one
`POST /container?restype=container&comp=batch` (multipart/mixed, OData batch syntax).

Each sub-request is signed on its own, as a request sent alone would be, but without
x-ms-version (the batch's own applies to every sub-request): SharedKey signs its path, a SAS
rides on its query, a token goes in its Authorization header. The answer holds one part per
sub-request, in order, each with its own status and error code, so one failing fails only its
object. A service (or a SAS) that refuses the batch itself is told to the caller
(`BatchRefused`), which then sends the requests one by one.

The same outcome rule reads a sub-request's answer and a single request's: `outcome`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from urllib.parse import quote
from xml.etree import ElementTree

from msgspec import Struct

from azxfer.endpoints.blob.errors import BLOB_ERRORS
from azxfer.endpoints.blob.requests import blob_path
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.errors import AzxferError, TransferError
from azxfer.transport.classify import ErrorAnswer, classify_answer, first_line
from azxfer.transport.dates import format_http_date

# The service's limit of sub-requests in one batch.
BATCH_LIMIT = 256
# Answers to the batch itself that mean "not here" (a SAS without the rights a batch needs, an
# emulator without it), after which the requests go one by one.
_REFUSED = frozenset({400, 403, 405, 501})


class SubRequest(Struct, frozen=True):
    """One request of a batch: its method, blob, query and headers (no authorization yet)."""

    method: str
    name: str
    query: dict[str, str]
    headers: dict[str, str]


class Answer(Struct, frozen=True):
    """What the service answered one request: status, error code, its own message."""

    status: int
    code: str = ""
    message: str = ""


class BatchRefused(AzxferError):
    """The service (or the credential) does not take batches: send the requests one by one."""


def outcome(
    answer: Answer, what: str, parent: str, gone_is_done: bool, method: str = ""
) -> AzxferError | None:
    """None if `answer` says the request succeeded (with `gone_is_done`, an object already
    gone too), else the error it stands for, with the service's own words when it gave some
    (AzCopy shows them: "This operation is not permitted because the blob has snapshots.");
    `method` is the request's (a denial then knows the SAS permission it needed)."""
    status = answer.status
    if status < 300 or (gone_is_done and status == 404 and answer.code == "BlobNotFound"):
        return None
    err = classify_answer(
        ErrorAnswer(status, answer.code, what, parent=parent, method=method), BLOB_ERRORS
    )
    if type(err) is TransferError and answer.message:
        return TransferError(f"{err}: {first_line(answer.message)}")
    return err


class BlobBatch:
    """Sends batches of requests to one container, signed with its client's credential."""

    def __init__(self, client: RestBlobClient, container: str) -> None:
        self.client = client
        self.container = container

    async def submit(self, requests: Sequence[SubRequest]) -> list[Answer]:
        """One answer per request, in order (raises BatchRefused, or the batch's own error)."""
        if not requests:
            return []
        if len(requests) > BATCH_LIMIT:
            raise ValueError(f"a batch holds at most {BATCH_LIMIT} requests")
        boundary = f"batch_{uuid.uuid4()}"
        body = await self._body(requests, boundary)
        headers = {"Content-Type": f"multipart/mixed; boundary={boundary}"}
        query = {"restype": "container", "comp": "batch"}
        what = f"a batch of {len(requests)} requests in container '{self.container}'"
        status, answer_headers, payload = await self.client.rest.send(
            "POST",
            blob_path(self.container, ""),
            query,
            headers,
            body,
            what,
            parent=self.container,
            keep=_REFUSED,
        )
        if status in _REFUSED:
            code = answer_headers.get("x-ms-error-code", "")
            raise BatchRefused(f"{what}: refused ({status} {code})".rstrip())
        answers = parse_answers(payload, answer_headers.get("Content-Type", ""))
        if len(answers) != len(requests):
            raise TransferError(f"{what}: {len(answers)} answers to {len(requests)} requests")
        return answers

    async def _body(self, requests: Sequence[SubRequest], boundary: str) -> bytes:
        signer = self.client.signer.requests
        await signer.auth.ready()
        date = format_http_date(int(time.time()))
        parts: list[str] = []
        for index, request in enumerate(requests):
            path = signer.base_path + blob_path(self.container, request.name)
            headers = {"x-ms-date": date, "Content-Length": "0", **request.headers}
            query_string = "&".join(f"{k}={quote(v, safe='')}" for k, v in request.query.items())
            extra = signer.auth.apply(request.method, path, request.query, headers)
            if extra:
                query_string = f"{query_string}&{extra}" if query_string else extra
            target = f"{path}?{query_string}" if query_string else path
            lines = [
                f"--{boundary}",
                "Content-Type: application/http",
                "Content-Transfer-Encoding: binary",
                f"Content-ID: {index}",
                "",
                f"{request.method} {target} HTTP/1.1",
                *(f"{name}: {value}" for name, value in headers.items()),
                "",
                "",
            ]
            parts.append("\r\n".join(lines))
        parts.append(f"--{boundary}--\r\n")
        return "".join(parts).encode()


def parse_answers(payload: bytes, content_type: str) -> list[Answer]:
    """The sub-answers of a batch's multipart/mixed answer, in the order of its parts
    (which is the order of the requests: each part's Content-ID says so, when it is there)."""
    boundary = content_type.partition("boundary=")[2].split(";")[0].strip().strip('"')
    if not boundary:
        raise TransferError(f"a batch answer without a multipart boundary ({content_type!r})")
    text = payload.decode("utf-8", "replace")
    numbered: list[tuple[int, Answer]] = []
    for position, part in enumerate(text.split(f"--{boundary}")[1:]):
        if part.startswith("--"):
            break
        head, _, rest = part.replace("\r\n", "\n").strip("\n").partition("\n\n")
        content_id = _header(head, "content-id")
        status_line, _, after = rest.partition("\n")
        answer_head, _, body = after.partition("\n\n")
        fields = status_line.split(" ", 2)
        if len(fields) < 2 or not fields[1].isdigit():
            raise TransferError(f"a batch answer part without a status line ({status_line!r})")
        code = _header(answer_head, "x-ms-error-code")
        answer = Answer(int(fields[1]), code, error_message(body))
        numbered.append((int(content_id) if content_id.isdigit() else position, answer))
    return [answer for _, answer in sorted(numbered, key=lambda pair: pair[0])]


def _header(head: str, name: str) -> str:
    for line in head.split("\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name:
            return value.strip()
    return ""


def error_message(body: str) -> str:
    """The <Message> of an error answer's XML body ('' if none)."""
    body = body.strip()
    if not body.startswith("<"):
        return ""
    try:
        return ElementTree.fromstring(body).findtext("Message") or ""
    except ElementTree.ParseError:
        return ""
