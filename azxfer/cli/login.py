"""`azxfer login`, `azxfer login status`, `azxfer logout`: Entra ID sign-in for accounts
that hand out no SAS token or key."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from azxfer.cli.common import environment
from azxfer.cli.run import configure_logging
from azxfer.errors import UsageError

LOGIN_TYPES = ("device", "spn", "msi", "azcli", "workload")


def device_prompt(verification_uri: str, user_code: str, expires_on: datetime) -> None:
    """Show the device code on stderr (stdout stays the command's output)."""
    until = expires_on.astimezone().strftime("%H:%M")
    click.echo(
        f"To sign in, open {verification_uri} and enter the code {user_code} (before {until}).",
        err=True,
    )


@click.group(
    "login", invoke_without_command=True, short_help="Sign in with Entra ID (no SAS or key needed)"
)
@click.option(
    "--login-type",
    type=click.Choice(LOGIN_TYPES, case_sensitive=False),
    help="How to sign in [default: device on a terminal].",
)
@click.option("--tenant-id", help="The Entra ID tenant (default: AZURE_TENANT_ID).")
@click.option(
    "--aad-endpoint",
    help="The Entra ID authority for sovereign clouds, e.g. https://login.microsoftonline.us.",
)
@click.option(
    "--application-id", help="The app (client) ID, for spn and workload (default: AZURE_CLIENT_ID)."
)
@click.option(
    "--certificate-path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="spn: a PEM certificate with its private key (password: AZXFER_CERTIFICATE_PASSWORD).",
)
@click.option("--identity-client-id", help="msi: the client ID of a user-assigned identity.")
@click.option("--identity-resource-id", help="msi: the resource ID of a user-assigned identity.")
@click.option(
    "--allow-unencrypted-cache",
    is_flag=True,
    help="Where no keyring can encrypt it, keep the sign-in in a file only you can read "
    "(also AZXFER_ALLOW_UNENCRYPTED_TOKEN_CACHE=1).",
)
@click.pass_context
def login_group(ctx: click.Context, **opts: Any) -> None:
    """Sign in with Entra ID, for storage accounts without a SAS token or key.

    A service principal's secret comes from AZXFER_CLIENT_SECRET (or AZURE_CLIENT_SECRET),
    never from the command line. Jobs use the sign-in when no SAS token, key or connection
    string applies; AZXFER_AUTO_LOGIN_TYPE=SPN|MSI|AZCLI|WORKLOAD|DEVICE signs in from the
    environment instead, with no login first.

    \b
    Examples:
      azxfer login
      AZXFER_CLIENT_SECRET=... azxfer login --login-type spn --tenant-id T --application-id A
      azxfer login --login-type msi --identity-client-id 00000000-0000-0000-0000-000000000000
      azxfer login status
    """
    if ctx.invoked_subcommand is not None:
        if any(value for value in opts.values()):
            raise UsageError("login options go before no subcommand: `azxfer login [OPTIONS]`")
        return
    from azxfer.identity.login import login

    quiet_sdk_logs()
    env = environment()
    login_type = opts["login_type"] or _default_login_type()
    proven = login(login_type.lower(), opts, env, device_prompt)
    expiry = _when(proven.expires_on)
    click.echo(f"Signed in as {proven.sign_in.name} ({login_type.lower()}).")
    click.echo(f"Tenant {proven.tenant}; this token is valid until {expiry}.")


def _default_login_type() -> str:
    """Device code, when someone can read its prompt and approve it."""
    if sys.stdin.isatty() and sys.stderr.isatty():
        return "device"
    raise UsageError(
        "not a terminal, so no device code can be shown: choose --login-type "
        "spn, msi, azcli or workload (or run azxfer login on a terminal)"
    )


@login_group.command("status", short_help="Show who is signed in and until when")
def status_command() -> None:
    """Show who is signed in: tenant, identity, and until when its token is valid
    (exit 1 when nobody is)."""
    from azxfer.identity.status import current_status

    quiet_sdk_logs()
    status = current_status(environment())
    click.echo(f"Signed in through {status.source}.")
    click.echo(f"Identity: {status.kind}: {status.name}")
    click.echo(f"Tenant:   {status.tenant}")
    click.echo(f"Token expires: {_when(status.expires_on.timestamp())}")


@click.command("logout", short_help="Forget the sign-in and its cached tokens")
def logout_command() -> None:
    """Forget the sign-in: its saved record and its cached tokens."""
    from azxfer.identity.status import logout

    quiet_sdk_logs()
    if logout(environment()):
        click.echo("Signed out.")
    else:
        click.echo("Not signed in; nothing to forget.")


def quiet_sdk_logs() -> None:
    """azure-identity logs each failure as a warning: the one error line says it already."""
    configure_logging(None, "warning")


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
