"""Choosing the credential for a remote location. First match wins:

1. a SAS token on the URL;
2. an account key: `--source-key-file`/`--dest-key-file`, else `AZXFER_SOURCE_KEY`/`AZXFER_DEST_KEY`
   (keys are never accepted on the command line, where `ps` and shell history would show them);
3. `AZURE_STORAGE_CONNECTION_STRING`, when it names the same account (or names none);
4. the signed-in identity: `AZXFER_AUTO_LOGIN_TYPE`, else `azxfer login` (the `token_provider`
   seam, which azxfer.identity fills: an Entra ID token for Storage);
5. anonymous access (public containers).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from azxfer.errors import CredentialError
from azxfer.locations import Location, Service

Side = Literal["source", "dest"]


class SignedInToken(NamedTuple):
    """A signed-in identity: an azure-identity style credential (`get_token(*scopes)`), and
    where it comes from, safe to show (e.g. 'azxfer login (device: ann@contoso.com)')."""

    credential: Any
    origin: str


# The signed-in identity for a location, or None when nobody is signed in.
TokenProvider = Callable[[Location], SignedInToken | None]

KEY_ENV = {"source": "AZXFER_SOURCE_KEY", "dest": "AZXFER_DEST_KEY"}
CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"


class Credential(NamedTuple):
    """How to authorize requests to one account; `describe()` is safe to show."""

    kind: Literal["sas", "shared_key", "token", "anonymous"]
    account: str
    sas: str | None = None
    key: str | None = None
    token: Any | None = None
    origin: str = ""

    def for_sdk(self) -> Any:
        """The value the Azure SDK clients take as `credential=`."""
        if self.kind == "sas":
            return self.sas
        if self.kind == "shared_key":
            return {"account_name": self.account, "account_key": self.key}
        if self.kind == "token":
            return self.token
        return None

    def describe(self) -> str:
        """A human description without the secret, e.g. 'account key from AZXFER_DEST_KEY'."""
        names = {
            "sas": "SAS token",
            "shared_key": "account key",
            "token": "Entra ID token",
            "anonymous": "anonymous access",
        }
        return f"{names[self.kind]} from {self.origin}" if self.origin else names[self.kind]

    def sas_permissions(self) -> str | None:
        """The permissions a SAS token grants (its `sp` field, e.g. 'rl'), if this is one."""
        if self.kind != "sas" or not self.sas:
            return None
        return dict(parse_qsl(self.sas)).get("sp")

    def is_service_sas(self) -> bool:
        """Whether this is a SAS made for one container, share, table or object (`sr=`,
        `tn=`), not an account SAS (`srt=`): it can never create a container."""
        if self.kind != "sas" or not self.sas:
            return False
        fields = dict(parse_qsl(self.sas))
        return "srt" not in fields and ("sr" in fields or "tn" in fields)

    def sas_expiry(self) -> datetime | None:
        """When the SAS token expires (its `se` field), if this is one and it says."""
        if self.kind != "sas" or not self.sas:
            return None
        value = dict(parse_qsl(self.sas)).get("se")
        if not value:
            return None
        try:
            expiry = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)

    def check_not_expired(self, now: datetime | None = None) -> None:
        """Raise CredentialError if a SAS token has already expired."""
        expiry = self.sas_expiry()
        if expiry is not None and expiry <= (now or datetime.now(UTC)):
            raise CredentialError(
                f"the SAS token for account '{self.account}' expired at "
                f"{expiry.isoformat(timespec='seconds')}"
            )

    def __repr__(self) -> str:
        return f"Credential({self.describe()!r}, account={self.account!r})"


def resolve_credential(
    location: Location,
    side: Side,
    env: Mapping[str, str],
    key_file: Path | None = None,
    token_provider: TokenProvider | None = None,
) -> Credential:
    """The credential for a remote `location` used as `side`, by the precedence above."""
    account = location.account
    if location.sas:
        credential = Credential("sas", account, sas=location.sas, origin="the URL")
        credential.check_not_expired()
        return credential
    if key_file is not None:
        return Credential("shared_key", account, key=_read_key_file(key_file), origin=str(key_file))
    env_name = KEY_ENV[side]
    if env.get(env_name):
        return Credential(
            "shared_key", account, key=_checked_key(env[env_name], env_name), origin=env_name
        )
    from_connection_string = _from_connection_string(env.get(CONNECTION_STRING_ENV), account)
    if from_connection_string is not None:
        return from_connection_string
    if token_provider is not None:
        signed_in = token_provider(location)
        if signed_in is not None:
            return Credential("token", account, token=signed_in.credential, origin=signed_in.origin)
    return Credential("anonymous", account)


def _read_key_file(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CredentialError(f"cannot read key file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CredentialError(f"key file {path} is not text") from None
    return _checked_key(text, str(path))


def _checked_key(key: str, origin: str) -> str:
    key = key.strip()
    try:
        if not base64.b64decode(key, validate=True):
            raise ValueError
    except (binascii.Error, ValueError):
        raise CredentialError(f"{origin} does not hold a base64 storage account key") from None
    return key


# The settings a storage connection string may hold (the SDKs read names case-insensitively).
_CONNECTION_STRING_NAMES = {
    name.lower(): name
    for name in (
        "DefaultEndpointsProtocol",
        "AccountName",
        "AccountKey",
        "SharedAccessSignature",
        "EndpointSuffix",
        "UseDevelopmentStorage",
        "DevelopmentStorageProxyUri",
        *(
            f"{service}{kind}Endpoint"
            for service in ("Blob", "Queue", "Table", "File", "Dfs")
            for kind in ("", "Secondary")
        ),
    )
}


def parse_connection_string(text: str) -> dict[str, str]:
    """The `Key=Value;…` pairs of a storage connection string (known names spelt as above)."""
    pairs: dict[str, str] = {}
    for part in text.split(";"):
        if "=" in part:
            name, _, value = part.partition("=")
            name = name.strip()
            pairs[_CONNECTION_STRING_NAMES.get(name.lower(), name)] = value.strip()
    return pairs


def connection_string_problem(text: str) -> str | None:
    """What is malformed in a connection string, naming the part but never echoing a value
    (a part without '=' may be a pasted key, so it is named by position only)."""
    parts = [part.strip() for part in text.split(";") if part.strip()]
    for index, part in enumerate(parts, 1):
        name, sep, value = (piece.strip() for piece in part.partition("="))
        if not sep or not name:
            return f"part {index} of {len(parts)} is not Name=Value"
        if name.lower() not in _CONNECTION_STRING_NAMES:
            shown = f"'{name}'" if re.fullmatch(r"[A-Za-z]{1,40}", name) else f"part {index}"
            return f"{shown} is not a connection string setting"
        if not value:
            return f"{_CONNECTION_STRING_NAMES[name.lower()]} is empty"
    return None if parts else "it holds no settings"


_ENDPOINT_SERVICES = {
    "BlobEndpoint": Service.BLOB,
    "FileEndpoint": Service.FILE,
    "TableEndpoint": Service.TABLE,
}


def path_style_services(env: Mapping[str, str]) -> dict[str, Service]:
    """The service of each endpoint `AZURE_STORAGE_CONNECTION_STRING` names, by lowercase
    "host:port": an emulator's path-style URLs all look alike, and only the connection string
    says that port 10004 (say) serves Azure Files. Empty when there is none (or it is
    malformed: resolving the credential reports that)."""
    text = env.get(CONNECTION_STRING_ENV)
    if not text or connection_string_problem(text) is not None:
        return {}
    services: dict[str, Service] = {}
    for name, value in parse_connection_string(text).items():
        service = _ENDPOINT_SERVICES.get(name)
        if service is None:
            continue
        try:
            netloc = urlsplit(value).netloc.rsplit("@", 1)[-1].lower()
        except ValueError:
            continue
        if netloc:
            services[netloc] = service
    return services


def _from_connection_string(text: str | None, account: str) -> Credential | None:
    if not text:
        return None
    problem = connection_string_problem(text)
    if problem is not None:
        raise CredentialError(f"{CONNECTION_STRING_ENV} is malformed: {problem}")
    pairs = parse_connection_string(text)
    named = pairs.get("AccountName")
    if pairs.get("UseDevelopmentStorage", "").lower() == "true":
        named = named or "devstoreaccount1"
    if named and named != account:
        return None
    origin = CONNECTION_STRING_ENV
    if pairs.get("SharedAccessSignature"):
        credential = Credential(
            "sas", account, sas=pairs["SharedAccessSignature"].lstrip("?"), origin=origin
        )
        credential.check_not_expired()
        return credential
    if pairs.get("AccountKey"):
        return Credential(
            "shared_key", account, key=_checked_key(pairs["AccountKey"], origin), origin=origin
        )
    if named == "devstoreaccount1":
        return Credential("shared_key", account, key=AZURITE_KEY, origin=origin)
    return None


# The emulator's published well-known key (not a secret); `UseDevelopmentStorage=true` means it.
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def resolve_credentials(
    source: Location,
    dest: Location,
    env: Mapping[str, str],
    source_key_file: Path | None,
    dest_key_file: Path | None,
    token_provider: TokenProvider | None = None,
) -> tuple[Credential | None, Credential | None]:
    """Credentials for each remote side (None for local sides)."""
    src = (
        None
        if source.is_local or source.service is Service.WEB  # its URL carries any authority
        else resolve_credential(source, "source", env, source_key_file, token_provider)
    )
    dst = (
        None
        if dest.is_local
        else resolve_credential(dest, "dest", env, dest_key_file, token_provider)
    )
    return src, dst
