"""Shared test configuration."""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import aioresponses.core
import pytest
from aiohttp import ClientResponse

from tests.dask_cluster import LocalCluster, local_cluster


class _CompatClientResponse(ClientResponse):
    """aiohttp 3.14 made ``stream_writer`` required; aioresponses 0.7.9 does not pass it.

    aioresponses issue #289 (open). aiohttp 3.14 is a security release, so we adapt the
    test double rather than pin the runtime library back.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(*args, **kwargs)


if "stream_writer" in inspect.signature(ClientResponse.__init__).parameters:
    aioresponses.core.ClientResponse = _CompatClientResponse  # type: ignore[misc]


@pytest.fixture
def demo_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the emulator's demo credentials in the environment, and retries without waits."""
    from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY

    for key in list(os.environ):
        if key.startswith("BATCH_OCR_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("BATCH_OCR_SECRET_ID", DEMO_SECRET_ID)
    monkeypatch.setenv("BATCH_OCR_SECRET_KEY", DEMO_SECRET_KEY)
    monkeypatch.setattr("batch_ocr.engines.api.retry_policy.BACKOFF_INITIAL_S", 0.01)


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """One Dask scheduler and two workers on 127.0.0.1 for every test that only runs work
    on a cluster (the CLI's and the server's); a test that kills a process of its
    cluster starts its own with ``local_cluster``. Started at the first test that asks."""
    with local_cluster(tmp_path_factory.mktemp("dask-cluster")) as running:
        yield running
