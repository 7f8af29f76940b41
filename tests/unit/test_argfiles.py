"""The response-file expander (`@FILE`): quoting, comments, nesting, escapes and errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from azxfer.cli.argfiles import (
    ResponseFileError,
    expand_args,
    expanded_or_given,
    response_file_candidates,
)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_shell_quoting_comments_and_lines(tmp_path: Path) -> None:
    _write(
        tmp_path / "a.rsp",
        "# a whole-line comment\n"
        "copy 'my folder/' \"https://x/c?sv=1&sig=a#b\"  # trailing comment\n"
        "\n"
        "   --include-pattern '*.txt;*.md' --recursive\n"
        '--metadata=a=1\\ 2 "it\'s"\r\n',
    )
    assert expand_args(["@a.rsp", "--dry-run"], str(tmp_path)) == [
        "copy",
        "my folder/",
        "https://x/c?sv=1&sig=a#b",
        "--include-pattern",
        "*.txt;*.md",
        "--recursive",
        "--metadata=a=1 2",
        "it's",
        "--dry-run",
    ]


def test_arguments_around_a_file_keep_their_places(tmp_path: Path) -> None:
    _write(tmp_path / "mid.rsp", "b c")
    assert expand_args(["a", "@mid.rsp", "d"], str(tmp_path)) == ["a", "b", "c", "d"]


def test_an_empty_file_stands_for_no_arguments(tmp_path: Path) -> None:
    _write(tmp_path / "e.rsp", "# only a comment\n\n")
    assert expand_args(["x", "@e.rsp"], str(tmp_path)) == ["x"]


def test_nested_files_are_found_beside_the_file_naming_them(tmp_path: Path) -> None:
    _write(tmp_path / "top.rsp", "copy @parts/inner.rsp last")
    _write(tmp_path / "parts" / "inner.rsp", "--recursive @deeper/d.rsp")
    _write(tmp_path / "parts" / "deeper" / "d.rsp", "--dry-run")
    # A file named like the nested one, in the working folder, is not the one meant.
    _write(tmp_path / "deeper" / "d.rsp", "--wrong")
    assert expand_args(["@top.rsp"], str(tmp_path)) == ["copy", "--recursive", "--dry-run", "last"]


def test_the_same_file_twice_is_no_loop(tmp_path: Path) -> None:
    _write(tmp_path / "common.rsp", "--recursive")
    _write(tmp_path / "a.rsp", "@common.rsp @common.rsp")
    assert expand_args(["@a.rsp", "@common.rsp"], str(tmp_path)) == ["--recursive"] * 3


def test_a_loop_is_refused_naming_the_chain(tmp_path: Path) -> None:
    _write(tmp_path / "a.rsp", "x @b.rsp")
    _write(tmp_path / "b.rsp", "@a.rsp")
    with pytest.raises(ResponseFileError) as raised:
        expand_args(["@a.rsp"], str(tmp_path))
    assert str(raised.value) == "response file loop: a.rsp → b.rsp → a.rsp"


def test_a_file_naming_itself_by_another_path_is_a_loop(tmp_path: Path) -> None:
    _write(tmp_path / "sub" / "s.rsp", "@../sub/s.rsp")
    with pytest.raises(ResponseFileError, match=r"loop: sub/s.rsp → \.\./sub/s.rsp"):
        expand_args(["@sub/s.rsp"], str(tmp_path))


def test_escapes_for_arguments_starting_with_at(tmp_path: Path) -> None:
    _write(tmp_path / "f.rsp", "@@in-file '@@quoted'")
    assert expand_args(["@@literal", "@", "a@b", "@f.rsp"], str(tmp_path)) == [
        "@literal",
        "@",
        "a@b",
        "@in-file",
        "@quoted",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("copy 'unclosed", "response file bad.rsp: no closing quotation"),
        ("copy \\", "response file bad.rsp: no escaped character"),
    ],
)
def test_malformed_files(tmp_path: Path, content: str, message: str) -> None:
    _write(tmp_path / "bad.rsp", content)
    with pytest.raises(ResponseFileError) as raised:
        expand_args(["@bad.rsp"], str(tmp_path))
    assert str(raised.value) == message


def test_missing_folder_binary_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ResponseFileError, match=r"^response file gone\.rsp does not exist$"):
        expand_args(["@gone.rsp"], str(tmp_path))
    (tmp_path / "dir").mkdir()
    with pytest.raises(ResponseFileError, match=r"^response file dir is a folder$"):
        expand_args(["@dir"], str(tmp_path))
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ResponseFileError, match=r"^response file bin is not UTF-8 text$"):
        expand_args(["@bin"], str(tmp_path))
    locked = _write(tmp_path / "locked.rsp", "x")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who reads any file (root)")
        with pytest.raises(ResponseFileError, match=r"^cannot read response file locked\.rsp: "):
            expand_args(["@locked.rsp"], str(tmp_path))
    finally:
        locked.chmod(0o600)


def test_an_error_never_quotes_the_file(tmp_path: Path) -> None:
    _write(tmp_path / "s.rsp", "copy 'https://a/c?sig=SECRETSIG")
    with pytest.raises(ResponseFileError) as raised:
        expand_args(["@s.rsp"], str(tmp_path))
    assert "SECRETSIG" not in str(raised.value)


def test_a_utf8_bom_is_not_an_argument(tmp_path: Path) -> None:
    (tmp_path / "bom.rsp").write_bytes("\ufeffcopy é".encode())
    assert expand_args(["@bom.rsp"], str(tmp_path)) == ["copy", "é"]


def test_completion_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "opts.rsp", "")
    _write(tmp_path / "other.txt", "")
    _write(tmp_path / ".hidden.rsp", "")
    _write(tmp_path / "sub" / "inner.rsp", "")
    assert response_file_candidates("@o") == ["@opts.rsp", "@other.txt"]
    assert response_file_candidates("@") == ["@opts.rsp", "@other.txt", "@sub/"]
    assert response_file_candidates("@.") == ["@.hidden.rsp"]
    assert response_file_candidates("@sub/") == ["@sub/inner.rsp"]
    assert response_file_candidates("@nowhere/x") == []


def test_completion_reads_the_words_it_can(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "c.rsp", "copy")
    assert expanded_or_given(["@c.rsp", "x"]) == ["copy", "x"]
    assert expanded_or_given(["@missing.rsp", "x"]) == ["@missing.rsp", "x"]


def test_the_expander_loads_only_the_standard_library(tmp_path: Path) -> None:
    """entry.py expands response files before the early listings start: nothing slow may
    load on the way (see test_entry)."""
    import subprocess
    import sys

    _write(tmp_path / "a.rsp", "sync . @b.rsp")
    _write(tmp_path / "b.rsp", "http://127.0.0.1:9/devstoreaccount1/c")
    code = (
        "import sys; from azxfer.cli.argfiles import expand_args;"
        f"args = expand_args(['@a.rsp'], {str(tmp_path)!r});"
        "print(args, sorted(m for m in ('msgspec', 'asyncio', 'click') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ("['sync', '.', 'http://127.0.0.1:9/devstoreaccount1/c'] []")
