"""The retry policy of the requests the storage SDK carries, with the rules of our own loop.

The SDK's public `ExponentialRetry` keeps what only its pipeline can do (rewinding a request's
body, the per-kind counts of connect, read and status retries, the secondary host, the
history). Its decision and its wait are ours, as `retry.RetryPolicy` makes them for the REST
fast path: 408, 429 and 5xx (but 501 and 505) are retried, and so is a copy whose source
answered busy; waits are backoff with full jitter, at least as long as a (capped) Retry-After
says; each wait is told to the job as a `retry` event. Only the SDK's public names are used.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import AzureError
from azure.storage.blob.aio import ExponentialRetry

from azxfer.transport.retry import RetryPolicy

log = logging.getLogger("azxfer.retry")

# x-ms-copy-source-error-code values that say the copy's source was only busy.
_BUSY_SOURCE = frozenset({"OperationTimedOut", "InternalError", "ServerBusy"})


class StorageRetry(ExponentialRetry):
    """The SDK's retry loop, deciding and waiting as `RetryPolicy` does."""

    def __init__(self, on_retry: Callable[[str, int, float, str], None] | None = None) -> None:
        self.policy = RetryPolicy(on_retry=on_retry)
        self._rng = random.Random()
        retries = self.policy.attempts - 1
        super().__init__(retry_total=retries, retry_connect=2, retry_read=4, retry_status=retries)

    async def send(self, request: Any) -> Any:
        """Send, retrying as the module docstring says."""
        settings = self.configure_retries(request)
        while True:
            try:
                response = await self.next.send(request)
            except AzureError as err:
                if not self.increment(settings, request=request.http_request, error=err):
                    raise
                await self._wait(settings, request, None, type(err).__name__)
                continue
            http = response.http_response
            if should_retry(http.status_code, http.headers) and self.increment(
                settings, request=request.http_request, response=http
            ):
                await self._wait(settings, request, http, f"status {http.status_code}")
                continue
            if settings["history"]:
                response.context["history"] = settings["history"]
            http.location_mode = settings["mode"]
            return response

    async def _wait(self, settings: dict[str, Any], request: Any, http: Any, reason: str) -> None:
        retry = settings["count"]
        delay = self.policy.delay(max(retry, 1), retry_after(http), self._rng)
        what = f"{request.http_request.method} {request.http_request.url.split('?')[0]}"
        log.info("retrying %s in %.1f s after %s", what, delay, reason)
        if self.policy.on_retry is not None:
            self.policy.on_retry(what, retry + 1, delay, reason)
        await request.context.transport.sleep(delay)


def should_retry(status: int, headers: Any) -> bool:
    """Whether an answer is worth another attempt: a timeout, throttling, a server error
    other than 501 and 505, or a copy whose source was busy."""
    if status in (408, 429):
        return True
    if status >= 500:
        return status not in (501, 505)
    return status >= 400 and headers.get("x-ms-copy-source-error-code") in _BUSY_SOURCE


def retry_after(http: Any) -> float | None:
    """Seconds the service asked to wait (Retry-After, or retry-after-ms), if it did."""
    if http is None:
        return None
    value = http.headers.get("Retry-After")
    scale = 1.0
    if value is None:
        value, scale = http.headers.get("retry-after-ms"), 0.001
    if value is None:
        return None
    try:
        return float(value) * scale
    except ValueError:
        return None
