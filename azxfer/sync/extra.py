"""The candidates for a sync's deletes: destination entries no source entry matched, and
the paths that protect entries from deletion."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator


class ExtraTable:
    """Destination-only entries and protected paths, in a temporary on-disk SQLite database
    (removed when closed), so memory does not grow with the destination's size."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" = a private temporary file, deleted on close
        self.db.execute("CREATE TABLE extra (key BLOB PRIMARY KEY, ref TEXT, display TEXT)")
        self.db.execute("CREATE TABLE protected (key BLOB PRIMARY KEY)")
        self.db.execute(
            "CREATE TABLE folders (key BLOB PRIMARY KEY, depth INTEGER, ref TEXT, display TEXT)"
        )
        # Folders the source has an entry below (a source without folder entries, as Blob,
        # implies them): never deletion candidates.
        self.db.execute("CREATE TABLE implied (key BLOB PRIMARY KEY)")
        self._last_parent: bytes | None = None

    def add(self, key: bytes, ref: str, display: str) -> None:
        """A destination entry (by its `sync_key`) that no source entry matched."""
        self.db.execute(
            "INSERT OR REPLACE INTO extra VALUES (?, ?, ?)", (key, _text(ref), _text(display))
        )

    def add_folder(self, key: bytes, ref: str, display: str) -> None:
        """A destination folder (by its key) that no source folder matched."""
        self.db.execute(
            "INSERT OR REPLACE INTO folders VALUES (?, ?, ?, ?)",
            (key, key.count(b"/"), _text(ref), _text(display)),
        )

    def imply_parents(self, key: bytes) -> None:
        """The source has an entry with this merge key: its folders (keyed 'path/', as the
        merge keys folders) are the source's too. Entries come in key order, so one folder's
        entries follow each other: each folder is marked once."""
        parent = key.rstrip(b"/").rpartition(b"/")[0]
        if not parent or parent == self._last_parent:
            return
        self._last_parent = parent
        parts = parent.split(b"/")
        self.db.executemany(
            "INSERT OR IGNORE INTO implied VALUES (?)",
            [(b"/".join(parts[: i + 1]) + b"/",) for i in range(len(parts))],
        )

    def protect(self, key: bytes) -> None:
        """Never delete the entry with this key, nor anything below it."""
        self.db.execute("INSERT OR IGNORE INTO protected VALUES (?)", (key,))

    def _protected(self, key: bytes) -> bool:
        parts = key.split(b"/")
        prefixes = [b"/".join(parts[: i + 1]) for i in range(len(parts))]
        marks = ",".join("?" * len(prefixes))
        row = self.db.execute(
            f"SELECT 1 FROM protected WHERE key IN ({marks}) LIMIT 1", prefixes
        ).fetchone()
        return row is not None

    def candidates(self) -> Iterator[tuple[str, str]]:
        """(ref, display) of every unprotected extra entry, in key order."""
        cursor = self.db.execute("SELECT key, ref, display FROM extra ORDER BY key")
        while rows := cursor.fetchmany(512):
            for key, ref, display in rows:
                if not self._protected(key):
                    yield _untext(ref), _untext(display)

    def folder_candidates(self) -> Iterator[tuple[int, str, str]]:
        """(depth, ref, display) of every unprotected extra folder, deepest first (a folder
        can be deleted only once what was in it is gone)."""
        cursor = self.db.execute(
            "SELECT key, depth, ref, display FROM folders "
            "WHERE key NOT IN (SELECT key FROM implied) ORDER BY depth DESC, key DESC"
        )
        while rows := cursor.fetchmany(512):
            for key, depth, ref, display in rows:
                if not self._protected(key):
                    yield depth, _untext(ref), _untext(display)

    def count(self) -> int:
        """How many entries `candidates` yields."""
        return sum(1 for _ in self.candidates())

    def close(self) -> None:
        """Close the database (which deletes its file)."""
        self.db.close()


def _text(value: str) -> str:
    """SQLite text must be valid UTF-8: keep undecodable local names' bytes reversibly."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return "\x00b:" + value.encode("utf-8", "surrogateescape").hex()


def _untext(value: str) -> str:
    if value.startswith("\x00b:"):
        return bytes.fromhex(value[3:]).decode("utf-8", "surrogateescape")
    return value
