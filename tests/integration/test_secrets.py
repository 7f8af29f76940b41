"""Secrets never leak: SAS signatures and account keys appear in no output, log or journal.

A representative set of jobs (upload, download, blob→blob, a failing job, a resume, `jobs`
listings) runs with a container SAS and with account keys, with --log-file at DEBUG and both
output types. Then every byte written — stdout, stderr, JSON events, log files and every file
of the journal folder — is searched for the SAS `sig` (decoded and URL-encoded) and the key
(plain and URL-encoded). Journal files must be mode 0600.
"""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path
from urllib.parse import parse_qs, quote, quote_plus

import pytest
from azure.storage.blob import ContainerSasPermissions, generate_container_sas
from helpers import CliResult
from seed import seed_blobs


def _forms(secret: str) -> set[str]:
    """The secret as it may appear: plain, URL-encoded (both styles), lower-cased encodings."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    forms |= {f.replace("%2F", "%2f").replace("%2B", "%2b").replace("%3D", "%3d") for f in forms}
    return {f for f in forms if len(f) >= 16}


def _scan(blobs: dict[str, bytes], secrets: dict[str, set[str]]) -> list[str]:
    hits = []
    for where, data in blobs.items():
        text = data.decode("utf-8", errors="replace")
        for label, forms in secrets.items():
            for form in forms:
                if form in text:
                    hits.append(f"{label} ({form[:6]}…) in {where}")
    return hits


@pytest.fixture
def sas(azurite, container) -> str:
    return generate_container_sas(
        azurite.account,
        container,
        account_key=azurite.key,
        permission=ContainerSasPermissions(read=True, write=True, list=True, create=True),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        start=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )


def test_no_secret_in_any_output_log_or_journal(
    tmp_path, azurite, sas, container, container_client, blob_service, run_azxfer, make_tree
):
    sig = parse_qs(sas)["sig"][0]
    assert len(sig) > 20
    secrets = {"SAS sig": _forms(sig), "account key": _forms(azurite.key)}
    dest = "s" + container[1:]
    blob_service.create_container(dest)
    src = make_tree(tmp_path / "src", {"a.txt": 100, "d/b.bin": 3 * 1024 * 1024 + 5})
    seed_blobs(container_client, {"seed/x.txt": 50, "seed/y.bin": 2 * 1024 * 1024})
    sas_url = f"{azurite.blob_endpoint}/{container}?{sas}"
    sas_url_path = f"{azurite.blob_endpoint}/{container}/seed?{sas}"
    key_url = f"{azurite.blob_endpoint}/{container}"
    dest_url = f"{azurite.blob_endpoint}/{dest}"
    no_keys = {"AZXFER_SOURCE_KEY": None, "AZXFER_DEST_KEY": None}
    logs: list[Path] = []
    results: list[CliResult] = []

    def run(*args: object, env=None) -> CliResult:
        for output in ("json", "text"):
            log = tmp_path / f"run{len(logs)}.log"
            logs.append(log)
            result = run_azxfer(
                *args, "--output-type", output, "--log-file", log, "--log-level", "debug",
                env=env,
            )  # fmt: skip
            assert "Traceback" not in result.stderr, result.describe()
            results.append(result)
        return result

    try:
        # SAS: upload, download, a SAS-authorised source into a key-authorised destination.
        run("copy", src, sas_url, "-r", "--block-size-mb", "1", env=no_keys)
        run("copy", sas_url_path, tmp_path / "down-sas", "-r", env=no_keys)
        run("copy", sas_url_path, dest_url, "-r", env={"AZXFER_SOURCE_KEY": None})
        # Keys: upload, download, blob→blob.
        run("copy", src, key_url + "/keyed", "-r", "--block-size-mb", "1")
        run("copy", key_url + "/seed", tmp_path / "down-key", "-r")
        run("copy", key_url + "/seed", dest_url + "/bykey", "-r")
        # A failing job with a SAS (write denied: read-only SAS) and its resume with --dest-sas.
        ro = generate_container_sas(
            azurite.account,
            container,
            account_key=azurite.key,
            permission=ContainerSasPermissions(read=True, list=True),
            expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        )
        secrets["read-only SAS sig"] = _forms(parse_qs(ro)["sig"][0])
        failed = run("copy", src, f"{azurite.blob_endpoint}/{container}/ro?{ro}", "-r", env=no_keys)
        assert failed.returncode == 1, failed.describe()
        assert results[-2].events_of("job_started"), failed.describe()
        job_id = results[-2].events_of("job_started")[0]["job_id"]
        run("resume", job_id, "--dest-sas", sas, env=no_keys)
        # A failing job with a wrong key, and a malformed SAS URL.
        run("copy", src, key_url + "/wk", "-r", env={"AZXFER_DEST_KEY": "d3Jvbmcga2V5IQ=="})
        run("copy", src, sas_url.replace("sig=", "sig=x"), "-r", env=no_keys)
        # Listing jobs shows what was journaled.
        for args in (("jobs", "list"), ("jobs", "show", job_id)):
            result = run_azxfer(*args)
            results.append(result)
    finally:
        blob_service.delete_container(dest)

    job_dir = tmp_path.parent / f"{tmp_path.name}-jobs"
    journal_files = [p for p in job_dir.rglob("*") if p.is_file()]
    assert journal_files, f"no journal written under {job_dir}"

    captured: dict[str, bytes] = {}
    for n, result in enumerate(results):
        captured[f"stdout of run {n} {result.argv[3:5]}"] = result.stdout.encode()
        captured[f"stderr of run {n} {result.argv[3:5]}"] = result.stderr.encode()
    for log in logs:
        if log.exists():
            captured[f"log {log.name}"] = log.read_bytes()
    for path in journal_files:
        captured[f"journal {path.name}"] = path.read_bytes()
    assert any(log.exists() and log.stat().st_size for log in logs), "no log was written"

    hits = _scan(captured, secrets)
    assert not hits, "secrets leaked:\n" + "\n".join(hits)

    for path in journal_files:
        if path.name.endswith((".azxfer-job", "-wal", "-shm")):
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == 0o600, f"{path.name} has mode {oct(mode)}, expected 0o600"
