"""Refusing a blob-to-blob or share-to-share copy onto itself, or into its own source, and a
sync between overlapping folders, before any data moves.

A blob copied onto itself makes the service fail or throttle every attempt (a minute of
retries for nothing); a recursive copy whose destination lies inside its source would list
its own output and copy it again. Both are command-line errors, found once the source is
resolved (whether a path names a blob or a folder is the service's to say).

Two URLs address the same container when their account, container and host and port agree
(scheme aside: http and https reach the same account). Emulator hosts are compared as typed:
`127.0.0.1` and `localhost` usually reach the same emulator, but not certainly (`localhost`
may resolve to another address), so they are not taken as one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from azxfer.endpoints.base import Selection, SelectionKind
from azxfer.errors import UsageError
from azxfer.locations import Location, Service
from azxfer.plan.sync import fold_case

_DEFAULT_PORTS = {"http": 80, "https": 443}
_STORAGE = (Service.BLOB, Service.FILE)
_WILDCARD_CHARS = "*?["


def same_container(source: Location, dest: Location) -> bool:
    """Whether both locations address the same blob container, or the same file share, of
    the same account."""
    if source.service is not dest.service or source.service not in _STORAGE:
        return False
    return (source.account, source.container) == (dest.account, dest.container) and _server(
        source.endpoint
    ) == _server(dest.endpoint)


def _server(endpoint: str) -> tuple[str, int | None, str]:
    parts = urlsplit(endpoint)
    port = parts.port
    if port == _DEFAULT_PORTS.get(parts.scheme):
        port = None  # http://h and https://h:443 are the same account's endpoint
    return (parts.hostname or "", port, parts.path.rstrip("/"))


def reads_a_fixed_version(source: Location) -> bool:
    """A snapshot or version cannot change: copying it over its base blob restores it."""
    return bool(source.snapshot or source.version_id)


def check_not_into_itself(
    source: Location, dest_base: str, selection: Selection, recursive: bool
) -> None:
    """Refuse a recursive copy whose destination prefix `dest_base` ('' or ending in '/')
    lies inside the part of the container the source lists."""
    if not recursive or selection.kind is SelectionKind.SINGLE:
        return
    listed = _listed_prefix(source.path, selection.kind)
    if dest_base != listed and dest_base.startswith(listed):
        raise UsageError(
            f"the destination '{dest_base}' is inside the source '{source.display}': a "
            "recursive copy would copy its own copies again (choose a destination outside "
            "the source)"
        )


def check_sync_apart(source: Location, dest: Location) -> None:
    """Refuse a sync between two folders of one container when either holds the other (as
    rclone refuses overlapping remotes): the destination inside the source would be synced
    into itself, and the source inside the destination would be, to the destination, files
    the source lacks, which --delete-destination deletes."""
    if not same_container(source, dest) and not _same_share(source, dest):
        return
    src, dst = _folder(source.path), _folder(dest.path)
    if source.service is Service.FILE:  # a share's names are case-insensitive
        src, dst = fold_case(src), fold_case(dst)
    if src.startswith(dst) or dst.startswith(src):
        where = "the same folder" if src == dst else "folders of which one holds the other"
        raise UsageError(
            f"'{source.display}' and '{dest.display}' are {where} of one container or share: sync "
            "between folders that do not overlap"
        )


def _same_share(source: Location, dest: Location) -> bool:
    """Whether both locations address the same file share of the same account."""
    if source.service is not Service.FILE or dest.service is not Service.FILE:
        return False
    return (source.account, source.container) == (dest.account, dest.container) and _server(
        source.endpoint
    ) == _server(dest.endpoint)


def _folder(path: str) -> str:
    """A blob folder path as a prefix ('' for the container, else ending in '/')."""
    path = path.strip("/")
    return f"{path}/" if path else ""


def _listed_prefix(path: str, kind: SelectionKind) -> str:
    """The name prefix of every blob a directory or pattern selection of `path` lists."""
    if kind is SelectionKind.DIRECTORY:
        return path if not path or path.endswith("/") else f"{path}/"
    folder, _, leaf = path.rpartition("/")
    base = f"{folder}/" if folder else ""
    wildcard = next((i for i, c in enumerate(leaf) if c in _WILDCARD_CHARS), len(leaf))
    return base + leaf[:wildcard]  # a wildcard matches at any depth: its literal start only


def onto_itself(source: Location, dest_display: str) -> UsageError:
    """The error for a blob whose destination is the blob itself."""
    return UsageError(
        f"the copy of '{source.display}' would write '{dest_display}' onto itself: choose "
        "another destination"
    )
