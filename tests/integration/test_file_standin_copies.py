"""Server-side copies on the File stand-in, driven by the real SDK: Copy File (completed,
pending, aborted) and Put Range From URL, with file sources and blob sources on Azurite."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobSasPermissions, generate_blob_sas
from azure.storage.fileshare import (
    ContentSettings,
    FileSasPermissions,
    ShareServiceClient,
    generate_file_sas,
)
from file_standin import WELL_KNOWN_ACCOUNT, WELL_KNOWN_KEY, FileStandIn


def _service(standin: FileStandIn) -> ShareServiceClient:
    return ShareServiceClient.from_connection_string(standin.connection_string())


def _read_sas(share: str, path: str) -> str:
    return generate_file_sas(
        WELL_KNOWN_ACCOUNT,
        share,
        path.split("/"),
        WELL_KNOWN_KEY,
        permission=FileSasPermissions(read=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )


def test_copy_file_completes_with_properties(file_standin):
    share = _service(file_standin).create_share("copies")
    source = share.get_file_client("src.bin")
    data = os.urandom(300_000)
    source.upload_file(data, metadata={"from": "source"})
    written = datetime(2018, 3, 4, 5, 6, 7, tzinfo=UTC)
    source.set_http_headers(
        ContentSettings(content_type="text/x-src"), file_last_write_time=written
    )
    dest = share.get_file_client("dst.bin")
    result = dest.start_copy_from_url(source.url, file_last_write_time="source")
    assert result["copy_status"] == "success"
    props = dest.get_file_properties()
    assert props.copy.status == "success" and props.copy.id == result["copy_id"]
    assert props.metadata == {"from": "source"} and props.last_write_time == written
    assert props.content_settings.content_type == "text/x-src"
    assert dest.download_file().readall() == data
    sas_source = f"{source.url}?{_read_sas('copies', 'src.bin')}"
    dest2 = share.get_file_client("dst2.bin")
    dest2.start_copy_from_url(sas_source, metadata={"own": "meta"})
    assert dest2.get_file_properties().metadata == {"own": "meta"}
    assert dest2.download_file().readall() == data


def test_copy_file_pending_then_success(file_standin):
    file_standin.pending_polls = 2
    share = _service(file_standin).create_share("pending")
    source = share.get_file_client("src")
    source.upload_file(b"p" * 5000)
    dest = share.get_file_client("dst")
    assert dest.start_copy_from_url(source.url)["copy_status"] == "pending"
    statuses = [dest.get_file_properties().copy.status for _ in range(3)]
    assert statuses == ["pending", "pending", "success"]
    assert dest.download_file().readall() == b"p" * 5000


def test_abort_copy_leaves_an_empty_destination(file_standin):
    file_standin.hold_pending = True
    file_standin.pending_polls = 0
    share = _service(file_standin).create_share("abort")
    source = share.get_file_client("src")
    source.upload_file(b"q" * 4000)
    dest = share.get_file_client("dst")
    copy_id = dest.start_copy_from_url(source.url)["copy_id"]
    assert dest.get_file_properties().copy.status == "pending"
    dest.abort_copy(copy_id)
    props = dest.get_file_properties()
    assert props.copy.status == "aborted" and props.size == 0
    with pytest.raises(HttpResponseError) as exc:
        dest.abort_copy(copy_id)
    assert exc.value.error_code == "NoPendingCopyOperation"


def test_upload_range_from_url_file_source(file_standin):
    share = _service(file_standin).create_share("fromurl")
    source = share.get_file_client("src")
    data = os.urandom(5 * 1024 * 1024)
    source.upload_file(data)
    dest = share.get_file_client("dst")
    dest.create_file(len(data))
    source_url = f"{source.url}?{_read_sas('fromurl', 'src')}"
    four = 4 * 1024 * 1024
    dest.upload_range_from_url(source_url, offset=0, length=four, source_offset=0)
    dest.upload_range_from_url(source_url, offset=four, length=len(data) - four, source_offset=four)
    assert dest.download_file().readall() == data
    assert len(file_standin.requests_of("PutRangeFromURL")) == 2
    with pytest.raises(HttpResponseError) as exc:  # no SAS: the source refuses to be read
        dest.upload_range_from_url(source.url, offset=0, length=512, source_offset=0)
    assert exc.value.error_code == "CannotVerifyCopySource"


def test_blob_sources_on_azurite(file_standin, azurite, blob_service, container):
    data = os.urandom(1_500_000)
    blob = blob_service.get_blob_client(container, "dir/source.bin")
    blob.upload_blob(data)
    sas = generate_blob_sas(
        azurite.account,
        container,
        "dir/source.bin",
        account_key=azurite.key,
        permission=BlobSasPermissions(read=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    blob_url = f"{blob.url}?{sas}"
    share = _service(file_standin).create_share("fromblob")
    by_range = share.get_file_client("ranged.bin")
    by_range.create_file(len(data))
    by_range.upload_range_from_url(blob_url, offset=0, length=len(data), source_offset=0)
    assert by_range.download_file().readall() == data
    copied = share.get_file_client("copied.bin")
    assert copied.start_copy_from_url(blob_url)["copy_status"] == "success"
    assert copied.download_file().readall() == data
