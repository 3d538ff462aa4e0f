"""A worker's free heap memory given back to the system before the detector needs more.

glibc keeps what a process frees in its heap, and the size past which it maps a block on
its own rises to the largest block freed (up to 32 MB, ``malloc.h``'s
``M_MMAP_THRESHOLD``): the detector's buffers for a photo read at 720 px then come from
the heap and are kept there once freed, in pieces later ones do not fit. Photo after
photo a worker held 130 to 175 MB of such free memory, and the detector's ~50 MB of
working memory on top of it took a worker to 417 MB (README, "Bounded memory": under
400 MB). Giving the free memory back after every photo kept a worker under 375 MB but
cost 10% more CPU (each buffer faulted in afresh), and so did giving it back above 280 MB
(before 35 detector calls of 32 photos); above ``TRIM_ABOVE_RESIDENT_MB`` it is given
back before a third as many, and a worker read them at 370 MB at most in process.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable

#: Resident memory past which the free heap is given back before a detector call: the
#: detector's own working memory on a photo read at 720 px (~55 MB) and a worker's own
#: overhead (~10 MB) on top stay under the 400 MB bound.
TRIM_ABOVE_RESIDENT_MB = 320
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_mb() -> float:
    """This process's resident memory now (Linux ``/proc/self/statm``); 0 where unknown."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``; None where the C library has none."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def given_back_when_full(limit_mb: float = TRIM_ABOVE_RESIDENT_MB) -> bool:
    """Give the heap's free memory back when this process holds more than ``limit_mb``;
    whether it did."""
    trim = _malloc_trim()
    if trim is None or resident_mb() <= limit_mb:
        return False
    trim(0)
    return True
