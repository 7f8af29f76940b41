"""--output-level default|essential|quiet (AzCopy's) through the real CLI: exactly what each
level shows on stdout and stderr, in text and JSON, for a download where one file fails (its
Content-MD5 is wrong) and two succeed. Exit codes never change with the level."""

from __future__ import annotations

import re

import pytest
from azure.storage.blob import ContentSettings
from helpers import data_for
from sdk_clients import table_service
from seed import fresh_name, seed_table

GOOD = {"a.txt": 3000, "b.txt": 5000}
WRONG_MD5 = bytearray(16)


@pytest.fixture
def one_bad(container_client) -> None:
    """Two blobs that download fine and one whose stored Content-MD5 is not its data's."""
    for name, size in GOOD.items():
        container_client.upload_blob(name, data_for(name, size))
    bad = container_client.upload_blob("bad.bin", data_for("bad.bin", 4000))
    bad.set_http_headers(ContentSettings(content_md5=WRONG_MD5))


def _download(run_azxfer, container_url, dest, *args: str):
    return run_azxfer("copy", container_url(), dest, "-r", "--as-subdir=false", *args)


FAILED_LINE = r"FAILED: bad\.bin: MD5 mismatch for 'bad\.bin'.*"
SUMMARY = [
    r"Job \S+ summary: CompletedWithErrors",
    r"  Files:   3 total, 2 transferred, 0 skipped, 1 failed",
    r"  Bytes:   .* transferred in .*",
    r"  Failed:  bad\.bin: MD5 mismatch.*",
]
ERROR_LINE = r"azxfer: error: 1 of 3 transfers failed \(resume with: azxfer resume \S+\)"


def _matches(lines: list[str], patterns: list[str]) -> bool:
    return len(lines) == len(patterns) and all(
        re.fullmatch(p, line) for p, line in zip(patterns, lines, strict=True)
    )


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.usefixtures("one_bad")
def test_text_default_shows_the_start_the_failure_notes_and_the_summary(
    tmp_path, run_azxfer, container_url
):
    result = _download(run_azxfer, container_url, tmp_path / "d").assert_exit(1)
    out = _lines(result.stdout)
    assert _matches(
        out, [r"Job \S+: copy .* -> .*", FAILED_LINE, r"info: resume with: .*", *SUMMARY]
    ), result.describe()
    assert _matches(_lines(result.stderr), [ERROR_LINE]), result.describe()


@pytest.mark.usefixtures("one_bad")
def test_text_essential_shows_errors_and_the_summary_only(tmp_path, run_azxfer, container_url):
    result = _download(
        run_azxfer, container_url, tmp_path / "d", "--output-level", "essential"
    ).assert_exit(1)
    assert _matches(_lines(result.stdout), [FAILED_LINE, *SUMMARY]), result.describe()
    assert _matches(_lines(result.stderr), [ERROR_LINE]), result.describe()
    assert (tmp_path / "d" / "a.txt").read_bytes() == data_for("a.txt", 3000)


@pytest.mark.usefixtures("one_bad")
def test_text_quiet_shows_errors_only(tmp_path, run_azxfer, container_url):
    result = _download(
        run_azxfer, container_url, tmp_path / "d", "--output-level", "quiet"
    ).assert_exit(1)
    assert _matches(_lines(result.stdout), [FAILED_LINE]), result.describe()
    assert _matches(_lines(result.stderr), [ERROR_LINE]), result.describe()
    assert (tmp_path / "d" / "b.txt").read_bytes() == data_for("b.txt", 5000)


@pytest.mark.usefixtures("one_bad")
def test_json_default_keeps_every_event(tmp_path, run_azxfer, container_url):
    result = _download(
        run_azxfer, container_url, tmp_path / "d", "--output-type", "json"
    ).assert_exit(1)
    kinds = {event["event"] for event in result.events()}
    assert kinds >= {
        "job_started", "transfer_queued", "enumeration_done", "transfer_done", "notice",
        "job_finished",
    }, result.describe()  # fmt: skip
    assert len(result.events_of("transfer_done")) == 3


@pytest.mark.parametrize("level", ["essential", "quiet"])
@pytest.mark.usefixtures("one_bad")
def test_json_below_default_keeps_the_failure_and_job_finished(
    level, tmp_path, run_azxfer, container_url
):
    result = _download(
        run_azxfer, container_url, tmp_path / "d", "--output-type", "json", "--output-level", level
    ).assert_exit(1)
    events = result.events()
    assert [e["event"] for e in events] == ["transfer_done", "job_finished"], result.describe()
    assert events[0]["outcome"] == "failed" and events[0]["source"] == "bad.bin"
    assert result.finished()["files_failed"] == 1
    assert _matches(_lines(result.stderr), [ERROR_LINE]), result.describe()


@pytest.mark.parametrize(
    ("level", "text_out", "json_kinds"),
    [
        ("essential", [r"warning: MD5 mismatch for 'bad\.bin'.*", r"Job \S+ summary: Completed",
                       r"  Files:   3 total, 3 transferred, 0 skipped, 0 failed",
                       r"  Bytes:   .* transferred in .*"],
         ["notice", "job_finished"]),
        ("quiet", [], ["job_finished"]),
    ],
)  # fmt: skip
@pytest.mark.usefixtures("one_bad")
def test_warnings_show_at_essential_not_at_quiet(
    level, text_out, json_kinds, tmp_path, run_azxfer, container_url
):
    """--check-md5 LogOnly turns the mismatch into a warning: essential shows it (AzCopy's
    essential keeps what the user must act on), quiet does not; the job succeeds either way."""
    args = ("--check-md5", "LogOnly", "--output-level", level)
    text = _download(run_azxfer, container_url, tmp_path / "t", *args).assert_ok()
    assert _matches(_lines(text.stdout), text_out), text.describe()
    assert text.stderr == "", text.describe()
    as_json = _download(
        run_azxfer, container_url, tmp_path / "j", *args, "--output-type", "json"
    ).assert_ok()
    assert [e["event"] for e in as_json.events()] == json_kinds, as_json.describe()


def test_an_unknown_level_is_a_usage_error(tmp_path, run_azxfer, container_url):
    (tmp_path / "a.txt").write_bytes(b"a")
    result = run_azxfer(
        "copy", tmp_path / "a.txt", container_url("a.txt"), "--output-level", "silent"
    )
    result.assert_usage_error()
    assert "--output-level" in result.stderr


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("essential", [r"Sync: 2 copied, 0 deleted, 0 identical, 0 failed",
                       r"Job \S+ summary: Completed",
                       r"  Files:   2 total, 2 transferred, 0 skipped, 0 failed",
                       r"  Bytes:   .* transferred in .*"]),
        ("quiet", []),
    ],
)  # fmt: skip
def test_sync_follows_the_level_too(
    level, expected, tmp_path, make_tree, run_azxfer, container_url
):
    src = make_tree(tmp_path / "src", {"a.txt": 100, "b/c.txt": 200})
    result = run_azxfer("sync", src, container_url(), "--output-level", level).assert_ok()
    assert _matches(_lines(result.stdout), expected), result.describe()
    assert result.stderr == "", result.describe()


@pytest.mark.parametrize("level", ["essential", "quiet"])
def test_bench_prints_its_table_at_essential_and_nothing_at_quiet(level, run_azxfer, container_url):
    result = run_azxfer(
        "bench", container_url(), "--file-count", "2", "--size-per-file", "1K",
        "--output-level", level,
    ).assert_ok()  # fmt: skip
    lines = _lines(result.stdout)
    if level == "quiet":
        assert lines == [], result.describe()
    else:  # each phase's summary, then the table; no start lines
        assert [line.split()[0] for line in lines[-3:]] == ["phase", "upload", "download"]
        assert sum(line.startswith("Job ") for line in lines) == 2, lines
        assert not any(": bench " in line for line in lines), lines
    assert result.stderr == "", result.describe()


@pytest.mark.parametrize("level", ["essential", "quiet"])
def test_table_export_follows_the_level(level, run_azxfer, azurite, tmp_path):
    name = fresh_name("t", 12)
    rows = [{"PartitionKey": "p", "RowKey": str(row), "v": row} for row in range(3)]
    seed_table(table_service(azurite), name, rows)
    result = run_azxfer(
        "export", f"{azurite.table_endpoint}/{name}", tmp_path / "out", "--output-level", level
    ).assert_ok()
    expected = {
        "essential": [
            r"Entities: 3 total, 3 written, 0 skipped, 0 failed \(.* entities/s\)",
            r"Job \S+ summary: Completed",
            r"  Files:   1 total, 1 transferred, 0 skipped, 0 failed",
            r"  Bytes:   .* transferred in .*",
        ],
        "quiet": [],
    }[level]
    assert _matches(_lines(result.stdout), expected), result.describe()
    assert result.stderr == "", result.describe()
