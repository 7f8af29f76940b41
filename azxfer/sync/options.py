"""What `azxfer sync` is asked to do."""

from __future__ import annotations

from msgspec import Struct

from azxfer.options import CopyOptions
from azxfer.plan.sync import DEFAULT_DELETE_LIMIT, DEFAULT_SKEW_SECONDS, DeleteLimit


class SyncOptions(Struct, frozen=True):
    """Everything `azxfer sync` needs: the copy options plus comparison and delete settings."""

    copy: CopyOptions
    compare_hash: str | None = None
    mirror: bool = False
    delete_destination: str = "false"  # false | true | prompt
    max_delete: DeleteLimit = DEFAULT_DELETE_LIMIT
    skew: float = DEFAULT_SKEW_SECONDS

    @property
    def compares_md5(self) -> bool:
        """Whether files of the same size are compared by MD5 (--compare-hash md5)."""
        return self.compare_hash == "md5" and not self.mirror
