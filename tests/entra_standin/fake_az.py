"""A fake Azure CLI: an `az` executable that answers `az account get-access-token` as the real
one does, by redeeming its signed-in user's refresh token at the stand-in (so revocation,
disabled clients and short lifetimes behave as they would for the real CLI).

azure-identity's AzureCliCredential runs `az account get-access-token --output json
--resource R [--tenant T] [--subscription S]` and parses accessToken and expires_on (else
expiresOn, a naive local time); stderr containing "az login" and no "AADSTS" makes it
CredentialUnavailableError, anything else non-zero ClientAuthenticationError.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .directory import DEVELOPER_CLIENT_ID
from .server import SUBSCRIPTION, EntraStandIn

SCRIPT = r'''#!{python}
"""Fake `az` (tests/entra_standin/fake_az.py): account get-access-token only."""
import datetime, json, ssl, sys, urllib.error, urllib.parse, urllib.request

STATE = {state!r}


def fail(message, code=1):
    sys.stderr.write(message + "\n")
    sys.exit(code)


def option(args, *names):
    for i, arg in enumerate(args):
        if arg in names and i + 1 < len(args):
            return args[i + 1]
    return None


def main(args):
    if args[:2] != ["account", "get-access-token"]:
        fail("ERROR: 'az " + " ".join(args[:2]) + "' is not supported by this fake az.", 2)
    with open(STATE) as f:
        state = json.load(f)
    if not state.get("refresh_token"):
        fail("ERROR: Please run 'az login' to setup account.")
    scope = option(args, "--scope")
    resource = option(args, "--resource") or "https://management.core.windows.net/"
    if scope is None:
        scope = resource.rstrip("/") + "/.default"
    tenant = option(args, "--tenant") or state["tenant"]
    form = urllib.parse.urlencode({{
        "client_id": state["client_id"],
        "grant_type": "refresh_token",
        "refresh_token": state["refresh_token"],
        "scope": scope + " offline_access openid profile",
    }}).encode()
    url = state["authority"] + "/" + tenant + "/oauth2/v2.0/token"
    context = ssl.create_default_context(cafile=state["ca_bundle"])
    try:
        with urllib.request.urlopen(url, form, context=context, timeout=30) as reply:
            answer = json.load(reply)
    except urllib.error.HTTPError as exc:
        error = json.load(exc)
        fail("ERROR: " + error.get("error_description", str(exc)).split(" Trace ID")[0]
             + "\nInteractive authentication is needed. Please run:\naz login --scope " + scope)
    state["refresh_token"] = answer["refresh_token"]
    with open(STATE, "w") as f:
        json.dump(state, f)
    expires_on = int(datetime.datetime.now().timestamp()) + int(answer["expires_in"])
    local = datetime.datetime.fromtimestamp(expires_on)
    print(json.dumps({{
        "accessToken": answer["access_token"],
        "expiresOn": local.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "expires_on": expires_on,
        "subscription": option(args, "--subscription") or state["subscription"],
        "tenant": tenant,
        "tokenType": "Bearer",
    }}, indent=2))


main(sys.argv[1:])
'''


class FakeAz:
    """An `az` in `bin_dir` (put it first on PATH: `path_env()`), signed out until login()."""

    def __init__(self, bin_dir: Path, standin: EntraStandIn) -> None:
        self.bin_dir = bin_dir
        self.standin = standin
        self.state_file = bin_dir / "az-state.json"
        self.executable = bin_dir / "az"
        bin_dir.mkdir(parents=True, exist_ok=True)
        self.executable.write_text(SCRIPT.format(python=sys.executable, state=str(self.state_file)))
        self.executable.chmod(0o755)
        self.logout()

    def login(self, upn: str, *, subscription: str = SUBSCRIPTION) -> None:
        """`az login` as `upn`: the CLI now holds a refresh token for its own client id."""
        self._write(
            refresh_token=self.standin.sign_in(upn, DEVELOPER_CLIENT_ID), subscription=subscription
        )

    def logout(self) -> None:
        self._write(refresh_token=None, subscription=SUBSCRIPTION)

    def path_env(self) -> dict[str, str]:
        return {"PATH": os.pathsep.join([str(self.bin_dir), os.environ.get("PATH", "")])}

    def _write(self, *, refresh_token: str | None, subscription: str) -> None:
        state = {
            "authority": self.standin.authority,
            "tenant": self.standin.tenant_id,
            "client_id": DEVELOPER_CLIENT_ID,
            "ca_bundle": self.standin.ca_bundle,
            "subscription": subscription,
            "refresh_token": refresh_token,
        }
        self.state_file.write_text(json.dumps(state))
