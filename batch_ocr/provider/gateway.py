"""The API gateway's checks, as pure functions: a request's headers -> a refusal or None.

The gateway is Kong-style ``hmac-auth`` (``API_CONTRACT.md``, "Authentication"). The
checks run in Kong's order (``kong/plugins/hmac-auth/access.lua``): the Authorization
header must be there, then X-Date must be valid and within the allowed skew, then the
Authorization header must parse, then the SecretId must be known, then the signature
must match. The first failing check decides the answer.

Choices where the contract leaves room:

- unknown SecretId and wrong signature both answer 401 (the contract allows 401 or 403);
- the signed header list must be exactly ``x-date x-source`` and the algorithm
  ``hmac-sha1``, which is what every one of the provider's samples sends; anything else
  is a format error rather than a second signing scheme to emulate;
- a missing or empty X-Source answers "HMAC signature does not match": it is one of the
  signed headers, so the gateway cannot rebuild the string the client signed.
"""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from batch_ocr.provider import MAX_CLOCK_SKEW_S, signing

MSG_NO_AUTHORIZATION = (
    "HMAC signature cannot be verified, a validate authorization header is required"
)
MSG_BAD_SIGNATURE = "HMAC signature does not match"
MSG_UNKNOWN_ID = "HMAC signature cannot be verified"
MSG_DATE_OUT_OF_DATE = (
    "HMAC signature cannot be verified, the x-date header is out of date for HMAC Authentication"
)
MSG_DATE_INVALID = (
    "HMAC signature cannot be verified, a valid x-date header is required for HMAC Authentication"
)
MSG_FORMAT_ERROR = "HMAC authorization format error"
MSG_ID_OR_SIGNATURE_MISSING = "HMAC id or signature missing"
MSG_RATE_LIMITED = "API rate limit exceeded"
MSG_QUOTA_EXCEEDED = "API quota exceeded"
MSG_GATEWAY_TIMEOUT = "Gateway Time-out"
MSG_BODY_TOO_LARGE = "Request size limit exceeded"
MSG_METHOD_NOT_ALLOWED = "Method Not Allowed"

_SCHEME = "hmac"
_ALGORITHM = "hmac-sha1"
_SIGNED_HEADERS = tuple(signing.SIGNED_HEADERS.split())
# key="quoted value" or key=bare-token, with optional spaces around '=' (the provider's
# curl example writes `id = "..."`).
_PARAM = re.compile(r'([A-Za-z][\w-]*)\s*=\s*(?:"([^"]*)"|([^\s,"]+))')


@dataclass(frozen=True, slots=True)
class Refusal:
    """The gateway's answer to a request it will not pass on: ``{"message": ...}``."""

    status: int
    message: str


@dataclass(frozen=True, slots=True)
class AuthorizationParams:
    """The fields of a well-formed ``Authorization: hmac ...`` header."""

    secret_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> AuthorizationParams | Refusal:
    """Parse ``hmac id="...", algorithm="...", headers="...", signature="..."``."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != _SCHEME:
        return Refusal(401, MSG_FORMAT_ERROR)
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        key, quoted, bare = match.groups()
        params[key.lower()] = quoted if quoted is not None else bare
    if not params:
        return Refusal(401, MSG_FORMAT_ERROR)
    secret_id = params.get("id", "")
    signature_b64 = params.get("signature", "")
    if not secret_id or not signature_b64:
        return Refusal(401, MSG_ID_OR_SIGNATURE_MISSING)
    algorithm = params.get("algorithm", "").lower()
    headers = tuple(params.get("headers", "").lower().split())
    if algorithm != _ALGORITHM or headers != _SIGNED_HEADERS:
        return Refusal(401, MSG_FORMAT_ERROR)
    return AuthorizationParams(secret_id, algorithm, headers, signature_b64)


@functools.lru_cache(maxsize=512)
def parse_x_date(value: str) -> float | None:
    """X-Date as epoch seconds, or None if it is not an HTTP date with a zone.

    Cached: every request sent in the same second carries the same X-Date, and date
    parsing is the costliest step of the gateway's checks.
    """
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # "-0000" or no zone: not the GMT date the samples send, so not trusted.
        return None
    return when.timestamp()


def check_request(
    headers: Mapping[str, str],
    secret_keys: Mapping[str, str],
    *,
    now_s: float,
    max_skew_s: float = MAX_CLOCK_SKEW_S,
) -> Refusal | None:
    """Return the gateway's refusal of a request with these ``headers``, or None to pass it.

    ``headers`` must look names up case-insensitively (aiohttp's ``request.headers`` does);
    ``secret_keys`` maps SecretId -> SecretKey; ``now_s`` is the gateway's clock.
    """
    authorization = headers.get("Authorization")
    if not authorization:
        return Refusal(401, MSG_NO_AUTHORIZATION)
    x_date = headers.get("X-Date")
    date_s = parse_x_date(x_date.strip()) if x_date else None
    if date_s is None:
        return Refusal(401, MSG_DATE_INVALID)
    if abs(now_s - date_s) > max_skew_s:
        return Refusal(401, MSG_DATE_OUT_OF_DATE)
    params = parse_authorization(authorization)
    if isinstance(params, Refusal):
        return params
    secret_key = secret_keys.get(params.secret_id)
    if secret_key is None:
        return Refusal(401, MSG_UNKNOWN_ID)
    source = headers.get("X-Source")
    if not source:
        return Refusal(401, MSG_BAD_SIGNATURE)
    # The signature covers X-Date exactly as sent (not re-formatted), as the samples sign it.
    expected = signing.signature(secret_key, x_date or "", source)
    if not hmac.compare_digest(expected.encode(), params.signature.encode("utf-8")):
        return Refusal(401, MSG_BAD_SIGNATURE)
    return None
