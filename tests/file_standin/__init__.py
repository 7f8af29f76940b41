"""A loopback, in-memory stand-in for the Azure Files REST service (no emulator has Files).

What it implements (path style: ``http://127.0.0.1:PORT/ACCOUNT/SHARE/DIR/FILE``; each
operation's headers, XML and error codes as the File REST docs and the azure-storage-file-share
SDK's generated operations describe them; x-ms-version 2019-02-02 and any newer one)
---------------------------------------------------------------------------------------------
Account     List Shares (prefix, marker, maxresults, include=metadata).
Shares      Create (x-ms-share-quota, metadata), Get Properties, Set Properties (quota),
            Set Metadata, Delete, Get Stats, Create/Get Permission (comp=filepermission, JSON).
Directories Create (SMB x-ms-file-attributes / -creation-time / -last-write-time /
            -change-time, x-ms-file-permission / -permission-key, metadata), Get Properties,
            Set Properties, Set Metadata, Delete (409 DirectoryNotEmpty), List Directories and
            Files (prefix, marker/NextMarker, maxresults, include=Timestamps,ETag,Attributes,
            PermissionKey, x-ms-file-extended-info: FileId and DirectoryId).
Files       Create (x-ms-content-length, x-ms-content-* and x-ms-cache-control, SMB headers,
            metadata), Put Range (update/clear, x-ms-range or Range, <= 4 MiB, Content-MD5
            checked), Put Range From URL, Get File (whole or ranged, x-ms-range-get-content-md5,
            416 InvalidRange), Get Properties (HEAD: content, SMB, lease and copy headers), Set
            Properties (resize; content headers replaced, an absent one cleared, as documented;
            SMB values or 'preserve'/'now'), Set Metadata, List Ranges (comp=rangelist, Range,
            marker/maxresults), Delete, Lease (acquire/change/release/break, infinite only),
            Copy File and Abort Copy File.
Copies      The source (x-ms-copy-source, a file or a blob, e.g. on Azurite) is read by an
            HTTP GET of its URL with its SAS, or x-ms-copy-source-authorization, or (Copy File
            of a source in an account the stand-in knows, SharedKey request) signed with that
            account's key. Loopback sources only. A source that cannot be read answers
            CannotVerifyCopySource. Copy File copies metadata (unless the request gives some)
            and content headers; x-ms-file-*: source takes the source file's SMB value.
Auth        SharedKey (the Blob/File string-to-sign, 15 minutes of clock skew), File service SAS
            (sr=s|f, sp r/c/w/d/l checked per operation, 'c' only for what does not exist yet,
            st/se/sip/spr) and account SAS (ss must hold f; srt s/c/o). Bad signature, expired:
            403 AuthenticationFailed; missing permission: 403 AuthorizationPermissionMismatch;
            none: 401 NoAuthenticationInformation. Helpers shared with blob_standin: storage_auth.
Errors      Azure's XML body and x-ms-error-code: ShareNotFound, ShareAlreadyExists,
            ParentNotFound, ResourceNotFound, ResourceAlreadyExists, DirectoryNotEmpty,
            ShareSizeLimitReached (413; the quota in GiB over the sum of file sizes),
            InvalidRange, Md5Mismatch, InvalidHeaderValue, LeaseIdMissing, SharingViolation,
            InvalidResourceName (" \\ : | < > * ? and control characters, trailing dot or space,
            components over 255, paths over 2,048), CannotVerifyCopySource, ...
Names       case-insensitive and case-preserving, as on the real service.
Storage     sparse: a file keeps only the ranges written (a 256 MiB Create costs nothing);
            a Put Range body is copied once, from the socket into its place.

Switches (FileStandIn attributes, changeable while it runs)
-----------------------------------------------------------
pending_polls   None: Copy File completes at once. N: it answers pending and completes on the
                (N+1)-th Get File Properties of the destination (progress advances meanwhile).
hold_pending    pending copies never complete (for abort tests).
open_handles    a set of (account, share, path): writes, resizes and deletes there answer
                409 SharingViolation, as an SMB client's open handle makes them.

For tests: `requests` (method, raw path, decoded query, operation name, status) and
`requests_of("PutRange", ...)`; `errors` lists unexpected handler exceptions (the fixture
fails a test that leaves any); `service.store` is the data itself.

Usage
-----
The ``file_standin`` fixture (tests/conftest.py: fresh and empty for each test), or
``with FileStandIn({"acct": KEY}) as standin: standin.connection_string("acct")``, or on its
own: ``scripts/file-standin [--port P] [--account NAME:KEY]`` prints the endpoint and a
connection string (``FileEndpoint=http://127.0.0.1:P/devstoreaccount1``) and stops on Ctrl-C.

Speed (``python -m file_standin.measure``, 2-core machine, client in another process): 2,000
small files (Create + 4 KiB Put Range + Set Properties) cost ~4,500 requests per server
CPU-second; 4 MiB Put Range ~700 MiB and ranged Get ~2,500 MiB per server CPU-second — the
Python client, not the server, is the limit.

What it does not do
-------------------
Share snapshots, share leases, stored access policies and user-delegation SAS, Entra ID
tokens, handles APIs (list/force-close), rename, symbolic/hard links, NFS properties, CRC64 and
structured-message bodies, service properties (CORS, metrics), soft delete, HTTPS. Put Range
returns Content-MD5 only when the request sent one (to keep hashing off the hot path).
Unknown operations answer 400 UnsupportedHttpVerb. Not persistent: everything is in memory.
"""

from .server import WELL_KNOWN_ACCOUNT, WELL_KNOWN_KEY, FileStandIn, Recorded

__all__ = ["WELL_KNOWN_ACCOUNT", "WELL_KNOWN_KEY", "FileStandIn", "Recorded"]
