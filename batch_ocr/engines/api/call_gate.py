"""What stands before every paid call: the budget, the rate, and a stop after a fatal answer.

Owned by the API engine (the run never sees it). Four rules, checked in this order
before each attempt, retries included:

1. the first call goes out alone: the others wait for its answer, so bad credentials
   (a wrong key, an unknown SecretId), a quota used up or a skewed clock cost exactly
   one request (docs/reference.md, "Fatal conditions"), not one per request slot. It costs a
   run one answer's latency at its start;
2. after a fatal answer (credentials, quota, clock) or an unreachable API, no call
   starts again: other files' retries would only repeat it;
3. ``--max-calls``: a call past the budget is refused, its image left for the next run;
4. ``--qps``: starts are spaced evenly (``meters.RateLimit``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from batch_ocr.engines.api.meters import RateLimit
from batch_ocr.engines.api.retry_policy import NETWORK_CODES
from batch_ocr.errors import BatchOcrError, CallBudgetExhausted, FatalRunError, UnreachableError

#: Files that may fail to reach an API that never answered before the run stops.
UNREACHABLE_FILES_LIMIT = 3
#: A file failed with these has not reached the API.
UNREACHABLE_CODES = NETWORK_CODES


class UnreachableBreaker:
    """Trips when the API has never answered and file after file cannot reach it.

    Otherwise a run with the network down would spend every file's retries (minutes
    each) before saying anything useful (README, "Errors, retries and exit codes").
    """

    def __init__(self, limit: int = UNREACHABLE_FILES_LIMIT) -> None:
        self._limit = limit
        self._reached = False
        self._failed_files = 0

    def answered(self) -> None:
        """The API answered once: it is reachable, whatever happens next."""
        self._reached = True

    def file_failed(self, error_code: str, message: str) -> UnreachableError | None:
        """Count a file that ended on ``error_code``; the error to stop with, if tripped."""
        if self._reached or error_code not in UNREACHABLE_CODES:
            return None
        self._failed_files += 1
        if self._failed_files < self._limit:
            return None
        return UnreachableError(
            f"cannot reach the API ({message}) for {self._failed_files} files in a row and "
            "it has not answered once; check --endpoint and the network"
        )


class CallGate:
    """Admits one call at a time through the three rules of the module docstring.

    ``slot`` also bounds the calls out at once (``--concurrency``): the run holds more
    images than that, and an image waiting for a connection must meet rule 1 when it
    gets one, not before (a fatal answer to the call ahead of it must stop it).
    """

    def __init__(self, *, max_calls: int | None = None, rate: RateLimit | None = None,
                 max_in_flight: int | None = None) -> None:
        self._max_calls = max_calls
        self._rate = rate
        self._calls = 0
        self._fatal: BatchOcrError | None = None
        self._in_flight = asyncio.Semaphore(max_in_flight) if max_in_flight else None
        #: Set when the first call through ``slot`` has ended (rule 1); None before it.
        self._first_call_done: asyncio.Event | None = None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one call: admitted on entry; a fatal error inside stops the gate
        before the next call can be admitted.

        The first call waits for no one; the others wait until it has ended (rule 1),
        then meet rule 2 with what it was answered. It ends however it ends: an answer
        that is not fatal, a failure to reach the API (which says nothing of the
        credentials, and must not hold the others back) or a cancellation.
        """
        async with self._in_flight or contextlib.nullcontext():
            first = self._first_call_done is None
            if first:
                self._first_call_done = asyncio.Event()
            else:
                assert self._first_call_done is not None
                await self._first_call_done.wait()  # returns at once once it is set
            try:
                await self.admit()
                try:
                    yield
                except FatalRunError as exc:
                    self.stop(exc)
                    raise
            finally:
                if first:
                    assert self._first_call_done is not None
                    self._first_call_done.set()

    @property
    def calls(self) -> int:
        return self._calls

    def stop(self, error: BatchOcrError) -> None:
        """No call starts after this; each later one raises ``error`` again."""
        if self._fatal is None:
            self._fatal = error

    async def admit(self) -> None:
        """Return when a call may start (and count it), or raise why it may not."""
        if self._fatal is not None:
            raise self._fatal
        if self._max_calls is not None and self._calls >= self._max_calls:
            raise CallBudgetExhausted(f"--max-calls {self._max_calls} reached")
        self._calls += 1  # counted before the wait, so concurrent callers cannot overshoot
        if self._rate is not None:
            await self._rate.acquire()
