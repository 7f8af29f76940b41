"""Which service APIs can copy a blob, best first, and what a job has learned of them.

The copy engine (`engine.server_copy`) walks this ladder for each blob. A method the service
says it does not implement is dropped for the rest of the job at once. A 5xx answer is
transient as a rule; yet a method that has never worked in the job and keeps failing with 5xx
is more likely one the service cannot carry out (Azurite answers 500 to a SAS-authorised Put
Blob From URL) than a busy service. So until a method has worked once, its 5xx answers get a
short retry, the blob goes on down the ladder, and a few such failures drop the method.
"""

from __future__ import annotations

import enum

from azxfer.endpoints.blob.copy import MAX_PUT_FROM_URL, MAX_SYNC_COPY
from azxfer.models import BlobType, Entry, blob_props
from azxfer.options import S2SMode

# While a method has not worked in the job, a request of it is tried this often on 5xx
# (twice: one Retry-After or short backoff still rides out a genuinely busy moment) ...
UNPROVEN_ATTEMPTS = 2
# ... and after this many blobs failed so, without any success, it is dropped for the job.
UNPROVEN_FAILURES = 3


class Method(enum.Enum):
    """The ways to copy one blob, named as the service's documentation names them."""

    PUT_BLOB_FROM_URL = "Put Blob From URL"
    COPY_FROM_URL = "Copy Blob From URL"
    BLOCKS_FROM_URL = "Put Block From URL"
    APPEND_FROM_URL = "Append Block From URL"
    PAGES_FROM_URL = "Put Page From URL"
    ASYNC_COPY = "Copy Blob"
    CLIENT = "client-side streaming"


def ladder(
    entry: Entry,
    dest_type: BlobType,
    block_size: int,
    mode: S2SMode,
    server_readable: bool,
    source_is_blob: bool = True,
) -> list[Method]:
    """The methods that can copy `entry` to a blob of `dest_type`, best first.

    Copy Blob (in both forms) and page ranges need a storage source; the other From-URL
    APIs read any URL the service can reach.
    """
    source_type = blob_props(entry).blob_type or BlobType.BLOCK
    same_type = source_is_blob and source_type is dest_type
    size = entry.size
    methods: list[Method] = []
    if server_readable and mode in (S2SMode.AUTO, S2SMode.URL):
        if dest_type is BlobType.BLOCK:
            if size <= block_size and size <= MAX_PUT_FROM_URL:
                methods.append(Method.PUT_BLOB_FROM_URL)
            if same_type and size <= min(block_size, MAX_SYNC_COPY):
                methods.append(Method.COPY_FROM_URL)
            methods.append(Method.BLOCKS_FROM_URL)
        elif dest_type is BlobType.APPEND:
            methods.append(Method.APPEND_FROM_URL)
        elif same_type:
            methods.append(Method.PAGES_FROM_URL)
    if server_readable and same_type and mode in (S2SMode.AUTO, S2SMode.ASYNC):
        methods.append(Method.ASYNC_COPY)
    if mode in (S2SMode.AUTO, S2SMode.CLIENT):
        methods.append(Method.CLIENT)
    return methods


class MethodTrust:
    """Which copy methods have worked in this job, and how often unproven ones failed."""

    def __init__(self) -> None:
        self._proven: set[Method] = set()
        self._failures: dict[Method, int] = {}

    def attempts(self, method: Method, has_fallback: bool) -> int | None:
        """How often to try `method`'s requests on 5xx: few while it is unproven and the
        ladder goes on below it; else the retry policy's (None)."""
        if not has_fallback or method in self._proven:
            return None
        return UNPROVEN_ATTEMPTS

    def succeeded(self, method: Method) -> None:
        """`method` copied a blob: its 5xx answers are transient from now on."""
        self._proven.add(method)

    def failed(self, method: Method) -> bool:
        """Count a blob `method` failed with 5xx; True exactly when it should be dropped."""
        if method in self._proven:
            return False
        count = self._failures.get(method, 0) + 1
        self._failures[method] = count
        return count == UNPROVEN_FAILURES
