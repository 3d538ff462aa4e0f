"""A worker task for the crash test: dies on a marker, recognises anything else.

A module of its own (not a test file) so spawned worker processes can import it.
"""

from __future__ import annotations

import os

from batch_ocr.engines.local import LocalRecognition, recognise

CRASH_MARKER = b"please crash this worker"


def crash_or_recognise(image_bytes: bytes) -> LocalRecognition:
    """Kill the worker process outright (no exception, no cleanup) on the marker."""
    if image_bytes == CRASH_MARKER:
        os._exit(70)
    return recognise(image_bytes)


IMAGE_CRASH_MARKER = b"CRASH-THIS-WORKER"


def crash_on_marked_image(image_bytes: bytes) -> LocalRecognition:
    """Die on a valid image that carries the marker (e.g. in a PNG text chunk)."""
    if IMAGE_CRASH_MARKER in image_bytes:
        os._exit(70)
    return recognise(image_bytes)
