"""The real AzCopy v10 uploads a tree to the File stand-in and downloads it back, unmodified.

AzCopy comes from the root package.json (npm `@azure-tools/azcopy-linux`, installed by
scripts/dev-env); AZXFER_AZCOPY may name another binary. Its SAS is minted by the SDK.
"""

from __future__ import annotations

import ctypes.util
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.storage.fileshare import ShareSasPermissions, ShareServiceClient, generate_share_sas
from file_standin import WELL_KNOWN_ACCOUNT, WELL_KNOWN_KEY, FileStandIn

REPO_ROOT = Path(__file__).resolve().parents[2]
AZCOPY_IN_REPO = REPO_ROOT / "node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64"
MIB = 1024 * 1024
TREE = {
    "top.txt": b"top level\n",
    "empty.bin": b"",
    "nested/a/b/c/deep.txt": b"deep" * 100,
    "with space/file name.txt": b"spaces\n",
    "ünïcødé/ファイル.txt": "unicode ✓\n".encode(),
    "big/twenty.bin": 20 * MIB,
}
EMPTY_DIRS = ("empty dir", "nested/a/empty")


def _azcopy() -> Path:
    binary = Path(os.environ.get("AZXFER_AZCOPY") or AZCOPY_IN_REPO)
    if not binary.exists():
        pytest.skip(f"AzCopy not installed at {binary}: run scripts/dev-env (npm ci)")
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{binary} is not executable: run scripts/dev-env")
    if ctypes.util.find_library("secret-1") is None:
        pytest.skip("AzCopy needs the Debian package libsecret-1-0 (apt-get install libsecret-1-0)")
    return binary


def _run(azcopy: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        {
            "AZCOPY_LOG_LOCATION": str(tmp / "azcopy-logs"),
            "AZCOPY_JOB_PLAN_LOCATION": str(tmp / "azcopy-plans"),
            "AZCOPY_DISABLE_SYSLOG": "true",
        }
    )
    result = subprocess.run(
        [str(azcopy), *args, "--skip-version-check", "--log-level", "ERROR"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _dirs(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}


def test_azcopy_uploads_and_downloads_a_tree(file_standin: FileStandIn, tmp_path, make_tree):
    azcopy = _azcopy()
    source = make_tree(tmp_path / "src", TREE)
    for name in EMPTY_DIRS:
        (source / name).mkdir(parents=True)
    service = ShareServiceClient.from_connection_string(file_standin.connection_string())
    service.create_share("azcopy")
    sas = generate_share_sas(
        WELL_KNOWN_ACCOUNT,
        "azcopy",
        WELL_KNOWN_KEY,
        permission=ShareSasPermissions(read=True, create=True, write=True, list=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    url = f"{file_standin.account_url()}/azcopy/landing"
    _run(
        azcopy,
        tmp_path,
        "copy",
        f"{source}/*",
        f"{url}?{sas}",
        "--recursive",
        "--from-to",
        "LocalFile",
        "--put-md5",
    )
    share = service.get_share_client("azcopy")
    big = share.get_file_client("landing/big/twenty.bin").get_file_properties()
    assert big.size == 20 * MIB and big.content_settings.content_md5
    out = tmp_path / "out"
    _run(
        azcopy,
        tmp_path,
        "copy",
        f"{url}/*?{sas}",
        str(out),
        "--recursive",
        "--from-to",
        "FileLocal",
        "--check-md5",
        "FailIfDifferent",
    )
    assert _files(out) == _files(source)
    assert _dirs(out) == _dirs(source)
    assert file_standin.requests_of("PutRange")
    assert not [r for r in file_standin.requests if r.status >= 500]
