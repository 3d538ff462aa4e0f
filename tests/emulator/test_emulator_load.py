"""A bounded load check: the emulator must keep up with batch-ocr at full speed.

2,000 small signed calls, 32 at a time, client and server in the same process and
event loop (so the measured rate is a floor: the client's cost is included). The target
is 1,000/s on one core for the server alone; the assertion is loose because CI shares
two cores.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from batch_ocr.emulator.config import EmulatorConfig
from batch_ocr.emulator.server import running_emulator
from batch_ocr.provider import signing

CALLS = 2000
CONCURRENCY = 32
FLOOR_PER_S = 300


@pytest.mark.serial  # measures calls per second
@pytest.mark.slow
async def test_keeps_up(cards: Any, helpers: Any, capsys: pytest.CaptureFixture[str]) -> None:
    bodies = [helpers.form_body(cards.front), helpers.form_body(cards.back, "JPEG")]
    config = EmulatorConfig(fixture_paths=(cards.fixtures_path,), latency_ms=0)
    async with running_emulator(config) as emu:
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as session:
            headers = signing.signed_headers(DEMO_SECRET_ID, DEMO_SECRET_KEY, "market")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            codes: list[int] = []

            async def worker(offset: int) -> None:
                for i in range(offset, CALLS, CONCURRENCY):
                    async with session.post(emu.url, data=bodies[i % 2], headers=headers) as r:
                        codes.append((await r.json())["code"])

            started = time.perf_counter()
            await asyncio.gather(*(worker(k) for k in range(CONCURRENCY)))
            elapsed_s = time.perf_counter() - started
        stats = emu.stats()
    rate = CALLS / elapsed_s
    with capsys.disabled():
        print(f"\nemulator load check: {CALLS} calls in {elapsed_s:.2f} s = {rate:.0f}/s")
    assert codes == [200] * CALLS
    assert stats["billable"] == CALLS
    assert rate > FLOOR_PER_S
