"""`azxfer env`: every environment variable azxfer reads, its value here, and what it does."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import click

from azxfer.cli.common import environment
from azxfer.envvars import ENV_VARS, EnvVar
from azxfer.locations import redact

# How a set secret is shown: whether it is set, never a character of it.
MASK = "***"


def shown_value(variable: EnvVar, value: str) -> str:
    """The value as it may be shown: a secret masked whole, a proxy's user and password
    masked, SAS signatures in any URL redacted."""
    if variable.secret:
        return MASK
    if "@" in value and "://" in value:
        try:
            netloc = urlsplit(value).netloc
        except ValueError:
            return MASK
        if "@" in netloc:
            value = value.replace(netloc.rsplit("@", 1)[0], MASK, 1)
    return redact(value)


def variable_report(variable: EnvVar, env: Mapping[str, str]) -> dict[str, Any]:
    """One variable's JSON object: name, whether set (and under which spelling), the value
    as it may be shown (None when unset), whether it is a secret, and its purpose."""
    found = variable.lookup(env)
    report: dict[str, Any] = {
        "event": "env_var",
        "name": variable.name,
        "set": found is not None,
        "value": shown_value(variable, found[1]) if found else None,
        "secret": variable.secret,
        "purpose": variable.purpose,
    }
    if found and found[0] != variable.name:
        report["set_as"] = found[0]
    return report


@click.command("env", short_help="Show the environment variables azxfer reads")
@click.option(
    "--output-type",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: name, value and purpose; json: one JSON event 'env_var' per variable per line.",
)
def env_command(output_type: str) -> None:
    """Show every environment variable azxfer reads, its value now and what it does.
    Secrets (keys, connection strings, client secrets) are shown only as set (***) or not.

    \b
    Examples:
      azxfer env
      azxfer env --output-type json
    """
    env = environment()
    for variable in ENV_VARS:
        report = variable_report(variable, env)
        if output_type == "json":
            click.echo(json.dumps(report, ensure_ascii=False))
            continue
        value = report["value"] if report["set"] else "(not set)"
        alias = f" (as {report['set_as']})" if "set_as" in report else ""
        click.echo(f"{variable.name} = {value}{alias}")
        click.echo(f"    {variable.purpose}")
