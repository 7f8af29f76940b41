"""Typed, validated options the CLI builds and the core consumes (frozen msgspec Structs)."""

from __future__ import annotations

import enum
import math
import os
import re

from msgspec import Struct, field

from azxfer.credentials import Credential
from azxfer.errors import TransferError, UsageError
from azxfer.locations import Location
from azxfer.models import BlobType, ContentProps
from azxfer.plan.filters import FilterSpec  # part of CopyOptions: the CLI imports it from here

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
    """Copies between storage services (blob and share): the mode, what is carried over, and
    whether sources are leased."""

    mode: S2SMode = S2SMode.AUTO
    preserve_properties: bool = True
    preserve_tags: bool = False
    preserve_tier: bool = True
    lease_source: bool = False
    include_snapshots: bool = False
    # Share to share: SMB attributes and times kept (AzCopy's --preserve-smb-info), and the
    # permission (security descriptor) carried over (--preserve-permissions).
    preserve_smb_info: bool = True
    preserve_permissions: bool = False


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
    # With move: remove the source folders the move emptied (rclone's flag).
    delete_empty_src_dirs: bool = False
    dry_run: bool = False
    follow_symlinks: bool = False
    s2s: ServerCopySettings = ServerCopySettings()
    # Toward Blob storage (no folders): write each source folder as a marker blob.
    include_directory_stub: bool = False
    # Blob downloads: the character that separates the source's virtual directories
    # (AzCopy v8's /Delimiter); each becomes a local folder.
    delimiter: str = "/"


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


def parse_block_size_mb(value: float | None) -> int | None:
    """--block-size-mb in bytes (None: the default), refusing what no block can be."""
    if value is None:
        return None
    if math.isnan(value) or value <= 0:
        raise UsageError(f"--block-size-mb must be a positive number of MiB, not {value}")
    if value > MAX_BLOCK_SIZE / MiB:
        raise UsageError(f"--block-size-mb can be at most {MAX_BLOCK_SIZE // MiB} (MiB)")
    block = int(value * MiB)
    if block < 1:
        raise UsageError(f"--block-size-mb {value} is less than one byte")
    return block


def parse_cap_mbps(text: str | None, what: str = "--cap-mbps") -> float | None:
    """A bandwidth cap in megabits per second (None when not given): a positive decimal
    number such as 40 or 0.5, else a UsageError naming `what`. Zero is refused rather than
    read as "no cap" (AzCopy's meaning): a cap of nothing is surely a slip."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UsageError(
            f"{what}: '{text}' is not a number of megabits per second (such as 40 or 0.5)"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{what} must be a positive number of megabits per second, not '{text}'")
    return value


def min_max_memory(block_size: int | None) -> int:
    """The smallest --max-memory that can be honoured: one block. The budget grants a block
    larger than itself anyway (so a job never deadlocks), so a smaller bound would be a lie."""
    return block_size or DEFAULT_BLOCK_SIZE


def parse_max_memory(text: str, block_size: int | None) -> int:
    """--max-memory in bytes, refused below `min_max_memory` (named in the message)."""
    value = parse_size(text, "--max-memory")
    minimum = min_max_memory(block_size)
    if value < minimum:
        raise UsageError(
            f"--max-memory must be at least {format_mib(minimum)} (one block of "
            f"{format_mib(minimum)} in flight), not '{text}'"
        )
    return value


def format_mib(size: int) -> str:
    """A byte count in MiB for messages: '8 MiB', '0.0017 MiB'."""
    return f"{size / MiB:.4f}".rstrip("0").rstrip(".") + " MiB"


def min_block_size_mb(size: int) -> str:
    """The smallest --block-size-mb (as typed, 4 decimals) that fits `size` in 50,000 blocks."""
    needed = -(-size // MAX_BLOCKS)
    value = math.ceil(needed / MiB * 10_000) / 10_000
    while int(value * MiB) < needed:  # float rounding must not undercut `needed`
        value += 0.0001
    return f"{value:.4f}".rstrip("0").rstrip(".")


def too_many_blocks(size: int, block_size: int) -> str | None:
    """Why `size` bytes cannot be a blob of `block_size` blocks, or None when they fit."""
    blocks = -(-size // block_size)
    if blocks <= MAX_BLOCKS:
        return None
    return (
        f"{size:,} bytes in blocks of {format_mib(block_size)} would need {blocks:,} blocks, "
        f"more than the {MAX_BLOCKS:,} a blob may hold: use --block-size-mb "
        f"{min_block_size_mb(size)} or more"
    )


def check_block_count(size: int, block_size: int, blob_type: BlobType | None) -> None:
    """Raise TransferError if a block or append blob of `size` would exceed 50,000 blocks."""
    if blob_type in (BlobType.BLOCK, BlobType.APPEND):
        reason = too_many_blocks(size, block_size)
        if reason is not None:
            raise TransferError(reason)


def block_size_for(size: int, requested: int | None) -> int:
    """The block size for a file: as requested, else 8 MiB growing so 50,000 blocks hold it."""
    if requested:
        return requested
    block = DEFAULT_BLOCK_SIZE
    while block * MAX_BLOCKS < size and block < MAX_BLOCK_SIZE:
        block = min(block * 2, MAX_BLOCK_SIZE)
    return block


# Metadata names become `x-ms-meta-NAME` headers; the service requires C# identifiers.
_METADATA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Control characters (tab aside) would split or corrupt the HTTP header carrying the value.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def check_header_value(what: str, value: str, ascii_only: bool = False) -> str:
    """`value` if it can travel in an HTTP header unchanged, else a UsageError naming `what`.

    Header values travel as Latin-1, so a metadata value outside ASCII would be stored
    garbled (UTF-8 bytes read back as Latin-1): refused, never altered."""
    if _CONTROL.search(value):
        raise UsageError(f"{what}: control characters (such as line breaks) are not allowed")
    if ascii_only and not value.isascii():
        raise UsageError(f"{what}: only ASCII characters can be stored; '{value}' has others")
    return value


def parse_metadata(text: str | None) -> dict[str, str]:
    """'k=v;k2=v2' as a dict; names are C# identifiers and values ASCII, as the service needs."""
    result: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(";"))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not _METADATA_NAME.fullmatch(name):
            shown = item if item.isprintable() else item.encode("unicode_escape").decode()
            raise UsageError(f"--metadata: '{shown}' is not name=value with a valid name")
        result[name] = check_header_value(f"--metadata {name}", value, ascii_only=True)
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
