"""What a bulk operation over a filtered listing is (`azxfer remove`, `azxfer set-properties`):
its options, the per-object operation, and the checks made before it lists anything.

The selection is a source's (`Endpoint.select` with the job's name filters), so remove and
set-properties select exactly as copy does: a single object, a folder, container or virtual
directory (with --recursive), a wildcard, --include/--exclude patterns and paths, dates, and
--list-of-files (each line a path relative to the location: an object, or a folder and what is
under it).
"""

from __future__ import annotations

from pathlib import Path

from msgspec import Struct

from azxfer.credentials import Credential
from azxfer.endpoints.base import Endpoint, SelectionKind
from azxfer.endpoints.bulkcaps import BatchDeleter, MetadataSetter, TagSetter, TierSetter
from azxfer.errors import CredentialError, NotFoundError, UsageError
from azxfer.locations import Location
from azxfer.plan.filters import EntryFilter, FilterSpec
from azxfer.plan.sync import DEFAULT_DELETE_LIMIT, DeleteLimit

REMOVE = "remove"
SET_PROPERTIES = "set-properties"
_WILDCARD_CHARS = "*?["


class BulkOperation(Struct, frozen=True):
    """What to do to each selected object: remove it (with a snapshot rule: None, "include",
    "only"), or change its tier (and rehydrate priority), metadata and tags (None: leave as
    is; an empty dict clears)."""

    kind: str
    snapshots: str | None = None
    tier: str | None = None
    rehydrate: str | None = None
    metadata: dict[str, str] | None = None
    tags: dict[str, str] | None = None

    @property
    def removes(self) -> bool:
        """Whether the operation removes objects."""
        return self.kind == REMOVE

    def changes(self) -> list[str]:
        """What a set-properties changes, as its events name it ("tier=Cool", "metadata")."""
        said = [f"tier={self.tier}"] if self.tier else []
        said += ["metadata"] if self.metadata is not None else []
        return said + (["tags"] if self.tags is not None else [])


class BulkOptions(Struct, frozen=True):
    """A bulk job: where, with which credential, what to do, to which objects, and its limits
    (`max_delete` and `force` for removes; `concurrency` requests in flight)."""

    location: Location
    credential: Credential | None
    operation: BulkOperation
    recursive: bool = False
    filters: FilterSpec = FilterSpec()
    dry_run: bool = False
    max_delete: DeleteLimit = DEFAULT_DELETE_LIMIT
    force: bool = False
    concurrency: int = 32


def with_list_of_files(filters: FilterSpec, path: Path | None) -> FilterSpec:
    """`filters` selecting only the paths listed in the file at `path` (one a line, relative
    to the location; blank lines and '#' comments ignored), as AzCopy's --list-of-files."""
    if path is None:
        return filters
    if filters.include_paths:
        raise UsageError("--list-of-files cannot be combined with --include-path")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--list-of-files: cannot read {path}: {exc}") from None
    lines = [line.strip() for line in text.splitlines()]
    wanted = [line for line in lines if line and not line.startswith("#")]
    if not wanted:
        raise UsageError(f"--list-of-files: {path} lists no path")
    listed = FilterSpec.from_strings(None, None, ";".join(wanted), None, None, None)
    return FilterSpec(
        filters.include_patterns,
        filters.exclude_patterns,
        listed.include_paths,
        filters.exclude_paths,
        filters.include_after,
        filters.include_before,
    )


class CountingFilter:
    """The job's name filters, counting every object the listing found (selected or not): a
    remove's --max-delete share is of these."""

    def __init__(self, spec: FilterSpec) -> None:
        self.inner = EntryFilter(spec)
        self.seen = 0

    def accepts(self, rel_path: str, mtime: float | None) -> bool:
        """As the filters say (counted)."""
        self.seen += 1
        return self.inner.accepts(rel_path, mtime)

    def may_descend(self, rel_dir: str) -> bool:
        """As the filters say."""
        return self.inner.may_descend(rel_dir)


def check_operation(endpoint: Endpoint, options: BulkOptions) -> None:
    """Refuse, before any request, what the location's service cannot do."""
    operation, where = options.operation, options.location.display
    if options.credential is not None and options.credential.kind == "anonymous":
        raise CredentialError(
            f"no credential for {where}: {operation.kind} needs a SAS token, an account key "
            "(AZXFER_DEST_KEY, --key-file), a connection string or 'azxfer login'"
        )
    location = options.location
    if location.snapshot or location.version_id:
        if not operation.removes:
            raise UsageError(f"{operation.kind} cannot change a snapshot or a version")
        if operation.snapshots:
            raise UsageError("--delete-snapshots applies to a blob, not to one of its snapshots")
    if operation.removes:
        if operation.snapshots and not isinstance(endpoint, BatchDeleter):
            raise UsageError("--delete-snapshots applies only to Blob storage")
        return
    needs = (
        (operation.tier, TierSetter, "--block-blob-tier"),
        (operation.metadata is not None, MetadataSetter, "--metadata"),
        (operation.tags is not None, TagSetter, "--blob-tags"),
    )
    for given, capability, flag in needs:
        if given and not isinstance(endpoint, capability):
            raise UsageError(f"{flag} applies only to Blob storage (not to {where})")


def check_selection(kind: SelectionKind, options: BulkOptions) -> None:
    """A folder, container or share is acted on only with --recursive."""
    if kind is SelectionKind.DIRECTORY and not options.recursive:
        raise UsageError(
            f"'{options.location.display}' is a folder, container or share: add --recursive "
            f"to {options.operation.kind} what is in it"
        )


def check_found(kind: SelectionKind, location: Location) -> None:
    """A plain path (no wildcard) that names neither an object nor a folder is a missing
    object (AzCopy reports the 404 and fails): never a name prefix, which for a copy selects
    every name starting so (AzCopy v8's /Pattern) but here would act on objects not named."""
    if kind is SelectionKind.PATTERN:
        path = location.path
        if path and not any(c in path for c in _WILDCARD_CHARS):
            raise NotFoundError(
                f"'{path}' does not exist in '{location.container}' (404 not found)"
            )
