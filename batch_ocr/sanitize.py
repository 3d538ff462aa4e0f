"""Untrusted text made safe to print: server answers, OCR text, file names.

A control character (C0, DEL, C1) in a log line can clear or rewrite the terminal of
whoever reads it, or forge log lines with CR/LF (CWE-117); it is shown as ``\\xNN``.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character shown as ``\\xNN``."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
