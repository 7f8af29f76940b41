"""A loopback, in-memory stand-in for the Azure Files REST service (no emulator has Files).

Usage: the `file_standin` pytest fixture (tests/conftest.py), or
``with FileStandIn() as standin: standin.connection_string()``, or ``scripts/file-standin``.
URLs are path style: ``http://127.0.0.1:PORT/ACCOUNT/SHARE/DIR/FILE``.
"""

from .server import WELL_KNOWN_ACCOUNT, WELL_KNOWN_KEY, FileStandIn, Recorded

__all__ = ["WELL_KNOWN_ACCOUNT", "WELL_KNOWN_KEY", "FileStandIn", "Recorded"]
