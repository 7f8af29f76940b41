"""The journal's tables. One SQLite file per job; every state change is a committed transaction.

Table jobs (export, import) use the `table_*` tables instead of `transfer` and `chunk`:
`table_run` (facts of the run a resume must reuse, e.g. the export's time stamp),
`table_range` (per partition-key range of an export: its completed data files and the
point after them: where the page it falls in starts and the keys of the last entity before
it) and `table_batch` (per import source, the batches the service
confirmed).

Nothing secret is stored: locations are kept without their query (SAS), and options hold no
keys. Journal files are created with mode 0600.
"""

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS job (
    id TEXT PRIMARY KEY,
    command TEXT NOT NULL,
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    options TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    status TEXT NOT NULL,
    enumerated INTEGER NOT NULL DEFAULT 0,
    schema_version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transfer (
    id INTEGER PRIMARY KEY,
    source_ref TEXT NOT NULL UNIQUE,
    rel_path TEXT NOT NULL,
    dest_ref TEXT NOT NULL,
    dest_display TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime REAL,
    etag TEXT,
    md5 BLOB,
    entry TEXT NOT NULL,
    props TEXT NOT NULL,
    chunk_size INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS transfer_state ON transfer(state);
CREATE TABLE IF NOT EXISTS table_run (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS table_range (
    idx INTEGER PRIMARY KEY,
    files TEXT NOT NULL,
    page_pk TEXT,
    page_rk TEXT,
    last_pk TEXT,
    last_rk TEXT,
    done INTEGER NOT NULL,
    entities INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS table_batch (
    source TEXT NOT NULL,
    idx INTEGER NOT NULL,
    entities INTEGER NOT NULL,
    PRIMARY KEY (source, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunk (
    transfer_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    PRIMARY KEY (transfer_id, idx)
) WITHOUT ROWID;
"""
