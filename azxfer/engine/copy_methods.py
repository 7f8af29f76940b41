"""What a job has learned of the server-side copy methods it tried.

The copy engine (`engine.server_copy`) walks a destination's methods for each object. A method
the service says it does not implement is dropped for the rest of the job at once. A 5xx
answer is transient as a rule; yet a method that has never worked in the job and keeps failing
with 5xx is more likely one the service cannot carry out (Azurite answers 500 to a
SAS-authorised Put Blob From URL) than a busy service. So until a method has worked once, its
5xx answers get a short retry, the object goes on down the ladder, and a few such failures
drop the method.
"""

from __future__ import annotations

# While a method has not worked in the job, a request of it is tried this often on 5xx
# (twice: one Retry-After or short backoff still rides out a genuinely busy moment) ...
UNPROVEN_ATTEMPTS = 2
# ... and after this many objects failed so, without any success, it is dropped for the job.
UNPROVEN_FAILURES = 3


class MethodTrust:
    """Which copy methods (by name) have worked in this job, and how often unproven ones
    failed."""

    def __init__(self) -> None:
        self._proven: set[str] = set()
        self._failures: dict[str, int] = {}

    def attempts(self, method: str, has_fallback: bool) -> int | None:
        """How often to try `method`'s requests on 5xx: few while it is unproven and the
        ladder goes on below it; else the retry policy's (None)."""
        if not has_fallback or method in self._proven:
            return None
        return UNPROVEN_ATTEMPTS

    def succeeded(self, method: str) -> None:
        """`method` copied an object: its 5xx answers are transient from now on."""
        self._proven.add(method)

    def failed(self, method: str) -> bool:
        """Count an object `method` failed with 5xx; True exactly when it should be dropped."""
        if method in self._proven:
            return False
        count = self._failures.get(method, 0) + 1
        self._failures[method] = count
        return count == UNPROVEN_FAILURES
