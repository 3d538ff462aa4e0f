"""The rate limit (``--qps``). The concurrency limit is the number of workers.

Kept apart as in aiometer: concurrency bounds what is in flight, rate bounds how often
a call starts. Calls are spaced evenly (a leaky bucket with no burst), so a server
that allows ``qps`` per second never sees a 429 from us.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimit:
    """At most ``qps`` starts per second, evenly spaced."""

    def __init__(
        self,
        qps: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval_s = 1.0 / qps
        self._clock = clock
        self._sleep = sleep
        self._next_start = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for the next free start slot."""
        async with self._lock:
            now = self._clock()
            start = max(now, self._next_start)
            self._next_start = start + self._interval_s
        if start > now:
            await self._sleep(start - now)
