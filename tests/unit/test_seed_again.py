"""The tests' own table seeding repeats a create whose answer the emulator dropped."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceExistsError, ServiceResponseError
from seed import _again


def _exists() -> ResourceExistsError:
    error = ResourceExistsError("The specified entity already exists.")
    error.error_code = "EntityAlreadyExists"
    return error


def test_a_dropped_create_is_sent_again_and_found_done() -> None:
    calls: list[int] = []

    def create() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ServiceResponseError("Remote end closed connection without response")
        raise _exists()  # the first one was done before the connection closed

    _again(create)
    assert len(calls) == 2


def test_already_there_on_the_first_try_is_a_real_conflict() -> None:
    def create() -> None:
        raise _exists()

    with pytest.raises(ResourceExistsError):
        _again(create)


def test_a_connection_that_keeps_dropping_fails_after_three_tries() -> None:
    calls: list[int] = []

    def create() -> None:
        calls.append(1)
        raise ServiceResponseError("Remote end closed connection without response")

    with pytest.raises(ServiceResponseError):
        _again(create)
    assert len(calls) == 3
