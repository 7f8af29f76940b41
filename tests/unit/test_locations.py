"""Unit tests for azxfer.locations: parsing, validation, redaction and SAS handling."""

from __future__ import annotations

import os
from urllib.parse import parse_qsl

import pytest

from azxfer.errors import LocationError, UsageError
from azxfer.locations import (
    MAX_BLOB_NAME,
    Location,
    Service,
    check_local_source,
    container_name_error,
    parse_location,
    redact,
    with_sas,
    without_secrets,
)

SAS = "sv=2023-11-03&sp=rl&se=2099-01-01T00:00:00Z&sig=c2VjcmV0c2lnbmF0dXJl"

# --- local paths ----------------------------------------------------------------------------


def test_local_plain_path() -> None:
    loc = parse_location("data/file.txt")
    assert loc == Location(Service.LOCAL, "data/file.txt", local_path="data/file.txt")
    assert loc.is_local
    assert loc.pattern is None
    assert loc.url == ""


def test_local_absolute_dir_with_trailing_slash() -> None:
    loc = parse_location("/tmp/some dir/")
    assert loc.local_path == "/tmp/some dir/"
    assert loc.pattern is None


@pytest.mark.parametrize(
    ("text", "folder", "pattern"),
    [
        ("dir/*.txt", "dir", "*.txt"),
        ("*.txt", ".", "*.txt"),
        ("/abs/path/file?.bin", "/abs/path", "file?.bin"),
        ("a/b/[ab]*", "a/b", "[ab]*"),
    ],
)
def test_local_wildcard_in_last_component(text: str, folder: str, pattern: str) -> None:
    loc = parse_location(text)
    assert loc.service is Service.LOCAL
    assert loc.local_path == folder
    assert loc.pattern == pattern
    assert loc.display == text


@pytest.mark.parametrize("text", ["d*/x.txt", "a/?/b", "[x]/y/z.txt", "*/*"])
def test_local_wildcard_outside_last_component_is_refused(text: str) -> None:
    with pytest.raises(LocationError, match="only in the last path component"):
        parse_location(text)


def test_local_with_explicit_local_service() -> None:
    assert parse_location("x.txt", Service.LOCAL).local_path == "x.txt"


def test_empty_location_is_refused() -> None:
    with pytest.raises(LocationError, match="may not be empty"):
        parse_location("")


def test_non_url_named_as_blob_is_refused() -> None:
    with pytest.raises(LocationError, match="is not a URL, but Blob was named"):
        parse_location("some/path", Service.BLOB)


def test_location_error_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        parse_location("")
    assert info.value.exit_code == 2


# --- Azure URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix",
    [
        "core.windows.net",
        "core.chinacloudapi.cn",
        "core.usgovcloudapi.net",
        "core.cloudapi.de",
    ],
)
def test_azure_blob_url_in_several_clouds(suffix: str) -> None:
    text = f"https://myacct.blob.{suffix}/photos/2024/a.jpg"
    loc = parse_location(text)
    assert loc == Location(
        Service.BLOB,
        text,
        endpoint=f"https://myacct.blob.{suffix}",
        account="myacct",
        container="photos",
        path="2024/a.jpg",
    )
    assert not loc.read_only
    assert loc.url == f"https://myacct.blob.{suffix}/photos/2024/a.jpg"


def test_azure_container_only_url() -> None:
    loc = parse_location("https://acct123.blob.core.windows.net/mycontainer")
    assert (loc.account, loc.container, loc.path) == ("acct123", "mycontainer", "")
    assert loc.url == "https://acct123.blob.core.windows.net/mycontainer"


def test_azure_container_with_trailing_slash() -> None:
    loc = parse_location("https://acct123.blob.core.windows.net/mycontainer/")
    assert (loc.container, loc.path) == ("mycontainer", "")


def test_azure_virtual_directory_keeps_trailing_slash() -> None:
    loc = parse_location("https://acct123.blob.core.windows.net/mycontainer/dir/sub/")
    assert loc.path == "dir/sub/"


def test_azure_file_and_table_services_detected() -> None:
    f = parse_location("https://acct123.file.core.windows.net/share/dir/x.txt")
    assert (f.service, f.account, f.container, f.path) == (
        Service.FILE,
        "acct123",
        "share",
        "dir/x.txt",
    )
    t = parse_location("https://acct123.table.core.windows.net/MyTable")
    assert (t.service, t.container) == (Service.TABLE, "MyTable")


@pytest.mark.parametrize(
    ("url", "service", "endpoint"),
    [
        ("https://acct1.table.core.windows.net/", None, "https://acct1.table.core.windows.net"),
        ("https://acct1.table.core.windows.net", None, "https://acct1.table.core.windows.net"),
        (
            "http://127.0.0.1:10002/devstoreaccount1",
            Service.TABLE,
            "http://127.0.0.1:10002/devstoreaccount1",
        ),
        (
            "http://127.0.0.1:10002/devstoreaccount1/",
            Service.TABLE,
            "http://127.0.0.1:10002/devstoreaccount1",
        ),
    ],
)
def test_a_table_service_url_only_where_asked_for(
    url: str, service: Service | None, endpoint: str
) -> None:
    """`list` takes a Table service's own URL (its tables); everything else needs a table."""
    where = parse_location(url, service, table_service=True)
    assert (where.service, where.endpoint, where.container, where.path) == (
        Service.TABLE,
        endpoint,
        "",
        "",
    )
    with pytest.raises(LocationError, match="ENDPOINT/TABLE"):
        parse_location(url, service)
    with pytest.raises(LocationError, match="ENDPOINT/TABLE"):
        parse_location(url.rstrip("/") + "/T1x/more", service, table_service=True)


@pytest.mark.parametrize("service", ["queue", "dfs", "web"])
def test_unsupported_azure_services(service: str) -> None:
    with pytest.raises(LocationError, match=f"the {service} service is not supported"):
        parse_location(f"https://acct123.{service}.core.windows.net/c/x")


def test_percent_encoded_blob_name_is_decoded_and_url_reencodes() -> None:
    loc = parse_location("https://acct123.blob.core.windows.net/c0c/a%20b/%C3%BC%23.txt")
    assert loc.path == "a b/ü#.txt"
    assert loc.url == "https://acct123.blob.core.windows.net/c0c/a%20b/%C3%BC%23.txt"


def test_uppercase_host_is_lowercased_for_account() -> None:
    loc = parse_location("https://MYACCT.BLOB.CORE.WINDOWS.NET/cont/x")
    assert loc.account == "myacct"
    assert loc.service is Service.BLOB


def test_secondary_endpoint_is_read_only() -> None:
    text = "https://myacct-secondary.blob.core.windows.net/cont/x.bin"
    loc = parse_location(text)
    assert loc.read_only is True
    assert loc.account == "myacct"
    assert loc.endpoint == "https://myacct-secondary.blob.core.windows.net"
    assert (loc.container, loc.path) == ("cont", "x.bin")


def test_url_named_as_local_is_refused() -> None:
    with pytest.raises(LocationError, match="is a URL, not a local path"):
        parse_location("https://acct123.blob.core.windows.net/c0c/x", Service.LOCAL)


def test_service_override_on_azure_host() -> None:
    loc = parse_location("https://acct123.blob.core.windows.net/share/x", Service.FILE)
    assert loc.service is Service.FILE


# --- emulator (path-style) URLs -------------------------------------------------------------


@pytest.mark.parametrize(
    ("netloc", "host"),
    [
        ("127.0.0.1:10000", "127.0.0.1"),
        ("[::1]:10000", "::1"),
        ("localhost:10000", "localhost"),
        ("10.1.2.3", "10.1.2.3"),
        ("azurite.localhost:10000", "azurite.localhost"),
    ],
)
def test_path_style_emulator_urls(netloc: str, host: str) -> None:
    text = f"http://{netloc}/devstoreaccount1/cont/dir/file.txt"
    loc = parse_location(text)
    assert loc == Location(
        Service.BLOB,
        text,
        endpoint=f"http://{netloc}/devstoreaccount1",
        account="devstoreaccount1",
        container="cont",
        path="dir/file.txt",
    )
    assert loc.url == f"http://{netloc}/devstoreaccount1/cont/dir/file.txt"


def test_emulator_url_without_account_is_refused() -> None:
    with pytest.raises(LocationError, match="needs /ACCOUNT/CONTAINER"):
        parse_location("http://127.0.0.1:10000/")


def test_emulator_url_without_container_is_refused() -> None:
    with pytest.raises(LocationError, match="a container name is required"):
        parse_location("http://127.0.0.1:10000/devstoreaccount1")


# --- custom domains -------------------------------------------------------------------------


def test_custom_domain_without_service_is_refused() -> None:
    with pytest.raises(LocationError, match="not an Azure Storage endpoint"):
        parse_location("https://files.example.com/cont/x.txt")


def test_custom_domain_with_service() -> None:
    text = "https://files.example.com/cont/x.txt"
    loc = parse_location(text, Service.BLOB)
    assert loc == Location(
        Service.BLOB,
        text,
        endpoint="https://files.example.com",
        account="files",
        container="cont",
        path="x.txt",
    )


def test_custom_domain_still_validates_container() -> None:
    with pytest.raises(LocationError, match="not a valid container name"):
        parse_location("https://files.example.com/Bad_Name/x", Service.BLOB)


# --- malformed URLs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "http://127.0.0.1:99999/devstoreaccount1/c0c",
        "http://127.0.0.1:port/devstoreaccount1/c0c",
        "http://[::1/devstoreaccount1/c0c",
        "http://[zz::1]:10000/devstoreaccount1/c0c",
    ],
)
def test_malformed_urls(text: str) -> None:
    with pytest.raises(LocationError, match="is not a valid URL"):
        parse_location(text)


def test_unsupported_scheme() -> None:
    with pytest.raises(LocationError, match="only http and https"):
        parse_location("ftp://acct123.blob.core.windows.net/c0c/x")


def test_url_without_host() -> None:
    with pytest.raises(LocationError, match="has no host"):
        parse_location("https:///c0c/x")


# --- SAS, snapshot and version --------------------------------------------------------------


def test_sas_is_detected_and_display_is_redacted() -> None:
    text = f"https://acct123.blob.core.windows.net/cont/x.txt?{SAS}"
    loc = parse_location(text)
    assert parse_qsl(loc.sas or "") == parse_qsl(SAS)
    assert loc.snapshot is None and loc.version_id is None
    assert "c2VjcmV0c2lnbmF0dXJl" not in loc.display
    assert loc.display == (
        "https://acct123.blob.core.windows.net/cont/x.txt?"
        "sv=2023-11-03&sp=rl&se=2099-01-01T00:00:00Z&sig=REDACTED"
    )
    assert loc.url == "https://acct123.blob.core.windows.net/cont/x.txt"


def test_sas_encoded_signature_survives_round_trip() -> None:
    loc = parse_location("https://acct123.blob.core.windows.net/cont?sv=1&sig=ab%2Bc%2F%3D")
    assert dict(parse_qsl(loc.sas or ""))["sig"] == "ab+c/="
    assert loc.sas == "sv=1&sig=ab%2Bc%2F%3D"


@pytest.mark.parametrize("query", ["foo=bar", "sv=2023-11-03&sp=r", "SIG=x"])
def test_query_without_sig_is_refused(query: str) -> None:
    with pytest.raises(LocationError, match="not a SAS token"):
        parse_location(f"https://acct123.blob.core.windows.net/cont/x?{query}")


def test_snapshot_and_version_are_kept_out_of_the_sas() -> None:
    text = (
        "https://acct123.blob.core.windows.net/cont/x.txt?"
        "snapshot=2024-01-01T00:00:00.0000000Z&sv=2023-11-03&sig=abc&versionId=v42"
    )
    loc = parse_location(text)
    assert loc.snapshot == "2024-01-01T00:00:00.0000000Z"
    assert loc.version_id == "v42"
    assert loc.sas == "sv=2023-11-03&sig=abc"


def test_snapshot_alone_is_not_a_sas() -> None:
    loc = parse_location("https://acct123.blob.core.windows.net/cont/x?snapshot=2024-05-05")
    assert loc.sas is None
    assert loc.snapshot == "2024-05-05"


def test_error_message_never_holds_the_signature() -> None:
    with pytest.raises(LocationError) as info:
        parse_location("https://acct123.blob.core.windows.net/Bad--Name/x?sv=1&sig=TOPSECRET")
    assert "TOPSECRET" not in str(info.value)
    with pytest.raises(LocationError) as info:
        parse_location("https://unknown.example.org/cont/x?sv=1&sig=TOPSECRET")
    assert "TOPSECRET" not in str(info.value)
    assert "sig=REDACTED" in str(info.value)


# --- container and blob name validation -----------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["abc", "a-b", "a1-b2-c3", "0ab", "x" * 63, "$root", "$web", "$logs", "123"],
)
def test_valid_container_names(name: str) -> None:
    loc = parse_location(f"https://acct123.blob.core.windows.net/{name}/blob")
    assert loc.container == name
    assert container_name_error(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "x" * 64,
        "Abc",
        "a--b",
        "-abc",
        "abc-",
        "a_b",
        "a.b",
        "$other",
        "$Root",
    ],
)
def test_invalid_container_names(name: str) -> None:
    with pytest.raises(LocationError, match="is not a valid container name"):
        parse_location(f"https://acct123.blob.core.windows.net/{name}/blob")
    assert container_name_error(name) == f"'{name}' is not a valid container name"


@pytest.mark.parametrize("name", ["Share_Name", "ab", "-share", "a--b"])
def test_share_names_follow_the_files_rules(name: str) -> None:
    with pytest.raises(LocationError, match=f"'{name}' is not a valid share name"):
        parse_location(f"https://acct123.file.core.windows.net/{name}/x")


def test_file_url_needs_a_share() -> None:
    with pytest.raises(LocationError, match="a share name is required"):
        parse_location("https://acct123.file.core.windows.net/")


def test_file_path_and_component_lengths() -> None:
    base = "https://acct123.file.core.windows.net/share/"
    assert parse_location(base + "d/" + "x" * 255).path == "d/" + "x" * 255
    with pytest.raises(LocationError, match="at most 255 characters each"):
        parse_location(base + "x" * 256)
    with pytest.raises(LocationError, match="at most 2048 characters"):
        parse_location(base + "/".join(["y" * 200] * 11))


def test_path_style_file_endpoint_named_by_service_or_by_endpoint() -> None:
    url = "http://127.0.0.1:10004/devstoreaccount1/share/dir/f.txt"
    assert parse_location(url).service is Service.BLOB
    named = parse_location(url, Service.FILE)
    by_endpoint = parse_location(url, path_style={"127.0.0.1:10004": Service.FILE})
    assert named == by_endpoint
    assert (named.service, named.account, named.container, named.path, named.endpoint) == (
        Service.FILE,
        "devstoreaccount1",
        "share",
        "dir/f.txt",
        "http://127.0.0.1:10004/devstoreaccount1",
    )
    other_port = parse_location(
        "http://127.0.0.1:10000/devstoreaccount1/box/x",
        path_style={"127.0.0.1:10004": Service.FILE},
    )
    assert other_port.service is Service.BLOB


def test_blob_name_length_limit() -> None:
    base = "https://acct123.blob.core.windows.net/cont/"
    ok = parse_location(base + "n" * MAX_BLOB_NAME)
    assert len(ok.path) == 1024
    with pytest.raises(LocationError, match="at most 1024 characters"):
        parse_location(base + "n" * (MAX_BLOB_NAME + 1))


def test_blob_name_length_counts_decoded_characters() -> None:
    # 1024 'é' is 1024 characters, written as 6 bytes of %-escapes each in the URL.
    loc = parse_location("https://acct123.blob.core.windows.net/cont/" + "%C3%A9" * 1024)
    assert loc.path == "é" * 1024


# --- redact ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "https://a.blob.core.windows.net/c?sv=1&sig=abc%2Bdef&se=2030",
            "https://a.blob.core.windows.net/c?sv=1&sig=REDACTED&se=2030",
        ),
        (
            "failed: GET https://x/c?SIG=AbC then retried",
            "failed: GET https://x/c?SIG=REDACTED then retried",
        ),
        (
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy==;Suffix=x",
            "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=REDACTED;Suffix=x",
        ),
        ("token=eyJhbGciOi.xyz and more", "token=REDACTED and more"),
        ("signature=s3cr3t", "signature=REDACTED"),
        ("no secrets here: sv=2023&sp=r", "no secrets here: sv=2023&sp=r"),
        ("two sig=a sig=b", "two sig=REDACTED sig=REDACTED"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


# --- without_secrets / with_sas -------------------------------------------------------------


def test_without_secrets_drops_sas_keeps_addressing() -> None:
    text = (
        "https://acct123.blob.core.windows.net/c0c/a%20b.txt?"
        "sv=1&snapshot=2024-01-01&sig=secret&versionid=v1"
    )
    assert without_secrets(text) == (
        "https://acct123.blob.core.windows.net/c0c/a%20b.txt?snapshot=2024-01-01&versionid=v1"
    )


def test_without_secrets_without_query_and_local() -> None:
    assert without_secrets("https://acct123.blob.core.windows.net/c0c/x") == (
        "https://acct123.blob.core.windows.net/c0c/x"
    )
    assert without_secrets(f"https://acct123.blob.core.windows.net/c0c?{SAS}") == (
        "https://acct123.blob.core.windows.net/c0c"
    )
    assert without_secrets("local/dir?sig=x") == "local/dir?sig=x"


@pytest.mark.parametrize(
    ("text", "sas", "expected"),
    [
        ("https://a/c/x", "sv=1&sig=2", "https://a/c/x?sv=1&sig=2"),
        ("https://a/c/x", "?sv=1&sig=2", "https://a/c/x?sv=1&sig=2"),
        ("https://a/c/x?snapshot=s", "sv=1&sig=2", "https://a/c/x?snapshot=s&sv=1&sig=2"),
        ("https://a/c/x", None, "https://a/c/x"),
        ("https://a/c/x", "", "https://a/c/x"),
    ],
)
def test_with_sas(text: str, sas: str | None, expected: str) -> None:
    assert with_sas(text, sas) == expected


def test_with_sas_then_parse_round_trip() -> None:
    base = "https://acct123.blob.core.windows.net/c0c/x?snapshot=2024"
    loc = parse_location(with_sas(base, "?sv=1&sig=abc"))
    assert loc.sas == "sv=1&sig=abc"
    assert loc.snapshot == "2024"
    assert without_secrets(with_sas(base, "sv=1&sig=abc")) == base


# --- check_local_source ---------------------------------------------------------------------


def test_check_local_source_existing(tmp_path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    check_local_source(parse_location(str(f)))
    check_local_source(parse_location(str(tmp_path)))
    check_local_source(parse_location(str(tmp_path / "*.txt")))


def test_check_local_source_missing_path(tmp_path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(LocationError) as info:
        check_local_source(parse_location(str(missing)))
    assert str(info.value) == f"local path '{missing}' does not exist"


def test_check_local_source_missing_wildcard_folder(tmp_path) -> None:
    with pytest.raises(LocationError) as info:
        check_local_source(parse_location(str(tmp_path / "gone" / "*.txt")))
    assert str(info.value) == f"local folder '{tmp_path / 'gone'}' does not exist"


def test_check_local_source_wildcard_folder_is_a_file(tmp_path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(LocationError, match="does not exist"):
        check_local_source(parse_location(str(f / "*.txt")))


def test_check_local_source_dangling_symlink_counts_as_existing(tmp_path) -> None:
    link = tmp_path / "link"
    os.symlink(tmp_path / "missing-target", link)
    check_local_source(parse_location(str(link)))


def test_check_local_source_ignores_remote() -> None:
    check_local_source(parse_location("https://acct123.blob.core.windows.net/c0c/x"))
