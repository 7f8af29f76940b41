"""How tests put data into storage through the SDKs before a run: blobs, a container, a share
tree, a table. A size given as an int becomes deterministic bytes (`helpers.data_for`), so a
test can compare what it seeded with what a run wrote."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from azure.core.exceptions import ResourceExistsError, ServiceResponseError
from azure.data.tables import TableTransactionError
from helpers import data_for, md5


def fresh_name(prefix: str, length: int = 20) -> str:
    """A unique container, share or table name: `prefix` and `length` hex digits."""
    return prefix + uuid.uuid4().hex[:length]


def as_bytes(items: Mapping[str, bytes | int]) -> dict[str, bytes]:
    """name → bytes, an int size becoming deterministic bytes of that size."""
    return {
        name: data_for(name, content) if isinstance(content, int) else content
        for name, content in items.items()
    }


# -- Blob ------------------------------------------------------------------------------------


def seed_blobs(
    container_client, blobs: Mapping[str, bytes | int], *, workers: int = 1, **kwargs: Any
) -> dict[str, bytes]:
    """Upload `blobs` (overwriting), `kwargs` passed to each upload (metadata=, tags=, ...);
    `workers` > 1 uploads that many at once (for the tests that need thousands).
    Returns name → bytes."""
    data = as_bytes(blobs)

    def upload(name: str) -> None:
        container_client.upload_blob(name, data[name], overwrite=True, **kwargs)

    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(upload, data))
    else:
        for name in data:
            upload(name)
    return data


@contextlib.contextmanager
def temporary_container(blob_service, prefix: str = "c") -> Iterator[Any]:
    """A new, empty container (its ContainerClient), deleted afterwards."""
    client = blob_service.create_container(fresh_name(prefix))
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):  # the test may have deleted it itself
            client.delete_container()


# -- Azure Files -----------------------------------------------------------------------------


def fresh_share(share_service, prefix: str = "s", **kwargs: Any) -> Any:
    """A new, empty share (its ShareClient), `kwargs` passed to Create Share (quota=, ...)."""
    return share_service.create_share(fresh_name(prefix), **kwargs)


def seed_share(
    share,
    files: Mapping[str, bytes | int],
    *,
    dirs: Iterable[str] = (),
    content_md5: bool = False,
    content_type: str | None = None,
    **kwargs: Any,
) -> dict[str, bytes]:
    """Make `dirs` and every file's directories (parents first; ones already there are kept),
    then upload the files, `kwargs` passed to each upload (metadata=, ...). `content_md5`
    stores each file's MD5 as azxfer's uploads do (the SDK stores none of its own accord).
    Returns path → bytes."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.fileshare import ContentSettings

    data = as_bytes(files)
    wanted = set(dirs)
    for path in data:
        parts = path.split("/")[:-1]
        wanted |= {"/".join(parts[: i + 1]) for i in range(len(parts))}
    for directory in sorted(wanted, key=lambda d: (d.count("/"), d)):
        with contextlib.suppress(ResourceExistsError):
            share.get_directory_client(directory).create_directory()
    for path, body in data.items():
        if content_md5 or content_type:
            kwargs["content_settings"] = ContentSettings(
                content_type=content_type, content_md5=md5(body) if content_md5 else None
            )
        share.get_file_client(path).upload_file(body, **kwargs)
    return data


# -- Tables ----------------------------------------------------------------------------------


def insert_entities(table_client, entities: Iterable[Mapping[str, Any]], *, batch: int = 0):
    """Insert `entities` one request each, or with `batch` > 0 in transactions of up to that
    many (a transaction holds one partition: each run of equal PartitionKeys is split alone).

    Each insert is a POST, which the SDK does not send again when the emulator closed the
    connection without an answer (seen once in CI): `_again` does, and takes "already
    exists" on the second try as the first one having been done (a transaction is atomic)."""
    if batch <= 0:
        for entity in entities:
            _again(lambda entity=entity: table_client.create_entity(entity))
        return
    for _, run in itertools.groupby(entities, key=lambda e: e["PartitionKey"]):
        rows = list(run)
        for start in range(0, len(rows), batch):
            ops = [("create", e) for e in rows[start : start + batch]]
            _again(lambda ops=ops: table_client.submit_transaction(ops))


def seed_table(tables, name: str, entities: Iterable[Mapping[str, Any]] = (), *, batch: int = 0):
    """Create table `name` and insert `entities` (see insert_entities); its TableClient."""
    _again(lambda: tables.create_table(name))
    client = tables.get_table_client(name)
    insert_entities(client, entities, batch=batch)
    return client


def _again(call, attempts: int = 3) -> None:
    """`call()` (a create), sent again when the connection closed before any answer came."""
    for attempt in range(attempts):
        try:
            call()
            return
        except ServiceResponseError:
            if attempt == attempts - 1:
                raise
        except (ResourceExistsError, TableTransactionError) as error:
            already = getattr(error, "error_code", None) in _EXISTS
            if attempt == 0 or not already:
                raise
            return


_EXISTS = ("EntityAlreadyExists", "TableAlreadyExists")
