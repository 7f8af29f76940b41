"""Server-side copies from a source only an Entra ID token can read, and denials said alike,
through the real CLI.

The source is on Azurite `--oauth basic` over https (it implements Get User Delegation Key and
checks user delegation SAS signatures); the signed-in identity is an spn against the Entra ID
stand-in (auto-login from the environment). The destinations are written with the account key,
so only the source needs the token.
"""

from __future__ import annotations

import uuid

NO_CREDENTIALS = {"AZXFER_SOURCE_KEY": None, "AZXFER_DEST_KEY": None}


def test_a_denied_single_blob_says_what_a_denied_listing_says(
    run_azxfer, blob_service, azurite, tmp_path
) -> None:
    name = "c" + uuid.uuid4().hex[:12]
    container = blob_service.create_container(name)  # private: no anonymous access
    container.upload_blob("a.txt", b"alpha")
    url = f"{azurite.blob_endpoint}/{name}"
    single = run_azxfer("copy", f"{url}/a.txt", tmp_path / "a.txt", env=NO_CREDENTIALS)
    listing = run_azxfer("copy", url, tmp_path / "all", "-r", env=NO_CREDENTIALS)
    for failed, what in ((single, "blob 'a.txt'"), (listing, f"listing container '{name}'")):
        assert failed.returncode == 1, failed.describe()
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("azxfer: error: "), failed.describe()
        assert f"access to {what}" in lines[0]
        assert "denied: no credentials given (run `azxfer login`, or give a SAS token" in lines[0]
        assert lines[0].endswith("[used anonymous access]"), failed.describe()
    assert not (tmp_path / "a.txt").exists()
