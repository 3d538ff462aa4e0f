"""Recognised fields sealed in the state journal (docs/security.md).

With ``BATCH_OCR_JOURNAL_KEY`` (or ``journal_key`` in the config file) every row and
every kept answer the journal stores is sealed with AES-256-GCM (authenticated: a
changed byte or a wrong key is detected, never read as data) under a key derived from
the secret by scrypt with the journal's own random salt. What exactly-once needs stays
in clear beside it: the file's path, size and mtime, the content's sha256, the status.

The secret and the key never reach a log, a message or an output: ``JournalKey`` shows
neither in its ``repr`` and errors name the setting, never its value.
"""

from __future__ import annotations

import base64
import binascii
import os
import sqlite3
from typing import TYPE_CHECKING

from batch_ocr.errors import ConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: What a sealed value starts with (clear JSON starts with ``{`` or ``[``).
SEALED_PREFIX = "sealed:v1:"
SALT_BYTES = 16
_NONCE_BYTES = 12
#: scrypt's cost (RFC 7914's interactive figures): about 50 ms once per run.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
#: Sealed with the key and kept in the journal, so a wrong key is told at once.
KEY_CHECK = "batch-ocr journal key check"
HOW_TO_SET = "set BATCH_OCR_JOURNAL_KEY in the environment (or journal_key in the config file)"


class JournalKeyError(ConfigError):
    """The journal holds sealed fields and the key to read them is missing or wrong."""


def is_sealed(stored: str) -> bool:
    """Whether a stored row or answer is sealed."""
    return stored.startswith(SEALED_PREFIX)


class JournalKey:
    """The key of one journal: seals and opens its rows and answers."""

    def __init__(self, secret: str, salt: bytes) -> None:
        if not secret:
            raise ConfigError("journal_key is empty: " + HOW_TO_SET + " to a long secret")
        # Imported here: a run without a key never needs them (80 ms of start-up,
        # docs/performance.md).
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        derived = Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R,
                         p=_SCRYPT_P).derive(secret.encode("utf-8"))
        self._aead: AESGCM = AESGCM(derived)

    def __repr__(self) -> str:
        return "JournalKey(<hidden>)"

    def seal(self, text: str, purpose: str) -> str:
        """``text`` sealed; ``purpose`` (the column) is authenticated with it, so a
        sealed row never passes for an answer."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), purpose.encode("ascii"))
        return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, purpose: str, journal: object) -> str:
        """The clear text of a sealed value; ``JournalKeyError`` when the key is wrong
        (or the value was changed)."""
        from cryptography.exceptions import InvalidTag

        try:
            raw = base64.b64decode(stored.removeprefix(SEALED_PREFIX), validate=True)
            clear = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:],
                                       purpose.encode("ascii"))
        except (InvalidTag, binascii.Error, ValueError):
            raise JournalKeyError(
                f"the state journal {journal} cannot be read with this journal_key (a "
                "different key, or the journal was changed): " + HOW_TO_SET + " to the "
                "key it was written with") from None
        return clear.decode("utf-8")


def key_for(db: sqlite3.Connection, secret: str | None, journal: object) -> JournalKey | None:
    """The key of the journal open on ``db``, checked: None for a journal in clear read
    without a secret. A journal first opened with a secret gets its salt and key check
    now, and every row and answer it held in clear is sealed in the same transaction.

    Raises ``JournalKeyError`` when the journal is sealed and ``secret`` is missing or
    not the one it was sealed with.
    """
    meta = dict(db.execute("SELECT name, value FROM journal_meta").fetchall())
    check = meta.get("key_check")
    if secret is None:
        if check is not None:
            raise JournalKeyError(f"the state journal {journal} holds encrypted fields: "
                                  f"{HOW_TO_SET} to read it")
        return None
    if check is not None:
        key = JournalKey(secret, bytes.fromhex(meta["salt"]))
        if key.open(check, "check", journal) != KEY_CHECK:
            raise JournalKeyError(f"the state journal {journal} has a damaged key check")
        return key
    salt = os.urandom(SALT_BYTES)
    key = JournalKey(secret, salt)
    db.execute("PRAGMA secure_delete = ON")  # the clear values' pages zeroed, not freed
    db.execute("BEGIN")
    try:
        db.executemany("INSERT INTO journal_meta VALUES (?, ?)",
                       [("salt", salt.hex()), ("key_check", key.seal(KEY_CHECK, "check"))])
        _seal_column(db, key, "files", "row_json", "row", "path, page")
        _seal_column(db, key, "paid_answers", "answer_json", "answer", "engine, key")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # nor left in the write-ahead log
    return key


def _seal_column(db: sqlite3.Connection, key: JournalKey, table: str, column: str,
                 purpose: str, where: str) -> None:
    """Seal every value of ``table.column`` still in clear (a journal written before)."""
    names = [name.strip() for name in where.split(",")]
    found = db.execute(f"SELECT {where}, {column} FROM {table}").fetchall()
    db.executemany(
        f"UPDATE {table} SET {column} = ? WHERE "
        + " AND ".join(f"{name} = ?" for name in names),
        [(key.seal(values[-1], purpose), *values[:-1]) for values in found
         if not is_sealed(values[-1])])
