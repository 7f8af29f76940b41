"""The Azure Files REST requests azxfer sends: which path, query and headers each operation
has, and what its answer means. Sending, signing, retries and the classification of answers
(with Files' codes) are the service-neutral `transport.rest`'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container

from azxfer.credentials import Credential
from azxfer.endpoints.denials import denials_of
from azxfer.endpoints.files.errors import FILE_ERRORS
from azxfer.endpoints.files.requests import (
    API_VERSION,
    LIST_INCLUDE,
    UNFINISHED_TIME,
    content_headers,
    file_path,
    list_query,
    metadata_headers,
)
from azxfer.errors import AzxferError
from azxfer.models import ContentProps
from azxfer.transport.classify import ErrorAnswer, classify_answer
from azxfer.transport.headers import Headers
from azxfer.transport.pool import HttpPool
from azxfer.transport.rest import (
    ALL_BUT_BUSY,
    Consumer,
    ServerErrorAttempts,
    StorageRestClient,
)
from azxfer.transport.retry import RetryPolicy
from azxfer.transport.signer import Signer
from azxfer.transport.signing import authorizer_for
from azxfer.transport.wire import b64, read_headers

# A missing file or directory is an answer, not an error, where a caller asks whether it is.
_MISSING = frozenset({404})
# Create Directory: one that exists already is what was asked for.
_EXISTS = frozenset({409})


class FileRestClient:
    """Signs and sends Azure Files requests to one share with one credential."""

    def __init__(
        self,
        pool: HttpPool,
        endpoint: str,
        share: str,
        credential: Credential | None,
        retry: RetryPolicy,
    ) -> None:
        signer = Signer(endpoint, authorizer_for(credential), API_VERSION)
        explain = denials_of(credential, "file")
        self.rest = StorageRestClient(pool, signer, retry, FILE_ERRORS, explain)
        self.share = share
        # How messages name the share: "'s' at URL" (when it is missing, or full).
        self.where = f"'{share}' at {signer.endpoint}"
        # An Entra ID token is honoured by the File service only for requests that say they
        # act with backup semantics (the token's RBAC role decides the rest).
        token = credential is not None and credential.kind == "token"
        self.base = {"x-ms-file-request-intent": "backup"} if token else {}

    async def _send(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        what: str,
        body: bytes | None = None,
        keep: Container[int] = (),
        attempts: ServerErrorAttempts | None = None,
    ) -> tuple[int, Headers, bytes]:
        if self.base:
            headers = {**self.base, **headers}
        return await self.rest.send(
            method,
            file_path(self.share, path),
            query,
            headers,
            body,
            what,
            parent=self.share,  # the client names it "'s' at URL"
            keep=keep,
            server_error_attempts=attempts,
        )

    # -- shares and directories --------------------------------------------------------------

    async def share_status(self) -> tuple[int, str]:
        """Get Share Properties: (status, error code); the caller judges the answer."""
        status, headers, _ = await self._send(
            "HEAD", "", {"restype": "share"}, {}, f"share {self.where}", keep=ALL_BUT_BUSY
        )
        return status, headers.get("x-ms-error-code", "")

    async def create_share(self, quota_gb: int | None = None) -> bool:
        """Create Share with a quota in GiB (None: the service's default): True when made,
        False when it exists already; any other refusal is raised, classified."""
        headers = {"x-ms-share-quota": str(quota_gb)} if quota_gb is not None else {}
        what = f"share {self.where}"
        status, answer, _ = await self._send(
            "PUT", "", {"restype": "share"}, headers, what, keep=ALL_BUT_BUSY
        )
        if status < 300:
            return True
        code = answer.get("x-ms-error-code", "")
        if status == 409 and code == "ShareAlreadyExists":
            return False
        raise classify_answer(ErrorAnswer(status, code, what, parent=self.where), FILE_ERRORS)

    async def directory_exists(self, path: str) -> bool:
        """Get Directory Properties: whether `path` is a directory ('' : the share root)."""
        status, headers, _ = await self._send(
            "HEAD", path, {"restype": "directory"}, {}, f"directory '{path}'", keep=_MISSING
        )
        return self._found(status, headers, f"directory '{path}'")

    async def create_directory(self, path: str, smb: dict[str, str] | None = None) -> None:
        """Create Directory, with SMB headers (`smb_headers`, and a last-write time) if
        given; one that exists already is fine (and keeps its properties)."""
        status, headers, _ = await self._send(
            "PUT", path, {"restype": "directory"}, smb or {}, f"directory '{path}'", keep=_EXISTS
        )
        code = headers.get("x-ms-error-code", "")
        if status == 409 and code != "ResourceAlreadyExists":
            raise self._error(status, code, f"directory '{path}'")

    async def set_directory_properties(self, path: str, smb: dict[str, str]) -> None:
        """Set Directory Properties: the SMB headers given (the others are kept)."""
        query = {"restype": "directory", "comp": "properties"}
        await self._send("PUT", path, query, smb, f"directory '{path}'")

    async def delete_directory(self, path: str) -> bool:
        """Delete Directory: False if something is still in it (409 DirectoryNotEmpty); one
        already gone is fine."""
        status, headers, _ = await self._send(
            "DELETE",
            path,
            {"restype": "directory"},
            {},
            f"directory '{path}'",
            keep=_MISSING | _EXISTS,
        )
        code = headers.get("x-ms-error-code", "")
        if status == 409 and code != "DirectoryNotEmpty":
            raise self._error(status, code, f"directory '{path}'")
        self._found(status, headers, f"directory '{path}'")  # a missing share is an error
        return status != 409

    async def list_page(
        self, path: str, marker: str, prefix: str = "", include: str = LIST_INCLUDE
    ) -> bytes:
        """One page of List Directories and Files of directory `path` ('' : the share root),
        with the properties `include` names (by default times, ETags, attributes and
        permission keys)."""
        what = (
            f"listing directory '{path}' of share {self.where}"
            if path
            else (f"listing share {self.where}")
        )
        headers = {"x-ms-file-extended-info": "true"}
        answer = await self._send("GET", path, list_query(marker, prefix, include), headers, what)
        return answer[2]

    # -- files -------------------------------------------------------------------------------

    async def file_properties(self, path: str) -> Headers | None:
        """Get File Properties: the answer's headers, or None if there is no such file."""
        status, headers, _ = await self._send("HEAD", path, {}, {}, f"file '{path}'", keep=_MISSING)
        return headers if self._found(status, headers, f"file '{path}'") else None

    async def create_file(
        self,
        path: str,
        size: int,
        content: ContentProps,
        metadata: dict[str, str] | None,
        md5: bytes | None = None,
        last_write_time: str = UNFINISHED_TIME,
        smb: dict[str, str] | None = None,
    ) -> None:
        """Create File of `size` bytes (zeros until written) with its content headers,
        metadata and SMB headers (`smb_headers`); its last-write time says it is unfinished
        unless told otherwise."""
        headers = {
            "x-ms-type": "file",
            "x-ms-content-length": str(size),
            **(smb or {}),
            "x-ms-file-last-write-time": last_write_time,
        }
        headers.update(content_headers(content, b64(md5) if md5 is not None else None))
        headers.update(metadata_headers(metadata))
        await self._send("PUT", path, {}, headers, f"file '{path}'")

    async def put_range(self, path: str, offset: int, data: bytes, md5: bytes) -> None:
        """Put Range with a transactional MD5; the file's last-write time is left as it is."""
        headers = {
            "x-ms-range": f"bytes={offset}-{offset + len(data) - 1}",
            "x-ms-write": "update",
            "Content-MD5": b64(md5),
            "x-ms-file-last-write-time": "preserve",
        }
        await self._send("PUT", path, {"comp": "range"}, headers, f"file '{path}'", data)

    async def set_properties(
        self,
        path: str,
        content: ContentProps,
        md5: bytes | None,
        last_write_time: str,
        smb: dict[str, str] | None = None,
    ) -> None:
        """Set File Properties: the content headers (all of them: the call replaces them),
        the whole-file MD5 (None: none), the last-write time and SMB headers."""
        headers = content_headers(content, b64(md5) if md5 is not None else None)
        headers.update(smb or {})
        headers["x-ms-file-last-write-time"] = last_write_time
        await self._send("PUT", path, {"comp": "properties"}, headers, f"file '{path}'")

    async def range_list(self, path: str) -> bytes:
        """List Ranges: the XML of the ranges written so far."""
        answer = await self._send("GET", path, {"comp": "rangelist"}, {}, f"file '{path}'")
        return answer[2]

    async def set_file_metadata(self, path: str, metadata: dict[str, str]) -> None:
        """Set File Metadata: the file's metadata becomes `metadata` (empty: none)."""
        headers = metadata_headers(metadata)
        await self._send("PUT", path, {"comp": "metadata"}, headers, f"file '{path}'")

    async def delete_file(self, path: str) -> bool:
        """Delete File: whether there was one."""
        status, headers, _ = await self._send(
            "DELETE", path, {}, {}, f"file '{path}'", keep=_MISSING
        )
        return self._found(status, headers, f"file '{path}'")

    # -- server-side copies and permissions ---------------------------------------------------

    async def put_range_from_url(
        self,
        path: str,
        offset: int,
        length: int,
        source_url: str,
        attempts: ServerErrorAttempts | None = None,
        source_headers: dict[str, str] | None = None,
    ) -> None:
        """Put Range From URL: bytes [offset, offset+length) of the source (a file or a blob
        the service reads itself, `source_url` or `source_headers` carrying its read
        authorization) written at the same offset; the file's last-write time is left as
        it is."""
        span = f"bytes={offset}-{offset + length - 1}"
        headers = {
            "x-ms-range": span,
            "x-ms-source-range": span,
            "x-ms-write": "update",
            "x-ms-copy-source": source_url,
            "x-ms-file-last-write-time": "preserve",
            **(source_headers or {}),
        }
        query = {"comp": "range"}
        await self._send("PUT", path, query, headers, f"file '{path}'", attempts=attempts)

    async def start_copy(
        self,
        path: str,
        source_url: str,
        metadata: dict[str, str] | None,
        smb: dict[str, str],
        attempts: ServerErrorAttempts | None = None,
    ) -> tuple[str, str]:
        """Copy File from `source_url` (a file or a blob): (copy ID, copy status)."""
        headers = {"x-ms-copy-source": source_url, **smb, **metadata_headers(metadata)}
        if "x-ms-file-permission-key" in smb:
            headers["x-ms-file-permission-copy-mode"] = "override"
        answer = await self._send("PUT", path, {}, headers, f"file '{path}'", attempts=attempts)
        return answer[1].get("x-ms-copy-id", ""), answer[1].get("x-ms-copy-status", "success")

    async def abort_copy(self, path: str, copy_id: str) -> None:
        """Abort Copy File: the pending copy stops, the file is left zero-length."""
        query = {"comp": "copy", "copyid": copy_id}
        headers = {"x-ms-copy-action": "abort"}
        await self._send("PUT", path, query, headers, f"file '{path}'")

    async def get_permission(self, key: str) -> str:
        """Get Permission: the security descriptor (SDDL) a permission key names."""
        query = {"restype": "share", "comp": "filepermission"}
        headers = {"x-ms-file-permission-key": key}
        answer = await self._send("GET", "", query, headers, f"permissions of share {self.where}")
        return str(json.loads(answer[2])["permission"])

    async def create_permission(self, sddl: str) -> str:
        """Create Permission: the share's key for the security descriptor `sddl`."""
        query = {"restype": "share", "comp": "filepermission"}
        body = json.dumps({"permission": sddl}).encode()
        headers = {"Content-Type": "application/json"}
        what = f"permissions of share {self.where}"
        answer = await self._send("PUT", "", query, headers, what, body)
        return answer[1].get("x-ms-file-permission-key", "")

    async def get_range(
        self, path: str, offset: int, length: int, etag: str | None
    ) -> tuple[bytes, Headers]:
        """Get File for bytes [offset, offset+length) and the answer's headers; the answer
        must carry `etag`."""
        headers = read_headers(offset, offset + length, None, False)
        if self.base:
            headers.update(self.base)
        what = f"file '{path}'"
        answer = await self.rest.send(
            "GET",
            file_path(self.share, path),
            {},
            headers,
            None,
            what,
            parent=self.share,  # the client names it "'s' at URL"
            expect=length,
            expect_end=offset + length,
            expect_etag=etag,
        )
        return answer[2], answer[1]

    async def get_range_to(
        self,
        path: str,
        offset: int,
        length: int,
        etag: str | None,
        consume: Consumer,
        on_headers: Callable[[Headers], None] | None = None,
    ) -> None:
        """Get File for bytes [offset, offset+length), streamed to `consume`; every answer
        must carry `etag` (the service takes no If-Match on reads); `on_headers` sees each
        answer's headers."""
        await self.rest.get_range_to(
            file_path(self.share, path),
            offset,
            length,
            etag,
            consume,
            f"file '{path}'",
            parent=self.share,  # the client names it "'s' at URL"
            etag_in_answer=True,
            on_headers=on_headers,
        )

    def _found(self, status: int, headers: Headers, what: str) -> bool:
        """Whether a request kept for its 404 found its object: a missing share is an error
        (the job's), a missing file or directory an answer."""
        if status != 404:
            return True
        code = headers.get("x-ms-error-code", "")
        if code == "ShareNotFound":
            raise self._error(status, code, what)
        return False

    def _error(self, status: int, code: str, what: str) -> AzxferError:
        """The error of an answer kept for the caller to judge."""
        return classify_answer(ErrorAnswer(status, code, what, parent=self.where), FILE_ERRORS)
