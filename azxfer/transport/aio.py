"""aiohttp, for the parts of azxfer that use it (the storage SDK's transport, web sources):
imported through `http.import_aiohttp`, so its default SSL contexts trust nothing and cost
nothing. Import `aiohttp` from here, never directly."""

from azxfer.transport.http import import_aiohttp

import_aiohttp()

import aiohttp  # noqa: E402  (only after import_aiohttp)

__all__ = ["aiohttp"]
