"""``batch-ocr-emulator --engine local``: a self-hosted server speaking the provider's API."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from tests.e2e_support import SAMPLES, emulator_process

REPO = Path(__file__).resolve().parents[2]


def _available() -> bool:
    from batch_ocr.engines.local import available

    return available()


pytestmark = pytest.mark.skipif(not _available(), reason="the 'local' extra is not installed")


def provider_sample_client(url: str, image_path: Path, secret_key: str,
                           secret_id: str = DEMO_SECRET_ID) -> str:
    """The provider's own Python sample (from the reference page), pointed at ``url``."""
    page = (REPO.parent / "shared" / "reference" / "provider-api-doc.zh.txt")
    if not page.is_file():
        pytest.skip("../shared/reference is not beside the project")
    text = page.read_text(encoding="utf-8")
    start = text.index("# -*- coding: utf-8 -*-")
    end = text.index("using System.IO;")
    code = text[start:end]
    mime = "image/jpeg"
    code = code.replace('secretId = "xxxx"', f'secretId = "{secret_id}"')
    code = code.replace('secretKey = "xxxx"', f'secretKey = "{secret_key}"')
    code = re.sub(r"url = 'https://[^']+'", f"url = '{url}'", code)
    code = code.replace('"image": "",', '"image": "data:%s;base64," % "' + mime + '" + '
                        f'__import__("base64").b64encode(open({str(image_path)!r}, "rb")'
                        '.read()).decode(),')
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    return done.stdout + done.stderr


@pytest.mark.slow
def test_provider_sample_client_gets_a_real_recognition() -> None:
    with emulator_process("--engine", "local", "--workers", "1") as url:
        answer = provider_sample_client(url, SAMPLES / "zhangsan_front.jpg", DEMO_SECRET_KEY)
    assert '"success": true' in answer
    assert "张三" in answer and "360113199010099893" in answer
    assert '"side": "front"' in answer


def test_provider_sample_client_with_a_wrong_key_is_refused() -> None:
    with emulator_process("--engine", "local", "--workers", "1") as url:
        answer = provider_sample_client(url, SAMPLES / "zhangsan_front.jpg", "wrong")
    assert "HTTP Error 401" in answer
