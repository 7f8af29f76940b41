"""Share SAS tokens minted from an account key ("Create a service SAS", File service).

A server-side copy from a share gives the destination's service the file's URL with read
authorization; with an account key that is a short-lived read-only share SAS made here (the
SDK makes the same token, see the tests). The File service's string-to-sign has no signed
resource, snapshot or encryption scope fields, unlike Blob's.
"""

from __future__ import annotations

from datetime import datetime

from azxfer.endpoints.files.requests import API_VERSION
from azxfer.endpoints.service_sas import sas_time, signed_query


def share_sas(
    account: str,
    key: str,
    share: str,
    permission: str,
    start: datetime,
    expiry: datetime,
    version: str = API_VERSION,
) -> str:
    """The query string of a share SAS (sr=s) signed with the base64 account `key`."""
    st, se = sas_time(start), sas_time(expiry)
    string_to_sign = (
        permission,
        st,
        se,
        f"/file/{account}/{share}",
        "",  # signed identifier
        "",  # signed IP
        "",  # signed protocol
        version,
        "",  # rscc
        "",  # rscd
        "",  # rsce
        "",  # rscl
        "",  # rsct
    )
    fields = {"st": st, "se": se, "sp": permission, "sv": version, "sr": "s"}
    return signed_query(key, string_to_sign, fields)
