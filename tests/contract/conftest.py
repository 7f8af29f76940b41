"""Runs every contract test once per registered driver (drivers.REGISTRY); a test marked
`requires(...)` is skipped, with the reason, for a driver that does not claim all of it."""

from __future__ import annotations

import pytest

from .drivers import REGISTRY
from .harness import DriverHarness


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requires(*capabilities): driver capabilities a test needs")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "driver" not in metafunc.fixturenames:
        return
    needed = {c for mark in metafunc.definition.iter_markers("requires") for c in mark.args}
    params = []
    for driver in REGISTRY:
        missing = sorted(needed - driver.capabilities)
        marks = (
            [pytest.mark.skip(reason=f"{driver.id} does not claim {', '.join(missing)}")]
            if missing
            else []
        )
        params.append(pytest.param(driver, id=driver.id, marks=marks))
    metafunc.parametrize("driver", params, indirect=True)


@pytest.fixture
def driver(request: pytest.FixtureRequest) -> DriverHarness:
    """The harness of the driver this test runs for, bound to a fresh empty root."""
    harness: DriverHarness = request.param.factory(request)
    harness.capabilities = request.param.capabilities
    harness.endpoint_type = request.param.endpoint
    return harness
