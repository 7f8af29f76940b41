"""Response files (`@FILE`) through the real CLI: a whole copy from a file, nesting, the
errors (one line, exit 2), secrets in files never echoed, and shell completion of `@FILE`."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas

REPO = Path(__file__).resolve().parents[2]


def _sas(azurite, container: str) -> str:
    return generate_container_sas(
        azurite.account,
        container,
        account_key=azurite.key,
        permission=ContainerSasPermissions(read=True, write=True, create=True, list=True),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )


def test_a_copy_run_entirely_from_a_response_file(
    run_azxfer, tmp_path: Path, container_url, container_client
) -> None:
    source = tmp_path / "my data"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("alpha")
    (source / "sub" / "b.txt").write_text("beta")
    (source / "skip.log").write_text("no")
    (tmp_path / "job.rsp").write_text(
        "# upload the text files of 'my data'\n"
        f"copy '{source}/' \"{container_url('up')}\"   # destination\n"
        "\n"
        "--recursive  --include-pattern '*.txt'\n"
        "--metadata 'team=data ops'   --output-type json\n"
    )
    result = run_azxfer("@job.rsp").assert_ok()
    assert result.finished()["status"] == "Completed"
    names = sorted(b.name for b in container_client.list_blobs())
    assert names == ["up/my data/a.txt", "up/my data/sub/b.txt"]
    props = container_client.get_blob_client("up/my data/a.txt").get_blob_properties()
    assert props.metadata == {"team": "data ops"}


def test_nested_files_relative_to_the_file_naming_them(
    run_azxfer, tmp_path: Path, container_url, container_client
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "one.bin").write_bytes(b"1" * 1000)
    conf = tmp_path / "conf"
    (conf / "common").mkdir(parents=True)
    (conf / "main.rsp").write_text("copy @common/where.rsp --output-type json\n")
    (conf / "common" / "where.rsp").write_text(
        f"'{tmp_path / 'src'}' '{container_url('n')}' @flags.rsp\n"
    )
    (conf / "common" / "flags.rsp").write_text("--recursive\n")
    # Run from another folder: names inside files do not depend on the working folder.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run_azxfer(f"@{conf / 'main.rsp'}", cwd=elsewhere).assert_ok()
    assert [b.name for b in container_client.list_blobs()] == ["n/src/one.bin"]


def test_a_loop_is_one_line_and_exit_2(run_azxfer, tmp_path: Path) -> None:
    (tmp_path / "a.rsp").write_text("copy @b.rsp")
    (tmp_path / "b.rsp").write_text("--recursive @a.rsp")
    result = run_azxfer("@a.rsp")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "azxfer: error: response file loop: a.rsp → b.rsp → a.rsp\n"


@pytest.mark.parametrize(
    ("files", "arg", "line"),
    [
        ({}, "@missing.rsp", "response file missing.rsp does not exist"),
        ({"bad.rsp": "copy 'open"}, "@bad.rsp", "response file bad.rsp: no closing quotation"),
    ],
)
def test_unusable_files_are_one_line_and_exit_2(
    run_azxfer, tmp_path: Path, files: dict[str, str], arg: str, line: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = run_azxfer("copy", arg, "x")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"azxfer: error: {line}\n"


def test_an_argument_starting_with_at_passes_escaped(
    run_azxfer, tmp_path: Path, container_url, container_client
) -> None:
    """`@@name` is the local path `@name`: the copy reads that folder, not a response file."""
    (tmp_path / "@photos").mkdir()
    (tmp_path / "@photos" / "p.jpg").write_bytes(b"jpg")
    run_azxfer("copy", "@@photos", container_url(), "--recursive").assert_ok()
    blob = container_client.get_blob_client("@photos/p.jpg")
    assert blob.download_blob().readall() == b"jpg"


def test_a_sas_in_a_response_file_is_never_echoed(
    run_azxfer, azurite, tmp_path: Path, container: str
) -> None:
    sas = _sas(azurite, container)
    signature = dict(part.split("=", 1) for part in sas.split("&"))["sig"]
    (tmp_path / "f.txt").write_text("x")
    url = f"{azurite.blob_endpoint}/{container}/f.txt?{sas}"
    (tmp_path / "ok.rsp").write_text(f"copy f.txt '{url}' --output-type json\n")
    (tmp_path / "fails.rsp").write_text(f"copy missing.txt '{url}'\n")
    (tmp_path / "broken.rsp").write_text(f"copy f.txt '{url}\n")
    outputs = [
        run_azxfer("@ok.rsp").assert_ok(),
        run_azxfer("@fails.rsp"),
        run_azxfer("@broken.rsp"),
        run_azxfer("jobs", "list"),
    ]
    assert outputs[1].returncode != 0 and outputs[2].returncode == 2
    for result in outputs:
        assert signature not in result.stdout + result.stderr, result.describe()
        assert signature.replace("%2B", "+").replace("%3D", "=") not in result.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_a_response_file(tmp_path: Path) -> None:
    (tmp_path / "opts.rsp").write_text("--recursive\n")
    (tmp_path / "other.txt").write_text("")
    script = REPO / "completions" / "azxfer.bash"
    # `azxfer` as this checkout's code, whatever is installed on PATH.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "azxfer").write_text(f'#!/bin/sh\nexec {sys.executable} -m azxfer "$@"\n')
    (bindir / "azxfer").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
    }

    def offered(*words: str) -> list[str]:
        array = " ".join(f"'{w}'" for w in words)
        code = (
            f"source '{script}'\n"
            f"COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; COMPREPLY=()\n"
            f"_azxfer_completion azxfer '{words[-1]}' '{words[-2]}'\n"
            'printf "%s\\n" "${COMPREPLY[@]}"\n'
        )
        done = subprocess.run(
            ["bash", "--norc", "--noprofile", "-c", code],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return [line for line in done.stdout.splitlines() if line]

    assert offered("azxfer", "copy", "@op") == ["@opts.rsp"]
    assert offered("azxfer", "copy", "@o") == ["@opts.rsp", "@other.txt"]
    # Options given in a response file count for what comes after it.
    (tmp_path / "cmd.rsp").write_text("copy\n")
    assert "--recursive" in offered("azxfer", "@cmd.rsp", "--recu")
