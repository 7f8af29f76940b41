"""The File REST stand-in against the real azure-storage-file-share SDK, unmodified.

Each test drives the SDK (connection string, or SAS tokens minted by the SDK itself) through
one group of operations and checks what the stand-in stored and answered.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.storage.fileshare import (
    AccountSasPermissions,
    ContentSettings,
    FileSasPermissions,
    NTFSAttributes,
    ResourceTypes,
    ShareClient,
    ShareFileClient,
    ShareSasPermissions,
    ShareServiceClient,
    generate_account_sas,
    generate_file_sas,
    generate_share_sas,
)
from file_standin import WELL_KNOWN_ACCOUNT, WELL_KNOWN_KEY, FileStandIn
from storage_auth import parse_query, shared_key_string_to_sign
from storage_auth import sign as sign_with

MIB = 1024 * 1024


def _service(standin: FileStandIn) -> ShareServiceClient:
    return ShareServiceClient.from_connection_string(standin.connection_string())


def _expiry(hours: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def test_share_create_properties_quota_list_delete(file_standin):
    service = _service(file_standin)
    share = service.create_share("alpha", quota=7, metadata={"Team": "x"})
    service.create_share("beta")
    with pytest.raises(ResourceExistsError) as exc:
        service.create_share("alpha")
    assert exc.value.error_code == "ShareAlreadyExists"
    props = share.get_share_properties()
    assert props.quota == 7
    assert props.metadata == {"Team": "x"}
    share.set_share_quota(9)
    assert share.get_share_properties().quota == 9
    share.set_share_metadata({"k": "v"})
    assert share.get_share_properties().metadata == {"k": "v"}
    listed = list(service.list_shares(include_metadata=True, results_per_page=1))
    assert [(s.name, s.quota) for s in listed] == [("alpha", 9), ("beta", 5120)]
    assert listed[0].metadata == {"k": "v"}
    share.delete_share()
    with pytest.raises(ResourceNotFoundError) as exc:
        share.get_share_properties()
    assert exc.value.error_code == "ShareNotFound"
    with pytest.raises(HttpResponseError) as exc:
        service.create_share("Bad_Name")
    assert exc.value.error_code == "InvalidResourceName"


def test_permission_create_and_get(file_standin):
    share = _service(file_standin).create_share("perm")
    sddl = "O:BAG:SYD:(A;;FA;;;SY)(A;;FA;;;BA)"
    key = share.create_permission_for_share(sddl)
    assert share.get_permission_for_share(key) == sddl
    assert share.create_permission_for_share(sddl) == key  # stored once
    directory = share.create_directory("d", file_permission_key=key)
    assert directory.get_directory_properties().permission_key == key
    other = share.create_directory("e", file_permission=sddl)
    assert other.get_directory_properties().permission_key == key


def test_directories_smb_metadata_delete(file_standin):
    share = _service(file_standin).create_share("dirs")
    created = datetime(2020, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    directory = share.create_directory(
        "top",
        metadata={"a": "1"},
        file_attributes=NTFSAttributes(hidden=True, directory=True),
        file_creation_time=created,
        file_last_write_time=created,
    )
    props = directory.get_directory_properties()
    assert props.is_directory and props.metadata == {"a": "1"}
    assert props.creation_time == created and props.last_write_time == created
    assert "Hidden" in props.file_attributes and "Directory" in props.file_attributes
    with pytest.raises(ResourceExistsError) as exc:
        share.create_directory("TOP")  # names are case-insensitive
    assert exc.value.error_code == "ResourceAlreadyExists"
    with pytest.raises(ResourceNotFoundError) as exc:
        share.create_directory("missing/child")
    assert exc.value.error_code == "ParentNotFound"
    later = datetime(2021, 6, 7, 8, 9, 10, tzinfo=UTC)
    directory.set_http_headers(file_last_write_time=later)
    assert directory.get_directory_properties().last_write_time == later
    directory.set_directory_metadata({"b": "2"})
    assert directory.get_directory_properties().metadata == {"b": "2"}
    share.get_directory_client("Top/Sub").create_directory()
    with pytest.raises(ResourceExistsError) as exc:
        directory.delete_directory()
    assert exc.value.error_code == "DirectoryNotEmpty"
    share.get_directory_client("top/sub").delete_directory()
    directory.delete_directory()
    with pytest.raises(ResourceNotFoundError):
        directory.get_directory_properties()


def test_upload_download_whole_and_ranged_with_validation(file_standin):
    share = _service(file_standin).create_share("data")
    share.create_directory("dir a")
    client = share.get_file_client("dir a/ü file.bin")
    data = os.urandom(9 * MIB + 123)
    client.upload_file(
        data,
        validate_content=True,
        max_concurrency=2,
        content_settings=ContentSettings(
            content_type="text/x-test", content_md5=hashlib.md5(data).digest()
        ),
    )
    assert file_standin.requests_of("CreateFile")[-1].status == 201
    assert len(file_standin.requests_of("PutRange")) == 3  # 4 MiB ranges
    assert client.download_file(validate_content=True).readall() == data
    ranged = client.download_file(offset=4 * MIB - 10, length=20, validate_content=True)
    assert ranged.readall() == data[4 * MIB - 10 : 4 * MIB + 10]
    props = client.get_file_properties()
    assert props.size == len(data)
    assert props.content_settings.content_type == "text/x-test"
    assert props.content_settings.content_md5 == hashlib.md5(data).digest()
    empty = share.get_file_client("empty")
    empty.upload_file(b"")
    assert empty.download_file().readall() == b""
    with pytest.raises(HttpResponseError) as exc:
        client.download_file(offset=len(data) + 5, length=3).readall()
    assert exc.value.status_code == 416 and exc.value.error_code == "InvalidRange"


def _ranges(client: ShareFileClient, per_page: int | None = None, **kwargs) -> list:
    return [(r.start, r.end) for r in client.list_ranges(results_per_page=per_page, **kwargs)]


def test_put_range_md5_mismatch_and_range_checks(file_standin):
    share = _service(file_standin).create_share("ranges")
    client = share.get_file_client("f")
    client.create_file(2048)
    with pytest.raises(HttpResponseError) as exc:
        client.upload_range(
            b"x" * 512, offset=0, length=512, headers={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}
        )
    assert exc.value.error_code == "Md5Mismatch"
    with pytest.raises(HttpResponseError) as exc:
        client.upload_range(b"x" * 512, offset=2000, length=512)
    assert exc.value.error_code == "InvalidRange"
    client.upload_range(b"a" * 600, offset=0, length=600)
    client.upload_range(b"b" * 424, offset=600, length=424)
    client.upload_range(b"c" * 10, offset=1500, length=10)
    assert _ranges(client) == [(0, 1023), (1500, 1509)]
    client.clear_range(offset=512, length=512)
    assert _ranges(client, per_page=1) == [(0, 511), (1500, 1509)]
    assert len(file_standin.requests_of("ListRanges")) == 3  # the second listing had 2 pages
    assert _ranges(client, offset=100, length=1405) == [(100, 511), (1500, 1504)]
    content = client.download_file().readall()
    assert content[:512] == b"a" * 512 and content[512:1500] == bytes(988)
    assert content[1500:1510] == b"c" * 10 and len(content) == 2048
    client.resize_file(1505)
    assert client.get_file_properties().size == 1505
    assert client.download_file().readall()[1500:] == b"c" * 5
    client.resize_file(3000)
    assert client.download_file().readall()[1500:] == b"c" * 5 + bytes(1495)


def test_sparse_large_file_costs_only_what_was_written(file_standin):
    share = _service(file_standin).create_share("sparse")
    client = share.get_file_client("big")
    client.create_file(256 * MIB)
    client.upload_range(b"z" * 10, offset=200 * MIB, length=10)
    file = file_standin.service.store.share(WELL_KNOWN_ACCOUNT, "sparse").root.children["BIG"]
    assert file.data.stored_bytes() == 10
    tail = client.download_file(offset=200 * MIB - 2, length=14).readall()
    assert tail == b"\0\0" + b"z" * 10 + b"\0\0"


def test_listing_with_extended_info_and_paging(file_standin):
    share = _service(file_standin).create_share("listing")
    share.create_directory("d")
    share.create_directory("d/sub")
    for name in ("b.txt", "A.txt", "c.txt"):
        share.get_file_client(f"d/{name}").upload_file(name.encode())
    entries = list(
        share.list_directories_and_files(
            "d",
            include=["timestamps", "Etag", "Attributes", "PermissionKey"],
            include_extended_info=True,
            results_per_page=2,
        )
    )
    # The SDK yields each page's directories before its files.
    assert [e.name for e in entries] == ["A.txt", "b.txt", "sub", "c.txt"]
    pages = file_standin.requests_of("ListDirectoriesAndFiles")
    assert [p.query.get("marker") for p in pages] == [None, "c.txt"]
    by_name = {e.name: e for e in entries}
    assert by_name["b.txt"].size == 5 and not by_name["b.txt"].is_directory
    assert by_name["sub"].is_directory
    assert by_name["A.txt"].file_id and by_name["A.txt"].etag
    assert by_name["A.txt"].creation_time and by_name["A.txt"].last_write_time
    assert by_name["A.txt"].file_attributes == "Archive"
    assert by_name["sub"].permission_key
    prefixed = [e.name for e in share.list_directories_and_files("d", name_starts_with="a")]
    assert prefixed == ["A.txt"]


def test_properties_metadata_and_smb_round_trip(file_standin):
    share = _service(file_standin).create_share("props")
    client = share.get_file_client("f.txt")
    written = datetime(2019, 5, 6, 7, 8, 9, 987654, tzinfo=UTC)
    client.upload_file(b"hello", metadata={"Origin": "test"}, file_last_write_time=written)
    client.set_http_headers(
        ContentSettings(content_type="text/plain", content_disposition="inline"),
        file_attributes=NTFSAttributes(read_only=True),
        file_last_write_time=written,
    )
    client.set_file_metadata({"x": "1"})
    props = client.get_file_properties()
    assert props.last_write_time == written
    assert props.file_attributes == "ReadOnly"
    assert props.content_settings.content_type == "text/plain"
    assert props.content_settings.content_disposition == "inline"
    assert props.metadata == {"x": "1"}
    with pytest.raises(ResourceNotFoundError) as exc:
        share.get_file_client("nope").get_file_properties()
    assert exc.value.error_code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as exc:
        share.get_file_client("no/dir/f").create_file(1)
    assert exc.value.error_code == "ParentNotFound"
    client.delete_file()
    with pytest.raises(ResourceNotFoundError):
        client.get_file_properties()


def test_invalid_names_are_refused(file_standin):
    share = _service(file_standin).create_share("names")
    for bad in ("a:b", "q?", "star*", "pipe|", "trailing.", "trailing ", "x" * 256):
        with pytest.raises(HttpResponseError) as exc:
            share.get_file_client(bad).create_file(1)
        assert exc.value.error_code == "InvalidResourceName", bad


def test_share_quota_counts_file_sizes(file_standin):
    share = _service(file_standin).create_share("quota", quota=1)
    share.get_file_client("a").create_file(1024**3 - 10)
    with pytest.raises(HttpResponseError) as exc:
        share.get_file_client("b").create_file(11)
    assert exc.value.status_code == 413 and exc.value.error_code == "ShareSizeLimitReached"
    share.get_file_client("b").create_file(10)
    share.set_share_quota(2)
    share.get_file_client("c").create_file(100)


def test_leases(file_standin):
    share = _service(file_standin).create_share("leases")
    client = share.get_file_client("f")
    client.upload_file(b"data")
    lease = client.acquire_lease()
    assert client.get_file_properties().lease.state == "leased"
    with pytest.raises(HttpResponseError) as exc:
        client.upload_range(b"x", offset=0, length=1)
    assert exc.value.status_code == 412 and exc.value.error_code == "LeaseIdMissing"
    client.upload_range(b"x", offset=0, length=1, lease=lease)
    assert client.download_file().readall() == b"xata"  # reads need no lease id
    lease.change("11111111-2222-3333-4444-555555555555")
    assert lease.id == "11111111-2222-3333-4444-555555555555"
    lease.release()
    client.upload_range(b"y", offset=1, length=1)
    lease = client.acquire_lease()
    lease.break_lease()
    assert client.get_file_properties().lease.state == "broken"
    client.delete_file()


def test_sharing_violation_switch(file_standin):
    share = _service(file_standin).create_share("handles")
    client = share.get_file_client("dir/open.txt")
    share.create_directory("dir")
    client.upload_file(b"abc")
    file_standin.open_handles.add((WELL_KNOWN_ACCOUNT, "handles", "DIR/open.txt"))
    with pytest.raises(HttpResponseError) as exc:
        client.upload_range(b"x", offset=0, length=1)
    assert exc.value.error_code == "SharingViolation"
    with pytest.raises(HttpResponseError):
        client.delete_file()
    file_standin.open_handles.clear()
    client.delete_file()


# -- authentication -----------------------------------------------------------------------------


def _sas_share(standin: FileStandIn, share: str, token: str) -> ShareClient:
    return ShareClient(account_url=standin.account_url(), share_name=share, credential=token)


def test_share_sas_grants_what_it_says(file_standin):
    _service(file_standin).create_share("sas")
    token = generate_share_sas(
        WELL_KNOWN_ACCOUNT,
        "sas",
        WELL_KNOWN_KEY,
        permission=ShareSasPermissions(read=True, create=True, write=True, list=True),
        expiry=_expiry(),
    )
    share = _sas_share(file_standin, "sas", token)
    share.create_directory("d")
    share.get_file_client("d/f").upload_file(b"through sas")
    assert share.get_file_client("d/f").download_file().readall() == b"through sas"
    assert [e.name for e in share.list_directories_and_files("d")] == ["f"]
    with pytest.raises(HttpResponseError) as exc:
        share.get_file_client("d/f").delete_file()
    assert exc.value.status_code == 403
    assert exc.value.error_code == "AuthorizationPermissionMismatch"


def test_file_sas_and_account_sas(file_standin):
    share = _service(file_standin).create_share("fsas")
    share.create_directory("d")
    share.get_file_client("d/f.bin").upload_file(b"12345")
    token = generate_file_sas(
        WELL_KNOWN_ACCOUNT,
        "fsas",
        ["d", "f.bin"],
        WELL_KNOWN_KEY,
        permission=FileSasPermissions(read=True),
        expiry=_expiry(),
    )
    # (from_file_url would drop the http scheme of a path-style URL)
    reader = ShareFileClient(file_standin.account_url(), "fsas", "d/f.bin", credential=token)
    assert reader.download_file().readall() == b"12345"
    with pytest.raises(HttpResponseError) as exc:
        reader.upload_range(b"x", offset=0, length=1)
    assert exc.value.error_code == "AuthorizationPermissionMismatch"
    other = ShareFileClient(file_standin.account_url(), "fsas", "d/g", credential=token)
    with pytest.raises(ClientAuthenticationError) as exc:
        other.create_file(1)  # the SAS names another file: its signature does not match
    assert exc.value.error_code == "AuthenticationFailed"
    account_token = generate_account_sas(
        WELL_KNOWN_ACCOUNT,
        WELL_KNOWN_KEY,
        ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, list=True, create=True, delete=True),
        _expiry(),
    )
    service = ShareServiceClient(file_standin.account_url(), credential=account_token)
    assert [s.name for s in service.list_shares()] == ["fsas"]
    service.get_share_client("fsas").get_file_client("d/f.bin").delete_file()


def test_auth_failures(file_standin):
    _service(file_standin).create_share("auth")
    wrong = ShareServiceClient(
        file_standin.account_url(),
        credential={"account_name": WELL_KNOWN_ACCOUNT, "account_key": "d3Jvbmcga2V5"},
    )
    with pytest.raises(ClientAuthenticationError) as exc:
        wrong.get_share_client("auth").get_share_properties()
    assert exc.value.error_code == "AuthenticationFailed"
    expired = generate_share_sas(
        WELL_KNOWN_ACCOUNT,
        "auth",
        WELL_KNOWN_KEY,
        permission=ShareSasPermissions(read=True, list=True),
        start=datetime.now(UTC) - timedelta(hours=2),
        expiry=datetime.now(UTC) - timedelta(hours=1),
    )
    with pytest.raises(ClientAuthenticationError) as exc:
        list(_sas_share(file_standin, "auth", expired).list_directories_and_files())
    assert exc.value.error_code == "AuthenticationFailed"
    no_list = generate_share_sas(
        WELL_KNOWN_ACCOUNT,
        "auth",
        WELL_KNOWN_KEY,
        permission=ShareSasPermissions(read=True),
        expiry=_expiry(),
    )
    with pytest.raises(HttpResponseError) as exc:
        list(_sas_share(file_standin, "auth", no_list).list_directories_and_files())
    assert exc.value.error_code == "AuthorizationPermissionMismatch"
    anonymous = _raw(file_standin, "GET", "/auth?restype=directory&comp=list", sign=False)
    assert anonymous.status == 401
    assert anonymous.getheader("x-ms-error-code") == "NoAuthenticationInformation"


def _raw(
    standin: FileStandIn, method: str, path_query: str, headers=None, *, sign: bool = True
) -> http.client.HTTPResponse:
    """One request by hand (http.client), SharedKey-signed unless `sign` is False."""
    path, _, query = path_query.partition("?")
    path = f"/{WELL_KNOWN_ACCOUNT}{path}"
    sent = {"x-ms-version": "2025-05-05", "x-ms-date": formatdate(usegmt=True)}
    sent.update(headers or {})
    if sign:
        to_sign = shared_key_string_to_sign(
            method,
            {k.lower(): v for k, v in sent.items()},
            WELL_KNOWN_ACCOUNT,
            path,
            parse_query(query),
        )
        sent["Authorization"] = (
            f"SharedKey {WELL_KNOWN_ACCOUNT}:{sign_with(WELL_KNOWN_KEY, to_sign)}"
        )
    connection = http.client.HTTPConnection("127.0.0.1", standin.port, timeout=30)
    connection.request(method, f"{path}?{query}" if query else path, headers=sent)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_versions_older_than_2019_02_02_are_refused(file_standin):
    old = _raw(file_standin, "PUT", "/old?restype=share", {"x-ms-version": "2018-11-09"})
    assert old.status == 400 and old.getheader("x-ms-error-code") == "InvalidHeaderValue"
    assert file_standin.service.store.shares[WELL_KNOWN_ACCOUNT] == {}
    newer = _raw(file_standin, "PUT", "/new?restype=share", {"x-ms-version": "2031-01-01"})
    assert newer.status == 201


def test_standalone_command_serves_and_stops_on_sigterm(tmp_path):
    tests_dir = Path(__file__).resolve().parents[1]
    key = base64.b64encode(b"standalone-account-key").decode()
    process = subprocess.Popen(
        [sys.executable, "-m", "file_standin", "--account", f"solo:{key}"],
        env={**os.environ, "PYTHONPATH": str(tests_dir)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().split()[-1]
        connection_string = process.stdout.readline().split(": ", 1)[1].strip()
        assert f"FileEndpoint={endpoint}/solo;" in connection_string
        service = ShareServiceClient.from_connection_string(connection_string)
        service.create_share("solo-share").get_file_client("f").upload_file(b"standalone")
        assert [s.name for s in service.list_shares()] == ["solo-share"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
