"""The API engine's HTTP transport: its settings, one session, one error translation.

The engine builds its ``TransportSettings`` from its own settings and its session from
them (``make_session``). The API client and the portrait downloads both go through
``network_errors``, so a timeout, a reset or a TLS failure means the same thing
wherever it happens (STYLE.md, "aiohttp errors are translated in one place").
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from batch_ocr import __version__
from batch_ocr.errors import FatalApiError, TransientApiError
from batch_ocr.settings import Settings

#: Seconds to open a connection at most, however long ``--timeout`` lets an answer take.
CONNECT_TIMEOUT_CAP_S = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TransportSettings:
    """How the API engine's session connects (httpx's small config objects)."""

    #: Seconds for one request, answer included (``timeout``).
    timeout_s: float
    #: Connections open at once at most: as many as requests in flight (``concurrency``).
    max_connections: int
    #: Extra CA certificates to trust (``ca_bundle``); verification stays on.
    ca_bundle: Path | None = None

    @property
    def connect_timeout_s(self) -> float:
        return min(self.timeout_s, CONNECT_TIMEOUT_CAP_S)

    @classmethod
    def of(cls, settings: Settings) -> TransportSettings:
        """The API engine's transport from its ``[api]`` section and the concurrency."""
        return cls(timeout_s=settings.api.timeout, max_connections=settings.concurrency,
                   ca_bundle=settings.api.ca_bundle)


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


def make_session(transport: TransportSettings) -> aiohttp.ClientSession:
    """One session for the whole run, its pool sized to the concurrency."""
    connector = aiohttp.TCPConnector(
        limit=transport.max_connections,
        # ssl=True is aiohttp's own verified default context, built once at import;
        # building a second one here loads the system CAs again (~30 ms CPU of start-up,
        # measured by tests/benchmarks). Only a --ca-bundle needs a context of ours.
        ssl=ssl_context(transport.ca_bundle) if transport.ca_bundle is not None else True,
        enable_cleanup_closed=True,
    )
    timeout = aiohttp.ClientTimeout(total=transport.timeout_s,
                                    connect=transport.connect_timeout_s)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        headers={"User-Agent": f"batch-ocr/{__version__}"},
        auto_decompress=True,
    )
