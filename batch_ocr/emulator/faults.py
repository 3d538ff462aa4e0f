"""Seeded fault injection: what goes wrong with a call, decided by one random.Random.

Every call that reaches the seller draws exactly four numbers (latency, fault kind,
error code, where the code goes), whatever the rates, so a seed replays the same
sequence of outcomes for the same sequence of calls, and changing one rate does not
shift the draws of the others.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    """The ways a call can go wrong; the values are the keys of the ``faults`` stats."""

    RESET = "reset"  # connection dropped without an answer
    HANG = "hang"  # no answer until the client gives up (or a 504 after hang_s)
    HTML_502 = "html_502"  # the gateway's HTML "502 Bad Gateway" page
    ERROR_IN_BODY = "error_in_body"  # HTTP 200, {"code": 500, "success": false, ...}
    ERROR_AS_STATUS = "error_as_status"  # HTTP 500 with the same JSON body
    RATE_LIMITED = "rate_limited"  # 429 API rate limit exceeded (counted, not drawn)
    QUOTA_EXCEEDED = "quota_exceeded"  # 429 API quota exceeded (counted, not drawn)


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault; ``code`` is set for the provider error kinds."""

    kind: FaultKind
    code: int | None = None


@dataclass(frozen=True, slots=True)
class CallPlan:
    """What the emulator will do to one call before (or instead of) answering it."""

    latency_s: float
    fault: Fault | None


@dataclass(frozen=True, slots=True)
class FaultRates:
    """The knobs, as in :class:`~batch_ocr.emulator.config.EmulatorConfig`."""

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    fail_rate: float = 0.0
    fail_codes: tuple[int, ...] = (500, 501)
    html_error_rate: float = 0.0
    reset_rate: float = 0.0
    hang_rate: float = 0.0


class FaultInjector:
    """Draws a :class:`CallPlan` per call from a seeded ``random.Random``."""

    def __init__(self, rates: FaultRates, seed: int | None) -> None:
        self._rates = rates
        self._seed = seed
        self._rng = random.Random(seed)
        # Cumulative thresholds over one uniform draw; the kinds cannot overlap.
        edges: list[tuple[float, FaultKind]] = []
        total = 0.0
        for rate, kind in (
            (rates.reset_rate, FaultKind.RESET),
            (rates.hang_rate, FaultKind.HANG),
            (rates.html_error_rate, FaultKind.HTML_502),
            (rates.fail_rate, FaultKind.ERROR_IN_BODY),  # split with ERROR_AS_STATUS below
        ):
            total += rate
            edges.append((total, kind))
        self._edges = tuple(edges)

    def reseed(self) -> None:
        """Start the sequence again from the seed (``POST /_emulator/reset``)."""
        self._rng.seed(self._seed)

    def next_call(self) -> CallPlan:
        """The plan for the next call."""
        rng = self._rng
        u_latency, u_kind, u_code, u_where = rng.random(), rng.random(), rng.random(), rng.random()
        rates = self._rates
        # Uniform in [mean - jitter, mean + jitter], never negative.
        latency_ms = rates.latency_ms + (2.0 * u_latency - 1.0) * rates.latency_jitter_ms
        latency_s = max(0.0, latency_ms) / 1000.0
        fault: Fault | None = None
        for edge, kind in self._edges:
            if u_kind < edge:
                fault = Fault(kind)
                break
        if fault is not None and fault.kind is FaultKind.ERROR_IN_BODY:
            codes = rates.fail_codes
            code = codes[min(int(u_code * len(codes)), len(codes) - 1)]
            # Codes that are not HTTP statuses (1001) can only travel in the body.
            as_status = u_where < 0.5 and 100 <= code <= 599
            fault = Fault(FaultKind.ERROR_AS_STATUS if as_status else FaultKind.ERROR_IN_BODY, code)
        return CallPlan(latency_s, fault)


#: The gateway's page for an unreachable backend, as nginx-based gateways render it.
HTML_502_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
