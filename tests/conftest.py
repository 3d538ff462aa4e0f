"""Shared test configuration."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import aioresponses.core
from aiohttp import ClientResponse


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
