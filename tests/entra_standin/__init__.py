"""A loopback Entra ID stand-in, an App Service managed-identity endpoint and a fake `az`:
what the real azure-identity credentials sign in against, offline (issue 24).

(Full description below is completed in a later commit.)
"""

from .directory import (
    DEVELOPER_CLIENT_ID,
    TOKEN_EXCHANGE_AUDIENCE,
    App,
    Grant,
    ManagedIdentity,
    User,
)
from .fake_az import FakeAz
from .server import DEFAULT_TENANT, SUBSCRIPTION, EntraStandIn

__all__ = [
    "DEFAULT_TENANT",
    "DEVELOPER_CLIENT_ID",
    "SUBSCRIPTION",
    "TOKEN_EXCHANGE_AUDIENCE",
    "App",
    "EntraStandIn",
    "FakeAz",
    "Grant",
    "ManagedIdentity",
    "User",
]
