"""Helpers for end-to-end tests: the emulator in a thread or a subprocess, test images."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from batch_ocr.emulator.config import EmulatorConfig
from batch_ocr.emulator.faults import FaultInjector, FaultRates
from batch_ocr.emulator.server import EmulatorHandle, running_emulator
from tests.pictures import marked

REPO = Path(__file__).resolve().parent.parent
#: The sample cards (a clean run: samples/README.md), their recorded API answers, and the
#: folder of the undecodable sample that a run over both turns into a ``rejected`` row.
SAMPLES = REPO / "samples" / "cards"
FIXTURES = REPO / "samples" / "fixtures.jsonl"
HOSTILE = REPO / "samples" / "hostile"


@contextmanager
def emulator_in_thread(**options: Any) -> Iterator[EmulatorHandle]:
    """The emulator on 127.0.0.1 in a background event loop, for in-process CLI runs."""
    config = EmulatorConfig(**options)
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[EmulatorHandle] = loop.create_future()
    stop = asyncio.Event()

    async def serve() -> None:
        async with running_emulator(config) as handle:
            ready.set_result(handle)
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    handle = asyncio.run_coroutine_threadsafe(_wait(ready), loop).result(10)
    try:
        yield handle
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


async def _wait(future: asyncio.Future[EmulatorHandle]) -> EmulatorHandle:
    return await future


@contextmanager
def emulator_process(*args: str) -> Iterator[str]:
    """``batch-ocr-emulator --port 0 ARGS`` as a subprocess; yields the API URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "batch_ocr.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        yield line.removeprefix("listening on ").strip()
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stats_of(api_url: str) -> dict[str, Any]:
    """``GET /_emulator/stats`` of an emulator process."""
    base = api_url.split("/", 3)
    with urllib.request.urlopen(f"{base[0]}//{base[2]}/_emulator/stats", timeout=10) as answer:
        result: dict[str, Any] = json.load(answer)
    return result


def demo_env(**extra: str) -> dict[str, str]:
    """The environment of a batch-ocr subprocess using the emulator's demo keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCH_OCR_")}
    env.update(BATCH_OCR_SECRET_ID=DEMO_SECRET_ID, BATCH_OCR_SECRET_KEY=DEMO_SECRET_KEY)
    env.update(extra)
    return env


def make_images(folder: Path, count: int, *, seed: int = 0, size: tuple[int, int] = (120, 80)
                ) -> list[str]:
    """``count`` distinct small JPEGs (not cards); returns their sha256s."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    hashes = []
    for index in range(count):
        image = marked(size, tuple(rng.randrange(256) for _ in range(3)), f"{seed}-{index}")
        path = folder / f"img_{index:05d}.jpg"
        image.save(path, quality=80)
        hashes.append(hashlib.sha256(path.read_bytes()).hexdigest())
    return hashes


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSONL output."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _seed_failing_the_second_call(rates: FaultRates) -> int:
    """A seed whose first call is answered and whose second is faulted (the emulator's
    own injector draws the same sequence, so the choice of seed is checked, not hoped)."""
    for seed in range(10_000):
        injector = FaultInjector(rates, seed)
        first, second = injector.next_call().fault, injector.next_call().fault
        if first is None and second is not None:
            return seed
    raise AssertionError("no seed found")


def faults_on_second_call(*, fail_code: int | None = None, hang: bool = False) -> list[str]:
    """``batch-ocr-emulator`` flags that answer the first call and fault the second: an
    HTTP ``fail_code``, or a call that hangs for a minute."""
    if hang:
        seed = _seed_failing_the_second_call(FaultRates(hang_rate=0.5))
        return ["--seed", str(seed), "--hang-rate", "0.5", "--hang-s", "60"]
    seed = _seed_failing_the_second_call(FaultRates(fail_rate=0.5, fail_codes=(fail_code or 500,)))
    return ["--seed", str(seed), "--fail-rate", "0.5", "--fail-codes", str(fail_code)]


def kill_9_when_answered(command: list[str], api_url: str, *, calls: int = 2,
                         within_s: float = 120) -> None:
    """Run ``command`` against the emulator at ``api_url`` and ``kill -9`` it once the
    emulator has taken ``calls`` calls (with ``faults_on_second_call(hang=True)``: the
    first answer is in, the second call out)."""
    process = subprocess.Popen(command, env=demo_env(BATCH_OCR_ENDPOINT=api_url),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + within_s
        while stats_of(api_url)["calls"] < calls:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
