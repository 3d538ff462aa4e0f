"""Network errors translated in one place (``batch_ocr/engines/api/transport.py``), and the session."""

from __future__ import annotations

import ssl
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from batch_ocr import __version__
from batch_ocr.engines.api.transport import TransportSettings, make_session, network_errors
from batch_ocr.errors import FatalApiError, TransientApiError
from batch_ocr.settings import Settings

CONNECTION_KEY = SimpleNamespace(host="ocr.example.test", port=443, ssl=True)


@pytest.mark.parametrize(
    ("raised", "code", "message"),
    [
        (TimeoutError(), "timeout", "no answer within 7.5 s"),
        (aiohttp.ClientConnectorError(CONNECTION_KEY,  # type: ignore[arg-type]
                                      ConnectionRefusedError(111, "Connection refused")),
         "connection_error", "cannot connect to ocr.example.test: Connection refused"),
        (aiohttp.ServerDisconnectedError(), "connection_error",
         "connection failed: ServerDisconnectedError"),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), "connection_error",
         "connection failed: ClientOSError"),
        (ConnectionResetError(104, "reset"), "connection_error",
         "connection failed: ConnectionResetError"),
    ],
)
async def test_network_failures_are_transient(raised: BaseException, code: str,
                                              message: str) -> None:
    with pytest.raises(TransientApiError) as caught:
        async with network_errors("ocr.example.test", 7.5):
            raise raised
    assert (caught.value.error_code, caught.value.message) == (code, message)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_a_tls_failure_is_fatal() -> None:
    failure = aiohttp.ClientConnectorCertificateError(
        CONNECTION_KEY, ssl.SSLCertVerificationError("self-signed certificate"))  # type: ignore[arg-type]
    with pytest.raises(FatalApiError) as caught:
        async with network_errors("ocr.example.test", 5):
            raise failure
    assert str(caught.value) == (
        "TLS verification of ocr.example.test failed (ClientConnectorCertificateError); "
        "give the CA with --ca-bundle if this server is yours")


async def test_other_errors_pass_through() -> None:
    with pytest.raises(ValueError, match="a bug"):
        async with network_errors("ocr.example.test", 5):
            raise ValueError("a bug")


async def test_the_session_is_sized_and_timed_by_the_settings() -> None:
    settings = Settings.model_validate({"concurrency": 13, "timeout": 42})
    async with make_session(TransportSettings.of(settings)) as session:
        assert session.connector is not None and session.connector.limit == 13
        assert (session.timeout.total, session.timeout.connect) == (42, 10)
        assert session.headers["User-Agent"] == f"batch-ocr/{__version__}"
    quick = Settings.model_validate({"timeout": 3})
    async with make_session(TransportSettings.of(quick)) as session:
        assert (session.timeout.total, session.timeout.connect) == (3, 3)


async def test_the_api_engine_builds_its_transport_and_price_from_its_own_settings(
        tmp_path: Path) -> None:
    from batch_ocr.engines.api.engine import ApiEngine

    bundle = tmp_path / "ca.pem"
    settings = Settings.model_validate({"concurrency": 13, "timeout": 42, "ca_bundle": bundle,
                                        "price_per_call": 0.15})
    engine = ApiEngine(settings)
    assert engine.transport == TransportSettings(timeout_s=42, max_connections=13,
                                                 ca_bundle=bundle)
    assert engine.price_per_call_cny == 0.15
    # The price quoted by default is the [api] section's default.
    assert ApiEngine(Settings.model_validate({})).price_per_call_cny == 1.0
