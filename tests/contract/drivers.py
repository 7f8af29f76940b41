"""The drivers that run the contract suite, what each claims, and its endpoint class (what it
offers as capability Protocols is derived from that; see __init__)."""

from __future__ import annotations

from azxfer.endpoints.blob.endpoint import BlobEndpoint
from azxfer.endpoints.files.endpoint import FilesEndpoint
from azxfer.endpoints.local.endpoint import LocalEndpoint
from azxfer.endpoints.web.endpoint import WebEndpoint

from .drivers_blob import BlobHarness, append_blob, blob_sdk, page_blob
from .drivers_files import FilesHarness
from .drivers_local import LocalHarness
from .drivers_web import WebHarness
from .harness import Can, Driver

_WRITES = {Can.WRITE, Can.WRITE_MD5, Can.WRITE_CONTENT}
_ATOMIC = {Can.ATOMIC_COMMIT}  # page and append blobs exist from their first write
_BLOB = frozenset(
    {Can.LIST, Can.STAT, Can.MD5, Can.READ, Can.DETECT_CHANGE, Can.DELETE}
    | _WRITES
    | _ATOMIC
    | {Can.RESUME}
)

REGISTRY: tuple[Driver, ...] = (
    Driver(
        "local",
        LocalHarness,
        frozenset(
            {Can.LIST, Can.STAT, Can.READ, Can.BOUNDED_READ, Can.DETECT_CHANGE, Can.DELETE}
            | {Can.WRITE, Can.ATOMIC_COMMIT, Can.WRITE_MTIME, Can.RESUME}
        ),
        LocalEndpoint,
    ),
    Driver("blob", BlobHarness, _BLOB | {Can.BOUNDED_READ}, BlobEndpoint),
    Driver("blob-sdk", blob_sdk, _BLOB | {Can.BOUNDED_READ}, BlobEndpoint),
    # Append and page writers: the writing half, and stat for copies into them (sources are
    # the same as "blob").
    Driver("blob-append", append_blob, frozenset(_WRITES | {Can.STAT}), BlobEndpoint),
    Driver("blob-page", page_blob, frozenset(_WRITES | {Can.RESUME, Can.STAT}), BlobEndpoint),
    # Azure Files: a file exists from its Create File on (not atomic), listings carry MD5s
    # because the harness asks for them (`listed_md5`), as downloads do.
    Driver(
        "files",
        FilesHarness,
        frozenset(
            {Can.LIST, Can.STAT, Can.MD5, Can.READ, Can.DETECT_CHANGE, Can.DELETE}
            | _WRITES
            | {Can.WRITE_MTIME, Can.RESUME}
        ),
        FilesEndpoint,
    ),
    Driver("web", WebHarness, frozenset({Can.STAT, Can.READ, Can.DETECT_CHANGE}), WebEndpoint),
)
