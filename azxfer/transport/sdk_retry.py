"""The storage SDK's exponential retry, configured, plus what it lacks: 429 and Retry-After.

The SDK's policy retries 408, 5xx (but 501/505) and connection errors, yet treats 429 Too Many
Requests as final and ignores Retry-After. This keeps its loop (body rewinding, secondary
location handling, history) and changes only the decision and the wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import AzureError
from azure.storage.blob._shared.policies import is_retry
from azure.storage.blob._shared.policies_async import is_checksum_retry, retry_hook
from azure.storage.blob.aio import ExponentialRetry

log = logging.getLogger("azxfer.retry")

MAX_RETRY_AFTER = 60.0


class StorageRetry(ExponentialRetry):
    """Exponential backoff with jitter on 408/429/5xx/resets, honouring Retry-After."""

    def __init__(self, on_retry: Callable[[str, int, float, str], None] | None = None) -> None:
        self.on_retry = on_retry
        super().__init__(
            initial_backoff=1,
            increment_base=2,
            retry_total=6,
            random_jitter_range=1,
            retry_connect=2,
            retry_read=4,
            retry_status=6,
        )

    async def send(self, request: Any) -> Any:
        """Send, retrying as the class docstring says."""
        settings = self.configure_retries(request)
        while True:
            try:
                response = await self.next.send(request)
            except AzureError as err:
                if not self.increment(settings, request=request.http_request, error=err):
                    raise
                await retry_hook(settings, request=request.http_request, response=None, error=err)
                await self._wait(settings, request, None, type(err).__name__)
                continue
            http = response.http_response
            retry = http.status_code == 429 or is_retry(response, settings["mode"])
            retry = retry or await is_checksum_retry(response)
            if retry and self.increment(settings, request=request.http_request, response=http):
                await retry_hook(settings, request=request.http_request, response=http, error=None)
                await self._wait(settings, request, http, f"status {http.status_code}")
                continue
            if settings["history"]:
                response.context["history"] = settings["history"]
            http.location_mode = settings["mode"]
            return response

    async def _wait(self, settings: dict[str, Any], request: Any, http: Any, reason: str) -> None:
        delay = self.get_backoff_time(settings) or 0.0
        retry_after = _retry_after(http)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
        what = f"{request.http_request.method} {request.http_request.url.split('?')[0]}"
        log.info("retrying %s in %.1f s after %s", what, delay, reason)
        if self.on_retry is not None:
            self.on_retry(what, settings["count"] + 1, delay, reason)
        if delay > 0:
            await request.context.transport.sleep(delay)


def _retry_after(http: Any) -> float | None:
    if http is None:
        return None
    value = http.headers.get("Retry-After") or http.headers.get("retry-after-ms")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return (
        seconds / 1000
        if "retry-after-ms" in http.headers and not http.headers.get("Retry-After")
        else seconds
    )
