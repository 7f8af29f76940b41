"""The storage SDK's transport, sending each request through the job's proxy.

The SDK's clients share one aiohttp session, which does not read the proxy variables itself:
aiohttp would read them with other rules than the pool's (no loopback exception, no CIDR
ranges, lower-case names first), and the storage SDK's own `proxies` setting cannot carry a
proxy's credentials to aiohttp. So the transport asks `ProxySettings` about each request's URL
and hands aiohttp the answer (`proxy`, and `proxy_headers` or a Proxy-Authorization header).
Imported only where the SDK already is.
"""

from __future__ import annotations

from typing import Any

from azure.core.pipeline.transport import AioHttpTransport

from azxfer.transport.proxy import ProxySettings


class ProxiedTransport(AioHttpTransport):
    """aiohttp transport whose requests go through the proxy `ProxySettings` picks for them."""

    def __init__(self, proxies: ProxySettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._proxies = proxies

    async def send(self, request: Any, **config: Any) -> Any:  # type: ignore[override]
        proxy = self._proxies.for_aiohttp(request.url)
        config.update(proxy.arguments)
        request.headers.update(proxy.headers)  # after the signing and logging policies
        return await super().send(request, **config)
