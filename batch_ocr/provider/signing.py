"""Request signing for the provider's API gateway.

The gateway is Kong-style ``hmac-auth`` (see ``API_CONTRACT.md``, "Authentication"):
the signed string is ``"x-date: <X-Date>\\nx-source: <source>"``, the signature is
``base64(HMAC-SHA1(SecretKey, signed string))``, and ``X-Date`` is RFC 1123 in GMT with
English day and month names whatever the machine's locale.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from email.utils import formatdate

SIGNED_HEADERS = "x-date x-source"


def http_date(epoch_s: float | None = None) -> str:
    """Return ``epoch_s`` (default: now) as an RFC 1123 GMT date.

    ``email.utils.formatdate`` uses fixed English names, unlike ``strftime('%a')``,
    which follows ``LC_TIME`` and would break the signature on a Chinese-locale machine.
    """
    return formatdate(time.time() if epoch_s is None else epoch_s, usegmt=True)


def string_to_sign(x_date: str, source: str) -> str:
    """The exact text the gateway signs."""
    return f"x-date: {x_date}\nx-source: {source}"


def signature(secret_key: str, x_date: str, source: str) -> str:
    """``base64(HMAC-SHA1(secret_key, string_to_sign))`` as the samples compute it."""
    digest = hmac.new(
        secret_key.encode("utf-8"), string_to_sign(x_date, source).encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def authorization(secret_id: str, signature_b64: str) -> str:
    """The ``Authorization`` header value, byte for byte as the provider's samples build it."""
    return (
        f'hmac id="{secret_id}", algorithm="hmac-sha1", '
        f'headers="{SIGNED_HEADERS}", signature="{signature_b64}"'
    )


def signed_headers(
    secret_id: str, secret_key: str, source: str, epoch_s: float | None = None
) -> dict[str, str]:
    """The three gateway headers for one request, dated ``epoch_s`` (default: now)."""
    x_date = http_date(epoch_s)
    return {
        "X-Source": source,
        "X-Date": x_date,
        "Authorization": authorization(secret_id, signature(secret_key, x_date, source)),
    }
