"""MD5s of local files for a sync, through the job directory's shared hash cache.

With --compare-hash md5, a local file's MD5 comes from the cache (`azxfer.journal.hashcache`)
when the file's size, times and inode still match: the local walk looks each file up as it
stats it (in the walk's thread, see `azxfer.sync.walk`), and only misses are read and hashed
(in a worker thread), then stored. The MD5 the engine computes while uploading a file is
stored too, so the sync after an upload hashes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time

from azxfer.journal.hashcache import HashCache, stat_key
from azxfer.models import BlobType, Entry, type_for_name
from azxfer.options import CopyOptions


class UploadHashes:
    """Stores the MD5 the engine computed while uploading a local file into the hash cache,
    in batches on a worker thread. An MD5 is kept only for a block blob (a page blob's is of
    the zero-padded data) and only if the file's size and mtime after the upload read are
    those the listing saw (so it did not change while it was read); it is dated from the job
    start, which precedes the read (see the racy rule in hashcache)."""

    BATCH = 256

    def __init__(self, cache: HashCache, started_ns: int, options: CopyOptions) -> None:
        self.cache = cache
        self.started_ns = started_ns
        self.blob_type = options.upload.blob_type
        self.pending: list[tuple[Entry, bytes]] = []
        self.tasks: set[asyncio.Future[None]] = set()

    def add(self, entry: Entry, digest: bytes) -> None:
        """The MD5 of an uploaded file, stored with the next batch."""
        if not digest or (self.blob_type or type_for_name(entry.rel_path)) is not BlobType.BLOCK:
            return
        self.pending.append((entry, digest))
        if len(self.pending) >= self.BATCH:
            self._spawn()

    def _spawn(self) -> None:
        batch, self.pending = self.pending, []
        task = asyncio.ensure_future(asyncio.to_thread(self._store, batch))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _store(self, batch: list[tuple[Entry, bytes]]) -> None:
        for entry, digest in batch:
            try:
                st = os.stat(entry.ref)
            except OSError:
                continue
            if st.st_size == entry.size and st.st_mtime == entry.mtime:
                self.cache.store(os.path.abspath(entry.ref), stat_key(st), digest, self.started_ns)

    async def finish(self) -> None:
        """Store what is left; wait for every batch."""
        if self.pending:
            self._spawn()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


def md5_and_cache(path: str, cache: HashCache | None) -> bytes | None:
    """A local file's MD5 (None if it cannot be read), stored in the cache if the file did
    not change while it was read."""
    started = time.time_ns()
    try:
        before = os.stat(path)
    except OSError:
        return None
    digest = _md5_file(path)
    if digest is None or cache is None:
        return digest
    try:
        after = os.stat(path)
    except OSError:
        return digest
    if stat_key(before) == stat_key(after):
        cache.store(os.path.abspath(path), stat_key(after), digest, started)
    return digest


def _md5_file(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "md5").digest()
    except OSError:
        return None
