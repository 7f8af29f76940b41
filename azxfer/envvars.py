"""Every environment variable azxfer reads: its name, whether its value is a secret, and what it
does. `azxfer env` shows this list; a test keeps it equal to the names the code reads, so a new
variable is documented where it is added."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple


class EnvVar(NamedTuple):
    """One environment variable azxfer reads."""

    name: str
    purpose: str
    secret: bool = False
    # Other spellings read when `name` is not set (the lower-case proxy variables).
    also: tuple[str, ...] = ()

    def lookup(self, env: Mapping[str, str]) -> tuple[str, str] | None:
        """(the name it is set under, its value), or None when it is not set."""
        for name in (self.name, *self.also):
            if env.get(name):
                return name, env[name]
        return None


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar(
        "AZURE_STORAGE_CONNECTION_STRING",
        "Account, endpoints and key (or SAS) used when a URL carries no SAS and no key is given.",
        secret=True,
    ),
    EnvVar(
        "AZXFER_SOURCE_KEY",
        "Account key of the source (else --source-key-file; list's --key-file).",
        True,
    ),
    EnvVar(
        "AZXFER_DEST_KEY",
        "Account key of the destination (else --dest-key-file; --key-file of make, remove "
        "and set-properties).",
        True,
    ),
    EnvVar("AZXFER_CONCURRENCY", "Requests in flight per job when --concurrency is not given."),
    EnvVar("AZXFER_CAP_MBPS", "Bandwidth cap in megabits per second when --cap-mbps is not given."),
    EnvVar("AZXFER_JOB_DIR", "Folder of job journals (wins over the default state folder)."),
    EnvVar(
        "AZXFER_JOB_RETENTION_DAYS",
        "Days a finished job's journal is kept before it is pruned (default 7).",
    ),
    EnvVar("AZXFER_STATE_DIR", "Folder of the sign-in record and token cache of 'azxfer login'."),
    EnvVar(
        "XDG_STATE_HOME",
        "Base of the default state folder on Linux (journals, sign-in: XDG_STATE_HOME/azxfer).",
    ),
    EnvVar(
        "AZXFER_AUTO_LOGIN_TYPE",
        "Sign in without 'azxfer login': SPN, MSI, AZCLI, WORKLOAD or DEVICE.",
    ),
    EnvVar("AZXFER_CLIENT_SECRET", "Client secret of a service principal sign-in.", True),
    EnvVar("AZURE_CLIENT_SECRET", "Client secret, when AZXFER_CLIENT_SECRET is not set.", True),
    EnvVar("AZXFER_CERTIFICATE_PASSWORD", "Password of a service principal's certificate.", True),
    EnvVar(
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "Certificate password, when AZXFER_CERTIFICATE_PASSWORD is not set.",
        True,
    ),
    EnvVar(
        "AZXFER_ALLOW_UNENCRYPTED_TOKEN_CACHE",
        "1: keep device-code tokens in a 0600 file where no keyring exists.",
    ),
    EnvVar("AZXFER_MSI_RESOURCE_ID", "Resource ID of the user-assigned managed identity."),
    EnvVar("AZURE_TENANT_ID", "Tenant of an auto-login service principal or workload identity."),
    EnvVar("AZURE_CLIENT_ID", "Application (client) ID of an auto-login identity."),
    EnvVar("AZURE_CLIENT_CERTIFICATE_PATH", "Certificate of an auto-login service principal."),
    EnvVar("AZURE_FEDERATED_TOKEN_FILE", "Token file of a workload identity."),
    EnvVar("AZURE_AUTHORITY_HOST", "Entra ID authority host (sovereign clouds)."),
    EnvVar("IDENTITY_ENDPOINT", "Managed identity endpoint (set by the Azure host)."),
    EnvVar("MSI_ENDPOINT", "Managed identity endpoint, older hosts."),
    EnvVar("HTTPS_PROXY", "Proxy for https requests (also https_proxy).", also=("https_proxy",)),
    EnvVar("HTTP_PROXY", "Proxy for http requests (also http_proxy).", also=("http_proxy",)),
    EnvVar("NO_PROXY", "Hosts reached without the proxy (also no_proxy).", also=("no_proxy",)),
    EnvVar(
        "_AZXFER_COMPLETE",
        "Set by the shell completion scripts when they ask azxfer for candidates.",
    ),
    EnvVar(
        "AZXFER_TEST_CRASH",
        "Test hook only: KIND:N kills the process at a reproducible point.",
    ),
)
