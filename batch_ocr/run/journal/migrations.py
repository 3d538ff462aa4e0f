"""The state journal's schema, as the migrations that build it (``state.Journal``
applies those it has not run yet, in one transaction each; ``PRAGMA user_version``
holds how many ran).

Since the second, each migration only adds a table: a journal written by a later version
still opens in an earlier one, which ignores the tables it does not know and keeps
writing its own.
"""

from __future__ import annotations

#: Schema migrations, applied in order; ``PRAGMA user_version`` holds how many ran.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE files (
        path BLOB PRIMARY KEY,
        rel TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        status TEXT NOT NULL,
        retryable INTEGER NOT NULL,
        row_json TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX files_by_sha256 ON files (sha256);
    """,
    # Pages (docs/documents.md): one row per (path, page); rows of earlier versions are
    # whole files, page 0 of a one-row version.
    """
    CREATE TABLE files_by_page (
        path BLOB NOT NULL,
        page INTEGER NOT NULL,
        page_count INTEGER NOT NULL,
        rel TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        status TEXT NOT NULL,
        retryable INTEGER NOT NULL,
        row_json TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (path, page)
    );
    INSERT INTO files_by_page
        SELECT path, 0, 1, rel, size, mtime_ns, sha256, status, retryable, row_json,
               updated_at
        FROM files;
    DROP TABLE files;
    ALTER TABLE files_by_page RENAME TO files;
    CREATE INDEX files_by_sha256 ON files (sha256);
    """,
    # Answers paid for a part of a page (a card) before the page's rows exist
    # (docs/documents.md). Earlier versions ignore the table; their journals gain it empty.
    """
    CREATE TABLE paid_answers (
        engine TEXT NOT NULL,
        key TEXT NOT NULL,
        answer_json TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (engine, key)
    );
    """,
    # The version of the engine that read each page (``Engine.version``), for
    # ``--redo-engine-older-than`` (docs/resume.md). A table of its own, not
    # columns of ``files``: earlier versions insert whole ``files`` rows and ignore it.
    # A page counts as described only while ``recorded_at`` is its ``files.updated_at``:
    # a page an earlier version recorded again since has no known version.
    """
    CREATE TABLE engine_versions (
        path BLOB NOT NULL,
        page INTEGER NOT NULL,
        engine TEXT NOT NULL,
        version TEXT NOT NULL,
        recorded_at REAL NOT NULL,
        PRIMARY KEY (path, page)
    );
    """,
    # Sealed fields (docs/security.md): the key's salt and check. Earlier versions
    # ignore the table, and cannot read a sealed journal (they say it is damaged).
    """
    CREATE TABLE journal_meta (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
)
