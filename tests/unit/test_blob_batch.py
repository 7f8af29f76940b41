"""Blob Batch on the wire: how sub-requests are signed and laid out, and how the multipart
answer is read back (its parts in Content-ID order, each with its status, code and message)."""

from __future__ import annotations

import asyncio

from azxfer.credentials import Credential
from azxfer.endpoints.blob.batch import Answer, BlobBatch, SubRequest, outcome, parse_answers
from azxfer.endpoints.blob.rest import RestBlobClient
from azxfer.errors import CredentialError, TransferError
from azxfer.transport.retry import RetryPolicy
from azxfer.transport.signing import SharedKey

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
ENDPOINT = "http://127.0.0.1:10000/devstoreaccount1"


def batch(credential: Credential) -> BlobBatch:
    client = RestBlobClient(None, ENDPOINT, "devstoreaccount1", credential, RetryPolicy())  # type: ignore[arg-type]
    return BlobBatch(client, "box")


def parts(body: bytes, boundary: str) -> list[str]:
    return [p for p in body.decode().split(f"--{boundary}") if p.strip() not in ("", "--")]


def test_shared_key_sub_requests_are_signed_alone_without_a_version():
    requests = [
        SubRequest("DELETE", "a b.txt", {}, {"x-ms-delete-snapshots": "include"}),
        SubRequest("PUT", "c", {"comp": "tier"}, {"x-ms-access-tier": "Cool"}),
    ]
    credential = Credential("shared_key", "devstoreaccount1", key=KEY)
    body = asyncio.run(batch(credential)._body(requests, "batch_x"))
    first, second = parts(body, "batch_x")
    assert "Content-ID: 0" in first and "Content-ID: 1" in second
    assert "DELETE /devstoreaccount1/box/a%20b.txt HTTP/1.1" in first
    assert "PUT /devstoreaccount1/box/c?comp=tier HTTP/1.1" in second
    assert "x-ms-version" not in body.decode()
    head = first.split("HTTP/1.1\r\n", 1)[1].split("\r\n\r\n")[0]
    headers = dict(line.split(": ", 1) for line in head.split("\r\n"))
    unsigned = {k: v for k, v in headers.items() if k != "Authorization"}
    expected = SharedKey("devstoreaccount1", KEY).authorization(
        "DELETE", "/devstoreaccount1/box/a%20b.txt", {}, unsigned
    )
    assert headers["Authorization"] == expected
    assert body.decode().endswith("--batch_x--\r\n")


def test_a_sas_rides_on_each_sub_request():
    credential = Credential("sas", "devstoreaccount1", sas="sv=2025-01-01&sig=SECRET")
    requests = [SubRequest("PUT", "c", {"comp": "tier"}, {"x-ms-access-tier": "Hot"})]
    body = asyncio.run(batch(credential)._body(requests, "b")).decode()
    assert "PUT /devstoreaccount1/box/c?comp=tier&sv=2025-01-01&sig=SECRET HTTP/1.1" in body
    assert "Authorization" not in body


ANSWER = (
    "--batchresponse_1\r\n"
    "Content-Type: application/http\r\nContent-ID: 1\r\n\r\n"
    "HTTP/1.1 409 Conflict\r\nx-ms-error-code: SnapshotsPresent\r\n"
    "Content-Type: application/xml\r\n\r\n"
    '<?xml version="1.0" encoding="utf-8"?><Error><Code>SnapshotsPresent</Code>'
    "<Message>This operation is not permitted because the blob has snapshots.</Message></Error>\r\n"
    "--batchresponse_1\r\n"
    "Content-Type: application/http\r\nContent-ID: 0\r\n\r\n"
    "HTTP/1.1 202 Accepted\r\nx-ms-delete-type-permanent: true\r\n\r\n"
    "--batchresponse_1--\r\n"
)


def test_answers_are_read_in_content_id_order():
    answers = parse_answers(ANSWER.encode(), "multipart/mixed; boundary=batchresponse_1")
    assert answers[0] == Answer(202)
    assert answers[1].status == 409 and answers[1].code == "SnapshotsPresent"
    assert "has snapshots" in answers[1].message


def test_outcomes():
    assert outcome(Answer(202), "blob 'a'", "", False) is None
    assert outcome(Answer(404, "BlobNotFound"), "blob 'a'", "", True) is None
    assert outcome(Answer(404, "BlobNotFound"), "blob 'a'", "", False) is not None
    err = outcome(Answer(409, "SnapshotsPresent", "It has snapshots."), "blob 'a'", "", True)
    assert isinstance(err, TransferError) and str(err).endswith("It has snapshots.")
    denied = outcome(Answer(403, "AuthorizationPermissionMismatch"), "blob 'a'", "", True)
    assert isinstance(denied, CredentialError)
