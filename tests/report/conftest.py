"""Fixtures for the review-page tests: sample rows on disk and a headless browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from report_fakes import CHROMIUM_ARGS, Row, draw_card, draw_portrait, find_chromium, sample_rows


@pytest.fixture
def sample(tmp_path: Path) -> tuple[list[Row], Path]:
    """The sample rows and the folder their ``file`` paths are relative to."""
    images = tmp_path / "in"
    for hue, row in enumerate(sample_rows()):
        if row["file"] != "scans/missing_on_disk.jpg":
            draw_card(images / row["file"], hue=hue)
    draw_portrait(tmp_path / "out" / "portraits" / "zhang_san.jpg")
    return sample_rows(), images


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium driven by Playwright; skips when either is missing.

    Module scope, not session: Playwright's sync API keeps an event loop on the main
    thread while it runs, and every later ``asyncio.run`` (the CLI, async tests) would
    fail with "cannot be called from a running event loop".
    """
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed (pip install playwright; it drives Debian's "
        "/usr/bin/chromium and never downloads a browser)",
    )
    executable = find_chromium()
    if executable is None:
        pytest.skip(
            "no Chromium on this machine (apt-get install -y chromium, or set "
            "BATCH_OCR_CHROMIUM to its path)"
        )
    with sync_api.sync_playwright() as playwright:
        # Playwright starts the browser with a fresh, empty profile of its own, which is
        # the --user-data-dir we want; it refuses that flag in args.
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def make_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """New pages that record every request, CSP violation and script error."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, service_workers="block"
        )
        contexts.append(context)
        page = context.new_page()
        page.requests = []
        page.problems = []
        page.on("request", lambda request: page.requests.append(request.url))
        page.on("pageerror", lambda exc: page.problems.append(f"pageerror: {exc}"))
        page.on(
            "dialog",
            lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()),
        )
        page.on(
            "console",
            lambda msg: (
                page.problems.append(f"console: {msg.text}")
                if msg.type in ("error", "warning")
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
