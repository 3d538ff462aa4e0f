"""batch-ocr-server's application in-process: what a bad or hostile call costs the log.

The server runs on 127.0.0.1 with the tests' echo engine; the figures under load, with
the real CLI as a process, are ``test_server_under_attack.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from batch_ocr.engines.base import EngineResult
from batch_ocr.provider import signing
from batch_ocr.provider.encoding import CONTENT_TYPE, form_body
from batch_ocr.server.app import ServerConfig, ServerHandle, running_server
from batch_ocr.vision.imaging import PreparedImage
from tests.engines.echo_engine import EchoEngine, EchoSettings
from tests.provider.test_connections import small_jpeg

SECRET_ID = "AKIDapp00000000000000000000000000000000"
SECRET_KEY = "app-secret-key"


class BrokenEcho(EchoEngine):
    """An engine with a bug: every call raises what nobody expected."""

    async def recognise(self, image: PreparedImage) -> EngineResult:
        raise RuntimeError("a bug in the engine")


@asynccontextmanager
async def server(engine: EchoEngine | None = None) -> AsyncIterator[ServerHandle]:
    config = ServerConfig(secret_keys={SECRET_ID: SECRET_KEY}, port=0, shutdown_grace_s=1.0)
    async with running_server(config, engine or EchoEngine(EchoSettings())) as handle:
        yield handle


def _signed(content_type: str = CONTENT_TYPE) -> dict[str, str]:
    return {**signing.signed_headers(SECRET_ID, SECRET_KEY, "market"), "Content-Type": content_type}


def _no_traceback(caplog: pytest.LogCaptureFixture) -> bool:
    return all(record.exc_info is None for record in caplog.records) and "Traceback" not in caplog.text


async def test_json_nested_100000_deep_is_the_providers_400(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'{"image": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    caplog.set_level(logging.DEBUG)
    async with server() as handle, aiohttp.ClientSession() as session, session.post(
            handle.url, data=body, headers=_signed("application/json")) as answer:
        status, payload = answer.status, await answer.json()
    assert (status, payload) == (200, {"msg": "参数错误", "success": False, "code": 400, "data": {}})
    assert _no_traceback(caplog)


async def test_a_bug_is_the_providers_500_and_one_counted_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="batch_ocr.server")
    async with server(BrokenEcho(EchoSettings())) as handle, aiohttp.ClientSession() as session:
        for _ in range(20):
            async with session.post(handle.url, data=form_body("image/jpeg", small_jpeg()),
                                    headers=_signed()) as answer:
                assert answer.status == 200
                assert (await answer.json())["code"] == 500
    # The summary, written when the server stopped: one line for twenty calls.
    assert [record.getMessage() for record in caplog.records] == [
        "not served in the last 10 s: internal error (RuntimeError) x 20"]
    assert _no_traceback(caplog)


async def test_refusals_are_counted_not_logged_one_by_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="batch_ocr.server")
    unsigned = {"Content-Type": CONTENT_TYPE}
    async with server() as handle, aiohttp.ClientSession() as session:
        for _ in range(200):
            async with session.post(handle.url, data=b"image=x", headers=unsigned) as answer:
                assert answer.status == 401
        async with session.post(handle.url, data=form_body("image/jpeg", small_jpeg()),
                                headers=_signed()) as answer:
            assert answer.status == 200
        answers = dict(handle.state.answers)
    lines = [record.getMessage() for record in caplog.records]
    # Even with --verbose: the signed call's own line, and one summary for 200 refusals.
    assert len(lines) == 2, lines
    assert lines[0].startswith("call: HTTP 200 in ")
    assert lines[1] == "not served in the last 10 s: 401 x 200"
    assert answers == {401: 200, 200: 1}
    assert json.dumps(lines).count(SECRET_KEY) == 0
