"""Azure Files request pieces: times in the service's form, paths, listing pages, range lists."""

from __future__ import annotations

import os

import pytest

from azxfer.endpoints.files.listing import listed_entry, parse_page
from azxfer.endpoints.files.requests import (
    content_headers,
    file_path,
    format_file_time,
    parse_file_time,
)
from azxfer.endpoints.files.writer import parse_ranges
from azxfer.models import ContentProps, FileProps


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "1970-01-01T00:00:00.0000000Z"),
        (1714557600.125, "2024-05-01T10:00:00.1250000Z"),
        (-11644473600.0, "1601-01-01T00:00:00.0000000Z"),
        (1714557600.99999999, "2024-05-01T10:00:01.0000000Z"),  # rounds into the next second
    ],
)
def test_file_time_text(seconds: float, text: str) -> None:
    assert format_file_time(seconds) == text
    assert parse_file_time(text) == pytest.approx(round(seconds * 1e7) / 1e7, abs=1e-7)


def test_a_local_mtime_survives_the_round_trip(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "f")
    open(path, "wb").close()
    os.utime(path, ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    mtime = os.stat(path).st_mtime
    back = parse_file_time(format_file_time(mtime))
    assert back is not None and abs(back - mtime) < 2e-7


def test_parse_file_time_refuses_what_is_no_time() -> None:
    assert parse_file_time("yesterday") is None
    assert parse_file_time("2024-05-01T10:00:00Z") == 1714557600.0


def test_file_paths_are_quoted_below_the_share() -> None:
    assert file_path("share", "") == "/share"
    assert file_path("share", "d ir/50%#ä.txt") == "/share/d%20ir/50%25%23%C3%A4.txt"


def test_content_headers_carry_only_what_is_set() -> None:
    content = ContentProps(content_type="text/plain", cache_control="no-cache")
    assert content_headers(content, "MD5==") == {
        "x-ms-content-type": "text/plain",
        "x-ms-cache-control": "no-cache",
        "x-ms-content-md5": "MD5==",
    }


PAGE = b"""<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="http://h/acct/" ShareName="s" DirectoryPath="d">
  <Marker /><MaxResults>5000</MaxResults>
  <Entries>
    <File>
      <FileId>13835128424026341376</FileId>
      <Name>a b.txt</Name>
      <Properties>
        <Content-Length>11</Content-Length>
        <CreationTime>2024-05-01T10:00:00.0000000Z</CreationTime>
        <LastAccessTime>2024-05-01T10:00:00.0000000Z</LastAccessTime>
        <LastWriteTime>2024-05-01T10:00:00.5000000Z</LastWriteTime>
        <ChangeTime>2024-05-01T10:00:01.0000000Z</ChangeTime>
        <Last-Modified>Wed, 01 May 2024 10:00:01 GMT</Last-Modified>
        <Etag>"0x8DC69C1E0A1B2C3"</Etag>
      </Properties>
      <Attributes>Archive</Attributes>
      <PermissionKey>4066528134148476695*1</PermissionKey>
    </File>
    <Directory><FileId>1</FileId><Name>sub</Name><Properties /></Directory>
    <File><Name Encoded="true">bad%EF%BF%BEname</Name><Properties>
      <Content-Length>0</Content-Length></Properties></File>
  </Entries>
  <NextMarker>next page</NextMarker>
</EnumerationResults>"""


def test_a_listing_page_gives_files_with_their_smb_properties_and_directories() -> None:
    page = parse_page(PAGE)
    assert [name for name, _ in page.directories] == ["sub"]
    assert page.next_marker == "next page"
    (name, size, smb, etag), (encoded, *_) = page.files
    assert (name, size, etag) == ("a b.txt", 11, '"0x8DC69C1E0A1B2C3"')
    assert smb == FileProps(
        attributes="Archive",
        creation_time="2024-05-01T10:00:00.0000000Z",
        last_write_time="2024-05-01T10:00:00.5000000Z",
        change_time="2024-05-01T10:00:01.0000000Z",
        permission_key="4066528134148476695*1",
    )
    assert encoded == "bad\ufffename"
    entry = listed_entry("d/a b.txt", "a b.txt", size, smb, etag)
    assert entry.mtime == 1714557600.5
    assert entry.md5 is None  # a listing never tells it


def test_range_lists_are_read_as_half_open_ranges() -> None:
    raw = (
        b'<?xml version="1.0" encoding="utf-8"?><Ranges>'
        b"<Range><Start>0</Start><End>4194303</End></Range>"
        b"<Range><Start>8388608</Start><End>8388707</End></Range></Ranges>"
    )
    assert parse_ranges(raw) == [(0, 4194304), (8388608, 8388708)]
    assert parse_ranges(b"<Ranges />") == []
