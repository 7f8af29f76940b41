"""Service SAS tokens minted from an account key ("Create a service SAS", Blob service).

A server-side copy gives the destination's service a URL it may read the source through. With
an account key that URL carries a container SAS made here: the storage SDK makes the same
token, but importing it for this one function took a third of a second of every blob-to-blob
copy. The string-to-sign is the documented one for versions 2020-12-06 and later; the tests
check it against the SDK's.
"""

from __future__ import annotations

from datetime import datetime

from azxfer.endpoints.blob.requests import API_VERSION
from azxfer.endpoints.service_sas import sas_time, signed_query


def container_sas(
    account: str,
    key: str,
    container: str,
    permission: str,
    start: datetime,
    expiry: datetime,
    version: str = API_VERSION,
) -> str:
    """The query string of a container SAS (sr=c) signed with the base64 account `key`."""
    st, se = sas_time(start), sas_time(expiry)
    string_to_sign = (
        permission,
        st,
        se,
        f"/blob/{account}/{container}",
        "",  # signed identifier
        "",  # signed IP
        "",  # signed protocol
        version,
        "c",  # signed resource
        "",  # snapshot time
        "",  # encryption scope
        "",  # rscc
        "",  # rscd
        "",  # rsce
        "",  # rscl
        "",  # rsct
    )
    fields = {"st": st, "se": se, "sp": permission, "sv": version, "sr": "c"}
    return signed_query(key, string_to_sign, fields)
