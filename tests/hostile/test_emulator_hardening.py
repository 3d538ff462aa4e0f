"""The emulator is not a soft target: big bodies, timing, traversal, garbage.

Raw sockets and ``http.client`` are used on purpose: a polite client would normalise
``..`` away, or finish sending a body the server should never have waited for.
"""

from __future__ import annotations

import contextlib
import http.client
import inspect
import select
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from batch_ocr.emulator.server import EmulatorHandle
from batch_ocr.provider import gateway, signing
from batch_ocr.provider.gateway import MSG_BAD_SIGNATURE, MSG_BODY_TOO_LARGE, check_request
from tests.e2e_support import emulator_in_thread


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorHandle]:
    with emulator_in_thread() as handle:
        yield handle


def _address(handle: EmulatorHandle) -> tuple[str, int]:
    parts = urlsplit(handle.base_url)
    assert parts.hostname == "127.0.0.1" and parts.port is not None
    return parts.hostname, parts.port


def _request_head(handle: EmulatorHandle, extra: str) -> bytes:
    headers = signing.signed_headers(DEMO_SECRET_ID, DEMO_SECRET_KEY, "market")
    lines = [f"POST {urlsplit(handle.url).path} HTTP/1.1", "Host: 127.0.0.1",
             "Content-Type: application/x-www-form-urlencoded",
             *(f"{name}: {value}" for name, value in headers.items()), extra, "", ""]
    return "\r\n".join(lines).encode()


def _read_status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1])


@pytest.mark.serial  # times the refusal
def test_a_declared_huge_body_is_refused_before_it_is_sent(emulator: EmulatorHandle) -> None:
    """1 GB announced, 1 KB sent: a server that read the body first would wait for ever."""
    with socket.create_connection(_address(emulator), timeout=5) as sock:
        sock.sendall(_request_head(emulator, f"Content-Length: {2**30}") + b"image=" + b"A" * 1024)
        started = time.monotonic()
        assert _read_status(sock) == 413
        assert time.monotonic() - started < 2
    assert emulator.stats()["gateway_refusals"].get(MSG_BODY_TOO_LARGE, 0) >= 1


def test_an_endless_chunked_body_is_cut_at_the_limit(emulator: EmulatorHandle) -> None:
    """No length announced: the server must stop reading near its limit, not at the end."""
    limit = emulator.config.max_body_bytes
    chunk = b"10000\r\n" + b"A" * 0x10000 + b"\r\n"
    sent = 0
    with socket.create_connection(_address(emulator), timeout=5) as sock:
        sock.sendall(_request_head(emulator, "Transfer-Encoding: chunked"))
        deadline = time.monotonic() + 10
        answered = False
        while sent < 200 * 2**20 and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1)
            if readable:
                answered = True
                break
            if writable:
                try:
                    sent += sock.send(chunk)
                except OSError:  # reset: the server gave up on us, as it should
                    answered = True
                    break
        assert answered, f"still reading after {sent} bytes"
    # Socket buffers on both sides hold a few MB more than the server actually read.
    assert sent < limit + 16 * 2**20
    stats = emulator.stats()
    assert stats["gateway_refusals"].get(MSG_BODY_TOO_LARGE, 0) >= 1
    assert stats["billable"] == 0


def test_the_signature_check_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = gateway.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(gateway.hmac, "compare_digest", spy)
    keys = {DEMO_SECRET_ID: DEMO_SECRET_KEY}
    now_s = time.time()
    good = signing.signed_headers(DEMO_SECRET_ID, DEMO_SECRET_KEY, "market", now_s)
    assert check_request(good, keys, now_s=now_s) is None
    forged = signing.signed_headers(DEMO_SECRET_ID, "guessed-key", "market", now_s)
    refusal = check_request(forged, keys, now_s=now_s)
    assert refusal is not None and refusal.message == MSG_BAD_SIGNATURE
    assert len(compared) == 2
    # And no other comparison of the signature sneaks in beside it.
    source = inspect.getsource(check_request)
    assert "compare_digest(" in source
    assert "== params.signature" not in source and "params.signature ==" not in source


def test_a_forged_signature_over_the_wire_goes_through_compare_digest(
        emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = gateway.hmac.compare_digest
    monkeypatch.setattr(gateway.hmac, "compare_digest",
                        lambda a, b: calls.append(1) or real(a, b))
    forged = signing.signed_headers(DEMO_SECRET_ID, DEMO_SECRET_KEY + "x", "market")
    host, port = _address(emulator)
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("POST", urlsplit(emulator.url).path, body=b"image=x&url=",
                           headers={**forged, "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        assert response.status == 401 and MSG_BAD_SIGNATURE.encode() in response.read()
    finally:
        connection.close()
    assert calls == [1]


TRAVERSALS = (
    "/_emulator/portrait/../../etc/passwd.jpg",
    "/_emulator/portrait/../../../../../../etc/passwd.jpg",
    "/_emulator/portrait/%2e%2e/%2e%2e/etc/passwd.jpg",
    "/_emulator/portrait/%2e%2e%2f%2e%2e%2fetc%2fpasswd.jpg",
    "/_emulator/portrait/%252e%252e%252f%252e%252e%252fetc%252fpasswd.jpg",
    "/_emulator/portrait/..%5c..%5cetc%5cpasswd.jpg",
    "/_emulator/portrait/%2fetc%2fpasswd%00.jpg",
    "/_emulator/portrait/....//....//etc/passwd.jpg",
    "/_emulator/portrait/..;/..;/etc/passwd.jpg",
)


@pytest.mark.parametrize("path", TRAVERSALS)
def test_the_portrait_route_serves_no_file(emulator: EmulatorHandle, path: str) -> None:
    host, port = _address(emulator)
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)  # sent byte for byte
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status in (400, 404)
    assert b"root:" not in body and b"[project]" not in body


def test_garbage_on_the_socket_does_not_take_the_emulator_down(
        emulator: EmulatorHandle) -> None:
    for junk in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64),  # a TLS hello
                 b"GET / HTTP/1.1\r\nHost: " + b"h" * 70000 + b"\r\n\r\n",  # a huge header
                 b"POST /release/idcard_ocr/post HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                 bytes(range(256)) * 8):
        with socket.create_connection(_address(emulator), timeout=5) as sock:
            sock.sendall(junk)
            with contextlib.suppress(OSError):  # an error page or a closed socket: both fine
                sock.recv(4096)
    # Still serving: a real signed request after the junk gets a real answer.
    calls_before = emulator.stats()["calls"]
    assert _signed_post_status(emulator, _tiny_png_form()) == 200
    assert emulator.stats()["calls"] == calls_before + 1


def _tiny_png_form() -> bytes:
    import base64
    import io
    from urllib.parse import urlencode

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(buffer, "PNG")
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return urlencode({"image": uri}).encode()


def _signed_post_status(handle: EmulatorHandle, body: bytes) -> int:
    head = _request_head(handle, f"Content-Length: {len(body)}")
    with socket.create_connection(_address(handle), timeout=5) as sock:
        sock.sendall(head + body)
        return _read_status(sock)
