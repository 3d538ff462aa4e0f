"""What the emulator counts: calls, what a real account would be billed, and why not.

The provider charges successful recognitions (code 200), so ``billable`` and
``billable_per_sha256`` are what batch-ocr's tests check to prove it never paid twice
for one image; ``per_sha256`` counts every call that carried the image, billable or not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from batch_ocr.emulator.faults import FaultKind


@dataclass
class Stats:
    """Counters since start (or the last ``POST /_emulator/reset``)."""

    calls: int = 0
    billable: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_code: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    gateway_refusals: Counter[str] = field(default_factory=Counter)
    per_sha256: Counter[str] = field(default_factory=Counter)
    billable_per_sha256: Counter[str] = field(default_factory=Counter)
    portraits_served: int = 0

    def count_answer(self, status: int, code: int | None) -> None:
        """Count one answer by HTTP status and, for the seller's envelopes, body code."""
        self.by_status[str(status)] += 1
        if code is not None:
            self.by_code[str(code)] += 1

    def count_billable(self, sha256: str) -> None:
        """Count one successful (charged) recognition."""
        self.billable += 1
        self.billable_per_sha256[sha256] += 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy; every fault kind is listed, zero or not."""
        faults = {kind.value: 0 for kind in FaultKind}
        faults.update(self.faults)
        return {
            "calls": self.calls,
            "billable": self.billable,
            "by_status": dict(self.by_status),
            "by_code": dict(self.by_code),
            "faults": faults,
            "gateway_refusals": dict(self.gateway_refusals),
            "per_sha256": dict(self.per_sha256),
            "billable_per_sha256": dict(self.billable_per_sha256),
            "portraits_served": self.portraits_served,
        }
