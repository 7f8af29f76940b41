"""Typed, validated options the CLI builds and the core consumes (frozen msgspec Structs)."""

from __future__ import annotations

import enum
import os
import re

from msgspec import Struct, field

from azxfer.credentials import Credential
from azxfer.errors import UsageError
from azxfer.locations import Location
from azxfer.models import BlobType, ContentProps
from azxfer.plan.filters import FilterSpec

MiB = 1024 * 1024
DEFAULT_BLOCK_SIZE = 8 * MiB
MAX_BLOCK_SIZE = 4000 * MiB
MAX_BLOCKS = 50_000
# Data held in flight: upload chunks and whole small files (downloads stream, holding 256 KiB
# per request). 96 MiB keeps 12 blocks of 8 MiB in flight and peak RSS near 200-230 MB.
DEFAULT_MAX_MEMORY = 96 * MiB


class Overwrite(enum.Enum):
    """What to do when the destination already exists (AzCopy v8 /Y, /XO, /XN)."""

    TRUE = "true"
    FALSE = "false"
    PROMPT = "prompt"
    IF_SOURCE_NEWER = "ifSourceNewer"


class CheckMd5(enum.Enum):
    """How strictly downloads are checked against the blob's stored Content-MD5."""

    NO_CHECK = "NoCheck"
    LOG_ONLY = "LogOnly"
    FAIL_IF_DIFFERENT = "FailIfDifferent"
    FAIL_IF_DIFFERENT_OR_MISSING = "FailIfDifferentOrMissing"


BLOB_TIERS = ("Hot", "Cool", "Cold", "Archive")


class UploadProps(Struct, frozen=True):
    """What to set on each uploaded blob; content fields override guessing."""

    blob_type: BlobType | None = None
    tier: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    content: ContentProps = ContentProps()
    guess_mime_type: bool = True


class S2SMode(enum.Enum):
    """How blob-to-blob copies move data."""

    AUTO = "auto"  # the best server-side API per blob, falling back as far as client
    URL = "url"  # synchronous From-URL APIs only (Put Blob/Block/Page, Append Block From URL)
    ASYNC = "async"  # Copy Blob, polled until done
    CLIENT = "client"  # streamed through this machine (AzCopy v8 /SyncCopy)


class ServerCopySettings(Struct, frozen=True):
    """Blob-to-blob copy: the mode, what is carried over, and whether sources are leased."""

    mode: S2SMode = S2SMode.AUTO
    preserve_properties: bool = True
    preserve_tags: bool = False
    preserve_tier: bool = True
    lease_source: bool = False
    include_snapshots: bool = False


class EngineSettings(Struct, frozen=True):
    """Budgets shared by every transfer of a job."""

    concurrency: int
    max_memory: int = DEFAULT_MAX_MEMORY
    block_size: int | None = None


class CopyOptions(Struct, frozen=True):
    """Everything `azxfer copy` needs, validated."""

    source: Location
    destination: Location
    source_credential: Credential | None
    dest_credential: Credential | None
    engine: EngineSettings
    recursive: bool = False
    as_subdir: bool = True
    filters: FilterSpec = FilterSpec()
    overwrite: Overwrite = Overwrite.TRUE
    upload: UploadProps = UploadProps()
    check_md5: CheckMd5 = CheckMd5.FAIL_IF_DIFFERENT
    preserve_last_modified_time: bool = False
    move: bool = False
    dry_run: bool = False
    follow_symlinks: bool = False
    s2s: ServerCopySettings = ServerCopySettings()


def default_concurrency(env: dict[str, str] | None = None) -> int:
    """AZXFER_CONCURRENCY if set, else AzCopy's sizing: 32 on up to 4 cores, 16 per core above."""
    env = os.environ if env is None else env
    if env.get("AZXFER_CONCURRENCY"):
        return parse_positive_int(env["AZXFER_CONCURRENCY"], "AZXFER_CONCURRENCY")
    cores = os.cpu_count() or 1
    return 32 if cores <= 4 else min(16 * cores, 300)


def parse_positive_int(text: str, what: str) -> int:
    """An integer ≥ 1, or a UsageError naming `what`."""
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{what}: '{text}' is not a whole number") from None
    if value < 1:
        raise UsageError(f"{what} must be at least 1")
    return value


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: str, what: str) -> int:
    """Bytes from '512M', '1.5GiB', '4096' (binary units), or a UsageError naming `what`."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"{what}: '{text}' is not a size such as 512M or 2G")
    scale = 1024 ** " kmgt".index(match[2].lower() or " ")
    return int(float(match[1]) * scale)


def block_size_for(size: int, requested: int | None) -> int:
    """The block size for a file: as requested, else 8 MiB growing so 50,000 blocks hold it."""
    if requested:
        return requested
    block = DEFAULT_BLOCK_SIZE
    while block * MAX_BLOCKS < size and block < MAX_BLOCK_SIZE:
        block = min(block * 2, MAX_BLOCK_SIZE)
    return block


def parse_metadata(text: str | None) -> dict[str, str]:
    """'k=v;k2=v2' as a dict; metadata names must be C# identifiers, as the service requires."""
    result: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(";"))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise UsageError(f"--metadata: '{item}' is not name=value with a valid name")
        result[name] = value
    return result


def parse_tags(text: str | None) -> dict[str, str]:
    """'k=v&k2=v2' (AzCopy's format) as a dict, checked against the service's tag rules."""
    result: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in (text or "").split("&"))):
        name, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9 +\-./:=_]{1,128}", name):
            raise UsageError(f"--blob-tags: '{item}' is not key=value with a valid key")
        if not re.fullmatch(r"[A-Za-z0-9 +\-./:=_]{0,256}", value):
            raise UsageError(f"--blob-tags: the value of '{name}' has characters tags may not hold")
        result[name] = value
    if len(result) > 10:
        raise UsageError("--blob-tags: a blob may have at most 10 tags")
    return result
