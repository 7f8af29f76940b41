"""--check-md5: when a copy or sync computes a transfer's MD5, and how a download judges it
against the Content-MD5 its source stores.

Apart from `jobrun` because it is a per-transfer decision the job kinds hand to the engine,
not part of a job's lifecycle.
"""

from __future__ import annotations

import logging

from azxfer.errors import IntegrityError
from azxfer.events import EventSink, Notice
from azxfer.models import Transfer
from azxfer.options import CheckMd5, CopyOptions

log = logging.getLogger("azxfer")


class Md5Policy:
    """When to compute a transfer's MD5, and how to judge it (--check-md5)."""

    def __init__(self, options: CopyOptions, sink: EventSink) -> None:
        self.mode = options.check_md5
        self.download = options.destination.is_local
        self.checks = self.download and self.mode is not CheckMd5.NO_CHECK
        self.sink = sink

    def wants(self, transfer: Transfer, learns: bool = False) -> bool:
        """Uploads record the MD5; a download needs it only to check a stored Content-MD5,
        listed with the source or (`learns`) reported by the service while it is read."""
        if not self.download:
            return True
        return self.checks and (learns or transfer.source.md5 is not None)

    def verify(self, transfer: Transfer, digest: bytes) -> None:
        """Raise IntegrityError when the data does not match the blob's Content-MD5."""
        if not self.checks:
            return
        expected = transfer.source.md5
        if expected is None:
            if self.mode is CheckMd5.FAIL_IF_DIFFERENT_OR_MISSING:
                raise IntegrityError(
                    f"'{transfer.source.ref}' has no Content-MD5 to verify "
                    "(--check-md5 FailIfDifferentOrMissing)"
                )
            return
        if expected != digest:
            message = (
                f"MD5 mismatch for '{transfer.source.ref}': the blob says "
                f"{expected.hex()}, the data is {digest.hex()}"
            )
            if self.mode is CheckMd5.LOG_ONLY:
                log.warning(message)
                self.sink.emit(Notice("warning", message))
                return
            raise IntegrityError(message)
