"""The blob stand-in (tests/blob_standin.py) against the real azure-storage-blob SDK.

It must implement Put Blob From URL, Append Block From URL, Put Page From URL and a pending
Copy Blob faithfully enough for the SDK, authenticate them as Azure does, answer 501 like
Azurite when told to, and forward everything else to Azurite untouched.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.storage.blob import (
    BlobServiceClient,
    ContentSettings,
    generate_account_sas,
    generate_blob_sas,
    generate_container_sas,
)
from blob_standin import BlobStandIn, blob_standin_fixture  # noqa: F401  (the fixture)
from helpers import data_for


def _hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


def _service(standin: BlobStandIn, account: str, credential) -> BlobServiceClient:
    return BlobServiceClient(standin.account_url(account), credential=credential)


@pytest.fixture
def via(blob_standin, azurite):
    """A BlobServiceClient for the main account through the stand-in (SharedKey)."""
    client = _service(
        blob_standin, azurite.account, {"account_name": azurite.account, "account_key": azurite.key}
    )
    yield client
    client.close()


@pytest.fixture
def source(container_client, azurite, blob_standin, container):
    """A source blob written straight to Azurite; its read-SAS URL through the stand-in."""
    data = data_for("source", 3000)
    container_client.upload_blob(
        "src.bin",
        data,
        content_settings=ContentSettings(
            content_type="text/x-test",
            content_encoding="identity",
            content_language="fr",
            content_disposition="attachment; filename=src.bin",
            cache_control="max-age=60",
        ),
        metadata={"origin": "source"},
    )
    sas = generate_blob_sas(
        azurite.account, container, "src.bin", account_key=azurite.key, permission="r",
        expiry=_hour(),
    )  # fmt: skip
    url = f"{blob_standin.account_url(azurite.account)}/{container}/src.bin?{sas}"
    return url, data


def _md5(data: bytes) -> bytearray:
    return bytearray(hashlib.md5(data).digest())


def test_put_blob_from_url_copies_bytes_and_properties(via, container, source, blob_standin):
    url, data = source
    dest = via.get_blob_client(container, "dst.bin")
    result = dest.upload_blob_from_url(url, metadata={"mine": "yes"}, overwrite=True)
    assert result["etag"] and result["content_md5"] == _md5(data)

    props = dest.get_blob_properties()
    assert dest.download_blob().readall() == data
    assert props.size == len(data)
    cs = props.content_settings
    assert cs.content_type == "text/x-test"
    assert cs.content_encoding == "identity"
    assert cs.content_language == "fr"
    assert cs.content_disposition == "attachment; filename=src.bin"
    assert cs.cache_control == "max-age=60"
    assert cs.content_md5 == _md5(data)
    assert props.metadata == {"mine": "yes"}  # Put Blob From URL never copies metadata

    (rec,) = blob_standin.requests_of("PutBlobFromURL")
    assert not rec.forwarded and rec.status == 201 and rec.body_length == 0
    assert rec.headers["x-ms-copy-source"] == url
    assert rec.headers["x-ms-blob-type"] == "BlockBlob"
    assert rec.path.endswith(f"/{container}/dst.bin")
    # the source was read straight from Azurite, not through the stand-in's own front door
    assert not [r for r in blob_standin.requests_of("GetBlob") if "src.bin" in r.path]


def test_put_blob_from_url_without_source_properties_and_with_overrides(
    via, container, container_client, source, azurite, blob_standin
):
    url, data = source
    # the source by Azurite's own address, an explicit override, source properties off
    direct = url.replace(blob_standin.endpoint, f"http://{azurite.host}:{azurite.blob_port}")
    assert direct != url
    dest = via.get_blob_client(container, "plain.bin")
    dest.upload_blob_from_url(
        direct,
        include_source_blob_properties=False,
        content_settings=ContentSettings(content_type="application/x-mine"),
        tags={"k": "v"},
    )
    props = dest.get_blob_properties()
    assert dest.download_blob().readall() == data
    assert props.content_settings.content_type == "application/x-mine"
    assert props.content_settings.content_language is None
    assert dest.get_blob_tags() == {"k": "v"}

    # overrides win over copied source properties
    dest2 = via.get_blob_client(container, "override.bin")
    dest2.upload_blob_from_url(url, content_settings=ContentSettings(content_language="de"))
    cs = dest2.get_blob_properties().content_settings
    assert (cs.content_language, cs.content_type) == ("de", "text/x-test")

    # x-ms-copy-source-tag-option: COPY reads the source's tags (the SAS needs t)
    container_client.get_blob_client("src.bin").set_blob_tags({"team": "blue"})
    tag_sas = generate_blob_sas(azurite.account, container, "src.bin", account_key=azurite.key,
                                permission="rt", expiry=_hour())  # fmt: skip
    tagged = via.get_blob_client(container, "tagged.bin")
    tagged.upload_blob_from_url(f"{url.split('?')[0]}?{tag_sas}", copy_source_tags="COPY")
    assert tagged.get_blob_tags() == {"team": "blue"}

    # overwrite=False is If-None-Match: * on the destination
    with pytest.raises(ResourceExistsError):
        dest2.upload_blob_from_url(url, overwrite=False)


def test_put_blob_from_url_source_md5_and_conditions(via, container, source):
    url, data = source
    dest = via.get_blob_client(container, "md5.bin")
    dest.upload_blob_from_url(url, source_content_md5=hashlib.md5(data).digest())
    with pytest.raises(HttpResponseError) as exc:
        dest.upload_blob_from_url(url, source_content_md5=hashlib.md5(b"other").digest())
    assert exc.value.status_code == 400 and exc.value.error_code == "Md5Mismatch"
    with pytest.raises(HttpResponseError) as exc:
        dest.upload_blob_from_url(url, source_etag='"0xBAD"', source_match_condition=_if_match())
    assert exc.value.status_code == 412 and exc.value.error_code == "SourceConditionNotMet"


def _if_match():
    from azure.core import MatchConditions

    return MatchConditions.IfNotModified


def test_append_block_from_url_with_source_range(via, container, source, blob_standin):
    url, data = source
    dest = via.get_blob_client(container, "log.txt")
    dest.create_append_blob()
    first = dest.append_block_from_url(url, source_offset=10, source_length=20)
    second = dest.append_block_from_url(url, source_offset=100, source_length=5)
    assert first["blob_append_offset"] == "0" and second["blob_append_offset"] == "20"
    assert first["content_md5"] == _md5(data[10:30])
    assert dest.download_blob().readall() == data[10:30] + data[100:105]

    recs = blob_standin.requests_of("AppendBlockFromURL")
    assert [r.headers["x-ms-source-range"] for r in recs] == ["bytes=10-29", "bytes=100-104"]
    assert all(r.headers["x-ms-copy-source"] == url and r.status == 201 for r in recs)
    assert all(r.query["comp"] == "appendblock" for r in recs)

    # a range past the end of the source cannot be read
    with pytest.raises(HttpResponseError) as exc:
        dest.append_block_from_url(url, source_offset=2990, source_length=100)
    assert exc.value.error_code == "CannotVerifyCopySource"


def test_upload_pages_from_url_with_offsets(via, container, source, blob_standin):
    url, data = source
    dest = via.get_blob_client(container, "disk.vhd")
    dest.create_page_blob(4096)
    dest.upload_pages_from_url(url, offset=1024, length=512, source_offset=512)
    dest.upload_pages_from_url(url, offset=3072, length=1024, source_offset=1536)
    got = dest.download_blob().readall()
    assert got[1024:1536] == data[512:1024]
    assert got[3072:4096] == data[1536:2560]
    assert got[:1024] == bytes(1024) and got[1536:3072] == bytes(1536)

    recs = blob_standin.requests_of("PutPageFromURL")
    assert [(r.headers["x-ms-range"], r.headers["x-ms-source-range"]) for r in recs] == [
        ("bytes=1024-1535", "bytes=512-1023"),
        ("bytes=3072-4095", "bytes=1536-2559"),
    ]
    assert all(r.headers["x-ms-page-write"] == "update" for r in recs)


def test_bad_shared_key_is_authentication_failed(blob_standin, azurite, container, source):
    url, _ = source
    wrong = base64.b64encode(b"not-the-key" * 4).decode()
    client = _service(blob_standin, azurite.account, {"account_name": azurite.account,
                                                      "account_key": wrong})  # fmt: skip
    with pytest.raises(HttpResponseError) as exc:
        client.get_blob_client(container, "x").upload_blob_from_url(url)
    assert exc.value.status_code == 403 and exc.value.error_code == "AuthenticationFailed"
    assert "string to sign" in str(exc.value)
    assert blob_standin.requests_of("PutBlobFromURL")[0].status == 403


def test_sas_tokens_are_verified_with_permissions(blob_standin, azurite, container, source):
    url, data = source
    acct, key = azurite.account, azurite.key
    endpoint = blob_standin.account_url(acct)

    def dest(sas: str, name: str):
        return _service(blob_standin, acct, sas).get_blob_client(container, name)

    # blob SAS, container SAS and account SAS with write permission all work
    blob_sas = generate_blob_sas(acct, container, "b.bin", account_key=key, permission="w",
                                 expiry=_hour())  # fmt: skip
    dest(blob_sas, "b.bin").upload_blob_from_url(url)
    cont_sas = generate_container_sas(acct, container, account_key=key, permission="rw",
                                      expiry=_hour())  # fmt: skip
    dest(cont_sas, "c.bin").upload_blob_from_url(url)
    acct_sas = generate_account_sas(acct, key, resource_types="o", permission="w", expiry=_hour())
    dest(acct_sas, "a.bin").upload_blob_from_url(url)
    # create-only: allowed for a new blob, not to overwrite one
    create_sas = generate_container_sas(acct, container, account_key=key, permission="c",
                                        expiry=_hour())  # fmt: skip
    dest(create_sas, "new.bin").upload_blob_from_url(url)
    with pytest.raises(HttpResponseError) as exc:
        dest(create_sas, "new.bin").upload_blob_from_url(url, overwrite=True)
    assert exc.value.error_code == "AuthorizationPermissionMismatch"
    assert requests.get(f"{endpoint}/{container}/c.bin?{cont_sas}", timeout=10).content == data

    # read-only SAS: no write
    read_sas = generate_container_sas(acct, container, account_key=key, permission="r",
                                      expiry=_hour())  # fmt: skip
    with pytest.raises(HttpResponseError) as exc:
        dest(read_sas, "r.bin").upload_blob_from_url(url)
    assert exc.value.status_code == 403
    assert exc.value.error_code == "AuthorizationPermissionMismatch"
    # a SAS for another blob, an expired one, and a tampered one fail authentication
    other = generate_blob_sas(acct, container, "other", account_key=key, permission="w",
                              expiry=_hour())  # fmt: skip
    expired = generate_container_sas(acct, container, account_key=key, permission="w",
                                     expiry=datetime.now(UTC) - timedelta(minutes=1))  # fmt: skip
    tampered = cont_sas.replace("sp=rw", "sp=rwd")
    for sas in (other, expired, tampered):
        with pytest.raises(HttpResponseError) as exc:
            dest(sas, "z.bin").upload_blob_from_url(url)
        assert exc.value.status_code == 403 and exc.value.error_code == "AuthenticationFailed"
    # an account SAS without the object resource type
    container_only = generate_account_sas(acct, key, resource_types="c", permission="w",
                                          expiry=_hour())  # fmt: skip
    with pytest.raises(HttpResponseError) as exc:
        dest(container_only, "y.bin").upload_blob_from_url(url)
    assert exc.value.error_code == "AuthorizationResourceTypeMismatch"
    # no credentials at all
    with pytest.raises(HttpResponseError) as exc:
        _service(blob_standin, acct, None).get_blob_client(container, "n").upload_blob_from_url(url)
    assert exc.value.status_code == 401
    assert not blob_standin.errors


def test_missing_or_unauthorized_source_is_cannot_verify_copy_source(
    via, container, azurite, blob_standin, source
):
    url, _ = source
    dest = via.get_blob_client(container, "d.bin")
    sas = generate_container_sas(azurite.account, container, account_key=azurite.key,
                                 permission="r", expiry=_hour())  # fmt: skip
    missing = f"{url.split('?')[0].replace('src.bin', 'missing.bin')}?{sas}"
    with pytest.raises(HttpResponseError) as exc:
        dest.upload_blob_from_url(missing)
    assert exc.value.status_code == 404
    assert exc.value.error_code == "CannotVerifyCopySource"
    assert "404" in exc.value.message
    assert exc.value.response.headers["x-ms-copy-source-status-code"] == "404"
    # a source without any SAS is not readable (Put Blob From URL needs SAS or public)
    with pytest.raises(HttpResponseError) as exc:
        dest.upload_blob_from_url(url.split("?")[0])
    assert exc.value.error_code == "CannotVerifyCopySource"
    assert 400 <= exc.value.status_code < 500


def test_not_implemented_answers_like_azurite(via, container, source, blob_standin, azurite):
    url, _ = source
    # what Azurite itself answers to Put Blob From URL
    direct = BlobServiceClient(azurite.blob_endpoint, credential=azurite.key)
    with pytest.raises(HttpResponseError) as az:
        direct.get_blob_client(container, "x").upload_blob_from_url(url)
    assert az.value.status_code == 501
    first_line = az.value.response.text().split("RequestId:")[0]

    blob_standin.not_implemented = {"PutBlobFromURL", "PutBlockFromURL", "CopyBlob"}
    blob_standin.pending_polls = 1  # switched off for CopyBlob by not_implemented
    dest = via.get_blob_client(container, "x")
    with pytest.raises(HttpResponseError) as exc:
        dest.upload_blob_from_url(url)
    with pytest.raises(HttpResponseError) as synthesized:
        dest.stage_block_from_url("YmxvY2s=", url)
    with pytest.raises(HttpResponseError) as copy:
        dest.start_copy_from_url(url)
    for err in (exc.value, synthesized.value, copy.value):
        assert err.status_code == 501 and err.error_code == "APINotImplemented"
        assert err.response.text().split("RequestId:")[0] == first_line
        assert err.response.headers["Server"] == az.value.response.headers["Server"]
    assert blob_standin.requests_of("PutBlobFromURL")[0].forwarded  # Azurite's own answer
    assert not blob_standin.requests_of("PutBlockFromURL")[0].forwarded

    blob_standin.not_implemented.clear()
    dest.upload_blob_from_url(url)  # switched back on at run time


def test_pending_copy_progresses_then_succeeds(via, container, source, blob_standin):
    url, data = source
    blob_standin.pending_polls = 2
    dest = via.get_blob_client(container, "copy.bin")
    started = dest.start_copy_from_url(url)
    assert started["copy_status"] == "pending"
    copy_id = started["copy_id"]
    assert blob_standin.pending_copies() == [copy_id]
    # the placeholder is visible while pending
    assert "copy.bin" in {b.name for b in via.get_container_client(container).list_blobs()}

    seen = []
    for _ in range(3):
        copy = dest.get_blob_properties().copy
        assert copy.id == copy_id and copy.source == url
        seen.append((copy.status, copy.progress))
    total = len(data)
    assert seen == [
        ("pending", f"{total // 3}/{total}"),
        ("pending", f"{2 * total // 3}/{total}"),
        ("success", f"{total}/{total}"),
    ]
    props = dest.get_blob_properties()
    assert props.copy.completion_time is not None
    assert dest.download_blob().readall() == data
    assert props.metadata == {"origin": "source"}  # Copy Blob copies the source's metadata
    assert props.content_settings.content_type == "text/x-test"
    assert props.content_settings.content_md5 == _md5(data)
    assert blob_standin.pending_copies() == []

    listed = {
        b.name: b.copy for b in via.get_container_client(container).list_blobs(include=["copy"])
    }
    assert (listed["copy.bin"].id, listed["copy.bin"].status) == (copy_id, "success")

    (rec,) = blob_standin.requests_of("CopyBlob")
    assert rec.status == 202 and rec.headers["x-ms-copy-source"] == url
    assert "x-ms-requires-sync" not in rec.headers
    assert len(blob_standin.requests_of("GetBlobProperties")) == 4

    # a new Put Blob over the destination ends the reporting of the old copy
    dest.upload_blob(b"fresh", overwrite=True)
    assert dest.get_blob_properties().copy.id is None


def test_pending_copy_fails_when_the_source_changes(
    via, container, container_client, source, blob_standin
):
    url, _ = source
    blob_standin.pending_polls = 1
    dest = via.get_blob_client(container, "moving.bin")
    dest.start_copy_from_url(url)
    assert dest.get_blob_properties().copy.status == "pending"
    container_client.upload_blob("src.bin", b"changed", overwrite=True)
    copy = dest.get_blob_properties().copy
    assert copy.status == "failed" and "412" in copy.status_description
    assert dest.get_blob_properties().size == 0


def test_abort_pending_copy_leaves_zero_length_blob(via, container, source, blob_standin):
    url, _ = source
    blob_standin.pending_polls = 1
    blob_standin.hold_pending = True
    dest = via.get_blob_client(container, "held.bin")
    started = dest.start_copy_from_url(url, metadata={"m": "1"})
    for _ in range(3):  # held: never completes
        assert dest.get_blob_properties().copy.status == "pending"
    with pytest.raises(HttpResponseError) as exc:
        dest.start_copy_from_url(url)
    assert exc.value.error_code == "PendingCopyOperation"
    with pytest.raises(HttpResponseError) as exc:
        dest.abort_copy("00000000-0000-0000-0000-000000000000")
    assert exc.value.error_code == "CopyIdMismatch"

    dest.abort_copy(started["copy_id"])
    props = dest.get_blob_properties()
    assert props.size == 0 and props.metadata == {"m": "1"}
    assert props.copy.status == "aborted" and props.copy.id == started["copy_id"]
    assert blob_standin.aborted_copies() == [started["copy_id"]]
    assert blob_standin.pending_copies() == []
    (abort,) = [r for r in blob_standin.requests_of("AbortCopy") if r.status == 204]
    assert abort.query == {"comp": "copy", "copyid": started["copy_id"]}
    assert abort.headers["x-ms-copy-action"] == "abort"

    with pytest.raises(HttpResponseError) as exc:
        dest.abort_copy(started["copy_id"])
    assert exc.value.status_code == 409 and exc.value.error_code == "NoPendingCopyOperation"
    with pytest.raises(HttpResponseError) as exc:
        via.get_blob_client(container, "src.bin").abort_copy(started["copy_id"])
    assert exc.value.error_code == "NoPendingCopyOperation"


def test_forwarding_is_verbatim(via, container, source, blob_standin, azurite):
    url, data = source
    # SharedKey-signed uploads, downloads and listings pass through and verify at Azurite
    blob = via.get_blob_client(container, "dir/ünï cödé.bin")
    blob.upload_blob(data, overwrite=True, metadata={"a": "b"})
    assert blob.download_blob(offset=5, length=10).readall() == data[5:15]
    blob.stage_block_from_url("YmxvY2sx", url, source_offset=0, source_length=100)
    blob.commit_block_list(["YmxvY2sx"])
    assert blob.download_blob().readall() == data[:100]
    # with no pending copies configured, Copy Blob goes to Azurite (the source host equals the
    # request host, so Azurite copies it at once)
    copied = via.get_blob_client(container, "at-once.bin").start_copy_from_url(url)
    assert copied["copy_status"] == "success"
    ops = {r.op for r in blob_standin.requests_of("Forwarded")}
    assert {"PutBlob", "GetBlob", "PutBlockFromURL", "PutBlockList", "CopyBlob"} <= ops
    assert all(r.forwarded for r in blob_standin.requests)
    put = blob_standin.requests_of("PutBlob")[0]
    assert put.body_length == len(data) and put.status == 201
    # Azurite authenticates forwarded requests itself
    wrong = base64.b64encode(b"wrong" * 8).decode()
    bad = _service(blob_standin, azurite.account, {"account_name": azurite.account,
                                                   "account_key": wrong})  # fmt: skip
    with pytest.raises(HttpResponseError) as exc:
        bad.get_blob_client(container, "src.bin").get_blob_properties()
    assert exc.value.status_code == 403
    assert not blob_standin.errors


def test_context_manager_stops_cleanly(azurite):
    accounts = {azurite.account: azurite.key}
    with BlobStandIn(f"http://127.0.0.1:{azurite.blob_port}", accounts) as standin:
        port = standin.port
        answer = requests.get(f"{standin.endpoint}/{azurite.account}?comp=list", timeout=5)
        assert answer.headers["Server"].startswith("Azurite")  # forwarded
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
