"""Where an export's files live, as `ExportFolder`: whole small files (the manifest, schemas),
data files written as a stream and named only once complete (their name holds their CRC), and
data files read back as a stream of pieces. `LocalFolder` here; a Blob container's is
`tables.blobstore.BlobFolder`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from azxfer.errors import IntegrityError, UsageError

# The piece a data file is read in.
READ_PIECE = 1024 * 1024


class DataSink(Protocol):
    """A data file being written: nothing of it has a data file's name until `finish`."""

    async def write(self, data: bytes) -> None:
        """Append `data`."""

    async def finish(self, name: str) -> None:
        """Make the file complete under `name`."""

    async def abort(self) -> None:
        """Discard what was written; never raises."""


class ExportFolder(Protocol):
    """The folder of one export."""

    def display(self, name: str) -> str:
        """How messages name the file `name` of the folder."""

    async def prepare(self) -> None:
        """Make the folder ready to be written."""

    async def exists(self, name: str) -> bool:
        """Whether the folder holds `name`."""

    async def read_small(self, name: str) -> bytes:
        """The bytes of a small file (a manifest, a schema); UsageError if it is missing."""

    async def write_small(self, name: str, data: bytes) -> None:
        """Write a small file whole."""

    async def open_data(self, partial: str) -> DataSink:
        """A data file written as a stream, known as `partial` until it is finished."""

    async def size(self, name: str) -> int | None:
        """The size of `name`, None if it is missing."""

    def pieces(self, name: str) -> AsyncIterator[bytes]:
        """The bytes of `name`, piece by piece."""


class _LocalSink:
    def __init__(self, folder: Path, partial: str) -> None:
        self.path = folder / partial
        self.out = self.path.open("wb")

    async def write(self, data: bytes) -> None:
        self.out.write(data)

    async def finish(self, name: str) -> None:
        self.out.close()
        self.path.rename(self.path.parent / name)

    async def abort(self) -> None:
        self.out.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


class LocalFolder:
    """An export's folder on this machine."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def display(self, name: str) -> str:
        return str(self.path / name)

    async def prepare(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    async def exists(self, name: str) -> bool:
        return (self.path / name).exists()

    async def read_small(self, name: str) -> bytes:
        path = self.path / name
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise UsageError(f"{path} does not exist") from None
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None

    async def write_small(self, name: str, data: bytes) -> None:
        (self.path / name).write_bytes(data)

    async def open_data(self, partial: str) -> DataSink:
        return _LocalSink(self.path, partial)

    async def size(self, name: str) -> int | None:
        try:
            return (self.path / name).stat().st_size
        except FileNotFoundError:
            return None

    async def pieces(self, name: str) -> AsyncIterator[bytes]:
        try:
            stream = (self.path / name).open("rb")
        except FileNotFoundError:
            raise IntegrityError(f"data file {self.path / name} is missing") from None
        with stream:
            while piece := stream.read(READ_PIECE):
                yield piece
