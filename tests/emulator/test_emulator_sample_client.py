"""The provider's own Python sample client, pointed at the emulator, must work.

The sample is extracted from the provider's page verbatim; only the URL, the keys and
the image are substituted, as a buyer would.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from batch_ocr.emulator.config import EmulatorConfig
from batch_ocr.emulator.server import running_emulator
from batch_ocr.provider.gateway import MSG_BAD_SIGNATURE

# ``../shared`` beside the project, as in CI; absent on a user's machine.
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / (
    "provider-api-doc.zh.txt")
_START = "# -*- coding: utf-8 -*-"
_END = "using System.IO;"


def extract_python_sample() -> str:
    """The Python sample as printed on the provider's page."""
    if not REFERENCE.is_file():
        pytest.skip("../shared/reference is not beside the project")
    text = REFERENCE.read_text(encoding="utf-8")
    start = text.index(_START)
    return text[start : text.index(_END, start)]


def prepare_sample(url: str, secret_id: str, secret_key: str, image_data_uri: str) -> str:
    """Substitute what a buyer substitutes; fail loudly if the sample changed shape."""
    sample = extract_python_sample()
    substitutions = [
        ('secretId = "xxxx"', f"secretId = {secret_id!r}"),
        ('secretKey = "xxxx"', f"secretKey = {secret_key!r}"),
        ('"image": ""', f'"image": {image_data_uri!r}'),
        (
            "url = 'https://service-fh4alf8j-1256140209.ap-shanghai.apigateway.myqcloud.com"
            "/release/idcard_ocr/post'",
            f"url = {url!r}",
        ),
    ]
    for old, new in substitutions:
        assert sample.count(old) == 1, f"sample no longer contains {old!r}"
        sample = sample.replace(old, new)
    return sample


async def run_sample(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "sample_client.py"
    script.write_text(source, encoding="utf-8")
    # The sample blocks (urllib); run it in a thread so the emulator keeps serving.
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        # Keep the sample's strftime in English, as on the provider's machines.
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture
def front_uri(cards: Any, helpers: Any) -> str:
    return str(helpers.data_uri(cards.front, "PNG"))


async def test_python_sample_client_succeeds(tmp_path: Path, cards: Any, front_uri: str) -> None:
    async with running_emulator(EmulatorConfig(fixture_paths=(cards.fixtures_path,))) as emu:
        result = await run_sample(
            tmp_path, prepare_sample(emu.url, DEMO_SECRET_ID, DEMO_SECRET_KEY, front_uri)
        )
        stats = emu.stats()
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["success"] is True
    assert answer["code"] == 200
    assert answer["data"]["info"]["name"] == "张三"
    assert answer["data"]["image_url"].startswith(emu.base_url + "/_emulator/portrait/")
    assert stats["billable"] == 1


async def test_python_sample_client_with_wrong_key_is_refused(
    tmp_path: Path, cards: Any, front_uri: str
) -> None:
    async with running_emulator(EmulatorConfig(fixture_paths=(cards.fixtures_path,))) as emu:
        result = await run_sample(
            tmp_path, prepare_sample(emu.url, DEMO_SECRET_ID, "wrong-key", front_uri)
        )
        stats = emu.stats()
    # urllib raises on a 401; the sample does not catch it.
    assert result.returncode != 0
    assert "HTTP Error 401" in result.stderr
    assert stats["by_status"] == {"401": 1}
    assert stats["gateway_refusals"] == {MSG_BAD_SIGNATURE: 1}
    assert stats["billable"] == 0
