"""Fixtures the end-to-end modules share."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from tests.e2e_support import emulator_process, stats_of


@pytest.fixture(scope="session")
def healthy_emulator() -> Iterator[str]:
    """One fault-free emulator reading with the local engine, for every module's runs
    (starting one and loading its models costs seconds); ``healthy`` zeroes it per test."""
    with emulator_process("--engine", "local", "--workers", "1") as url:
        yield url


@pytest.fixture
def healthy(healthy_emulator: str) -> str:
    """The fault-free emulator, its counters zeroed (``POST /_emulator/reset``)."""
    base = healthy_emulator.split("/", 3)
    request = urllib.request.Request(f"{base[0]}//{base[2]}/_emulator/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    assert stats_of(healthy_emulator)["calls"] == 0
    return healthy_emulator
