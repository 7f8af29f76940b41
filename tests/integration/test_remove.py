"""`azxfer remove` on Blob storage (Azurite) and local folders, through the real CLI: what is
selected (a blob, a virtual directory with -r, filters, --list-of-files, snapshots), batched
deletes (counted on the wire), --dry-run, --max-delete and --force, the journal and resume
after kill -9, events, summary and one-line errors."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from faultproxy import FaultProxy, Rule
from helpers import blob_names, make_tree, tree_files
from seed import seed_blobs
from test_resume import KILLED, crash, job_id_of

JSON = ("--output-type", "json")


def job_dir(tmp_path: Path) -> Path:
    return tmp_path.parent / f"{tmp_path.name}-jobs"


def journal_states(tmp_path: Path, job_id: str) -> dict[str, str]:
    path = job_dir(tmp_path) / f"{job_id}.azxfer-job"
    with contextlib.closing(sqlite3.connect(path)) as db:
        return dict(db.execute("SELECT source_ref, state FROM transfer").fetchall())


@pytest.fixture
def proxy(azurite):
    with FaultProxy(azurite.blob_port) as p:
        yield p


def test_one_blob_is_removed_and_reported(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"a.txt": 10, "b.txt": 20})
    result = run_azxfer("remove", container_url("a.txt"), *JSON).assert_ok()
    assert blob_names(container_client) == {"b.txt"}
    (deleted,) = result.events_of("deleted")
    assert deleted["destination"] == "a.txt" and deleted["outcome"] == "completed"
    (summary,) = result.events_of("bulk_summary")
    assert (summary["done"], summary["bytes"], summary["failed"]) == (1, 10, 0)
    assert result.finished()["status"] == "Completed"
    assert result.events_of("job_started")[0]["command"] == "remove"


def test_text_summary_says_removed_and_failed(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"d/a": 1000, "d/b": 24})
    result = run_azxfer("remove", container_url("d"), "-r", "--force").assert_ok()
    assert "Removed: 2 (1.0 KiB), Failed: 0" in result.stdout, result.describe()
    assert blob_names(container_client) == set()


def test_a_directory_without_recursive_is_one_error(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"d/x": 1, "d/y": 1})
    for url in (container_url("d"), container_url()):
        result = run_azxfer("remove", url).assert_usage_error()
        assert "--recursive" in result.stderr
    assert blob_names(container_client) == {"d/x", "d/y"}


def test_filters_choose_what_is_removed(run_azxfer, container_client, container_url):
    seed_blobs(
        container_client,
        {"d/a.tmp": 1, "d/b.txt": 1, "d/sub/c.tmp": 1, "d/sub/keep/e.tmp": 1, "e/f.tmp": 1},
    )
    run_azxfer(
        "remove", container_url("d"), "-r", "--include-pattern", "*.tmp",
        "--exclude-path", "sub/keep", "--force", *JSON,
    ).assert_ok()  # fmt: skip
    assert blob_names(container_client) == {"d/b.txt", "d/sub/keep/e.tmp", "e/f.tmp"}


def test_include_after_spares_older_blobs(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"a": 1, "b": 1})
    result = run_azxfer(
        "remove", container_url(), "-r", "--include-after", "2999-01-01T00:00:00Z", *JSON
    ).assert_ok()
    assert blob_names(container_client) == {"a", "b"}
    assert result.events_of("bulk_summary")[0]["done"] == 0


def test_list_of_files(run_azxfer, container_client, container_url, tmp_path):
    seed_blobs(container_client, {"d/a": 1, "d/b": 1, "d/sub/c": 1, "d/sub/d": 1, "d/z": 1})
    listing = tmp_path / "list.txt"
    listing.write_text("a\n# a comment\n\nsub\n")
    run_azxfer(
        "remove", container_url("d"), "-r", "--list-of-files", listing, "--force", *JSON
    ).assert_ok()
    assert blob_names(container_client) == {"d/b", "d/z"}


def test_dry_run_lists_and_removes_nothing(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"d/a": 5, "d/b": 7})
    result = run_azxfer("remove", container_url("d"), "-r", "--dry-run", *JSON).assert_ok()
    assert blob_names(container_client) == {"d/a", "d/b"}
    deleted = result.events_of("deleted")
    assert sorted(e["destination"] for e in deleted) == ["d/a", "d/b"]
    assert all(e["dry_run"] for e in deleted)
    assert result.finished()["status"] == "DryRun"
    text = run_azxfer("remove", container_url("d"), "-r", "--dry-run").assert_ok()
    assert "DRYRUN: remove d/a" in text.stdout and "Would remove: 2 (12 B)" in text.stdout


def test_max_delete_refuses_without_a_terminal(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"d/a": 1, "d/b": 1, "d/c": 1, "keep": 1})
    result = run_azxfer("remove", container_url(), "-r", "--include-path", "d")
    result.assert_usage_error(code=1)
    assert "--force" in result.stderr and "--max-delete 50%" in result.stderr
    assert len(blob_names(container_client)) == 4
    run_azxfer(
        "remove", container_url(), "-r", "--include-path", "d", "--max-delete", "3"
    ).assert_ok()
    assert blob_names(container_client) == {"keep"}


def test_a_refused_remove_keeps_no_journal(run_azxfer, container_client, container_url, tmp_path):
    seed_blobs(container_client, {"a": 1, "b": 1})
    run_azxfer("remove", container_url(), "-r").assert_usage_error(code=1)
    assert not list(job_dir(tmp_path).glob("*.azxfer-job"))
    run_azxfer("remove", container_url(), "-r", "--force").assert_ok()
    assert blob_names(container_client) == set()


def test_snapshots(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"a": 3, "b": 3, "c": 3})
    for name in ("a", "b", "c"):
        container_client.get_blob_client(name).create_snapshot()
    failed = run_azxfer("remove", container_url("a"), *JSON).assert_usage_error(code=1)
    (event,) = failed.events_of("deleted")
    assert event["outcome"] == "failed" and "snapshots" in event["reason"]
    assert failed.finished()["status"] == "Failed"
    run_azxfer("remove", container_url("a"), "--delete-snapshots", "only", *JSON).assert_ok()
    listed = [(b.name, b.snapshot) for b in container_client.list_blobs(include=["snapshots"])]
    assert ("a", None) in listed and not [s for n, s in listed if n == "a" and s]
    older = container_client.get_blob_client("b").create_snapshot()["snapshot"]
    snapshot_url = f"{container_url('b')}?snapshot={older}"
    run_azxfer("remove", snapshot_url, *JSON).assert_ok()  # that snapshot alone
    b_versions = [s for n, s in _listed_with_snapshots(container_client) if n == "b"]
    assert len(b_versions) == 2 and older not in b_versions and None in b_versions
    run_azxfer("set-properties", snapshot_url, "--metadata", "a=b").assert_usage_error()
    run_azxfer(
        "remove", container_url(), "-r", "--delete-snapshots", "include", "--force", *JSON
    ).assert_ok()
    assert not list(container_client.list_blobs(include=["snapshots"]))


def _listed_with_snapshots(container_client) -> list[tuple[str, str | None]]:
    return [(b.name, b.snapshot) for b in container_client.list_blobs(include=["snapshots"])]


def test_missing_blob_container_and_credential_are_one_line(
    run_azxfer, container_client, container_url, azurite
):
    seed_blobs(container_client, {"nothing-here.txt.keep": 1})
    result = run_azxfer("remove", container_url("nothing-here.txt"))
    result.assert_usage_error(code=1)
    assert "nothing-here.txt" in result.stderr and "404" in result.stderr
    assert blob_names(container_client) == {"nothing-here.txt.keep"}  # not a name prefix
    missing = f"{azurite.blob_endpoint}/no-such-container-x1/a.txt"
    result = run_azxfer("remove", missing).assert_usage_error(code=1)
    assert "no-such-container-x1" in result.stderr
    result = run_azxfer("remove", f"{azurite.blob_endpoint}/no-such-container-x1", "-r")
    result.assert_usage_error(code=1)
    assert "does not exist" in result.stderr
    seed_blobs(container_client, {"a": 1})
    container_client.delete_blob("nothing-here.txt.keep")
    anonymous = {"AZXFER_DEST_KEY": None, "AZXFER_SOURCE_KEY": None}
    result = run_azxfer("remove", container_url("a"), env=anonymous).assert_usage_error(code=1)
    assert "no credential" in result.stderr
    assert blob_names(container_client) == {"a"}


def test_bad_flags_are_usage_errors(run_azxfer, container_url, tmp_path):
    local = make_tree(tmp_path / "src", {"a.txt": 1})
    result = run_azxfer("remove", local / "a.txt", "--delete-snapshots", "include")
    assert "--delete-snapshots" in result.assert_usage_error().stderr
    run_azxfer("remove", container_url("a"), "--max-delete", "lots").assert_usage_error()
    run_azxfer("remove", container_url("a"), "--include-after", "yesterday").assert_usage_error()
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    run_azxfer("remove", container_url(), "-r", "--list-of-files", empty).assert_usage_error()


def test_deletes_go_in_batches(run_azxfer, container_client, proxy, azurite, container):
    seed_blobs(container_client, {f"d/{i:04d}": 1 for i in range(300)})
    url = proxy.url(azurite.account, container, "d")
    result = run_azxfer("remove", url, "-r", "--force", *JSON).assert_ok()
    assert blob_names(container_client) == set()
    assert len(result.events_of("deleted")) == 300
    assert proxy.count(method="POST", query="comp=batch") == 2  # 256 + 44
    assert proxy.count(method="DELETE") == 0


def test_kill_9_then_resume_finishes(run_azxfer, container_client, container_url, tmp_path):
    seed_blobs(container_client, {f"d/{i:04d}": 2 for i in range(600)})
    first = run_azxfer(
        "remove", container_url("d"), "-r", "--force", "--concurrency", "8", *JSON,
        env=crash("completed:300"),
    )  # fmt: skip
    assert first.returncode == KILLED, first.describe()
    job_id = job_id_of(first)
    left = blob_names(container_client)
    assert 0 < len(left) < 600
    states = journal_states(tmp_path, job_id)
    assert len(states) == 600 and "completed" in states.values()
    listed = run_azxfer("jobs", "list").assert_ok()
    (line,) = [ln for ln in listed.stdout.splitlines() if ln.startswith(job_id)]
    assert line.split()[1] == "remove" and "Interrupted" in line
    resumed = run_azxfer("resume", job_id, *JSON).assert_ok()
    assert blob_names(container_client) == set()
    assert resumed.finished()["status"] == "Completed"
    assert set(journal_states(tmp_path, job_id).values()) == {"completed"}
    # Only what the killed run had not journaled as done is acted on again.
    assert len(resumed.events_of("deleted")) < 600


def test_local_tree(run_azxfer, tmp_path):
    root = make_tree(tmp_path / "tree", {"a.tmp": 1, "b.txt": 2, "sub/c.tmp": 3, "sub/d/e.txt": 4})
    run_azxfer("remove", root, "-r", "--include-pattern", "*.tmp", "--force").assert_ok()
    assert tree_files(root) == {"b.txt", "sub/d/e.txt"}
    result = run_azxfer("remove", root, "-r", "--force", *JSON).assert_ok()
    assert not root.exists()
    assert result.events_of("bulk_summary")[0]["folders_removed"] == 3  # sub/d, sub, tree


def test_a_container_sas_batches(run_azxfer, container_client, proxy, azurite, container):
    from datetime import UTC, datetime, timedelta

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    seed_blobs(container_client, {f"s/{i}": 1 for i in range(20)})
    sas = generate_container_sas(
        azurite.account, container, account_key=azurite.key,
        permission=ContainerSasPermissions(read=True, list=True, delete=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )  # fmt: skip
    url = proxy.url(azurite.account, container, "s") + "?" + sas
    anonymous = {"AZXFER_DEST_KEY": None, "AZXFER_SOURCE_KEY": None}
    result = run_azxfer("remove", url, "-r", "--force", *JSON, env=anonymous).assert_ok()
    assert blob_names(container_client) == set()
    assert proxy.count(method="POST", query="comp=batch") == 1
    assert sas.split("sig=")[1].split("&")[0] not in result.stdout + result.stderr


def test_a_refused_batch_falls_back_to_single_deletes(
    run_azxfer, container_client, proxy, azurite, container
):
    seed_blobs(container_client, {f"f/{i}": 1 for i in range(10)})
    proxy.add(
        Rule("status", method="POST", query="comp=batch", status=403,
             error_code="AuthorizationPermissionMismatch", retry_after=None)
    )  # fmt: skip
    url = proxy.url(azurite.account, container, "f")
    run_azxfer("remove", url, "-r", "--force", *JSON).assert_ok()
    assert blob_names(container_client) == set()
    assert proxy.count(method="POST", query="comp=batch") == 1  # refused once, not again
    assert proxy.count(method="DELETE") == 10


def _run_on_a_terminal(azurite, tmp_path: Path, answer: str, *args: str) -> tuple[int, str]:
    """Run the CLI with a terminal as stdin, typing `answer` at its prompt."""
    import os
    import pty
    import subprocess
    import sys

    env = dict(os.environ)
    env.pop("AZURE_STORAGE_CONNECTION_STRING", None)
    env["AZXFER_DEST_KEY"] = azurite.key
    env["AZXFER_JOB_DIR"] = str(job_dir(tmp_path))
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "azxfer", *args], stdin=slave, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, cwd=tmp_path, text=True,
        )  # fmt: skip
        os.write(master, answer.encode() + b"\n")
        _, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
        os.close(slave)
    return proc.returncode, err


def test_past_max_delete_a_terminal_is_asked(container_client, container_url, azurite, tmp_path):
    seed_blobs(container_client, {"a": 1, "b": 1, "c": 1})
    code, err = _run_on_a_terminal(azurite, tmp_path, "n", "remove", container_url(), "-r")
    assert code == 1 and "Remove 3 of the 3 objects" in err and "declined" in err, err
    assert blob_names(container_client) == {"a", "b", "c"}
    code, err = _run_on_a_terminal(azurite, tmp_path, "y", "remove", container_url(), "-r")
    assert code == 0, err
    assert blob_names(container_client) == set()


def test_folder_marker_blobs_go_with_their_tree(run_azxfer, container_client, container_url):
    seed_blobs(container_client, {"d/sub/x": 1, "d/y": 1})
    for marker in ("d/sub", "d/empty"):
        container_client.upload_blob(marker, b"", metadata={"hdi_isfolder": "true"})
    result = run_azxfer("remove", container_url("d"), "-r", "--force", *JSON).assert_ok()
    assert blob_names(container_client) == set()
    folders = [e["destination"] for e in result.events_of("deleted") if e["folder"]]
    assert sorted(folders) == ["d/empty", "d/sub"]


def test_sync_deletes_share_the_batches(
    run_azxfer, container_client, proxy, azurite, container, tmp_path
):
    """sync --delete-destination deletes through the same bulk path (one batch, no DELETE)."""
    src = make_tree(tmp_path / "src", {"keep.txt": 1})
    seed_blobs(container_client, {"keep.txt": 1, **{f"extra/{i}": 1 for i in range(40)}})
    url = proxy.url(azurite.account, container)
    run_azxfer(
        "sync", src, url, "--delete-destination", "true", "--max-delete", "100%", *JSON
    ).assert_ok()
    assert blob_names(container_client) == {"keep.txt"}
    assert proxy.count(method="POST", query="comp=batch") == 1
    assert proxy.count(method="DELETE") == 0


def test_a_signed_in_identity_removes(run_azxfer, entra_standin, entra_azurite, tmp_path):
    """Azurite --oauth basic over https: batch sub-requests carry the Entra ID token."""
    import uuid

    from test_token_copies import _spn_env

    local = make_tree(tmp_path / "up", {f"f{i}.txt": 3 for i in range(12)})
    url = f"{entra_azurite.blob_endpoint}/r{uuid.uuid4().hex[:12]}"
    run_azxfer("copy", local, url, "-r", env=entra_standin.tls_env()).assert_ok()
    env = _spn_env(entra_standin, tmp_path, AZXFER_DEST_KEY=None)
    log = tmp_path / "remove.log"
    removed = run_azxfer(
        "remove", f"{url}/up", "-r", "--force", "--log-file", log, "--log-level", "DEBUG",
        *JSON, env=env,
    )  # fmt: skip
    removed.assert_ok()
    assert removed.events_of("job_started")[0]["source_credential"].startswith("Entra ID token")
    assert removed.events_of("bulk_summary")[0]["done"] == 12
    requests = [line for line in log.read_text().splitlines() if "azxfer.http:" in line]
    assert [line for line in requests if " POST " in line and "-> 202" in line], requests
    assert not [line for line in requests if " DELETE " in line], requests
    again = run_azxfer("remove", f"{url}/up", "-r", "--dry-run", env=env)
    assert "404" in again.assert_usage_error(code=1).stderr  # nothing is left under it
