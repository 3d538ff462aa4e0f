"""``/_emulator/stats`` and ``/_emulator/reset``: what a test needs to prove billing."""

from __future__ import annotations

from typing import Any

import aiohttp

from batch_ocr.emulator.config import EmulatorConfig
from batch_ocr.emulator.server import make_app, running_emulator


async def test_stats_and_reset_over_http(api: Any, cards: Any, helpers: Any) -> None:
    async with running_emulator(EmulatorConfig(fixture_paths=(cards.fixtures_path,))) as emu:
        await api.recognise(emu.url, cards.front)
        await api.recognise(emu.url, cards.front)
        await api.recognise(emu.url, cards.back, "JPEG")
        await api.post(emu.url, helpers.form_body(helpers.make_image((5, 5))))
        await api.post(emu.url, helpers.form_body(cards.front), secret_key="wrong")
        async with aiohttp.ClientSession() as session:  # no auth needed
            async with session.get(emu.base_url + "/_emulator/stats") as response:
                assert response.status == 200
                stats = await response.json()
            async with session.post(emu.base_url + "/_emulator/reset") as response:
                after_reset = await response.json()
            async with session.get(emu.url) as response:  # GET on the API path
                assert response.status == 405
    front, back = helpers.sha256_hex(cards.front), helpers.sha256_hex(cards.back)
    tiny = helpers.sha256_hex(helpers.make_image((5, 5)))
    assert stats == {
        "calls": 5,
        "billable": 3,
        "by_status": {"200": 4, "401": 1},
        "by_code": {"200": 3, "400": 1},
        "faults": {
            "reset": 0,
            "hang": 0,
            "html_502": 0,
            "error_in_body": 0,
            "error_as_status": 0,
            "rate_limited": 0,
            "quota_exceeded": 0,
        },
        "gateway_refusals": {"HMAC signature does not match": 1},
        "per_sha256": {front: 3, back: 1, tiny: 1},
        "billable_per_sha256": {front: 2, back: 1},
        "portraits_served": 0,
    }
    assert after_reset["calls"] == 0 and after_reset["per_sha256"] == {}
    assert emu.stats()["calls"] == 1  # the GET


def test_make_app_is_usable_without_running() -> None:
    app = make_app()
    paths = {resource.canonical for resource in app.router.resources()}
    assert "/release/idcard_ocr/post" in paths
    assert "/_emulator/stats" in paths


def test_path_gets_exactly_one_leading_slash() -> None:
    assert EmulatorConfig(path="release/x").path == "/release/x"
    assert EmulatorConfig(path="//release/x").path == "/release/x"
