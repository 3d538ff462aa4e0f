"""Dropping the recognised fields of old rows from a journal (``batch-ocr-forget``).

Storage limitation (docs/security.md): an office keeps names, ID numbers and
addresses no longer than it needs them. Forgetting a row keeps what exactly-once needs
(the file's path, size and mtime, the content's sha256, the status, the page and card,
which engine read it) and drops every recognised field, the portrait's link and file
name, the order number and the confidences; the row then says why its fields are empty
(``error_code`` ``forgotten``). The file is still done, so a rerun pays nothing for it,
and the same content under another name is still not paid again: it gets the forgotten
row too. The output is rebuilt from the journal by the next run, so it loses the fields
as well. Answers kept for pages left unfinished that long are dropped whole (such a page
pays its cards again). Freed pages are zeroed and the file is compacted, so the fields
do not linger in it.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from dataclasses import dataclass

from batch_ocr.run.journal.state import Journal, rows_to_json
from batch_ocr.run.present.rows import Row

#: ``error_code`` of a row whose fields were dropped.
FORGOTTEN = "forgotten"
#: Kept in a forgotten row: what the table needs to say which file it was and what
#: became of it; every other column goes back to its empty default.
KEPT_COLUMNS = ("file", "status", "side", "error_code", "error_message", "attempts",
                "sha256", "fitted", "engine", "page", "card")


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What ``forget_older_than`` did."""

    rows: int  # rows whose fields were dropped
    kept: int  # rows recorded since the cut-off, left as they were
    answers: int  # kept answers of unfinished pages dropped


def forgotten_row(row: Row, days: float) -> Row:
    """``row`` without its recognised fields; itself when it holds none."""
    kept = {name: getattr(row, name) for name in KEPT_COLUMNS}
    bare = Row(**kept)
    if bare == row:
        return row  # a refused file, an error: nothing personal to drop
    if not row.error_code:
        kept.update(error_code=FORGOTTEN,
                    error_message=f"fields dropped from the state journal after {days:g} "
                    "days (batch-ocr-forget)")
    return dataclasses.replace(bare, **kept)


def forget_older_than(journal: Journal, days: float, *, now: float | None = None
                      ) -> Forgotten:
    """Drop the fields of every row recorded more than ``days`` ago (see above)."""
    cutoff = (time.time() if now is None else now) - days * 86400
    db = journal.connection()
    old = db.execute("SELECT path, page, row_json FROM files WHERE updated_at < ?",
                     (cutoff,)).fetchall()
    kept = db.execute("SELECT COUNT(*) FROM files WHERE updated_at >= ?",
                      (cutoff,)).fetchone()[0]
    changed = []
    for path, page, stored in old:
        rows = journal.stored_rows(stored)
        bare = [forgotten_row(row, days) for row in rows]
        if bare != rows:
            changed.append((journal.sealed_if_keyed(rows_to_json(bare)), path, page))
    db.execute("PRAGMA secure_delete = ON")  # freed pages zeroed, not left readable
    db.execute("BEGIN")
    try:
        db.executemany("UPDATE files SET row_json = ? WHERE path = ? AND page = ?", changed)
        answers = db.execute("DELETE FROM paid_answers WHERE updated_at < ?",
                             (cutoff,)).rowcount
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    _compact(db)
    return Forgotten(rows=len(changed), kept=int(kept), answers=answers)


def _compact(db: sqlite3.Connection) -> None:
    """Fold the write-ahead log into the file and rebuild it without free pages."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
