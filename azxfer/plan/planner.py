"""The planner: enumerate → filter → map names → decide, streaming Planned transfers."""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator
from pathlib import Path

from msgspec.structs import replace

from azxfer.endpoints.base import (
    Destination,
    DestinationNames,
    Directories,
    Selection,
    SelectionKind,
)
from azxfer.events import EventSink, Notice
from azxfer.locations import Service, redact
from azxfer.models import (
    FOLDER_MARKER_METADATA,
    BlobProps,
    BlobType,
    ContentProps,
    Entry,
    EntryKind,
    FileProps,
    Planned,
    Skipped,
    Transfer,
    WriteProps,
    blob_props,
    file_props,
    type_for_name,
)
from azxfer.options import CopyOptions
from azxfer.plan.blobnames import BlobNamer
from azxfer.plan.compare import OverwritePolicy
from azxfer.plan.filenames import FileNamer, restricts
from azxfer.plan.filters import EntryFilter
from azxfer.plan.namers import Namer
from azxfer.plan.naming import LocalNameMapper
from azxfer.plan.overlap import (
    check_not_into_itself,
    onto_itself,
    reads_a_fixed_version,
    same_container,
)

DEFAULT_CONTENT_TYPE = "application/octet-stream"

# Why an empty folder does not arrive at a destination without folders (said once per job).
NO_FOLDERS = "Blob storage has no folders; --include-directory-stub writes marker blobs"
_MARKER_PROPS = WriteProps(
    content=ContentProps(content_type=DEFAULT_CONTENT_TYPE),
    metadata=FOLDER_MARKER_METADATA,
    service=BlobProps(blob_type=BlobType.BLOCK),
)


class CopyPlanner:
    """Turns a source selection into Planned transfers for one destination endpoint."""

    def __init__(
        self, options: CopyOptions, dest: Destination, policy: OverwritePolicy, sink: EventSink
    ) -> None:
        self.options = options
        self.dest = dest
        self.policy = policy
        self.sink = sink
        self.to_local = options.destination.is_local
        self.mapper = (
            LocalNameMapper(Path(options.destination.local_path)) if self.to_local else None
        )
        self.namer = namer_for(
            dest,
            options.source.is_local,
            EntryFilter(options.filters),
            options.recursive,
            options.follow_symlinks,
        )
        self.next_id = 0
        source = options.source
        # Checked once: a runtime Protocol check costs microseconds, and folders are many.
        self.makes_folders = isinstance(dest, Directories)
        # Within one container a blob may map onto itself (see `plan.overlap`).
        self.same_place = same_container(source, options.destination) and not (
            reads_a_fixed_version(source)
        )

    async def plan(self, selection: Selection) -> AsyncIterator[Planned]:
        """Planned transfers in enumeration order; enumeration skips come as skipped ones."""
        self._report_stored_root(selection)
        self.check_overlap(selection)
        async for item in selection.items:
            if isinstance(item, Skipped):
                yield Planned(self.skip_transfer(item), WriteProps(), item.reason)
                continue
            planned = await self._plan_entry(selection, item)
            if planned is not None:
                yield planned

    def check_overlap(self, selection: Selection) -> None:
        """Refuse a recursive copy into its own source (UsageError), before anything is
        written (a share's destination folder is made when it is made ready)."""
        if self.same_place:
            base = self.dest.join(f"{selection.root_name}/" if self._in_subdir(selection) else "")
            check_not_into_itself(self.options.source, base, selection, self.options.recursive)

    async def _plan_entry(self, selection: Selection, entry: Entry) -> Planned | None:
        if entry.is_folder:
            rel = entry.rel_path
            if self._in_subdir(selection):
                rel = f"{selection.root_name}/{rel}"
            return self.plan_folder(entry, rel)
        target = await self._dest_ref(selection, entry)
        if target is None:
            return None
        dest_ref, conflict = target
        if conflict is not None:
            return self.conflict(self.new_id(), entry, dest_ref, conflict)
        if self.same_place and self._same_name(dest_ref, entry.ref):
            raise onto_itself(self.options.source, redact(self.display(dest_ref)))
        transfer = Transfer(self.new_id(), entry, dest_ref, redact(self.display(dest_ref)))
        props = self.props_for(entry)
        if self.policy.needs_destination:
            existing = await self.dest.stat(dest_ref)
            decision = self.policy.decide(entry, existing, transfer.dest_display)
            if not decision.transfer:
                return Planned(transfer, props, decision.reason)
        return Planned(transfer, props)

    def plan_folder(self, folder: Entry, rel: str) -> Planned | None:
        """The plan for a source folder going to `rel` under the destination: make it where
        the destination has folders, else write a marker blob (--include-directory-stub),
        else skip an empty one (reported), and leave out one its files imply (None).
        Folders are not journaled (transfer ID 0): see `engine.folders`."""
        if self.mapper is not None:
            mapped = self.mapper.map_directory(rel)
            if mapped is None:
                return None
            if mapped.reason:
                self.sink.emit(
                    Notice("warning", f"'{rel}' saved as '{mapped.local_rel}': {mapped.reason}")
                )
            rel = mapped.local_rel
        elif self.namer is not None:
            rel = self.namer.stored(rel)
        dest_ref = self.dest.join(rel)
        transfer = Transfer(0, folder, dest_ref, redact(self.display(dest_ref)))
        if self.makes_folders:
            to_share = self.options.destination.service is Service.FILE
            smb = self._smb_for(folder) if to_share else None
            return Planned(transfer, WriteProps(mtime=folder.mtime, service=smb))
        if self.options.include_directory_stub:
            return Planned(transfer, _MARKER_PROPS)
        if folder.kind is EntryKind.EMPTY_FOLDER:
            return Planned(transfer, WriteProps(), NO_FOLDERS)
        return None

    def _same_name(self, dest_ref: str, source_ref: str) -> bool:
        """Whether two names in one container or share are one object (a share's names are
        case-insensitive)."""
        if self.options.destination.service is Service.FILE:
            return dest_ref.casefold() == source_ref.casefold()
        return dest_ref == source_ref

    def new_id(self) -> int:
        """The next transfer ID of this job."""
        self.next_id += 1
        return self.next_id

    def conflict(self, transfer_id: int, entry: Entry, dest_ref: str, reason: str) -> Planned:
        """A failed transfer of `entry`, whose destination `dest_ref` another source has."""
        # No destination reference: nothing may ever be written for it, not even on resume.
        transfer = Transfer(transfer_id, entry, "", redact(self.display(dest_ref)))
        return Planned(transfer, WriteProps(), fail_reason=reason)

    def skip_transfer(self, skipped: Skipped) -> Transfer:
        """A Transfer record for an item enumeration skipped, so it is counted and reported."""
        entry = Entry(ref=skipped.ref, rel_path=skipped.rel_path, size=0)
        return Transfer(self.new_id(), entry, "", "")

    async def _dest_ref(self, selection: Selection, entry: Entry) -> tuple[str, str | None] | None:
        """(destination reference, None) for `entry`; (contested reference, why) when another
        source has that destination; None when it maps to nothing."""
        if selection.kind is SelectionKind.SINGLE:
            target = await self.dest.target_for_single(entry.rel_path)
            if self.namer is None:
                return target, None
            target = self.stored(entry.rel_path, target)
            return target, self.namer.refusal(target)
        rel = entry.rel_path
        conflict = None
        if self.namer is not None:
            named = self.namer.name(entry)
            conflict = named.conflict
            if named.rel != rel and conflict is None:
                reason = self.namer.reason(rel)
                self.sink.emit(Notice("warning", f"'{rel}' stored as '{named.rel}': {reason}"))
            rel = named.rel
        if self._in_subdir(selection):
            root = selection.root_name
            rel = f"{self.namer.stored(root) if self.namer else root}/{rel}"
        if self.mapper is None:
            dest_ref = self.dest.join(rel)
            if conflict is None and self.namer is not None:
                conflict = self.namer.refusal(dest_ref)
            return dest_ref, conflict
        mapped = self.mapper.map(rel)
        if mapped is None:
            return None
        if mapped.reason:
            self.sink.emit(
                Notice("warning", f"'{rel}' saved as '{mapped.local_rel}': {mapped.reason}")
            )
        return self.dest.join(mapped.local_rel), None

    def stored(self, source: str, name: str) -> str:
        """`name`, given whole, as the destination stores it (said if that differs)."""
        assert self.namer is not None
        stored = self.namer.stored(name)
        if stored != name:
            reason = self.namer.reason(name)
            self.sink.emit(Notice("warning", f"'{source}' stored as '{stored}': {reason}"))
        return stored

    def _report_stored_root(self, selection: Selection) -> None:
        """Say once that a copied folder's own name is stored under another name."""
        root = selection.root_name
        if self.namer is None or not self._in_subdir(selection):
            return
        stored = self.namer.stored(root)
        if stored != root:
            reason = self.namer.reason(root)
            self.sink.emit(Notice("warning", f"folder '{root}' stored as '{stored}/': {reason}"))

    def _in_subdir(self, selection: Selection) -> bool:
        return selection.kind is SelectionKind.DIRECTORY and self.options.as_subdir

    def display(self, dest_ref: str) -> str:
        """How a destination reference is shown: a local path, or the blob's URL."""
        if self.to_local:
            return dest_ref
        location = self.options.destination
        return f"{location.endpoint}/{location.container}/{dest_ref}"

    def props_for(self, entry: Entry) -> WriteProps:
        """What to write with `entry` at the destination (blob type, content, tier; mtime)."""
        if self.to_local:
            # A share file's last-write time is the file's own (SMB), kept as AzCopy keeps it;
            # a blob's Last-Modified is only when it was stored, kept only when asked.
            keep_mtime = (
                self.options.preserve_last_modified_time
                or self.options.source.service is Service.FILE
            )
            return WriteProps(mtime=entry.mtime if keep_mtime else None)
        upload = self.options.upload
        s2s = self.options.s2s
        from_blob = not self.options.source.is_local
        if self.options.destination.service is Service.FILE:
            keep = not from_blob or s2s.preserve_properties
            return WriteProps(
                content=self._content(entry, keep),
                metadata=upload.metadata or (entry.metadata if keep else None) or None,
                service=self._smb_for(entry),
            )
        keep = not from_blob or s2s.preserve_properties
        listed = blob_props(entry)
        blob_type = upload.blob_type or listed.blob_type or type_for_name(entry.rel_path)
        tier = upload.tier or (listed.tier if from_blob and s2s.preserve_tier else None)
        blob = BlobProps(
            blob_type=blob_type,
            tier=tier if blob_type is BlobType.BLOCK else None,
            tags=upload.tags or None,
        )
        return WriteProps(
            content=self._content(entry, keep),
            metadata=upload.metadata or (entry.metadata if keep else None) or None,
            service=blob,
        )

    def _smb_for(self, entry: Entry) -> FileProps | None:
        """The SMB properties a share destination writes: share to share, the source file's
        attributes and times (--preserve-smb-info), and its permission key, which the
        destination maps to its own share (--preserve-permissions); without
        --preserve-smb-info the file is as new as its copy. From elsewhere: None (the writer
        keeps the source's mtime as the last-write time)."""
        if self.options.source.service is not Service.FILE:
            return None
        s2s = self.options.s2s
        if not s2s.preserve_smb_info:
            return FileProps(last_write_time="now")
        smb = file_props(entry)
        if not s2s.preserve_permissions:
            smb = replace(smb, permission_key=None)
        return smb

    def _content(self, entry: Entry, keep_source: bool) -> ContentProps:
        given = self.options.upload.content
        base = (entry.content if keep_source else None) or ContentProps()
        content_type = given.content_type or base.content_type
        if content_type is None:
            guessed = mimetypes.guess_type(entry.rel_path)[0]
            use_guess = self.options.upload.guess_mime_type and guessed
            content_type = guessed if use_guess else DEFAULT_CONTENT_TYPE
        return replace(
            base,
            content_type=content_type,
            content_encoding=given.content_encoding or base.content_encoding,
            content_language=given.content_language or base.content_language,
            content_disposition=given.content_disposition or base.content_disposition,
            cache_control=given.cache_control or base.cache_control,
        )


def namer_for(
    dest: Destination, from_local: bool, filters: EntryFilter, recursive: bool, follow: bool
) -> Namer | None:
    """The namer `dest`'s name rules call for (None: it stores names as they are given).
    `filters`, `recursive` and `follow` are the source walk's."""
    if not isinstance(dest, DestinationNames):
        return None
    rules = dest.name_rules()
    if rules.separators:
        # Only local names can hold a separator the service rewrites: stored object names
        # never do. (No service has both separator and character rules.)
        return BlobNamer(filters, recursive, follow) if from_local else None
    return FileNamer(rules) if restricts(rules) else None
