"""`EmptiedFolders` (--move --delete-empty-src-dirs) against a real local folder tree: which
folders a move emptied, in which order they go, and what stays."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

from azxfer.endpoints.local.endpoint import LocalEndpoint
from azxfer.engine.emptied import EmptiedFolders
from azxfer.events import Event
from azxfer.models import Entry, EntryKind, Planned, Transfer, WriteProps


class Events:
    def __init__(self) -> None:
        self.got: list[Event] = []

    def emit(self, event: Event) -> None:
        self.got.append(event)


def file_item(root: Path, rel: str, skip: str | None = None) -> Planned:
    entry = Entry(str(root / rel), rel, 1)
    return Planned(Transfer(1, entry, "dest/" + rel, "dest/" + rel), WriteProps(), skip)


def folder_item(root: Path, rel: str) -> Planned:
    entry = Entry(str(root / rel), rel, 0, kind=EntryKind.FOLDER)
    return Planned(Transfer(0, entry, "dest/" + rel, "dest/" + rel), WriteProps())


async def drain(plan: AsyncIterator[Planned]) -> list[Planned]:
    return [item async for item in plan]


async def as_plan(items: list[Planned]) -> AsyncIterator[Planned]:
    for item in items:
        yield item


def run_move(root: Path, items: list[Planned], failed: set[str], include_root: bool) -> Events:
    """Plan `items`, 'move' every file not skipped and not in `failed` (deleting its source
    through the real local driver), then remove what the move emptied."""
    source = LocalEndpoint(str(root))
    emptied = EmptiedFolders(dry_run=False)
    delete = emptied.after(lambda t: source.delete(t.source.ref))
    events = Events()

    async def go() -> None:
        for item in await drain(emptied.watch(as_plan(items))):
            entry = item.transfer.source
            moves = entry.kind is EntryKind.FILE and item.skip_reason is None
            if moves and entry.rel_path not in failed:
                await delete(item.transfer)
        await emptied.remove(source, events, include_root, markers_only_safe=True, concurrency=4)

    asyncio.run(go())
    return events


def make(root: Path, files: list[str], folders: tuple[str, ...] = ()) -> None:
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    for rel in folders:
        (root / rel).mkdir(parents=True, exist_ok=True)


def test_a_failed_file_keeps_its_folder_and_every_ancestor(tmp_path):
    root = tmp_path / "src"
    make(root, ["a/b/bad.txt", "a/b/ok.txt", "a/c/ok.txt", "d/ok.txt"])
    items = [file_item(root, rel) for rel in ("a/b/bad.txt", "a/b/ok.txt", "a/c/ok.txt")]
    items.append(file_item(root, "d/ok.txt"))
    events = run_move(root, items, failed={"a/b/bad.txt"}, include_root=True)
    assert sorted(os.listdir(root)) == ["a"]
    assert sorted(os.listdir(root / "a")) == ["b"]
    assert os.listdir(root / "a" / "b") == ["bad.txt"]
    assert [e.source for e in events.got] == [str(root / "a" / "c"), str(root / "d")]


def test_deepest_first_then_the_root_when_asked(tmp_path):
    root = tmp_path / "src"
    make(root, ["x/y/z/f.txt", "top.txt"], folders=("x/empty",))
    items = [
        folder_item(root, "x"),
        folder_item(root, "x/empty"),
        folder_item(root, "x/y"),
        folder_item(root, "x/y/z"),
        file_item(root, "x/y/z/f.txt"),
        file_item(root, "top.txt"),
    ]
    events = run_move(root, items, failed=set(), include_root=True)
    assert not root.exists()
    removed = [e.source for e in events.got]
    assert removed[-1] == str(root)
    depths = [p.count("/") for p in removed]
    assert depths == sorted(depths, reverse=True)
    assert set(removed) == {str(root / p) for p in ("x", "x/empty", "x/y", "x/y/z")} | {str(root)}


def test_the_root_stays_unless_asked_and_a_skipped_file_holds_its_folder(tmp_path):
    root = tmp_path / "src"
    make(root, ["kept/old.txt", "gone/new.txt"])
    items = [file_item(root, "kept/old.txt", skip="exists"), file_item(root, "gone/new.txt")]
    run_move(root, items, failed=set(), include_root=True)
    assert sorted(os.listdir(root)) == ["kept"]
    make(root, [], folders=("again",))
    run_move(root, [folder_item(root, "again")], failed=set(), include_root=False)
    assert sorted(os.listdir(root)) == ["kept"]


def test_a_folder_holding_an_unselected_file_stays_silently(tmp_path):
    root = tmp_path / "src"
    make(root, ["m/a.txt", "m/hidden.log"])
    events = run_move(root, [file_item(root, "m/a.txt")], failed=set(), include_root=True)
    assert os.listdir(root / "m") == ["hidden.log"]
    assert events.got == []


def test_a_dry_run_lists_and_removes_nothing(tmp_path):
    root = tmp_path / "src"
    make(root, ["p/q/f.txt", "s/g.txt"])
    emptied = EmptiedFolders(dry_run=True)
    items = [file_item(root, "p/q/f.txt"), file_item(root, "s/g.txt", skip="exists")]
    events = Events()

    async def go() -> None:
        await drain(emptied.watch(as_plan(items)))
        await emptied.remove(LocalEndpoint(str(root)), events, True, True, 4)

    asyncio.run(go())
    assert [(e.source, e.dry_run) for e in events.got] == [
        (str(root / "p" / "q"), True),
        (str(root / "p"), True),
    ]
    assert (root / "p" / "q" / "f.txt").exists()
