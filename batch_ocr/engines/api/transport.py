"""The HTTP transport every request of ours shares: one session, one error translation.

The API client and the portrait downloads both go through ``network_errors``, so a
timeout, a reset or a TLS failure means the same thing wherever it happens (STYLE.md,
"aiohttp errors are translated in one place").
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from batch_ocr import __version__
from batch_ocr.errors import FatalApiError, TransientApiError
from batch_ocr.settings import Settings


@asynccontextmanager
async def network_errors(host: str, timeout_s: float) -> AsyncIterator[None]:
    """Translate aiohttp's and the OS's network failures into our errors.

    TLS verification failing is fatal (every further call would fail the same way);
    timeouts and dropped or refused connections are transient.
    """
    try:
        yield
    except aiohttp.ClientSSLError as exc:
        raise FatalApiError(
            f"TLS verification of {host} failed ({type(exc).__name__}); "
            "give the CA with --ca-bundle if this server is yours"
        ) from None
    except TimeoutError:
        raise TransientApiError("timeout", f"no answer within {timeout_s:g} s") from None
    except aiohttp.ClientConnectorError as exc:
        raise TransientApiError(
            "connection_error", f"cannot connect to {host}: {exc.strerror}"
        ) from None
    except (aiohttp.ClientError, ConnectionError) as exc:
        raise TransientApiError(
            "connection_error", f"connection failed: {type(exc).__name__}"
        ) from None


def ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Verification always on; ``ca_bundle`` adds the user's own CA (e.g. a proxy's)."""
    context = ssl.create_default_context()
    if ca_bundle is not None:
        context.load_verify_locations(cafile=str(ca_bundle))
    return context


def make_session(settings: Settings) -> aiohttp.ClientSession:
    """One session for the whole run, its pool sized to the concurrency."""
    connector = aiohttp.TCPConnector(
        limit=settings.concurrency,
        # ssl=True is aiohttp's own verified default context, built once at import;
        # building a second one here loads the system CAs again (~30 ms CPU of start-up,
        # measured by tests/benchmarks). Only a --ca-bundle needs a context of ours.
        ssl=ssl_context(settings.api.ca_bundle) if settings.api.ca_bundle is not None else True,
        enable_cleanup_closed=True,
    )
    timeout_s = settings.api.timeout
    timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(timeout_s, 10.0))
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        headers={"User-Agent": f"batch-ocr/{__version__}"},
        auto_decompress=True,
    )
