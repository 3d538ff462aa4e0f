"""Shared test configuration."""

from __future__ import annotations

import inspect
import os
import shutil
import tempfile
from collections.abc import Generator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
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


# Running the suite on several processes (pytest-xdist; README "Test"). pyproject's addopts
# ask for ``--dist loadfile``: each module runs on one process, so its module fixtures and
# cached pictures are made once, as in a run on one process. (A session fixture, the Dask
# cluster or the fault-free emulator, is started once on each process whose tests ask.)
#: Env var by which the main process hands its workers the folder of the locks below.
_TURNS_ENV = "_BATCH_OCR_TEST_TURNS"
_TURNS_KEY = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """In the main process of a run on several processes, a folder for the turn locks."""
    if not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None):
        folder = tempfile.mkdtemp(prefix="batch-ocr-test-turns-")
        os.environ[_TURNS_ENV] = folder
        config.stash[_TURNS_KEY] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_TURNS_KEY, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(_TURNS_ENV, None)


@contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    """``flock`` on ``path`` (created if missing) until the block ends."""
    import fcntl

    with path.open("a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[
        None, object, object]:
    """A test marked ``serial`` (it measures time or load) runs, setup to teardown, while
    no other process of the run is inside a test; other tests run side by side.

    Every other test holds a shared lock on ``busy`` through its run; a serial test holds
    it exclusively. The ``turnstile`` comes first: a serial test holds it while it waits,
    so the other processes, passing it before each test, cannot keep ``busy`` shared
    between them for ever by taking it again between two tests. (Every test is POSIX's;
    ``flock`` is too.)"""
    import fcntl

    folder = os.environ.get(_TURNS_ENV)
    if getattr(item.config, "workerinput", None) is None or folder is None:
        return (yield)
    turns = Path(folder)
    mode = fcntl.LOCK_EX if item.get_closest_marker("serial") is not None else fcntl.LOCK_SH
    with ExitStack() as held:
        with _flock(turns / "turnstile.lock", fcntl.LOCK_EX):
            held.enter_context(_flock(turns / "busy.lock", mode))
        return (yield)
