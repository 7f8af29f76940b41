"""`azxfer remove TABLE_URL`: delete a table, by one request (see makejob.py). Deleting a
table deletes every entity in it, so it counts as removing everything under remove's
--max-delete rule: asked on a terminal, else refused unless --force."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from azxfer.cli.common import environment
from azxfer.cli.login import device_prompt
from azxfer.cli.run import ask
from azxfer.credentials import resolve_credential
from azxfer.errors import ContainerMissing, Declined, UsageError
from azxfer.identity.provider import SignedInIdentity
from azxfer.locations import Location

# Options that choose objects in a container or share: a table is removed whole.
_SELECTING = (
    ("include_pattern", "--include-pattern"),
    ("exclude_pattern", "--exclude-pattern"),
    ("include_path", "--include-path"),
    ("exclude_path", "--exclude-path"),
    ("include_after", "--include-after"),
    ("include_before", "--include-before"),
    ("list_of_files", "--list-of-files"),
    ("delete_snapshots", "--delete-snapshots"),
)


def remove_table_command(location: Location, opts: dict[str, Any]) -> int:
    """Delete the table `location` names (or, with --dry-run, say whether it would)."""
    from azxfer.makejob import TableRemoval, remove_table, table_exists

    given = [flag for key, flag in _SELECTING if opts.get(key)]
    if given:
        raise UsageError(f"a table is removed whole: {', '.join(given)} cannot choose in it")
    env = environment()
    identity = SignedInIdentity(env, device_prompt)
    credential = resolve_credential(location, "dest", env, opts.get("key_file"), identity)
    removal = TableRemoval(location, credential, env)
    name, url = location.container, location.url
    dry_run, force = bool(opts.get("dry_run")), bool(opts.get("force"))
    if (dry_run or not force) and not table_exists(removal):
        raise ContainerMissing(f"table '{name}' at {location.endpoint} does not exist")
    if not dry_run and not force:
        said = (
            f"remove would delete table '{name}' and all its entities, more than "
            f"--max-delete {opts.get('max_delete') or '50%'} allows"
        )
        if not sys.stdin.isatty():
            raise Declined(f"{said}; nothing was removed (give --force to remove it)")
        answer = ask(f"Remove table '{name}' and all its entities? [y/N]")
        if answer is None or answer.lower() not in ("y", "yes"):
            raise Declined(f"{said}; nothing was removed: declined at the prompt")
    if not dry_run:
        remove_table(removal)
    _report(name, url, dry_run, opts)
    return 0


def _report(name: str, url: str, dry_run: bool, opts: dict[str, Any]) -> None:
    """One line (none at --output-level quiet), or a 'removed' JSON event."""
    if opts.get("output_type") == "json":
        record = {"event": "removed", "kind": "table", "name": name, "url": url}
        record["dry_run"] = dry_run
        click.echo(json.dumps(record))
    elif opts.get("output_level") != "quiet":
        said = "Would remove" if dry_run else "Removed"
        click.echo(f"{said} table '{name}' at {url} (and all its entities)")
