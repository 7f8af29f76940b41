"""Which HTTP proxy a connection goes through: HTTPS_PROXY, HTTP_PROXY and NO_PROXY.

The variables are read as Go's net/http reads them (`golang.org/x/net/http/httpproxy`), which
is what AzCopy and rclone do, so one environment means the same thing to all three:
- HTTPS_PROXY serves https URLs, HTTP_PROXY http URLs; the upper-case name wins over the
  lower-case one; a value without a scheme is an http:// proxy; without a port, port 80.
- NO_PROXY is a comma-separated list: `*` (no proxy at all), an IP address, a CIDR range
  (`10.0.0.0/8`), or a domain name, which matches itself and its subdomains (`.x.com` and
  `*.x.com` only the subdomains); each may end in `:port` to match that port only.
- `localhost` and loopback addresses never go through a proxy (a local emulator).
Only http:// proxies are supported (as by aiohttp, which carries the SDK's requests); https
URLs go through them in a CONNECT tunnel, http URLs as absolute-form requests.

A proxy's user and password become a `Proxy-Authorization: Basic` header; they are never in
an error message, a log or a journal (`Proxy` shows only its host and port).

Loaded before asyncio by the listing started at process start (`early`): standard library only.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from azxfer.errors import UsageError


class Proxy(NamedTuple):
    """One proxy: where it listens, and the Proxy-Authorization it wants (or "")."""

    host: str
    port: int
    authorization: str = ""

    def __repr__(self) -> str:  # never the credentials
        return f"Proxy({self.address})"

    @property
    def address(self) -> str:
        """host:port, as messages name the proxy."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The proxy's URL without credentials (for aiohttp, given the authorization apart)."""
        return f"http://{self.address}"


class ProxySettings(NamedTuple):
    """The proxies of a job's environment, and the hosts that bypass them."""

    https: Proxy | None = None
    http: Proxy | None = None
    no_proxy: tuple[str, ...] = ()

    def for_url(self, scheme: str, host: str, port: int) -> Proxy | None:
        """The proxy a request to scheme://host:port goes through, or None (directly)."""
        proxy = self.https if scheme == "https" else self.http if scheme == "http" else None
        if proxy is None or _bypassed(host.lower().strip("[]"), port, self.no_proxy):
            return None
        return proxy

    def for_aiohttp(self, url: str) -> AiohttpProxy:
        """How an aiohttp request to `url` goes through its proxy (empty: directly)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            return AiohttpProxy()  # not a URL a request can be sent to: its own error says so
        proxy = self.for_url(scheme, parts.hostname or "", port)
        if proxy is None:
            return AiohttpProxy()
        if not proxy.authorization:
            return AiohttpProxy({"proxy": proxy.url})
        credentials = {"Proxy-Authorization": proxy.authorization}
        if scheme == "https":  # said in the CONNECT request
            return AiohttpProxy({"proxy": proxy.url, "proxy_headers": credentials})
        # aiohttp sends an http request to the proxy as it is: the header goes with each one.
        return AiohttpProxy({"proxy": proxy.url}, credentials)


class AiohttpProxy(NamedTuple):
    """aiohttp's keyword arguments for a request's proxy, and the headers to add to it."""

    arguments: Mapping[str, object] = MappingProxyType({})
    headers: Mapping[str, str] = MappingProxyType({})


NO_PROXIES = ProxySettings()


def proxy_settings(env: Mapping[str, str]) -> ProxySettings:
    """The proxy settings of `env`; a value that is not a usable proxy URL is a UsageError."""
    https = _first(env, "HTTPS_PROXY", "https_proxy")
    http = _first(env, "HTTP_PROXY", "http_proxy")
    if not https and not http:
        return NO_PROXIES
    no_proxy = _first(env, "NO_PROXY", "no_proxy")
    listed = no_proxy[1] if no_proxy else ""
    entries = tuple(e.strip().lower() for e in listed.split(",") if e.strip())
    return ProxySettings(
        _parse(https[1], https[0]) if https else None,
        _parse(http[1], http[0]) if http else None,
        entries,
    )


def _first(env: Mapping[str, str], *names: str) -> tuple[str, str] | tuple[()]:
    """(name, value) of the first of `names` set to something, or ()."""
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return ()


def _parse(value: str, name: str) -> Proxy:
    text = value if "://" in value else f"http://{value}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise UsageError(f"{name} is not a proxy URL: {_without_credentials(value)}") from None
    if parts.scheme.lower() != "http":
        raise UsageError(
            f"{name}: only http:// proxies are supported, not {parts.scheme}:// "
            "(https URLs still go through an http:// proxy, in a CONNECT tunnel)"
        )
    if not parts.hostname:
        raise UsageError(f"{name} is not a proxy URL: {_without_credentials(value)}")
    authorization = ""
    if parts.username is not None:
        user_password = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(user_password.encode()).decode("ascii")
    return Proxy(parts.hostname, port or 80, authorization)


def _without_credentials(value: str) -> str:
    scheme, sep, rest = value.rpartition("://")
    host = rest.rpartition("@")[2]
    return f"{scheme}{sep}{host}"


def _bypassed(host: str, port: int, no_proxy: tuple[str, ...]) -> bool:
    if host == "localhost" or _is_loopback(host):
        return True
    for entry in no_proxy:
        if entry == "*":
            return True
        name, wanted_port = _split_port(entry)
        if wanted_port is not None and wanted_port != port:
            continue
        if "/" in name:
            if _in_network(host, name):
                return True
            continue
        if name.startswith("*."):
            name = name[1:]
        if name.startswith("."):
            if host.endswith(name):
                return True
        elif host == name or host.endswith("." + name):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    """`host:port`, `[v6]:port`, or a bare host, address or CIDR range."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return host, int(port) if port.isdigit() else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, int(port) if port.isdigit() else None
    return entry, None


def _is_loopback(host: str) -> bool:
    if host.startswith("127.") or host == "::1":
        import ipaddress  # only for what looks like a loopback address

        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return False


def _in_network(host: str, network: str) -> bool:
    import ipaddress  # only for a CIDR entry

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False
