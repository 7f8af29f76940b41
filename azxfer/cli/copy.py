"""`azxfer copy`: parse and validate, build CopyOptions, run the job, render it."""

from __future__ import annotations

import os

import click

from azxfer.cli.common import (
    credential_kinds,
    endpoint_options,
    engine_options,
    environment,
    filter_options,
    filters_from,
    journal_option,
    output_options,
    parse_endpoints,
    recordable,
)
from azxfer.cli.login import device_prompt
from azxfer.cli.run import run_job
from azxfer.credentials import resolve_credentials
from azxfer.errors import TransferError, UsageError
from azxfer.identity.provider import SignedInIdentity
from azxfer.locations import Location, Service, check_local_source, without_secrets
from azxfer.models import BlobType, ContentProps, type_for_name
from azxfer.options import (
    BLOB_TIERS,
    CheckMd5,
    CopyOptions,
    EngineSettings,
    Overwrite,
    S2SMode,
    ServerCopySettings,
    UploadProps,
    check_block_count,
    check_header_value,
    default_concurrency,
    parse_block_size_mb,
    parse_max_memory,
    parse_metadata,
    parse_tags,
)

BLOB_TYPES = {
    "block": BlobType.BLOCK,
    "blockblob": BlobType.BLOCK,
    "page": BlobType.PAGE,
    "pageblob": BlobType.PAGE,
    "append": BlobType.APPEND,
    "appendblob": BlobType.APPEND,
}


@click.command("copy", short_help="Copy files between local disks, Blob and Azure Files")
@click.argument("source")
@click.argument("destination")
@click.option(
    "-r", "--recursive", is_flag=True, help="Descend into sub-folders / virtual directories."
)
@click.option(
    "--as-subdir",
    type=click.BOOL,
    default=True,
    is_flag=False,
    flag_value=True,
    show_default=True,
    help="Place a folder source under its own name at the destination.",
)
@filter_options
@click.option(
    "--overwrite",
    type=click.Choice([o.value for o in Overwrite]),
    default="true",
    show_default=True,
    help="When the destination exists: replace, skip, ask, or replace if older.",
)
@click.option(
    "--blob-type",
    type=click.Choice(sorted(BLOB_TYPES), case_sensitive=False),
    help="Blob type to create [default: block; page for .vhd/.vhdx].",
)
@click.option(
    "--block-blob-tier",
    type=click.Choice(BLOB_TIERS, case_sensitive=False),
    help="Access tier for uploaded block blobs.",
)
@click.option("--metadata", help="Metadata for uploaded blobs: 'name=value;name2=value2'.")
@click.option("--blob-tags", help="Index tags for uploaded blobs: 'key=value&key2=value2'.")
@click.option("--content-type", help="Content-Type for uploaded blobs (else guessed).")
@click.option("--content-encoding", help="Content-Encoding for uploaded blobs.")
@click.option("--content-language", help="Content-Language for uploaded blobs.")
@click.option("--content-disposition", help="Content-Disposition for uploaded blobs.")
@click.option("--cache-control", help="Cache-Control for uploaded blobs.")
@click.option(
    "--no-guess-mime-type", is_flag=True, help="Do not guess Content-Type from file extensions."
)
@click.option(
    "--check-md5",
    type=click.Choice([c.value for c in CheckMd5]),
    default=CheckMd5.FAIL_IF_DIFFERENT.value,
    show_default=True,
    help="How downloads are checked against the blob's Content-MD5.",
)
@click.option(
    "--preserve-last-modified-time",
    is_flag=True,
    help="Give downloaded files the blob's last-modified time.",
)
@click.option(
    "--include-directory-stub",
    is_flag=True,
    help="Toward Blob storage: write each source folder as a zero-byte marker blob "
    "(metadata hdi_isfolder=true), so empty folders are kept too.",
)
@click.option("--move", is_flag=True, help="Delete each source after its transfer is verified.")
@click.option(
    "--delete-empty-src-dirs",
    is_flag=True,
    help="With --move and --recursive: afterwards remove the source folders the move "
    "emptied (deepest first; a folder still holding anything stays).",
)
@click.option("--dry-run", is_flag=True, help="List what would be transferred; transfer nothing.")
@click.option(
    "--follow-symlinks",
    is_flag=True,
    help="Follow symbolic links (loops are detected) instead of skipping them.",
)
@click.option(
    "--s2s-mode",
    type=click.Choice([m.value for m in S2SMode]),
    default=S2SMode.AUTO.value,
    show_default=True,
    help="Between storage services (blob/share to blob/share): auto (best server-side API, "
    "falling back), url (From-URL APIs only), async (Copy Blob / Copy File, polled), client "
    "(stream through this machine).",
)
@click.option(
    "--s2s-preserve-properties",
    type=click.BOOL,
    default=True,
    show_default=True,
    help="Blob-to-blob: carry content properties and metadata over.",
)
@click.option(
    "--s2s-preserve-access-tier",
    type=click.BOOL,
    default=True,
    show_default=True,
    help="Blob-to-blob: give each copy the source's access tier.",
)
@click.option(
    "--s2s-preserve-blob-tags", is_flag=True, help="Blob-to-blob: copy the source's index tags."
)
@click.option(
    "--preserve-smb-info",
    type=click.BOOL,
    default=True,
    show_default=True,
    help="Share-to-share: keep each file's SMB attributes and creation, last-write and "
    "change times.",
)
@click.option(
    "--preserve-permissions",
    is_flag=True,
    help="Share-to-share: give each file its source's permission (security descriptor).",
)
@click.option(
    "--lease-source",
    is_flag=True,
    help="Blob-to-blob: hold a lease on each source blob while it is copied.",
)
@click.option(
    "--include-snapshots",
    is_flag=True,
    help="Blob source: copy snapshots too, each as 'name (YYYY-MM-DD HHMMSS).ext'.",
)
@click.option(
    "--delimiter",
    metavar="CHAR",
    help="Blob to local: the character that separates the source's virtual directories "
    "(default '/'); each becomes a local folder (AzCopy v8's /Delimiter).",
)
@engine_options
@endpoint_options
@journal_option
@output_options
def copy_command(source: str, destination: str, **opts: object) -> int:
    """Copy SOURCE to DESTINATION: local paths (a file, folder or wildcard such as
    'dir/*.csv') and Blob storage URLs, in either direction.

    \b
    Examples:
      azxfer copy ./data 'https://acct.blob.core.windows.net/box?<SAS>' --recursive
      azxfer copy 'https://acct.blob.core.windows.net/box/logs' ./logs -r --include-pattern '*.gz'
    """
    options = build_copy_options(source, destination, opts)
    record = {
        "source": without_secrets(source),
        "destination": without_secrets(destination),
        "options": recordable(opts),
        "credentials": credential_kinds(options.source_credential, options.dest_credential),
    }
    return run_job("copy", options, opts, record=record)


def build_copy_options(source: str, destination: str, opts: dict) -> CopyOptions:
    """Validate the raw flags and build the immutable CopyOptions."""
    src, dst = parse_endpoints(
        source, destination, opts["from_to"], opts["source_type"], opts["dest_type"]
    )
    check_local_source(src)
    filters = filters_from(opts)
    env = environment()
    src_cred, dst_cred = resolve_credentials(
        src,
        dst,
        env,
        opts["source_key_file"],
        opts["dest_key_file"],
        SignedInIdentity(env, device_prompt),
    )
    block_size = parse_block_size_mb(opts["block_size_mb"])
    tier = opts["block_blob_tier"]
    upload = UploadProps(
        blob_type=BLOB_TYPES[opts["blob_type"].lower()] if opts["blob_type"] else None,
        tier=next(
            (t for t in ("Hot", "Cool", "Cold", "Archive") if tier and t.lower() == tier.lower()),
            None,
        ),
        metadata=parse_metadata(opts["metadata"]),
        tags=parse_tags(opts["blob_tags"]),
        content=_content_props(opts),
        guess_mime_type=not opts["no_guess_mime_type"],
    )
    s2s = _server_copy_settings(src, dst, opts)
    delete_empty_src_dirs = bool(opts.get("delete_empty_src_dirs"))
    if delete_empty_src_dirs and not opts["move"]:
        raise UsageError("--delete-empty-src-dirs needs --move")
    if delete_empty_src_dirs and not opts["recursive"]:
        # Only a recursive job walks folders; without it the flag would do nothing, silently.
        raise UsageError("--delete-empty-src-dirs needs --recursive")
    _check_single_file_blocks(src, dst, upload.blob_type, block_size)
    return CopyOptions(
        source=src,
        destination=dst,
        source_credential=src_cred,
        dest_credential=dst_cred,
        engine=EngineSettings(
            concurrency=opts["concurrency"] or default_concurrency(environment()),
            max_memory=parse_max_memory(str(opts["max_memory"]), block_size),
            block_size=block_size,
        ),
        recursive=bool(opts["recursive"]),
        as_subdir=bool(opts["as_subdir"]),
        filters=filters,
        overwrite=Overwrite(opts["overwrite"]),
        upload=upload,
        check_md5=CheckMd5(opts["check_md5"]),
        preserve_last_modified_time=bool(opts["preserve_last_modified_time"]),
        move=bool(opts["move"]),
        delete_empty_src_dirs=delete_empty_src_dirs,
        dry_run=bool(opts["dry_run"]),
        follow_symlinks=bool(opts["follow_symlinks"]),
        s2s=s2s,
        include_directory_stub=bool(opts.get("include_directory_stub")),
        delimiter=_delimiter(src, dst, opts.get("delimiter")),
    )


# Characters that make a blob path a wildcard (they cannot also separate its folders).
_WILDCARDS = "*?["


def _delimiter(src: Location, dst: Location, given: str | None) -> str:
    """--delimiter: one character, for downloads from Blob storage only (as in v8)."""
    if given is None:
        return "/"
    if len(given) != 1 or given in _WILDCARDS or not given.isprintable():
        shown = given if given.isprintable() else given.encode("unicode_escape").decode()
        raise UsageError(
            f"--delimiter '{shown}': give one printable character other than {_WILDCARDS}"
        )
    if src.service is not Service.BLOB or not dst.is_local:
        raise UsageError("--delimiter applies only to downloads from Blob storage to local")
    return given


# The content options, each the ContentProps field of the same name.
CONTENT_OPTIONS = (
    "content_type",
    "content_encoding",
    "content_language",
    "content_disposition",
    "cache_control",
)


def _content_props(opts: dict) -> ContentProps:
    """The content options, refused up front if a header could not carry them unchanged."""
    given = {name: opts[name] for name in CONTENT_OPTIONS}
    for name, value in given.items():
        if value is not None:
            check_header_value("--" + name.replace("_", "-"), value, ascii_only=True)
    return ContentProps(**given)


def _server_copy_settings(src: Location, dst: Location, opts: dict) -> ServerCopySettings:
    """The settings of copies between storage services; flags that cannot apply to this
    pair are refused."""
    settings = ServerCopySettings(
        mode=S2SMode(opts.get("s2s_mode") or S2SMode.AUTO.value),
        preserve_properties=bool(opts.get("s2s_preserve_properties", True)),
        preserve_tags=bool(opts.get("s2s_preserve_blob_tags")),
        preserve_tier=bool(opts.get("s2s_preserve_access_tier", True)),
        lease_source=bool(opts.get("lease_source")),
        include_snapshots=bool(opts.get("include_snapshots")),
        preserve_smb_info=bool(opts.get("preserve_smb_info", True)),
        preserve_permissions=bool(opts.get("preserve_permissions")),
    )
    storage = (Service.BLOB, Service.FILE)
    between_storage = src.service in storage and dst.service in storage
    if settings.mode is not S2SMode.AUTO and not between_storage:
        raise UsageError("--s2s-mode applies only to copies between blob containers and shares")
    share_to_share = src.service is Service.FILE and dst.service is Service.FILE
    if settings.preserve_permissions and not share_to_share:
        raise UsageError("--preserve-permissions applies only to share-to-share copies")
    blob_to_blob = src.service is Service.BLOB and dst.service is Service.BLOB
    only_b2b = {
        "--s2s-preserve-blob-tags": settings.preserve_tags,
        "--lease-source": settings.lease_source,
    }
    for flag, given in only_b2b.items():
        if given and not blob_to_blob:
            raise UsageError(f"{flag} applies only to blob-to-blob copies")
    if settings.include_snapshots and src.service is not Service.BLOB:
        raise UsageError("--include-snapshots needs a Blob storage source")
    if settings.include_snapshots and (src.snapshot or src.version_id):
        raise UsageError("--include-snapshots cannot be used with a snapshot or version URL")
    return settings


def _check_single_file_blocks(
    src: Location, dst: Location, blob_type: BlobType | None, block_size: int | None
) -> None:
    """A single local file that --block-size-mb would cut into more than 50,000 blocks is
    refused before the job starts (a folder's files are checked one by one as they start)."""
    if block_size is None or dst.service is not Service.BLOB or not src.is_local:
        return
    if src.pattern is not None or not os.path.isfile(src.local_path):
        return
    kind = blob_type or type_for_name(src.local_path)
    try:
        check_block_count(os.path.getsize(src.local_path), block_size, kind)
    except TransferError as exc:
        raise UsageError(f"{src.local_path}: {exc}") from None
