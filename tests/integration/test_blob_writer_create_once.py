"""A page or append blob is created once, whichever of its concurrently written chunks asks
first: a second Create Page Blob would make a new, empty blob and erase the pages already
written (seen as a 4 MiB run of zeros in a page blob streamed from a share)."""

from __future__ import annotations

import asyncio
import os

from azure.storage.blob.aio import BlobClient

from azxfer.endpoints.blob.handles import LazyBlob
from azxfer.endpoints.blob.writers import PageBlobWriter
from azxfer.models import Chunk, WriteProps

CHUNK = 512 * 1024
CHUNKS = 12


def _classify(exc: BaseException, what: str) -> Exception:
    return RuntimeError(f"{what}: {exc}")


async def _write_concurrently(azurite, container: str, name: str, data: bytes) -> bytes:
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={azurite.account};"
        f"AccountKey={azurite.key};BlobEndpoint={azurite.blob_endpoint};"
    )
    async with BlobClient.from_connection_string(conn, container, name) as client:
        writer = PageBlobWriter(
            LazyBlob(name, lambda: client), len(data), WriteProps(), name, _classify
        )
        chunks = [Chunk(i, i * CHUNK, CHUNK) for i in range(CHUNKS)]
        await asyncio.gather(
            *(writer.write_chunk(c, data[c.offset : c.offset + c.length]) for c in chunks)
        )
        return await (await client.download_blob()).readall()


def test_every_page_written_concurrently_is_kept(azurite, container):
    data = os.urandom(CHUNK * CHUNKS)
    for attempt in range(3):
        stored = asyncio.run(_write_concurrently(azurite, container, f"p{attempt}", data))
        if stored != data:
            zeros = [
                i
                for i in range(CHUNKS)
                if stored[i * CHUNK : (i + 1) * CHUNK] != data[i * CHUNK : (i + 1) * CHUNK]
            ]
            raise AssertionError(f"attempt {attempt}: chunks {zeros} lost")
