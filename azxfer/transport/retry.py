"""Our one retry loop, for requests the Azure SDK does not carry (the REST fast path).

Driven by classified errors: only a RetryableError (timeouts, throttling, 5xx, resets) is
retried, with exponential backoff and full jitter, at least as long as a Retry-After says.
Request-level retries inside the SDK use its own policy (`transport.sdk_retry`), configured alike.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from msgspec import Struct

from azxfer.errors import RetryableError

log = logging.getLogger("azxfer.retry")
T = TypeVar("T")


class RetryPolicy(Struct, frozen=True):
    """How often and how patiently to retry one request."""

    attempts: int = 7
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 60.0
    # Told (what, attempt about to be made, seconds to wait, reason) before each wait.
    on_retry: Callable[[str, int, float, str], None] | None = None

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        backoff = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        wait = rng.uniform(backoff / 2, backoff)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    what: str,
    rng: random.Random | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    request: Callable[[], str] | None = None,
) -> T:
    """Run `call`, retrying RetryableError up to the policy's attempts (or the error's own,
    if fewer); the last error stands, as its `exhausted()` form.

    `request` says which request a retry sends again ("PUT https://…/c/b", no query), as the
    retry log line and event name it; it is asked only when there is a retry."""
    for retry in range(1, policy.attempts + 1):
        try:
            return await call()
        except RetryableError as exc:
            if retry >= min(policy.attempts, exc.attempts or policy.attempts):
                raise exc.exhausted() from None
            # Made only when needed: seeding a Random from the OS costs more than a request's
            # own signing, and almost every call succeeds at once.
            rng = rng or random.Random()
            wait = policy.delay(retry, getattr(exc, "retry_after", None), rng)
            shown = request() if request is not None else what
            log.info(
                "retrying %s in %.1f s (attempt %d of %d): %s",
                shown,
                wait,
                retry + 1,
                policy.attempts,
                exc,
            )
            if policy.on_retry is not None:
                policy.on_retry(shown, retry + 1, wait, str(exc))
            await sleep(wait)
    raise AssertionError("unreachable")
