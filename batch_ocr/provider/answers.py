"""The provider's request and answers over HTTP, shared by the emulator and
``batch-ocr-server`` so both read a call and answer it byte for byte the same way.

- :func:`read_body`: the body limit (413 before reading when Content-Length says too
  much, or when a chunked upload grows past it);
- :func:`json_answer`, :func:`gateway_answer`, :func:`seller_answer`: the gateway's
  ``{"message": ...}`` and the seller's ``{"msg", "success", "code", "data"}`` bodies;
- :func:`recognised_data`: the seller's ``data`` for a recognition by the offline engine,
  with a fresh order number and the portrait's URL.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from batch_ocr.provider.gateway import MSG_BODY_TOO_LARGE, Refusal
from batch_ocr.provider.models import CardData
from batch_ocr.provider.seller import envelope


def json_answer(status: int, payload: dict[str, Any]) -> web.Response:
    """A JSON answer in UTF-8 with the Chinese kept as is, as the provider sends it."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return web.Response(body=body, status=status, content_type="application/json", charset="utf-8")


def gateway_answer(refusal: Refusal) -> web.Response:
    """The gateway's ``{"message": ...}`` refusal."""
    return json_answer(refusal.status, {"message": refusal.message})


def seller_answer(
    code: int, data: dict[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    """The seller's envelope for ``code`` (HTTP 200 unless ``status`` says otherwise)."""
    return json_answer(status, envelope(code, data))


async def read_body(request: web.Request, max_body_bytes: int) -> bytes | Refusal:
    """The request body, or the gateway's 413 when it is over ``max_body_bytes``.

    An oversized body is refused before it is held; the caller answers the refusal with
    ``force_close()`` so the rest of it is not read either.
    """
    if request.content_length is not None and request.content_length > max_body_bytes:
        return Refusal(413, MSG_BODY_TOO_LARGE)
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:  # chunked upload that grew past client_max_size
        return Refusal(413, MSG_BODY_TOO_LARGE)


def portrait_url(request: web.Request, route_prefix: str, token: str) -> str:
    """The absolute URL a client fetches a served portrait from."""
    return f"{request.scheme}://{request.host}{route_prefix}/{token}.jpg"


def recognised_data(data: CardData, order_no: str, image_url: str | None) -> dict[str, Any]:
    """The seller's ``data`` for what the offline engine read (the contract's shape)."""
    answer = data.model_dump(mode="json")
    answer["order_no"] = order_no
    answer["image_url"] = image_url if answer.get("side") == "front" else None
    return answer
