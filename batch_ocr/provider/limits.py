"""The buyer's plan limits the gateway enforces: calls per second and a call quota.

Two separate meters, as in aiometer: a token bucket for the rate, a counter for the quota.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Allow ``rate_per_s`` calls per second with a burst of about one second's worth.

    The classic token bucket (https://en.wikipedia.org/wiki/Token_bucket): tokens refill
    continuously up to ``burst``; a call takes one or is refused.
    """

    def __init__(
        self,
        rate_per_s: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate_per_s = rate_per_s
        self._burst = max(1.0, rate_per_s if burst is None else burst)
        self._clock = clock
        self._tokens = self._burst
        self._last_s = clock()

    def reset(self) -> None:
        """Refill the bucket."""
        self._tokens = self._burst
        self._last_s = self._clock()

    def try_take(self) -> bool:
        """Take one token if there is one."""
        now_s = self._clock()
        elapsed_s = max(0.0, now_s - self._last_s)
        self._last_s = now_s
        self._tokens = min(self._burst, self._tokens + elapsed_s * self._rate_per_s)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class Quota:
    """At most ``limit`` billable calls; a slot is reserved while a call is in flight.

    Reserving (rather than checking the billed count) keeps concurrent calls from all
    slipping past the check before any of them is billed.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._used = 0
        self._reserved = 0

    @property
    def used(self) -> int:
        """Billable calls counted against the quota."""
        return self._used

    def reset(self) -> None:
        """Forget the calls used so far (in-flight reservations stay)."""
        self._used = 0

    def reserve(self) -> bool:
        """Reserve a slot for a call; False when the quota is used up."""
        if self._used + self._reserved >= self._limit:
            return False
        self._reserved += 1
        return True

    def settle(self, *, billable: bool) -> None:
        """Release a reservation, counting it if the call was billable."""
        self._reserved -= 1
        if billable:
            self._used += 1
