"""Which two blob locations are the same container (`plan.overlap`)."""

from __future__ import annotations

import pytest

from azxfer.locations import parse_location
from azxfer.plan.overlap import same_container

AZ = "https://acct.blob.core.windows.net"
EMU = "http://127.0.0.1:10000/devstoreaccount1"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (f"{AZ}/box/a.txt", f"{AZ}/box/b.txt?sv=1&sig=x", True),
        (f"{AZ}/box/a", "http://acct.blob.core.windows.net:80/box/a", True),  # scheme aside
        (f"{AZ}/box/a", "https://ACCT.blob.core.windows.net:443/box/a", True),
        (f"{AZ}/box/a", f"{AZ}/other/a", False),
        (f"{AZ}/box/a", "https://acct2.blob.core.windows.net/box/a", False),
        (f"{AZ}/box/a", "https://acct.blob.core.chinacloudapi.cn/box/a", False),
        (f"{EMU}/box/a", f"{EMU}/box/a?sig=y", True),
        (f"{EMU}/box/a", "http://127.0.0.1:10000/acct2/box/a", False),
        (f"{EMU}/box/a", "http://127.0.0.1:10001/devstoreaccount1/box/a", False),
        # not certainly one emulator: localhost may resolve elsewhere
        (f"{EMU}/box/a", "http://localhost:10000/devstoreaccount1/box/a", False),
    ],
)
def test_same_container(a: str, b: str, same: bool) -> None:
    assert same_container(parse_location(a), parse_location(b)) is same
    assert same_container(parse_location(b), parse_location(a)) is same


def test_a_local_path_is_never_the_same_container(tmp_path) -> None:
    local = parse_location(str(tmp_path))
    assert not same_container(local, parse_location(f"{AZ}/box"))


FILES = "https://acct.file.core.windows.net"


@pytest.mark.parametrize(
    ("a", "b", "refused"),
    [
        (f"{FILES}/share/Dir", f"{FILES}/share/dir/sub", True),  # a share's names ignore case
        (f"{FILES}/share", f"{FILES}/share/x", True),
        (f"{FILES}/share/a", f"{FILES}/share/b", False),
        (f"{FILES}/share/a", f"{FILES}/other/a", False),
        (f"{FILES}/share/a", "https://acct2.file.core.windows.net/share/a", False),
    ],
)
def test_sync_between_overlapping_folders_of_a_share_is_refused(
    a: str, b: str, refused: bool
) -> None:
    from azxfer.errors import UsageError
    from azxfer.plan.overlap import check_sync_apart

    if refused:
        with pytest.raises(UsageError, match="one container or share"):
            check_sync_apart(parse_location(a), parse_location(b))
    else:
        check_sync_apart(parse_location(a), parse_location(b))
