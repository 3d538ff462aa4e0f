"""A server batch-ocr does not control: every bad answer ends as a clear row or a clear stop.

Raw aiohttp handlers say exactly what a broken gateway, proxy or seller could say; the
emulator adds its seeded faults. Runs use a small ``--timeout`` and ``--max-attempts``
and are timed: nothing is retried forever and nothing waits past the timeouts.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import shutil
import socket
import ssl
import subprocess
import time
import zlib
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from batch_ocr.provider import signing
from tests.e2e_support import emulator_in_thread, read_rows
from tests.hostile import corpus
from tests.hostile.conftest import bounded_main, raw_server

TIMEOUT_S = 1.0
MAX_ATTEMPTS = 3
#: Every attempt times out, plus backoff (shrunk by the conftest) and start-up slack.
WORST_CASE_S = MAX_ATTEMPTS * TIMEOUT_S + 3.0

pytestmark = pytest.mark.serial  # the tests time how soon a run ends

Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _answer(status: int = 200, body: bytes | str = b"", **headers: str) -> Answer:
    data = body.encode() if isinstance(body, str) else body

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.Response(status=status, body=data, headers=headers)
    return handler


async def _drip(request: web.Request) -> web.StreamResponse:
    """Headers at once, then one byte of a valid-looking answer every 0.3 s, for ever."""
    await request.read()
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    await response.prepare(request)
    for byte in json.dumps({"success": True, "code": 200, "data": {}} | {"pad": "x" * 200}):
        await response.write(byte.encode())
        await asyncio.sleep(0.3)
    return response


async def _silent(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(3600)  # cancelled when the client gives up
    raise AssertionError("unreachable")


async def _cut_short(request: web.Request) -> web.StreamResponse:
    """Promise 4 KB, send 10 bytes, drop the connection."""
    await request.read()
    response = web.StreamResponse(status=200, headers={"Content-Length": "4096"})
    await response.prepare(request)
    await response.write(b'{"success"')
    assert request.transport is not None
    request.transport.abort()
    return response


def _ten_mb() -> bytes:
    return b'{"success": true, "code": 200, "data": {"pad": "' + b"x" * (10 * 2**20) + b'"}}'


def _gzip_bomb() -> bytes:
    """~1 MB on the wire, 1 GB of zeros once inflated."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(2**20)
    return b"".join(packer.compress(zeros) for _ in range(1024)) + packer.flush()


CARD = {"order_no": "1", "result": 0, "info": {}, "validity": {"name": True}}

#: name -> (handler, row error_code, message fragment, attempts made).
BAD_ANSWERS: dict[str, tuple[Answer, str, str, int]] = {
    "truncated JSON": (_answer(200, '{"msg": "", "success": true, "code": 200, "da'),
                       "bad_response", "HTTP 200 with a non-JSON body", 1),
    "a JSON array": (_answer(200, "[1, 2, 3]"), "bad_response",
                     "expected a JSON object, got list", 1),
    "success without data": (_answer(200, '{"msg": "", "success": true, "code": 200}'),
                             "bad_response", "success answer without a data object", 1),
    "unknown side": (_answer(200, json.dumps({"success": True, "code": 200,
                                              "data": CARD | {"side": "left"}})),
                     "bad_response", "unknown side 'left'", 1),
    "info not an object": (_answer(200, json.dumps({"success": True, "code": 200,
                                                    "data": CARD | {"info": "x"}})),
                           "bad_response", "malformed data (info)", 1),
    "a 200 HTML page": (_answer(200, "<!DOCTYPE html><html><body>Welcome to nginx!</body></html>",
                                **{"Content-Type": "text/html"}),
                        "bad_response", "HTTP 200 with an HTML page", 1),
    "a 10 MB body": (_answer(200, _ten_mb()), "bad_response", "answer larger than 1 MB", 1),
    "a gzip bomb": (_answer(200, _gzip_bomb(), **{"Content-Encoding": "gzip"}),
                    "bad_response", "answer larger than 1 MB", 1),
    "JSON nested 200000 deep": (_answer(200, "[" * 200_000), "bad_response",
                                "JSON nested too deeply", 1),
    "an empty 200": (_answer(200, b""), "502", "HTTP 200 with an empty body", MAX_ATTEMPTS),
    "a 500 for ever": (_answer(500, '{"msg": "boom", "success": false, "code": 500}'),
                       "500", "provider code 500: boom", MAX_ATTEMPTS),
    "a 503 with Retry-After: nan": (_answer(503, '{"message": "busy"}', **{"Retry-After": "nan"}),
                                    "503", "HTTP 503: busy", MAX_ATTEMPTS),
    "a 502 HTML page": (_answer(502, "<html><body>502 Bad Gateway</body></html>"),
                        "502", "HTTP 502 with an HTML page", MAX_ATTEMPTS),
    "a slow drip": (_drip, "timeout", f"no answer within {TIMEOUT_S:g} s", MAX_ATTEMPTS),
    "silence": (_silent, "timeout", f"no answer within {TIMEOUT_S:g} s", MAX_ATTEMPTS),
    "a body cut short": (_cut_short, "connection_error", "connection failed", MAX_ATTEMPTS),
    "a lone surrogate in a name": (
        _answer(200, '{"success": true, "code": 200, "data": {"side": "front", "result": 0, '
                     '"info": {"name": "\\ud800"}, "validity": {"name": true}}}'),
        "bad_response", "invalid Unicode (a lone surrogate escape)", 1),
    "terminal escapes in msg": (
        _answer(200, json.dumps({"success": False, "code": 1001,
                                 "msg": "\x1b[2J\x1b]0;owned\x07fake\r\nbatch-ocr: ok"})),
        "1001", "provider code 1001: \\x1b[2J\\x1b]0;owned\\x07fake\\x0d\\x0abatch-ocr: ok", 1),
}


def _one_image(tmp_path: Path) -> Path:
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "card.jpg").write_bytes(corpus.jpeg_bytes("card"))
    return scans


def _run(scans: Path, out: Path, url: str, *extra: str) -> tuple[int, float]:
    started = time.monotonic()
    code = bounded_main([str(scans), "-o", str(out), "--endpoint", url, "--timeout",
                         str(TIMEOUT_S), "--max-attempts", str(MAX_ATTEMPTS), *extra], 30)
    return code, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_a_bad_answer_ends_as_a_clear_row(tmp_path: Path, case: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    handler, error_code, message, attempts = BAD_ANSWERS[case]
    scans = _one_image(tmp_path)
    out = tmp_path / "out.jsonl"
    with raw_server(handler) as server:
        code, elapsed_s = _run(scans, out, server.url, "--verbose")
        hits = len(server.hits)
    (row,) = read_rows(out)
    assert code == 1
    assert (row["status"], row["error_code"]) == ("error", error_code), row
    assert message in row["error_message"]
    assert row["attempts"] == attempts == hits  # retried exactly as often as allowed
    assert elapsed_s < WORST_CASE_S
    err = capsys.readouterr().err
    assert "Traceback" not in err and "\x1b" not in err and "\x07" not in err


def test_a_redirect_to_another_host_is_not_followed(tmp_path: Path) -> None:
    scans = _one_image(tmp_path)
    out = tmp_path / "out.jsonl"
    with raw_server(_answer(200, "{}")) as elsewhere:
        moved = _answer(307, "", Location=elsewhere.url)
        with raw_server(moved) as server:
            code, _ = _run(scans, out, server.url)
        assert elsewhere.hits == []  # neither the image nor the signature went there
    (row,) = read_rows(out)
    assert code == 1
    assert (row["error_code"], row["error_message"]) == (
        "307", "HTTP 307: redirects are not followed")
    assert row["attempts"] == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_at_start_stops_the_run_clearly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    for index in range(6):
        (scans / f"{index}.jpg").parent.mkdir(exist_ok=True)
        (scans / f"{index}.jpg").write_bytes(corpus.jpeg_bytes(f"refused{index}"))
    out = tmp_path / "out.jsonl"
    url = f"http://127.0.0.1:{_free_port()}/release/idcard_ocr/post"
    code, elapsed_s = _run(scans, out, url, "--concurrency", "1")
    err = capsys.readouterr().err
    assert code == 3
    assert "fatal: cannot reach the API (cannot connect to 127.0.0.1:" in err
    assert "check --endpoint and the network" in err
    rows = read_rows(out)
    assert len(rows) == 3 and {row["error_code"] for row in rows} == {"connection_error"}
    assert all(row["attempts"] == MAX_ATTEMPTS for row in rows)
    assert "not attempted (left for the next run): 3" in err
    assert elapsed_s < 10


# -- TLS ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (``openssl req``; cryptography is not a dep)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: cannot make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def _tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_a_self_signed_server_is_refused_without_ca_bundle(
        tmp_path: Path, self_signed: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    scans = _one_image(tmp_path)
    out = tmp_path / "out.jsonl"
    ok = json.dumps({"success": True, "code": 200, "data": CARD | {"side": "front"}})
    with raw_server(_answer(200, ok), ssl_context=_tls_context(*self_signed)) as server:
        code, elapsed_s = _run(scans, out, server.url)
        assert server.hits == []  # the request (image, signature) never left the client
    err = capsys.readouterr().err
    assert code == 3
    host = server.base_url.removeprefix("https://")
    assert f"fatal: TLS verification of {host} failed" in err
    assert "give the CA with --ca-bundle" in err
    assert read_rows(out) == []  # not attempted: the next run does it
    assert elapsed_s < 5


def test_with_ca_bundle_the_same_server_works(tmp_path: Path,
                                              self_signed: tuple[Path, Path]) -> None:
    scans = _one_image(tmp_path)
    out = tmp_path / "out.jsonl"
    ok = json.dumps({"success": True, "code": 200, "data": CARD | {"side": "front"}})
    with raw_server(_answer(200, ok), ssl_context=_tls_context(*self_signed)) as server:
        code, _ = _run(scans, out, server.url, "--ca-bundle", str(self_signed[0]))
        assert len(server.hits) == 1
    assert code == 0
    assert [row["status"] for row in read_rows(out)] == ["ok"]


def test_plain_http_to_a_tls_port_is_a_clear_error(tmp_path: Path,
                                                   self_signed: tuple[Path, Path]) -> None:
    scans = _one_image(tmp_path)
    out = tmp_path / "out.jsonl"
    with raw_server(_answer(200, "{}"), ssl_context=_tls_context(*self_signed)) as server:
        url = server.url.replace("https://", "http://")
        code, elapsed_s = _run(scans, out, url)
    (row,) = read_rows(out)
    assert code == 1 and row["error_code"] in ("connection_error", "bad_response", "400")
    assert elapsed_s < WORST_CASE_S


# -- emulator faults --------------------------------------------------------------------------

EMULATOR_FAULTS: dict[str, tuple[dict[str, Any], str]] = {
    "every call reset": ({"reset_rate": 1.0}, "connection_error"),
    "every call hangs": ({"hang_rate": 1.0, "hang_s": 60}, "timeout"),
    "every call a 502 page": ({"html_error_rate": 1.0}, "502"),
    "every call 501": ({"fail_rate": 1.0, "fail_codes": (501,)}, "501"),
    "every call 1001": ({"fail_rate": 1.0, "fail_codes": (1001,)}, "1001"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(EMULATOR_FAULTS))
def test_emulator_faults_end_as_rows_within_the_attempts(tmp_path: Path, case: str) -> None:
    options, error_code = EMULATOR_FAULTS[case]
    scans = _one_image(tmp_path)
    out = tmp_path / "out.jsonl"
    with emulator_in_thread(seed=3, **options) as emulator:
        code, elapsed_s = _run(scans, out, emulator.url)
        stats = emulator.stats()
    (row,) = read_rows(out)
    assert code == 1 and (row["status"], row["error_code"]) == ("error", error_code)
    expected_calls = 1 if error_code == "1001" else MAX_ATTEMPTS
    assert row["attempts"] == stats["calls"] == expected_calls
    assert stats["billable"] == 0
    assert elapsed_s < WORST_CASE_S


@pytest.mark.parametrize(("options", "skew_s", "fatal"), [
    ({"quota": 0}, 0, "the API quota is used up (HTTP 429: API quota exceeded)"),
    ({"credentials": ({"secret_id": "AKIDother", "secret_key": "other"},)}, 0,
     "the API refused the credentials (HTTP 401: HMAC signature cannot be verified); "
     "check BATCH_OCR_SECRET_ID and BATCH_OCR_SECRET_KEY in the environment\n"),
    ({}, -3600, "the API refused the request date: the clock of this machine is off by more "
     "than 15 minutes"),
], ids=["quota", "credentials", "clock"])
def test_fatal_answers_stop_the_run_after_one_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any],
        skew_s: float, fatal: str, capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    for index in range(8):
        (scans / f"{index}.jpg").write_bytes(corpus.jpeg_bytes(f"fatal{index}"))
    out = tmp_path / "out.jsonl"
    if skew_s:  # this machine's clock an hour slow; the emulator's is right
        monkeypatch.setattr(signing, "http_date", lambda epoch_s=None: formatdate(
            time.time() + skew_s, usegmt=True))
    with emulator_in_thread(**options) as emulator:
        # Eight request slots: the first call still goes alone (docs/reference.md, "Fatal
        # conditions"), so a fatal answer to it is the only request sent.
        code, elapsed_s = _run(scans, out, emulator.url, "--concurrency", "8")
        stats = emulator.stats()
    err = capsys.readouterr().err
    assert code == 3 and f"fatal: {fatal}" in err, err
    assert stats["calls"] == 1 and stats["billable"] == 0
    assert read_rows(out) == []
    assert "not attempted (left for the next run): 8" in err
    assert elapsed_s < 5


def test_gzip_answers_are_still_read(tmp_path: Path) -> None:
    """The bomb above is refused for its size, not because gzip itself is refused."""
    ok = json.dumps({"success": True, "code": 200, "data": CARD | {"side": "back"}})
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as packer:
        packer.write(ok.encode())
    scans = _one_image(tmp_path)
    out = tmp_path / "out.jsonl"
    with raw_server(_answer(200, buffer.getvalue(), **{"Content-Encoding": "gzip"})) as server:
        code, _ = _run(scans, out, server.url)
    assert code == 0 and read_rows(out)[0]["side"] == "back"
