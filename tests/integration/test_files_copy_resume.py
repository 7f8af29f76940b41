"""Azure Files uploads that stop part-way: a full share (quota) and kill -9, then `azxfer
resume`, which sends only the ranges the share does not hold yet."""

from __future__ import annotations

import json
import signal
import time

import pytest
from helpers import tree_contents
from seed import fresh_share

MiB = 1024 * 1024
GiB = 1024 * MiB
KILLED = -signal.SIGKILL
LOCAL_FILE = ("--from-to", "LocalFile")


@pytest.fixture
def share(share_service) -> str:
    return fresh_share(share_service, quota=1).share_name


def job_id_of(result) -> str:
    (started,) = result.events_of("job_started")
    return started["job_id"]


def written_ranges(standin) -> int:
    """Put Range requests the stand-in carried out."""
    return sum(1 for r in standin.requests_of("PutRange") if r.status == 201)


def settled_ranges(standin) -> int:
    """Put Ranges carried out, once those a killed client left in flight have arrived."""
    count = -1
    while count != (count := written_ranges(standin)):
        time.sleep(0.5)
    return count


def file_bytes(share_client, path: str) -> bytes:
    return share_client.get_file_client(path).download_file().readall()


def test_a_full_share_stops_the_job_with_one_line_and_resume_completes_after_the_quota_is_raised(
    tmp_path, make_tree, run_azxfer, file_standin, azurite, share, share_service
):
    share_client = share_service.get_share_client(share)
    # The share's 1 GiB quota is almost used up by a sparse file (sizes count, not data).
    share_client.get_file_client("filler.bin").create_file(GiB - 3 * MiB)
    src = make_tree(tmp_path / "data", {f"f{n}.bin": 2 * MiB for n in range(4)})
    url = f"{file_standin.account_url(azurite.account)}/{share}"

    full = run_azxfer("copy", src, url, "-r", *LOCAL_FILE, "--output-type", "json")
    full.assert_exit(1)
    lines = [ln for ln in full.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, full.describe()
    assert lines[0].startswith("azxfer: error: ") and "quota" in lines[0], full.describe()
    assert f"'{share}'" in lines[0]
    assert "Traceback" not in full.stdout + full.stderr

    share_client.set_share_quota(5)
    resumed = run_azxfer("resume", job_id_of(full), "--output-type", "json")
    resumed.assert_ok()
    assert resumed.finished()["status"] == "Completed", resumed.describe()
    for name, data in tree_contents(src).items():
        assert file_bytes(share_client, f"data/{name}") == data


def test_kill_9_mid_upload_then_resume_sends_only_the_missing_ranges(
    tmp_path, make_tree, run_azxfer, file_standin, azurite, share, share_service
):
    share_service.get_share_client(share).set_share_quota(5)
    size = 40 * MiB + 17  # 11 ranges of 4 MiB
    src = make_tree(tmp_path / "data", {"big.bin": size})
    url = f"{file_standin.account_url(azurite.account)}/{share}"

    killed = run_azxfer(
        "copy", src / "big.bin", url, *LOCAL_FILE, "--output-type", "json", "--concurrency", "2",
        env={"AZXFER_TEST_CRASH": "chunks:4", "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert killed.returncode == KILLED, killed.describe()
    job_id = json.loads(killed.stdout.splitlines()[0])["job_id"]
    first = settled_ranges(file_standin)
    assert 4 <= first <= 4 + 2  # journaled, plus those in flight (--concurrency 2)

    resumed = run_azxfer("resume", job_id, "--output-type", "json")
    resumed.assert_ok()
    assert resumed.finished()["status"] == "Completed", resumed.describe()
    (present,) = resumed.events_of("transfer_resumed")
    assert present["chunks_present"] == first  # every range written, journaled or not
    # The share's range list is the authority: a range written before the kill is never sent
    # again (the issue allows one per in-flight file; none is needed here).
    assert written_ranges(file_standin) - first == 11 - present["chunks_present"]
    assert written_ranges(file_standin) <= 11 + 1
    share_client = share_service.get_share_client(share)
    assert file_bytes(share_client, "big.bin") == (src / "big.bin").read_bytes()
    props = share_client.get_file_client("big.bin").get_file_properties()
    assert props.content_settings.content_md5 is not None


def _share_sas(azurite, share: str) -> str:
    from datetime import UTC, datetime, timedelta

    from azure.storage.fileshare import ShareSasPermissions, generate_share_sas

    return generate_share_sas(
        azurite.account,
        share,
        azurite.key,
        permission=ShareSasPermissions(read=True, create=True, write=True, list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )


def test_kill_9_mid_300_mib_upload_with_a_sas_then_resume_with_a_fresh_sas(
    tmp_path, run_azxfer, file_standin, azurite, share, share_service
):
    """The issue's case: a SAS is never journaled, so the resume is given a fresh one; the
    file arrives identical and at most one range per in-flight request is sent twice."""
    import hashlib
    import os

    share_service.get_share_client(share).set_share_quota(5)
    size = 300 * MiB
    source = tmp_path / "big.bin"
    with source.open("wb") as out:
        for _ in range(size // (16 * MiB)):
            out.write(os.urandom(16 * MiB))
    ranges = size // (4 * MiB)
    url = f"{file_standin.account_url(azurite.account)}/{share}/big.bin"

    killed_sas = _share_sas(azurite, share)
    killed = run_azxfer(
        "copy", source, f"{url}?{killed_sas}", *LOCAL_FILE,
        "--output-type", "json", "--concurrency", "4",
        env={"AZXFER_TEST_CRASH": "chunks:30", "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert killed.returncode == KILLED, killed.describe()
    job_id = json.loads(killed.stdout.splitlines()[0])["job_id"]
    first = settled_ranges(file_standin)
    assert 30 <= first < ranges

    no_key: dict[str, str | None] = {"AZXFER_SOURCE_KEY": None, "AZXFER_DEST_KEY": None}
    refused = run_azxfer("resume", job_id, env=no_key)  # no SAS journaled: asked for one
    refused.assert_usage_error(2)
    assert "--dest-sas" in refused.stderr
    fresh = _share_sas(azurite, share)
    resumed = run_azxfer("resume", job_id, "--dest-sas", fresh, "--output-type", "json", env=no_key)
    resumed.assert_ok()
    assert resumed.finished()["status"] == "Completed", resumed.describe()
    assert written_ranges(file_standin) - first <= ranges - first + 4  # in flight: at most 4
    digest = hashlib.md5()
    stored = share_service.get_share_client(share).get_file_client("big.bin").download_file()
    for piece in stored.chunks():
        digest.update(piece)
    want = hashlib.md5()
    with source.open("rb") as data:
        while piece := data.read(16 * MiB):
            want.update(piece)
    assert digest.digest() == want.digest()
    said = resumed.stdout + resumed.stderr + killed.stdout + killed.stderr
    for token in (fresh, killed_sas):
        assert dict(part.split("=", 1) for part in token.split("&"))["sig"] not in said
