"""The saved sign-in: which login type, with which non-secret parameters, and for user
sign-ins azure-identity's AuthenticationRecord (account and tenant ids, no token).

It lives in `$AZXFER_STATE_DIR`, else the platform's state folder (`azxfer.folders`:
`$XDG_STATE_HOME/azxfer` or ~/.local/state/azxfer on Linux, ~/Library/Application
Support/azxfer on macOS), as `login.json`, readable by its owner only. A sign-in saved by a
version before platformdirs on macOS or Windows is not looked for: `azxfer login` once more.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

from azxfer.errors import CredentialError
from azxfer.folders import state_folder

STATE_DIR_ENV = "AZXFER_STATE_DIR"
RECORD_NAME = "login.json"
LOGIN_TYPES = ("device", "spn", "msi", "azcli", "workload")


class SignIn(msgspec.Struct, frozen=True, omit_defaults=True):
    """How to sign in again silently (every field is safe to show)."""

    login_type: str
    tenant_id: str | None = None
    authority: str | None = None  # --aad-endpoint, when not the public cloud's
    application_id: str | None = None
    certificate_path: str | None = None
    token_file: str | None = None  # workload identity's federated token file
    identity_client_id: str | None = None
    identity_resource_id: str | None = None
    authentication_record: str | None = None  # AuthenticationRecord.serialize(), device code
    unencrypted_cache: bool = False
    name: str = ""  # who signed in, as `login` showed it


def state_dir(env: Mapping[str, str]) -> Path:
    """Where the sign-in and the opted-in token cache live."""
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV]).expanduser()
    return state_folder()


def record_path(env: Mapping[str, str]) -> Path:
    """The saved sign-in's file."""
    return state_dir(env) / RECORD_NAME


def load(env: Mapping[str, str]) -> SignIn | None:
    """The saved sign-in, or None when there is none."""
    path = record_path(env)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CredentialError(f"cannot read the sign-in {path}: {exc.strerror}") from None
    try:
        return msgspec.json.decode(data, type=SignIn)
    except msgspec.DecodeError:
        raise CredentialError(f"the sign-in {path} is damaged: run `azxfer login`") from None


def save(env: Mapping[str, str], sign_in: SignIn) -> Path:
    """Write the sign-in, 0600 from its first byte (never a wider file renamed narrower)."""
    path = record_path(env)
    write_private(path, msgspec.json.encode(sign_in))
    return path


def remove(env: Mapping[str, str]) -> bool:
    """Delete the saved sign-in; whether there was one."""
    try:
        record_path(env).unlink()
    except FileNotFoundError:
        return False
    return True


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically, as a file only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
