"""Should we retry, and how long to wait (``batch_ocr/engines/api/retry_policy.py``)."""

from __future__ import annotations

import random

import pytest

from batch_ocr.engines.api.engine import ApiEngine
from batch_ocr.engines.api.retry_policy import (
    BACKOFF_INITIAL_S,
    BACKOFF_MAX_S,
    RETRY_AFTER_CAP_S,
    backoff_s,
    is_transient,
    retrying,
)
from batch_ocr.errors import (
    ApiError,
    AuthError,
    ClockSkewError,
    FatalApiError,
    ImageRejected,
    QuotaExceededError,
    TransientApiError,
)
from batch_ocr.statuses import retry_next_run


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (TransientApiError("500", "provider internal error"), True),
        (TransientApiError("429", "API rate limit exceeded", http_status=429), True),
        (TransientApiError("timeout", "no answer in 30 s"), True),
        (ApiError("400", "参数错误"), False),
        (ApiError("1001", "service error"), False),
        (FatalApiError("gateway says no"), False),
        (AuthError("HMAC signature does not match", http_status=401), False),
        (QuotaExceededError("API quota exceeded", http_status=429), False),
        (ClockSkewError("x-date out of date"), False),
        (ImageRejected("corrupt_image", "damaged"), False),
        (TimeoutError(), False),  # raw errors must be translated to typed ones first
        (ValueError("bug"), False),
    ],
)
def test_is_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


@pytest.mark.parametrize(
    ("retry_after_s", "wait_s"),
    [(0.0, 0.0), (2.5, 2.5), (RETRY_AFTER_CAP_S, RETRY_AFTER_CAP_S),
     (3600.0, RETRY_AFTER_CAP_S), (-5.0, 0.0)],
)
@pytest.mark.parametrize("attempt", [1, 4])
def test_retry_after_wins_and_is_capped(retry_after_s: float, wait_s: float, attempt: int) -> None:
    error = TransientApiError("429", "API rate limit exceeded", retry_after_s=retry_after_s)

    assert backoff_s(attempt, error, random.Random(0)) == wait_s


@pytest.mark.parametrize("error", [None, TransientApiError("502", "bad gateway")])
def test_backoff_grows_exponentially_with_jitter_between_base_and_twice_base(
    error: BaseException | None,
) -> None:
    rng = random.Random(1234)
    for attempt in range(1, 12):
        base = min(BACKOFF_INITIAL_S * 2 ** (attempt - 1), BACKOFF_MAX_S)
        waits = [backoff_s(attempt, error, rng) for _ in range(200)]
        assert all(base <= wait <= 2 * base for wait in waits)
        assert max(waits) - min(waits) > base / 2  # really jittered, not a constant


def test_backoff_bases_double_then_hit_the_cap() -> None:
    class Low(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return a

    bases = [backoff_s(attempt, None, Low()) for attempt in range(1, 10)]

    assert bases == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0, 20.0]
    assert backoff_s(50, None, random.Random(0)) <= 2 * BACKOFF_MAX_S


def test_backoff_is_reproducible_with_a_seeded_rng() -> None:
    assert backoff_s(3, None, random.Random(7)) == backoff_s(3, None, random.Random(7))


@pytest.mark.parametrize(
    ("status", "error_code", "retry"),
    [
        ("error", "500", True),
        ("error", "501", True),
        ("error", "502", True),
        ("error", "503", True),
        ("error", "504", True),
        ("error", "429", True),
        ("error", "408", True),
        ("error", "timeout", True),
        ("error", "connection_error", True),
        ("rejected", "file_vanished", True),
        ("rejected", "unreadable", True),
        ("error", "internal_error", True),
        # Another engine's transient code is not the API's to retry.
        ("error", "local_worker_died", False),
        ("error", "400", False),
        ("error", "404", False),
        ("error", "1001", False),
        ("error", "auth", False),
        ("error", "quota_exceeded", False),
        ("rejected", "corrupt_image", False),
        ("rejected", "empty_file", False),
        ("ok", "", False),
        ("not_id_card", "", False),
        ("scan_failed", "500", False),  # only failed rows are retried
    ],
)
def test_retry_next_run(status: str, error_code: str, retry: bool) -> None:
    assert retry_next_run(status, error_code, ApiEngine.retried_next_run) is retry


async def test_a_loop_after_attempts_already_made_counts_and_waits_as_the_whole_would() -> None:
    """The client makes its first attempt outside the loop; the loop that follows must
    stop at ``max_attempts`` in all and back off as attempts 2, 3... would."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    made = 1  # the first attempt, already failed
    with pytest.raises(TransientApiError):
        async for attempt in retrying(4, sleep, attempts_made=1):
            with attempt:
                made += 1
                raise TransientApiError("503", "busy")
    assert made == 4
    assert len(slept) == 2  # after attempts 2 and 3; the 4th is the last
    bases = [BACKOFF_INITIAL_S * 2, BACKOFF_INITIAL_S * 4]
    assert all(base <= s <= 2 * base for s, base in zip(slept, bases, strict=True)), slept
