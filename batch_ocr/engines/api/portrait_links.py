"""Portraits behind the provider's links, fetched with the API engine's own session.

The provider's ``image_url`` is valid for one hour (``API_CONTRACT.md``, "Response"),
so the run asks for a portrait right after its card's call (``Engine.fetch_portrait``).
Downloads are not billed; they use the same transport and retry policy as API calls,
follow no redirect to a non-HTTP(S) scheme and are capped in size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
from yarl import URL

from batch_ocr.engines.api import retry_policy
from batch_ocr.engines.api.transport import network_errors
from batch_ocr.engines.base import PortraitUnavailable
from batch_ocr.errors import FatalApiError, TransientApiError

Sleep = Callable[[float], Awaitable[None]]

MAX_PORTRAIT_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3


def _timeout_s(session: aiohttp.ClientSession) -> float:
    """The session's own timeout, named in a timeout's message."""
    return session.timeout.total or 0.0


async def _fetch_once(session: aiohttp.ClientSession, url: str) -> bytes:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        if not current.startswith(("http://", "https://")):
            raise PortraitUnavailable("the portrait link is not HTTP(S)")
        async with (
            network_errors(URL(current).host or "the portrait server", _timeout_s(session)),
            session.get(current, allow_redirects=False) as response,
        ):
            if response.status in (301, 302, 303, 307, 308):
                current = str(response.url.join(URL(response.headers.get("Location", ""))))
                continue
            if retry_policy.is_transient_status(response.status):
                raise TransientApiError(str(response.status), f"HTTP {response.status}")
            if response.status != 200:
                raise PortraitUnavailable(f"HTTP {response.status} (the link may have expired)")
            data = await response.content.read(MAX_PORTRAIT_BYTES + 1)
        if len(data) > MAX_PORTRAIT_BYTES:
            raise PortraitUnavailable("the portrait is larger than 2 MB")
        return data
    raise PortraitUnavailable("too many redirects")


async def download(
    session: aiohttp.ClientSession, url: str, *, max_attempts: int, sleep: Sleep = asyncio.sleep
) -> bytes:
    """The portrait's bytes, retrying transient failures like an API call."""
    try:
        async for attempt in retry_policy.retrying(max_attempts, sleep):
            with attempt:
                return await _fetch_once(session, url)
    except (TransientApiError, FatalApiError) as exc:
        raise PortraitUnavailable(f"download failed: {exc}") from None
    raise PortraitUnavailable("download failed")  # pragma: no cover - tenacity always reraises
