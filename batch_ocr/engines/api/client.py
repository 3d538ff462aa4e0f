"""The HTTP client of the provider's API: one attempt, and the retry loop around it.

Every way an answer can go wrong is translated here, in one place, into the
``errors`` hierarchy: the seller's ``{"code": ...}`` in a 200 or as the HTTP status,
the gateway's ``{"message": ...}``, an HTML error page, an empty or non-JSON body,
timeouts and dropped connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from pydantic import ValidationError

from batch_ocr.engines.api import retry_policy
from batch_ocr.engines.api.transport import network_errors
from batch_ocr.errors import (
    ApiError,
    AuthError,
    ClockSkewError,
    QuotaExceededError,
    TransientApiError,
)
from batch_ocr.provider import signing
from batch_ocr.provider.encoding import CONTENT_TYPE
from batch_ocr.provider.models import ApiEnvelope, CardData
from batch_ocr.sanitize import printable
from batch_ocr.settings import ApiSettings

#: An answer is a few KB of JSON; anything past this is not one.
MAX_RESPONSE_BYTES = 1024 * 1024
PERMANENT_CODES = {400: "bad parameters", 404: "resource not found", 1001: "service error"}
CLOCK_SKEW_MESSAGE = (
    "the API refused the request date: the clock of this machine is off by more than "
    "15 minutes; fix the system time (e.g. enable NTP) and run again"
)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class Recognition:
    """A successful answer and how many attempts it took."""

    data: CardData
    attempts: int


def _retry_after_s(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP-date Retry-After: fall back to our own backoff
    # float() also reads "nan" and "inf": a NaN sleep waits an arbitrary time (issue 6).
    return seconds if seconds is not None and math.isfinite(seconds) else None


async def _read_capped(content: aiohttp.StreamReader, limit: int) -> bytes:
    """The whole body, or its first ``limit + 1`` bytes when it is longer.

    ``StreamReader.read(n)`` returns *up to* n bytes: whatever has arrived so far. One
    call parsed an answer split over several TCP segments (or chunks) from its first
    part only, a ``bad_response`` for an answer that may have been billed (issue 6).
    """
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await content.read(limit + 1 - size)
        if not chunk:
            break  # EOF
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _snippet(body: bytes) -> str:
    text = body[:200].decode("utf-8", "replace").strip()
    return printable(" ".join(text.split()))


def _looks_html(body: bytes) -> bool:
    head = body[:256].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<?xml"))


def _gateway_error(status: int, message: str, retry_after_s: float | None) -> Exception:
    """Map a gateway ``{"message": ...}`` refusal to our error."""
    lowered = message.lower()
    if "out of date" in lowered:
        return ClockSkewError(CLOCK_SKEW_MESSAGE, http_status=status)
    if status == 429 and "quota" in lowered:
        return QuotaExceededError(
            f"the API quota is used up (HTTP 429: {message}); buy more calls or wait for "
            "the quota to renew, then run again",
            http_status=status,
        )
    if status == 429:
        return TransientApiError("429", f"HTTP 429: {message}", http_status=status,
                                 retry_after_s=retry_after_s)
    if status in (401, 403):
        # ``ApiClient`` adds where the credentials were set (the settings know).
        return AuthError(f"the API refused the credentials (HTTP {status}: {message})",
                         http_status=status)
    return _status_error(status, f"HTTP {status}: {message}", retry_after_s)


def _status_error(status: int, message: str, retry_after_s: float | None) -> ApiError:
    if retry_policy.is_transient_status(status):
        return TransientApiError(str(status), message, http_status=status,
                                 retry_after_s=retry_after_s)
    return ApiError(str(status), message, http_status=status)


def _seller_error(envelope: ApiEnvelope, status: int) -> ApiError:
    try:
        code = int(envelope.code) if envelope.code is not None else status
    except (TypeError, ValueError):
        code = status
    text = printable(envelope.msg or PERMANENT_CODES.get(code, "") or "no message")
    message = f"provider code {code}: {text}"
    if code in retry_policy.TRANSIENT_CODES:
        return TransientApiError(str(code), message, http_status=status)
    return ApiError(str(code), message, http_status=status)


def _encodable(payload: object) -> bool:
    """True when every string in ``payload`` can be written as UTF-8."""
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_answer(status: int, body: bytes, retry_after_s: float | None = None) -> CardData:
    """Turn an HTTP answer into ``CardData`` or raise the matching error."""
    if not body.strip():
        raise _status_error(status if status != 200 else 502, f"HTTP {status} with an empty body",
                            retry_after_s)
    try:
        payload = json.loads(body)
    except RecursionError:
        # "[[[[..." nested past the interpreter's limit: a bad answer, not a crash.
        raise ApiError("bad_response", f"HTTP {status}: JSON nested too deeply",
                       http_status=status) from None
    except ValueError:
        kind = "an HTML page" if _looks_html(body) else "a non-JSON body"
        if status == 200:
            # A 200 we cannot read may still have been billed: do not pay again.
            raise ApiError("bad_response", f"HTTP 200 with {kind}: {_snippet(body)!r}",
                           http_status=status) from None
        raise _status_error(status, f"HTTP {status} with {kind}", retry_after_s) from None
    if b"\\u" in body and not _encodable(payload):
        # "\\ud800" alone decodes to a lone surrogate, which no UTF-8 output or journal
        # can hold: writing it raised deep in the run and hung it (issue 6).
        raise ApiError("bad_response", f"HTTP {status}: the answer holds invalid Unicode "
                       "(a lone surrogate escape)", http_status=status)
    if not isinstance(payload, dict):
        raise ApiError("bad_response", f"HTTP {status}: expected a JSON object, got "
                       f"{type(payload).__name__}", http_status=status)
    if "message" in payload and "success" not in payload and status != 200:
        return_error = _gateway_error(status, printable(str(payload["message"])), retry_after_s)
        raise return_error
    try:
        envelope = ApiEnvelope.model_validate(payload)
    except ValidationError:
        raise ApiError("bad_response", f"HTTP {status}: unexpected answer shape",
                       http_status=status) from None
    if envelope.success is True and str(envelope.code) == "200":
        if not isinstance(envelope.data, dict):
            raise ApiError("bad_response", "success answer without a data object",
                           http_status=status)
        try:
            data = CardData.model_validate(envelope.data)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()[:3])
            raise ApiError("bad_response", f"success answer with malformed data ({fields})",
                           http_status=status) from None
        if data.side not in (None, "front", "back"):
            raise ApiError("bad_response", f"success answer with unknown side {data.side!r}",
                           http_status=status)
        return data
    if envelope.success is None and envelope.code is None:
        raise _status_error(status if status != 200 else 502,
                            f"HTTP {status}: answer without success/code", retry_after_s)
    raise _seller_error(envelope, status)


class ApiClient:
    """Sends one image, retrying transient failures; counts every call it makes."""

    def __init__(
        self,
        api: ApiSettings,
        session: aiohttp.ClientSession,
        *,
        sleep: Sleep = asyncio.sleep,
        call_slot: Callable[[], AbstractAsyncContextManager[None]] | None = None,
        credentials_from: str = "",
    ) -> None:
        self._api = api
        #: Where the credentials were set (``Settings.credentials_from``), for a refusal.
        self._credentials = credentials_from
        self._session = session
        self._sleep = sleep
        self._call_slot = call_slot or contextlib.nullcontext
        self.calls = 0
        self.retries = 0

    async def _send_once(self, body: bytes) -> CardData:
        """One attempt, inside the engine's call slot (budget, rate, fatal stop)."""
        async with self._call_slot():
            return await self._attempt(body)

    async def _attempt(self, body: bytes) -> CardData:
        api = self._api
        headers = signing.signed_headers(api.secret_id or "", api.secret_key_value(), api.source)
        headers["Content-Type"] = CONTENT_TYPE
        self.calls += 1
        async with (
            network_errors(self._endpoint_host(), api.timeout),
            self._session.post(
                api.endpoint, data=body, headers=headers, allow_redirects=False
            ) as response,
        ):
            raw = await _read_capped(response.content, MAX_RESPONSE_BYTES)
            status = response.status
            retry_after_s = _retry_after_s(response.headers)
        if len(raw) > MAX_RESPONSE_BYTES:
            raise ApiError("bad_response", f"HTTP {status}: answer larger than 1 MB",
                           http_status=status)
        if 300 <= status < 400:
            raise ApiError(str(status), f"HTTP {status}: redirects are not followed",
                           http_status=status)
        try:
            return parse_answer(status, raw, retry_after_s)
        except AuthError as exc:
            raise AuthError(f"{exc}; check {self._credentials_from()}",
                            http_status=exc.http_status) from None

    def _credentials_from(self) -> str:
        """What to check after a refusal: the credentials where they were set."""
        return (self._credentials
                or "BATCH_OCR_SECRET_ID and BATCH_OCR_SECRET_KEY (or secret_id and "
                "secret_key in the config file)")

    def _endpoint_host(self) -> str:
        return urlsplit(self._api.endpoint).netloc

    async def recognise(self, body: bytes) -> Recognition:
        """Send ``body`` until it succeeds, fails for good, or attempts run out.

        Raises ``ApiError`` (with ``attempts`` set) or ``FatalApiError``.
        """
        # Most calls succeed at once: only a failure enters tenacity's loop, whose
        # per-call objects (all reference cycles) were most of the client's garbage
        # collections (tests/benchmarks, throughput).
        try:
            return Recognition(await self._send_once(body), 1)
        except ApiError as exc:
            exc.attempts = 1
            if not retry_policy.is_transient(exc) or self._api.max_attempts < 2:
                raise
            first_failure = exc
        await self._sleep(retry_policy.backoff_s(1, first_failure))
        return await self._retry(body)

    async def _retry(self, body: bytes) -> Recognition:
        """Attempts 2 and on, after a transient failure of the first."""
        attempts = 1
        try:
            max_attempts = self._api.max_attempts
            async for attempt in retry_policy.retrying(max_attempts, self._sleep,
                                                       attempts_made=1):
                with attempt:
                    attempts = 1 + attempt.retry_state.attempt_number
                    self.retries += 1
                    data = await self._send_once(body)
        except ApiError as exc:
            exc.attempts = attempts
            raise
        return Recognition(data, attempts)
