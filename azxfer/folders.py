"""Where azxfer keeps its state when no variable names a folder: platformdirs' user state
folder of the platform (Linux: `$XDG_STATE_HOME/azxfer`, else `~/.local/state/azxfer`; macOS:
`~/Library/Application Support/azxfer`; Windows: `%LOCALAPPDATA%\\azxfer`).

Versions before platformdirs used the Linux places on every platform (`legacy_state_folder`):
where that differs from today's default, journals found there are still listed and resumed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from platformdirs import PlatformDirs
from platformdirs.api import PlatformDirsABC

APP_NAME = "azxfer"


def platform_dirs() -> PlatformDirsABC:
    """This platform's folders for azxfer (platformdirs reads XDG_* from the process
    environment, as every XDG program does)."""
    return PlatformDirs(APP_NAME, appauthor=False)


def state_folder(dirs: PlatformDirsABC | None = None) -> Path:
    """The default state folder: journals (`jobs/`) and the sign-in live under it. `dirs`:
    another platform's folders (tests)."""
    return Path((dirs or platform_dirs()).user_state_dir)


def legacy_state_folder(env: Mapping[str, str]) -> Path:
    """The state folder of versions before platformdirs, on every platform."""
    base = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / APP_NAME
