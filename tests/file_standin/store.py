"""The in-memory File service: accounts → shares → directories and files.

Names are case-insensitive and case-preserving, as on the real service: children are keyed by
`fold(name)` and keep the name they were created with.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from . import errors
from .sparse import SparseData

TICKS_PER_SECOND = 10_000_000  # SMB times count 100 ns ticks
DEFAULT_QUOTA_GIB = 5120
MAX_QUOTA_GIB = 102400
GIB = 1024**3
FORBIDDEN_CHARS = frozenset('"\\:|<>*?') | frozenset(chr(c) for c in range(0x20))
MAX_COMPONENT = 255
MAX_PATH = 2048
# What the service answers for a permission nobody set: owner and group SYSTEM, full control
# for administrators and SYSTEM (the shape of the default the real service reports).
DEFAULT_SDDL = "O:SYG:SYD:(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)(A;OICI;0x1301bf;;;AU)"
FILE_ATTRIBUTES = {
    a.lower(): a
    for a in (
        "ReadOnly",
        "Hidden",
        "System",
        "None",
        "Directory",
        "Archive",
        "Temporary",
        "Offline",
        "NotContentIndexed",
        "NoScrubData",
    )
}


def fold(name: str) -> str:
    """The case-insensitive key of a name (per character, as Windows compares names)."""
    upper = name.upper()
    if len(upper) == len(name):
        return upper
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in name)


def now_ticks() -> int:
    return time.time_ns() // 100


def smb_time(ticks: int) -> str:
    """2024-05-01T10:20:30.1234567Z, the 7-digit form of the x-ms-file-*-time headers."""
    seconds, fraction = divmod(ticks, TICKS_PER_SECOND)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:07d}Z"


def parse_smb_time(text: str) -> int:
    """Ticks of an ISO 8601 UTC time with up to 7 fraction digits; ValueError otherwise."""
    body = text.strip()
    if not body.endswith("Z"):
        raise ValueError(text)
    main, _, fraction = body[:-1].partition(".")
    seconds = datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    if fraction and (not fraction.isdigit() or len(fraction) > 7):
        raise ValueError(text)
    return int(seconds) * TICKS_PER_SECOND + int((fraction or "0").ljust(7, "0"))


def http_date(ticks: int) -> str:
    return format_datetime(datetime.fromtimestamp(ticks / TICKS_PER_SECOND, UTC), usegmt=True)


def split_path(path: str, *, allow_trailing_dot: bool = False) -> list[str]:
    """The components of a decoded file path, each checked against the service's name rules."""
    if not path:
        return []
    if len(path) > MAX_PATH:
        raise errors.invalid_name()
    parts = path.split("/")
    for part in parts:
        if (
            not part
            or part in (".", "..")
            or len(part) > MAX_COMPONENT
            or not FORBIDDEN_CHARS.isdisjoint(part)
            or part.endswith(" ")
            or (part.endswith(".") and not allow_trailing_dot)
        ):
            raise errors.invalid_name()
    return parts


def valid_share_name(name: str) -> bool:
    """3-63 lower-case letters, digits and single hyphens, starting with a letter or digit."""
    return (
        3 <= len(name) <= 63
        and name.replace("-", "").isalnum()
        and name.isascii()
        and name == name.lower()
        and name[0] != "-"
        and name[-1] != "-"
        and "--" not in name
    )


@dataclass
class Smb:
    """The SMB properties the REST API exposes as x-ms-file-* headers."""

    attributes: str
    creation: int
    last_write: int
    change: int
    permission_key: str
    last_access: int = 0


@dataclass
class Lease:
    id: str | None = None
    state: str = "available"  # available | leased | broken


@dataclass
class CopyInfo:
    """The x-ms-copy-* properties of a file that was a Copy File destination."""

    id: str
    source: str
    status: str  # pending | success | aborted | failed
    total: int
    copied: int = 0
    completion: int | None = None
    description: str | None = None
    polls: int = 0


@dataclass
class Node:
    name: str
    file_id: int
    parent_id: int
    smb: Smb
    etag: str
    last_modified: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Directory(Node):
    children: dict[str, Node] = field(default_factory=dict)

    def entry_added(self, now: int) -> None:
        """A file or directory was made in it: as NTFS (and so Azure Files) does, that moves
        its last-write and change times."""
        self.smb.last_write = self.smb.change = now


@dataclass
class File(Node):
    size: int = 0
    data: SparseData = field(default_factory=SparseData)
    content: dict[str, str] = field(default_factory=dict)  # content-type, ..., content-md5
    lease: Lease = field(default_factory=Lease)
    copy: CopyInfo | None = None


@dataclass
class Share:
    name: str
    quota_gib: int
    etag: str
    last_modified: int
    root: Directory
    metadata: dict[str, str] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # key -> SDDL
    used_bytes: int = 0  # the sum of the file sizes, for the quota

    def add_permission(self, sddl: str) -> str:
        """The key of `sddl`, stored once: the same descriptor always gets the same key."""
        digest = hashlib.sha256(sddl.encode()).digest()
        key = f"{int.from_bytes(digest[:8], 'big')}*{int.from_bytes(digest[8:16], 'big')}"
        self.permissions[key] = sddl
        return key

    def resize(self, old: int, new: int) -> None:
        """Count a file going from `old` to `new` bytes; ShareSizeLimitReached past the quota."""
        grown = self.used_bytes + new - old
        if new > old and grown > self.quota_gib * GIB:
            raise errors.share_full()
        self.used_bytes = grown


class Store:
    """Every account's shares, and the counters ETags and file ids come from."""

    def __init__(self, accounts: list[str]) -> None:
        self.shares: dict[str, dict[str, Share]] = {a: {} for a in accounts}
        self._ids = itertools.count(13835128424026341376)  # the high bit set, as Azure's are
        self._etags = itertools.count(1)

    def etag(self) -> str:
        # Azure's ETags are quoted hex of a time; the counter keeps every change distinct.
        return f'"0x8DC{next(self._etags):013X}"'

    def new_id(self) -> int:
        return next(self._ids)

    def share(self, account: str, name: str) -> Share:
        share = self.shares.get(account, {}).get(name)
        if share is None:
            raise errors.share_not_found()
        return share

    def new_share(self, account: str, name: str, quota_gib: int) -> Share:
        shares = self.shares.setdefault(account, {})
        if name in shares:
            raise errors.share_exists()
        now = now_ticks()
        share = Share(name, quota_gib, self.etag(), now, root=None)  # type: ignore[arg-type]
        key = share.add_permission(DEFAULT_SDDL)
        share.root = Directory(
            name="",
            file_id=0,
            parent_id=0,
            smb=Smb("Directory", now, now, now, key, now),
            etag=self.etag(),
            last_modified=now,
        )
        shares[name] = share
        return share


def lookup(share: Share, parts: list[str]) -> Node | None:
    """The node at `parts`; None when it is missing. ParentNotFound when a parent is missing."""
    node: Node = share.root
    for depth, part in enumerate(parts):
        if not isinstance(node, Directory):
            raise errors.parent_not_found()
        child = node.children.get(fold(part))
        if child is None:
            if depth < len(parts) - 1:
                raise errors.parent_not_found()
            return None
        node = child
    return node


def parent_dir(share: Share, parts: list[str]) -> Directory:
    """The directory that holds (or would hold) `parts`; ParentNotFound when it is missing."""
    parent = lookup(share, parts[:-1]) if len(parts) > 1 else share.root
    if not isinstance(parent, Directory):
        raise errors.parent_not_found()
    return parent


def content_md5_b64(data: bytes | memoryview) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()
