"""``batch-ocr-server``: the provider's API on the offline engine, run as users run it.

Every server here is a ``python -m batch_ocr.server`` child on 127.0.0.1, stopped (and
waited for) by the test; every client loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from batch_ocr.emulator.config import EmulatorConfig
from batch_ocr.emulator.server import running_emulator
from batch_ocr.provider import signing
from batch_ocr.provider.encoding import CONTENT_TYPE, form_body
from batch_ocr.provider.gateway import MSG_BAD_SIGNATURE, MSG_RATE_LIMITED
from tests.dask_cluster import LocalCluster, dask_available, local_cluster
from tests.engines.test_emulator_local_engine import provider_sample_client

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "cards"
SECRET_ID = "AKIDserver0000000000000000000000000000"
SECRET_KEY = "server-secret-key-not-the-demo-one"
START_TIMEOUT_S = 60


def _local_available() -> bool:
    from batch_ocr.engines.local import available

    return available()


pytestmark = [pytest.mark.slow,  # a server process started per test
              pytest.mark.skipif(not _local_available(),
                                 reason="the 'local' extra is not installed")]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCH_OCR_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "no-config")
    env.update(extra)
    return env


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str

    @property
    def base_url(self) -> str:
        return self.url.rsplit("/release/", 1)[0]

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit code and everything it logged."""
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=60)
        return self.process.returncode, stderr


@contextmanager
def server_process(tmp_path: Path, *args: str, env: dict[str, str] | None = None
                   ) -> Iterator[Server]:
    """``python -m batch_ocr.server --port 0 ARGS`` with the test's credentials."""
    env = env if env is not None else _env(tmp_path, BATCH_OCR_SECRET_ID=SECRET_ID,
                                           BATCH_OCR_SECRET_KEY=SECRET_KEY)
    process = subprocess.Popen([sys.executable, "-m", "batch_ocr.server", "--port", "0", *args],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on http://127.0.0.1:"):
            process.kill()
            raise AssertionError(f"no listening line: {line!r} {process.communicate()[1]}")
        yield Server(process, line.removeprefix("listening on ").strip())
    finally:
        # The whole group: the engine's worker processes hold the server's stderr too,
        # and a test that failed half-way must not wait on them.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)


def _headers(secret_key: str = SECRET_KEY, secret_id: str = SECRET_ID) -> dict[str, str]:
    return {**signing.signed_headers(secret_id, secret_key, "market"),
            "Content-Type": CONTENT_TYPE}


def _post(url: str, body: bytes, headers: dict[str, str], timeout_s: float = 60
          ) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _small_jpeg(seed: int) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (120, 80), ((seed * 37) % 256, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_the_providers_sample_client_works_by_changing_the_url(tmp_path: Path) -> None:
    with server_process(tmp_path, "--workers", "1") as server:
        # The only change a buyer makes: the URL (and their own keys, as always).
        answer = provider_sample_client(server.url, SAMPLES / "zhangsan_front.jpg", SECRET_KEY,
                                        secret_id=SECRET_ID)
        status, health = _get(server.base_url + "/healthz")
        code, stderr = server.stop()
    assert '"success": true' in answer and '"side": "front"' in answer
    assert "张三" in answer and "360113199010099893" in answer
    assert status == 200 and health["status"] == "ok"
    assert code == 0
    # No personal data in the log.
    assert "张三" not in stderr and "360113199010099893" not in stderr


async def _answers_of(url: str, requests: list[tuple[bytes, dict[str, str], str]]
                      ) -> list[tuple[int, str]]:
    async with aiohttp.ClientSession() as session:
        answers = []
        for body, headers, method in requests:
            async with session.request(method, url, data=body, headers=headers) as answer:
                answers.append((answer.status, await answer.text()))
        return answers


def test_refusals_are_the_emulators_byte_for_byte(tmp_path: Path) -> None:
    not_an_image = form_body("image/jpeg", b"this is not a picture")
    good = form_body("image/jpeg", _small_jpeg(1))
    stale = {**signing.signed_headers(SECRET_ID, SECRET_KEY, "market", time.time() - 3600),
             "Content-Type": CONTENT_TYPE}
    requests = [
        (good, {"Content-Type": CONTENT_TYPE}, "POST"),  # no Authorization
        (good, _headers("wrong-key"), "POST"),
        (good, _headers(secret_id="AKIDunknown"), "POST"),
        (good, stale, "POST"),
        (b"", _headers(), "GET"),
        (not_an_image, _headers(), "POST"),
        (b"image=&url=", _headers(), "POST"),
    ]
    with server_process(tmp_path, "--workers", "1") as server:
        from_server = asyncio.run(_answers_of(server.url, requests))
        server.stop()

    async def from_emulator() -> list[tuple[int, str]]:
        from batch_ocr.emulator.config import Credential

        config = EmulatorConfig(credentials=(Credential(secret_id=SECRET_ID,
                                                        secret_key=SECRET_KEY),))
        async with running_emulator(config) as emulator:
            return await _answers_of(emulator.url, requests)

    assert from_server == asyncio.run(from_emulator())
    assert from_server[1] == (401, json.dumps({"message": MSG_BAD_SIGNATURE}))
    assert [status for status, _ in from_server] == [401, 401, 401, 401, 405, 200, 200]
    # The seller's 400 travels in the body of an HTTP 200, as the provider sends it.
    assert [json.loads(text)["code"] for _, text in from_server[5:]] == [400, 400]


def test_credentials_come_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text(f'secret_id = "{SECRET_ID}"\nsecret_key = "{SECRET_KEY}"\n')
    with server_process(tmp_path, "--workers", "1", "--config", str(config),
                        env=_env(tmp_path)) as server:
        status, answer = _post(server.url, form_body("image/png",
                                                     (SAMPLES / "zhangsan_back.png").read_bytes()),
                               _headers())
        server.stop()
    assert status == 200 and answer["data"]["side"] == "back", answer


def test_no_credentials_is_a_usage_error_and_the_key_is_never_shown(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "batch_ocr.server", "--port", "0"],
                          cwd=tmp_path, env=_env(tmp_path, BATCH_OCR_SECRET_KEY="only-a-key"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("batch-ocr-server: error: no credentials to accept: set "
                                  "BATCH_OCR_SECRET_ID and BATCH_OCR_SECRET_KEY")
    assert "only-a-key" not in done.stderr


def test_sigterm_lets_calls_in_flight_finish(tmp_path: Path) -> None:
    body = form_body("image/jpeg", (SAMPLES / "zhangsan_front.jpg").read_bytes())
    with server_process(tmp_path, "--workers", "1") as server:
        # Warm the worker up so the call below is in flight, not waiting for models.
        assert _post(server.url, form_body("image/jpeg", _small_jpeg(2)), _headers())[0] == 200

        async def call_then_terminate() -> tuple[int, dict]:
            call = asyncio.create_task(asyncio.to_thread(_post, server.url, body, _headers()))
            await asyncio.sleep(0.2)
            server.process.send_signal(signal.SIGTERM)
            return await asyncio.wait_for(call, 60)

        status, answer = asyncio.run(call_then_terminate())
        server.process.wait(60)
        code = server.process.returncode
    assert status == 200 and answer["data"]["info"]["name"] == "张三"
    assert code == 0


@pytest.mark.serial  # times every answer
@pytest.mark.slow
def test_many_clients_get_every_answer_with_bounded_latency(tmp_path: Path) -> None:
    """40 clients x 4 calls at once against a queue of 6: each call is answered, either
    recognised or refused at once with the gateway's 429, never lost or left hanging."""
    clients, calls_each, queue = 40, 4, 6
    card = (SAMPLES / "zhangsan_back.png").read_bytes()

    async def client(session: aiohttp.ClientSession, url: str, n: int) -> list[tuple]:
        results = []
        for k in range(calls_each):
            is_card = (n + k) % 8 == 0
            body = form_body("image/png", card) if is_card else form_body(
                "image/jpeg", _small_jpeg(n * calls_each + k))
            started = time.monotonic()
            async with session.post(url, data=body, headers=_headers()) as answer:
                payload = await answer.json(content_type=None)
            results.append((answer.status, payload, time.monotonic() - started, is_card))
        return results

    async def load(url: str) -> list[tuple]:
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout,
                                         connector=aiohttp.TCPConnector(limit=0)) as session:
            per_client = await asyncio.wait_for(
                asyncio.gather(*(client(session, url, n) for n in range(clients))), 180)
        return [result for results in per_client for result in results]

    with server_process(tmp_path, "--workers", "2", "--queue", str(queue)) as server:
        results = asyncio.run(load(server.url))
        status, health = _get(server.base_url + "/healthz")
        code, _ = server.stop()
    assert len(results) == clients * calls_each  # no lost answer
    recognised = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] == 429]
    assert len(recognised) + len(refused) == len(results), {r[0] for r in results}
    assert all(r[1] == {"message": MSG_RATE_LIMITED} for r in refused)
    assert all(r[1]["success"] is True for r in recognised)
    assert all(r[1]["data"]["side"] == "back" for r in recognised if r[3])
    assert len(recognised) >= queue
    # The bounded queue bounds latency: nobody waits behind more than `queue` calls.
    assert max(r[2] for r in results) < 30
    assert status == 200 and health["held"] == 0
    assert health["answers"]["200"] == len(recognised)
    assert code == 0


@pytest.mark.slow
@pytest.mark.skipif(not dask_available(), reason="the 'dask' extra is not installed")
def test_the_server_recognises_on_a_dask_cluster(tmp_path: Path,
                                                 dask_cluster: LocalCluster) -> None:
    body = form_body("image/jpeg", (SAMPLES / "zhangsan_front.jpg").read_bytes())
    with server_process(tmp_path, "--dask", dask_cluster.address) as server:
        status, answer = _post(server.url, body, _headers())
        portrait = answer["data"]["image_url"]
        with urllib.request.urlopen(portrait, timeout=10) as fetched:
            jpeg = fetched.read()
        health = _get(server.base_url + "/healthz")
        code, stderr = server.stop()
    assert status == 200 and answer["data"]["info"]["number"] == "360113199010099893"
    assert jpeg.startswith(b"\xff\xd8")
    assert health[0] == 200 and health[1]["queue_limit"] >= 8
    assert code == 0
    assert "distributed" not in stderr  # Dask's own logs stay quiet


@pytest.mark.slow
@pytest.mark.skipif(not dask_available(), reason="the 'dask' extra is not installed")
def test_a_lost_scheduler_turns_healthz_to_503(tmp_path: Path) -> None:
    body = form_body("image/png", (SAMPLES / "zhangsan_back.png").read_bytes())
    # One worker: the server's one call needs no second, and what is lost is the scheduler.
    with local_cluster(tmp_path / "cluster", workers=1) as cluster, \
            server_process(tmp_path, "--dask", cluster.address) as server:
        assert _post(server.url, body, _headers())[0] == 200
        cluster.kill_scheduler()
        status, answer = _post(server.url, body, _headers())
        health = _get(server.base_url + "/healthz")
        code, stderr = server.stop()
    # The call is the provider's 500; the orchestrator sees why and replaces the server.
    assert (status, answer["code"], answer["success"]) == (200, 500, False)
    assert health[0] == 503 and health[1]["status"] == "unavailable"
    assert f"lost the Dask scheduler at {cluster.address}" in health[1]["reason"]
    assert code == 0
    assert "Traceback" not in stderr


def test_an_unreachable_dask_scheduler_is_exit_3(tmp_path: Path) -> None:
    if not dask_available():
        pytest.skip("the 'dask' extra is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    done = subprocess.run([sys.executable, "-m", "batch_ocr.server", "--port", "0", "--dask",
                           address], cwd=tmp_path,
                          # 1 s to give up, not the default 10 s: the same refusal, sooner.
                          env=_env(tmp_path, BATCH_OCR_SECRET_ID=SECRET_ID,
                                   BATCH_OCR_SECRET_KEY=SECRET_KEY,
                                   BATCH_OCR_DASK_CONNECT_TIMEOUT="1"),
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 3
    assert f"batch-ocr-server: fatal: cannot reach the Dask scheduler at {address}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not done.stdout

