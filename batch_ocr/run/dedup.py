"""Once per content: the same bytes under several names are recognised (and paid) once.

A copy that arrives while its content is in flight waits for that answer; one that
arrives later takes the remembered row. Memory stays bounded however large the run:
what is in flight is bounded by the concurrency, and finished rows are remembered in a
least-recently-used table of ``max_remembered`` entries. With a journal, a content whose
row is final is forgotten at once, since the journal answers for it from then on
(docs/resume.md); without one (``-o -``) a copy met after more than ``max_remembered``
other contents is recognised again.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

#: What is remembered per content: the rows of one image.
Rows = TypeVar("Rows")

#: Finished rows kept for copies; a row is ~1 KB, so this is a few MB at most.
MAX_REMEMBERED = 4096


class ContentDedup(Generic[Rows]):
    """Runs ``recognise`` once per sha256 among the calls of one run."""

    def __init__(self, max_remembered: int | None = None) -> None:
        self._max_remembered = MAX_REMEMBERED if max_remembered is None else max_remembered
        self._in_flight: dict[str, asyncio.Future[Rows]] = {}
        self._finished: OrderedDict[str, Rows] = OrderedDict()

    def __len__(self) -> int:
        return len(self._in_flight) + len(self._finished)

    async def once(
        self, sha256: str, recognise: Callable[[], Awaitable[Rows]]
    ) -> tuple[Rows, bool]:
        """The row for this content and whether it is a copy of another file's answer.

        Raises what the first ``recognise`` of this content raised, to every copy waiting.
        """
        known = self._finished.get(sha256)
        if known is not None:
            self._finished.move_to_end(sha256)
            return known, True
        pending = self._in_flight.get(sha256)
        if pending is not None:
            return await asyncio.shield(pending), True
        future: asyncio.Future[Rows] = asyncio.get_running_loop().create_future()
        self._in_flight[sha256] = future
        try:
            row = await recognise()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: copies may not exist
            raise
        else:
            future.set_result(row)
            self._remember(sha256, row)
        finally:
            del self._in_flight[sha256]
        return row, False

    def _remember(self, sha256: str, row: Rows) -> None:
        self._finished[sha256] = row
        self._finished.move_to_end(sha256)
        while len(self._finished) > self._max_remembered:
            self._finished.popitem(last=False)

    def forget(self, sha256: str) -> None:
        """Drop a finished content (the journal answers for it now)."""
        self._finished.pop(sha256, None)


class SeenContents:
    """Contents seen, as a Bloom filter of their sha256 hex digests: ``in`` says "maybe"
    or "certainly not", in 1 MB however many.

    A first run asks it before asking the journal, which was empty at the start and
    holds only what this run recorded since: "certainly not" spares a trip to the
    writer thread per image (tests/benchmarks, throughput). Three slices of the digest,
    itself uniformly random, are the three positions; past a million contents the
    false "maybe"s (3% there) only cost the journal look-up every image had before.
    """

    BITS = 1 << 23

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS // 8)

    def add(self, sha256: str) -> None:
        for position in self._positions(sha256):
            self._bits[position >> 3] |= 1 << (position & 7)

    def __contains__(self, sha256: str) -> bool:
        return all(self._bits[position >> 3] & (1 << (position & 7))
                   for position in self._positions(sha256))

    def _positions(self, sha256: str) -> tuple[int, int, int]:
        mask = self.BITS - 1
        return (int(sha256[0:8], 16) & mask, int(sha256[8:16], 16) & mask,
                int(sha256[16:24], 16) & mask)

