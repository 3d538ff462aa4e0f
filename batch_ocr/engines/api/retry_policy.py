"""Should we retry? A pure function of the outcome, kept apart from the loop that sleeps.

Transient (retried with exponential backoff and jitter, honouring ``Retry-After``):
500, 501, 502, 503, 504, 429 ``API rate limit exceeded``, timeouts, connection resets.
Everything else is either a per-file answer (a row, no retry) or fatal for the run.
See ``API_CONTRACT.md``, "Error codes", and the gateway table.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from batch_ocr.errors import TransientApiError

if TYPE_CHECKING:
    from tenacity import AsyncRetrying

#: Provider codes (in the JSON body or as the HTTP status) worth another attempt.
TRANSIENT_CODES: frozenset[int] = frozenset({500, 501, 502, 503, 504})
#: HTTP statuses worth another attempt: the provider's, a request timeout (408) and the
#: gateway's 429 rate limit (its 429 "quota exceeded" is fatal: see ``api_client``).
TRANSIENT_STATUS_CODES: frozenset[int] = TRANSIENT_CODES | {408, 429}

#: Our codes of a request that got no answer (``transport.network_errors``).
NETWORK_CODES: frozenset[str] = frozenset({"timeout", "connection_error"})
#: Row error codes of the API engine's failures that a later run tries again: the
#: transient ones above, once an image's attempts ran out (``Engine.retried_next_run``).
RETRIED_NEXT_RUN: frozenset[str] = frozenset(
    {*(str(code) for code in TRANSIENT_STATUS_CODES), *NETWORK_CODES})

BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 20.0
#: A server's ``Retry-After`` is honoured up to this many seconds (then we retry anyway).
RETRY_AFTER_CAP_S = 60.0


def is_transient(error: BaseException) -> bool:
    """True when the same request may succeed if sent again."""
    return isinstance(error, TransientApiError)


def backoff_s(attempt: int, error: BaseException | None, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    ``Retry-After`` wins when the server sent one; otherwise exponential with full
    jitter on top (AWS architecture blog, "Exponential Backoff And Jitter").
    """
    retry_after_s = getattr(error, "retry_after_s", None)
    if retry_after_s is not None:
        return min(max(retry_after_s, 0.0), RETRY_AFTER_CAP_S)
    base = min(BACKOFF_INITIAL_S * 2 ** (attempt - 1), BACKOFF_MAX_S)
    return base + (rng or random).uniform(0, base)


def is_transient_status(status: int) -> bool:
    """True for an HTTP status whose request may succeed if sent again."""
    return status in TRANSIENT_STATUS_CODES


def retrying(max_attempts: int, sleep: Callable[[float], Awaitable[None]], *,
             attempts_made: int = 0) -> AsyncRetrying:
    """The retry loop: ``is_transient`` decides, ``backoff_s`` waits, ``sleep`` sleeps.

    ``attempts_made``: attempts already made (and waited after) before this loop; its
    first attempt is then number ``attempts_made + 1`` of ``max_attempts``.
    """
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

    return AsyncRetrying(
        stop=stop_after_attempt(max_attempts - attempts_made),
        retry=retry_if_exception(is_transient),
        wait=lambda state: backoff_s(
            state.attempt_number + attempts_made,
            state.outcome.exception() if state.outcome else None,
        ),
        sleep=sleep,
        reraise=True,
    )
