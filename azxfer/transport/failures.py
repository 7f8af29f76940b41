"""How a request fails below HTTP: no connection, a refused proxy, a broken or a silent
connection. Drivers turn these into our errors (`transport.http.connection_failure`)."""

from __future__ import annotations


class HttpError(Exception):
    """A request that failed below HTTP: no connection, a broken one, or a silent one."""


class ConnectError(HttpError):
    """No connection could be made (refused, unknown host, unreachable)."""

    def __init__(self, host: str, port: int, os_error: BaseException, proxy: bool = False) -> None:
        what = "the proxy at " if proxy else ""
        super().__init__(f"cannot connect to {what}{host}:{port} ({os_error})")
        self.host = host
        self.port = port
        self.os_error = os_error


class CertificateError(HttpError):
    """The server's TLS certificate did not verify, or the TLS handshake failed."""


class ConnectionLost(HttpError):
    """The connection broke, or the server sent something that is not HTTP, mid-request."""


class ProxyRefused(HttpError):
    """The proxy would not pass requests on: a CONNECT answered with something other than 2xx,
    or a 407 to a request it was to forward (it wants credentials, or other ones)."""

    def __init__(self, proxy_address: str, destination: str, status: str) -> None:
        hint = ""
        if status.startswith("407"):
            hint = "; give its user and password in the proxy URL (http://user:password@host:port)"
        super().__init__(
            f"the proxy at {proxy_address} refused to connect to {destination}: {status}{hint}"
        )


class ResponseTimeout(HttpError, TimeoutError):
    """Nothing arrived (or could be sent) for the idle timeout."""
