"""The default state folders come from platformdirs; journals of versions before it are still
found where they are. Other platforms are faked with platformdirs' own classes for them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from platformdirs.macos import MacOS

from azxfer.errors import UsageError
from azxfer.folders import APP_NAME, legacy_state_folder, state_folder
from azxfer.identity import record
from azxfer.jobs import jobs_in, locate_job
from azxfer.journal.jobs import default_job_dir, job_dirs
from azxfer.journal.store import Journal


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.delenv("AZXFER_JOB_DIR", raising=False)
    monkeypatch.delenv("AZXFER_STATE_DIR", raising=False)
    return home


def _macos() -> MacOS:
    return MacOS(APP_NAME, appauthor=False)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's XDG places")
@pytest.mark.parametrize("xdg", [None, "state-home"])
def test_on_linux_the_default_is_where_journals_always_were(
    home: Path, monkeypatch: pytest.MonkeyPatch, xdg: str | None
) -> None:
    if xdg is not None:
        monkeypatch.setenv("XDG_STATE_HOME", str(home / xdg))
    env = dict(os.environ)
    expected = home / (xdg or ".local/state") / "azxfer"
    assert state_folder() == legacy_state_folder(env) == expected
    (expected / "jobs").mkdir(parents=True)
    assert job_dirs(env) == [expected / "jobs"]
    assert record.state_dir(env) == expected


def test_macos_keeps_state_in_application_support(home: Path) -> None:
    assert default_job_dir({}, _macos()) == home / "Library/Application Support/azxfer/jobs"


def test_job_dir_variable_wins_on_every_platform(home: Path) -> None:
    (home / ".local/state/azxfer/jobs").mkdir(parents=True)
    env = {"AZXFER_JOB_DIR": str(home / "mine")}
    assert default_job_dir(env, _macos()) == home / "mine"
    assert job_dirs(env, _macos()) == [home / "mine"]


def test_state_dir_variable_wins(home: Path) -> None:
    assert record.state_dir({"AZXFER_STATE_DIR": "~/s"}) == home / "s"


def test_an_older_versions_jobs_are_still_found(home: Path) -> None:
    env: dict[str, str] = {}
    new = home / "Library/Application Support/azxfer/jobs"
    old = home / ".local/state/azxfer/jobs"
    assert job_dirs(env, _macos()) == [new]  # no old folder: nothing more to look in
    Journal.create(old, "0ld0-job", "copy", "/s", "https://a/c", {}).close()
    Journal.create(new, "n3w0-job", "sync", "/s", "https://a/c", {}).close()
    folders = job_dirs(env, _macos())
    assert folders == [new, old]
    assert {r.id for r in jobs_in(folders)} == {"0ld0-job", "n3w0-job"}
    assert locate_job(folders, "0ld0") == (old, "0ld0-job")
    assert locate_job(folders, "n3w0-job") == (new, "n3w0-job")
    with pytest.raises(UsageError, match=f"no job 'gone' in {new}"):
        locate_job(folders, "gone")
