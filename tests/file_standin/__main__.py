"""Run the File stand-in in the foreground:
python -m file_standin [--port P] [--account N:KEY] [--share NAME[:QUOTA_GIB]]."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import signal
import sys

from .server import WELL_KNOWN_ACCOUNT, WELL_KNOWN_KEY, FileStandIn


def _account(text: str) -> tuple[str, str]:
    name, sep, key = text.partition(":")
    if not sep or not name or not key:
        raise argparse.ArgumentTypeError(f"expected NAME:BASE64KEY, got {text!r}")
    try:
        base64.b64decode(key, validate=True)
    except binascii.Error:
        raise argparse.ArgumentTypeError(f"the key of {name!r} is not base64") from None
    return name, key


def _share(text: str) -> tuple[str, int]:
    name, _, quota = text.partition(":")
    if not name:
        raise argparse.ArgumentTypeError("expected NAME[:QUOTA_GIB]")
    try:
        return name, int(quota or 5120)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the quota of {name!r} is not a number") from None


async def _serve(standin: FileStandIn, accounts: list[str]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = asyncio.create_task(standin.serve(stop))
    while not standin._ready.is_set():  # the port is known once the site is up
        if server.done():
            await server
            return
        await asyncio.sleep(0.01)
    if standin._start_error is not None:
        raise SystemExit(f"file-standin: error: {standin._start_error}")
    print(f"File endpoint: {standin.endpoint}", flush=True)
    for account in accounts:
        print(f"{account}: {standin.connection_string(account)}", flush=True)
    await server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="file-standin", description="A loopback, in-memory Azure Files REST stand-in."
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: free)")
    parser.add_argument(
        "--account",
        type=_account,
        action="append",
        default=[],
        metavar="NAME:KEY",
        help="an account and its base64 key (repeatable; default: the emulator's "
        f"{WELL_KNOWN_ACCOUNT})",
    )
    parser.add_argument(
        "--share",
        type=_share,
        action="append",
        default=[],
        metavar="NAME[:QUOTA_GIB]",
        help="a share to create in every account at start (repeatable; default quota 5120)",
    )
    args = parser.parse_args(argv)
    accounts = dict(args.account) or {WELL_KNOWN_ACCOUNT: WELL_KNOWN_KEY}
    standin = FileStandIn(accounts, port=args.port)
    for account in accounts:
        for name, quota in args.share:
            standin.service.store.new_share(account, name, quota)
    try:
        asyncio.run(_serve(standin, list(accounts)))
    except OSError as exc:
        print(f"file-standin: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
