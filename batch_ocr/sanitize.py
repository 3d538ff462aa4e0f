"""Untrusted text made safe to print: server answers, OCR text, file names.

A control character (C0, DEL, C1) in a log line can clear or rewrite the terminal of
whoever reads it, or forge log lines with CR/LF (CWE-117); it is shown as ``\\xNN``.

A file name is shown the same way in the ``file`` column (and so in portrait names):
bytes that are not UTF-8 become ``\\xNN`` and a backslash becomes ``\\\\``, so the escape
is one-to-one: a file named with the byte 0xFF and one named ``\\xff`` in letters never
share a row name or a portrait (docs/reference.md, "Output columns").
"""

from __future__ import annotations

import os
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character shown as ``\\xNN``."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def file_label(name: str) -> str:
    """A file name (as ``os`` gives it) fit for a UTF-8 table, one-to-one.

    Undecodable bytes become ``\\xNN``; a backslash is doubled first, so the ``\\xNN`` a
    name spells in letters stays apart from the byte it would stand for. A backslash is
    one byte in UTF-8 and never inside a multi-byte character, so doubling it in the bytes
    is safe.
    """
    raw = os.fsencode(name)
    if b"\\" in raw:
        raw = raw.replace(b"\\", b"\\\\")
    return raw.decode("utf-8", "backslashreplace")
