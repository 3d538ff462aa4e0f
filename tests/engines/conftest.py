"""Fixtures for the offline engine's tests: sample cards and their true fields."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "cards"
FIXTURES = SAMPLES.parent / "fixtures.jsonl"


def _fixture_records() -> dict[str, dict[str, Any]]:
    path = FIXTURES
    if not path.is_file():
        return {}
    records = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return {record["file"]: record for record in records}


@pytest.fixture(scope="session")
def sample_cards() -> dict[str, dict[str, Any]]:
    """``samples/fixtures.jsonl`` by file name (the provider answer each card should get)."""
    records = _fixture_records()
    if not records:
        pytest.skip("samples/fixtures.jsonl is not there")
    return records


@pytest.fixture(scope="session")
def sample_bytes() -> Any:
    """Read a sample file's bytes by name."""

    def read(name: str) -> bytes:
        path = SAMPLES / name
        if not path.is_file():
            pytest.skip(f"samples/cards/{name} is not there")
        return path.read_bytes()

    return read


def jpeg(image: Any, quality: int = 85) -> bytes:
    """A PIL image as JPEG bytes."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
