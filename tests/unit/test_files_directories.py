"""Destination directories of Azure Files: each created once, parents first, branches at
once."""

from __future__ import annotations

import asyncio

import pytest

from azxfer.endpoints.files.directories import DirectoryMaker
from azxfer.errors import TransferError


class Share:
    """Records Create Directory calls; a directory can only be made inside an existing one."""

    def __init__(self, delay: float = 0.01) -> None:
        self.existing = {""}
        self.created: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.delay = delay

    async def create(self, path: str, smb: dict[str, str] | None = None) -> None:
        assert path.rpartition("/")[0] in self.existing, f"{path}: parent missing"
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(self.delay)
        self.in_flight -= 1
        self.created.append(path)
        self.existing.add(path)


def test_a_thousand_files_in_one_new_folder_create_it_once() -> None:
    asyncio.run(_test_a_thousand_files_in_one_new_folder_create_it_once())


async def _test_a_thousand_files_in_one_new_folder_create_it_once() -> None:
    share = Share()
    maker = DirectoryMaker(share.create)
    await asyncio.gather(*(maker.ensure("a/b/c") for _ in range(1000)))
    assert share.created == ["a", "a/b", "a/b/c"]


def test_branches_are_created_concurrently_parents_first() -> None:
    asyncio.run(_test_branches_are_created_concurrently_parents_first())


async def _test_branches_are_created_concurrently_parents_first() -> None:
    share = Share()
    maker = DirectoryMaker(share.create)
    await asyncio.gather(*(maker.ensure(f"top/{n}/leaf") for n in range(8)))
    assert share.created[0] == "top"
    assert len(share.created) == 1 + 8 + 8
    assert share.most_in_flight == 8


def test_known_directories_and_the_root_are_never_created() -> None:
    asyncio.run(_test_known_directories_and_the_root_are_never_created())


async def _test_known_directories_and_the_root_are_never_created() -> None:
    share = Share()
    maker = DirectoryMaker(share.create)
    share.existing |= {"x", "x/y"}  # made by someone else
    maker.known("x/y")
    await maker.ensure("")
    await maker.ensure("x/y")
    await maker.ensure("x/y/z")
    assert share.created == ["x/y/z"]


def test_a_failure_reaches_every_file_waiting_for_the_folder() -> None:
    asyncio.run(_test_a_failure_reaches_every_file_waiting_for_the_folder())


async def _test_a_failure_reaches_every_file_waiting_for_the_folder() -> None:
    calls = []

    async def refuse(path: str, smb: dict[str, str] | None = None) -> None:
        calls.append(path)
        raise TransferError(f"directory '{path}': no")

    maker = DirectoryMaker(refuse)
    results = await asyncio.gather(*(maker.ensure("d/e") for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, TransferError) for r in results)
    assert calls == ["d"]
    with pytest.raises(TransferError):
        await maker.ensure("d/f")
