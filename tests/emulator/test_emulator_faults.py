"""Seeded faults: reproducible, never billable, and each shaped as the real thing."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import aiohttp
import pytest

from batch_ocr.emulator.config import EmulatorConfig
from batch_ocr.emulator.faults import HTML_502_PAGE, FaultInjector, FaultKind, FaultRates
from batch_ocr.emulator.server import EmulatorHandle, running_emulator
from batch_ocr.provider.gateway import MSG_GATEWAY_TIMEOUT

FAULTY = {"fail_rate": 0.3, "html_error_rate": 0.1, "reset_rate": 0.1, "seed": 42}


def test_same_seed_same_plans() -> None:
    rates = FaultRates(latency_ms=50, latency_jitter_ms=20, fail_rate=0.3, reset_rate=0.1)
    first, second = FaultInjector(rates, 7), FaultInjector(rates, 7)
    plans = [first.next_call() for _ in range(200)]
    assert plans == [second.next_call() for _ in range(200)]
    first.reseed()
    assert plans == [first.next_call() for _ in range(200)]
    assert plans != [FaultInjector(rates, 8).next_call() for _ in range(200)]
    assert all(0.03 <= p.latency_s <= 0.07 for p in plans)


def test_rates_are_respected_roughly() -> None:
    injector = FaultInjector(
        FaultRates(fail_rate=0.2, fail_codes=(500, 501, 1001), html_error_rate=0.1), 1
    )
    plans = [injector.next_call() for _ in range(10_000)]
    kinds = Counter(p.fault.kind if p.fault else None for p in plans)
    assert 0.68 < kinds[None] / 10_000 < 0.72
    assert 0.08 < kinds[FaultKind.HTML_502] / 10_000 < 0.12
    errors = [p.fault for p in plans if p.fault and p.fault.code is not None]
    assert {f.code for f in errors} == {500, 501, 1001}
    # 1001 is not an HTTP status, so it only ever comes in the body.
    assert all(f.kind is FaultKind.ERROR_IN_BODY for f in errors if f.code == 1001)
    assert {f.kind for f in errors} == {FaultKind.ERROR_IN_BODY, FaultKind.ERROR_AS_STATUS}


def test_changing_one_rate_keeps_the_latency_draws() -> None:
    a = FaultInjector(FaultRates(latency_ms=10, latency_jitter_ms=5), 3)
    b = FaultInjector(FaultRates(latency_ms=10, latency_jitter_ms=5, fail_rate=0.5), 3)
    assert [a.next_call().latency_s for _ in range(50)] == [
        b.next_call().latency_s for _ in range(50)
    ]


async def outcome(session: aiohttp.ClientSession, api: Any, url: str, body: bytes) -> str:
    """One call, summarised as a short string."""
    try:
        answer = await api.post(url, body)
    except aiohttp.ClientError as exc:
        return f"dropped:{type(exc).__name__}"
    if answer.content_type == "text/html":
        return f"{answer.status}:html"
    payload = answer.json()
    return f"{answer.status}:{payload.get('code', payload.get('message'))}"


async def run_calls(api: Any, emu: EmulatorHandle, body: bytes, n: int) -> list[str]:
    return [await outcome(api.session, api, emu.url, body) for _ in range(n)]


async def test_seeded_faults_replay(api: Any, cards: Any, helpers: Any) -> None:
    body = helpers.form_body(cards.front)
    config = EmulatorConfig(fixture_paths=(cards.fixtures_path,), **FAULTY)
    async with running_emulator(config) as emu:
        first = await run_calls(api, emu, body, 60)
        stats = emu.stats()
        async with (
            aiohttp.ClientSession() as session,
            session.post(emu.base_url + "/_emulator/reset") as response,
        ):
            assert (await response.json())["calls"] == 0
        assert await run_calls(api, emu, body, 60) == first
    async with running_emulator(config) as other:
        assert await run_calls(api, other, body, 60) == first

    kinds = Counter(first)
    assert kinds["200:200"] == stats["billable"] > 0
    assert kinds["502:html"] == stats["faults"]["html_502"] > 0
    dropped = sum(v for k, v in kinds.items() if k.startswith("dropped"))
    assert dropped == stats["faults"]["reset"] > 0
    errors = stats["faults"]["error_in_body"] + stats["faults"]["error_as_status"]
    assert errors == sum(v for k, v in kinds.items() if k.endswith((":500", ":501"))) > 0
    assert {k for k in kinds if k.endswith((":500", ":501"))} <= {
        "200:500",
        "200:501",
        "500:500",
        "501:501",
    }
    # Only successes are billable; faulted calls still count per image.
    assert stats["billable_per_sha256"] == {helpers.sha256_hex(cards.front): stats["billable"]}
    assert stats["per_sha256"] == {helpers.sha256_hex(cards.front): 60}
    assert stats["calls"] == 60


async def test_fault_bodies(api: Any, cards: Any, helpers: Any) -> None:
    body = helpers.form_body(cards.front)
    async with running_emulator(EmulatorConfig(fail_rate=1.0, fail_codes=(500,), seed=1)) as emu:
        answers = [await api.post(emu.url, body) for _ in range(12)]
    shapes = {(a.status, a.content_type) for a in answers}
    assert shapes == {(200, "application/json"), (500, "application/json")}
    for answer in answers:
        assert answer.json() == {
            "msg": "系统内部错误,请联系服务商",
            "success": False,
            "code": 500,
            "data": {},
        }
    async with running_emulator(EmulatorConfig(html_error_rate=1.0)) as emu:
        answer = await api.post(emu.url, body)
    assert (answer.status, answer.content_type, answer.text) == (502, "text/html", HTML_502_PAGE)


async def test_reset_drops_the_connection(api: Any, cards: Any, helpers: Any) -> None:
    async with running_emulator(EmulatorConfig(reset_rate=1.0)) as emu:
        with pytest.raises(aiohttp.ClientError):
            await api.post(emu.url, helpers.form_body(cards.front))
        assert emu.stats()["faults"]["reset"] == 1
        assert emu.stats()["by_status"] == {}


async def test_hang_until_the_client_gives_up(api: Any, cards: Any, helpers: Any) -> None:
    body = helpers.form_body(cards.front)
    async with running_emulator(EmulatorConfig(hang_rate=1.0)) as emu:
        started = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await api.post(emu.url, body, timeout_s=0.3)
        assert time.monotonic() - started < 2
        assert emu.stats()["faults"]["hang"] == 1
    # The server shut down promptly even though a call was hanging.


async def test_hang_ends_in_a_gateway_timeout(api: Any, cards: Any, helpers: Any) -> None:
    async with running_emulator(EmulatorConfig(hang_rate=1.0, hang_s=0.2)) as emu:
        answer = await api.post(emu.url, helpers.form_body(cards.front))
    assert (answer.status, answer.json()) == (504, {"message": MSG_GATEWAY_TIMEOUT})


@pytest.mark.serial  # times the release
async def test_shutdown_releases_a_hanging_call(api: Any, cards: Any, helpers: Any) -> None:
    started = time.monotonic()
    async with running_emulator(EmulatorConfig(hang_rate=1.0)) as emu:
        call = asyncio.create_task(api.post(emu.url, helpers.form_body(cards.front)))
        await asyncio.sleep(0.1)
    with pytest.raises(aiohttp.ClientError):
        await call
    assert time.monotonic() - started < 2


async def test_latency(api: Any, cards: Any, helpers: Any) -> None:
    body = helpers.form_body(cards.front)
    async with running_emulator(EmulatorConfig(latency_ms=120, latency_jitter_ms=20)) as emu:
        started = time.monotonic()
        answer = await api.post(emu.url, body)
        assert time.monotonic() - started >= 0.1
    assert answer.status == 200


def test_rates_must_not_overlap() -> None:
    with pytest.raises(ValueError, match="must not exceed 1"):
        EmulatorConfig(fail_rate=0.6, reset_rate=0.6)
