"""kill -9 during a share → share copy by Put Range From URL, then `azxfer resume`: the file
arrives identical, and only ranges the destination lacks are sent again (the destination's
range list decides, as for uploads)."""

from __future__ import annotations

import json
import signal
import time

from helpers import data_for, md5
from sdk_clients import share_service
from seed import fresh_share

MiB = 1024 * 1024
KILLED = -signal.SIGKILL
SIZE = 64 * MiB  # 16 ranges of 4 MiB
RANGES = 16


def copied_ranges(standin) -> int:
    return sum(1 for r in standin.requests_of("PutRangeFromURL") if r.status == 201)


def settled_ranges(standin) -> int:
    """Put Range From URL requests carried out, once those a killed client left in flight
    have arrived."""
    count = -1
    while count != (count := copied_ranges(standin)):
        time.sleep(0.5)
    return count


def test_kill_9_mid_put_range_from_url_then_resume_sends_only_missing_ranges(
    file_standin, azurite, run_azxfer
):
    from azure.storage.fileshare import ContentSettings

    service = share_service(file_standin, azurite)
    src, dst = fresh_share(service), fresh_share(service)
    data = data_for("big", SIZE)
    src.get_file_client("big.bin").upload_file(
        data, content_settings=ContentSettings(content_md5=md5(data)), max_concurrency=4
    )
    base = file_standin.account_url(azurite.account)
    file_standin.clear()

    killed = run_azxfer(
        "copy", f"{base}/{src.share_name}/big.bin", f"{base}/{dst.share_name}/big.bin",
        "--from-to", "FileFile", "--output-type", "json", "--concurrency", "2",
        env={"AZXFER_TEST_CRASH": "chunks:5", "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert killed.returncode == KILLED, killed.describe()
    job_id = json.loads(killed.stdout.splitlines()[0])["job_id"]
    first = settled_ranges(file_standin)
    assert 5 <= first <= 5 + 2  # journaled, plus those in flight (--concurrency 2)

    resumed = run_azxfer("resume", job_id, "--output-type", "json").assert_ok()
    assert resumed.finished()["status"] == "Completed", resumed.describe()
    (present,) = resumed.events_of("transfer_resumed")
    assert present["chunks_present"] == first, resumed.describe()  # journaled or not
    again = copied_ranges(file_standin) - first
    assert again == RANGES - present["chunks_present"], resumed.describe()
    # At most one range of the one in-flight file is sent twice.
    assert copied_ranges(file_standin) <= RANGES + 1
    assert file_standin.requests_of("PutRange") == []  # no byte went through this machine
    dest = dst.get_file_client("big.bin")
    assert dest.download_file().readall() == data
    assert bytes(dest.get_file_properties().content_settings.content_md5) == md5(data)
