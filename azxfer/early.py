"""The listings a job will certainly ask for, started as the process starts.

A job's first request waits for the interpreter to load click, asyncio and the engine; the
listings it will need can go out before that (see `endpoints.blob.early_listing`). Which ones it
will need is the job's knowledge, kept here next to nothing else: `sync` lists each Blob side
under its path, and `copy --recursive` lists a Blob source the same way. Anything uncertain
(a wildcard, a snapshot, another service, a credential that needs `azxfer login`, a proxy)
starts nothing. A guess that is still wrong costs only a few wasted pages: the job takes an
early listing only for exactly the request it would send itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from azxfer.credentials import Side, path_style_services, resolve_credential
from azxfer.endpoints.blob.early_listing import EarlyListing, EarlyListings
from azxfer.endpoints.blob.requests import RequestSigner
from azxfer.errors import UsageError
from azxfer.locations import Location, Service, parse_location
from azxfer.transport.proxy import proxy_settings
from azxfer.transport.request import split_url

__all__ = ["EarlyListings", "start_listings"]


def start_listings(
    command: str,
    source: str,
    destination: str,
    recursive: bool,
    key_files: Mapping[Side, Path | None],
    env: Mapping[str, str],
    delimiter: str = "/",
) -> EarlyListings:
    """Start the listings `command` (copy or sync) will ask for on these locations; a
    copy's source's virtual directories are separated by `delimiter` (--delimiter)."""
    if len(delimiter) != 1:
        return EarlyListings([])  # the command line is refused: nothing to list
    sides: list[tuple[Side, str]] = []
    if command == "sync":
        sides = [("source", source), ("dest", destination)]
    elif command == "copy" and recursive:
        sides = [("source", source)]
    listings = []
    for side, text in sides:
        listing = _listing(text, side, key_files.get(side), env, delimiter)
        if listing is not None:
            listings.append(listing.start())
    return EarlyListings(listings)


def _listing(
    text: str, side: Side, key_file: Path | None, env: Mapping[str, str], delimiter: str
) -> EarlyListing | None:
    location = parse_location(text, path_style=path_style_services(env))
    if not _listable(location):
        return None
    if _proxied(location, env):
        return None  # a head start only: the job's own pool goes through the proxy
    credential = resolve_credential(location, side, env, key_file)
    if credential.kind not in ("sas", "shared_key"):
        return None
    folder = location.path.rstrip(delimiter)
    prefix = f"{folder}{delimiter}" if folder else ""
    signer = RequestSigner(location.endpoint, location.account, credential)
    return EarlyListing(signer, location.container, prefix, None)


def _proxied(location: Location, env: Mapping[str, str]) -> bool:
    """Whether the job reaches this location through a proxy (or cannot tell: a proxy
    variable it cannot use, which the job reports)."""
    try:
        origin, _ = split_url(location.endpoint)
        return proxy_settings(env).for_url(origin.scheme, origin.host, origin.port) is not None
    except (UsageError, ValueError):
        return True


def _listable(location: Location) -> bool:
    return (
        location.service is Service.BLOB
        and bool(location.container)
        and not location.snapshot
        and not location.version_id
        and not any(c in location.path for c in "*?[")
    )
