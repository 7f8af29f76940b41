"""How azxfer imports aiohttp, the TLS context of every https connection it makes, and what a
failed connection means for a job.

Blob storage's hot requests go through azxfer's own pool (`transport.pool`); aiohttp carries the
storage SDK's requests and web sources only, and is imported only by jobs that use them.
aiohttp builds two default SSL contexts when it is imported, and each loads the system's CA
bundle (on Debian, `/usr/lib/ssl/cert.pem`): about 75 ms on a 2-core machine. azxfer does not
use those defaults. It imports aiohttp with OpenSSL pointed at an empty bundle, so they are
built at no cost and trust nothing, and gives every connection `tls_context()` instead: a
verifying context built once, when a job first needs https, with the user's environment
(SSL_CERT_FILE, SSL_CERT_DIR) in effect. A connection that ever fell back to aiohttp's
defaults would fail verification: fail closed.

Modules that use aiohttp import it from `transport.aio`, which calls `import_aiohttp()` first.
"""

from __future__ import annotations

import functools
import os
import ssl
import sys
import threading
from typing import Any

from azxfer.errors import AzxferError, RetryableError, UnreachableError
from azxfer.locations import Location, Service
from azxfer.transport.failures import CertificateError, ConnectError, ProxyRefused
from azxfer.transport.pool import NotTlsError, speaks_no_tls

_CA_VARIABLES = {"SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": os.devnull}


def import_aiohttp() -> None:
    """Import aiohttp without its default SSL contexts loading any CA (see above)."""
    if "aiohttp" in sys.modules or threading.current_thread() is not threading.main_thread():
        return  # imported already, or not ours to change the environment of the process
    saved = {name: os.environ.get(name) for name in _CA_VARIABLES}
    os.environ.update(_CA_VARIABLES)
    try:
        import aiohttp  # noqa: F401
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying context of azxfer's https connections: the default CA store, or the one
    SSL_CERT_FILE / SSL_CERT_DIR name, as everywhere OpenSSL is used."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(("http/1.1",))
    return context


def needs_tls(*locations: Location) -> bool:
    """Whether a job on these locations may open https connections (a web source may redirect
    anywhere, so it always may)."""
    return any(
        location.service is Service.WEB or location.endpoint.lower().startswith("https:")
        for location in locations
        if not location.is_local
    )


class ConnectFailed(RetryableError):
    """No connection could be made (refused, unknown host, no route): a wrong endpoint more
    often than a blip, so it is retried briefly, then stops the job as unreachable."""

    attempts = 4

    def exhausted(self) -> AzxferError:
        """Unreachable: no later request of the job can succeed either."""
        return UnreachableError(str(self))


def connection_failure(exc: BaseException, what: str) -> AzxferError:
    """A failed connection or response as one of our errors: a certificate that does not
    verify is final (retrying cannot fix it, and it must stop the job); a connection that
    cannot be made is retried briefly; the rest (resets, truncated bodies, timeouts) are
    retried with the whole policy. Takes our pool's errors and aiohttp's."""
    if isinstance(exc, NotTlsError):
        return UnreachableError(f"{what}: {exc}")
    if isinstance(exc, CertificateError):
        return _untrusted(what, exc)
    if isinstance(exc, ConnectError):
        return ConnectFailed(f"{what}: {exc}")
    if isinstance(exc, ProxyRefused):  # a setting to change: retrying cannot help
        return UnreachableError(f"{what}: {exc}")
    if "aiohttp" in sys.modules:
        import aiohttp

        if isinstance(exc, aiohttp.ClientConnectorError) and speaks_no_tls(exc.os_error):
            return UnreachableError(f"{what}: {NotTlsError(exc.host, exc.port)}")
        if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
            return _untrusted(what, getattr(exc, "certificate_error", None) or exc)
        if isinstance(exc, aiohttp.ClientConnectorError):
            return ConnectFailed(f"{what}: {cannot_connect(exc)}")
    return RetryableError(f"{what}: connection failed: {exc or type(exc).__name__}")


def _untrusted(what: str, reason: object) -> UnreachableError:
    return UnreachableError(
        f"{what}: the server's TLS certificate cannot be verified ({reason}); a private CA "
        "can be trusted with SSL_CERT_FILE"
    )


def cannot_connect(exc: Any) -> str:
    """An aiohttp ClientConnectorError in our words: its own text ends in aiohttp's internal
    'ssl:default', which reads like a TLS problem when the host simply did not answer."""
    return f"cannot connect to {exc.host}:{exc.port} ({exc.os_error})"
