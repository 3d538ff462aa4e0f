"""The provider's request and answers over HTTP, shared by the emulator and
``batch-ocr-server`` so both read a call and answer it byte for byte the same way.

- :func:`refuse_oversized`: the body limit judged on the headers alone (413 before a
  byte of the body is read, when Content-Length says too much);
- :func:`read_body`: the body, within the limit (413 when a chunked upload grows past
  it) and within its deadline (else the connection is cut off, :mod:`.connections`);
- :func:`json_answer`, :func:`gateway_answer`, :func:`seller_answer`: the gateway's
  ``{"message": ...}`` and the seller's ``{"msg", "success", "code", "data"}`` bodies;
- :func:`recognised_data`: the seller's ``data`` for a recognition by the offline engine,
  with a fresh order number and the portrait's URL.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import HttpVersion11, web

from batch_ocr.provider.connections import ConnectionEvent, cut_off
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


def refuse_oversized(request: web.BaseRequest, max_body_bytes: int) -> Refusal | None:
    """The gateway's 413 when Content-Length says more than ``max_body_bytes``, or None.

    Decided on the headers alone; the caller answers it with ``force_close()`` so the
    connection is not reused after the unread body.
    """
    if request.content_length is not None and request.content_length > max_body_bytes:
        return Refusal(413, MSG_BODY_TOO_LARGE)
    return None


async def read_body(
    request: web.BaseRequest, max_body_bytes: int, timeout_s: float
) -> bytes | Refusal | None:
    """The request body, the gateway's 413 when it is over ``max_body_bytes``, or None.

    None means the body did not all arrive within ``timeout_s`` (or was malformed): the
    connection is then cut off, with no answer, and the caller returns
    :func:`dropped_answer`. An oversized body is refused before it is held.
    """
    refusal = refuse_oversized(request, max_body_bytes)
    if refusal is not None:
        return refusal
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > max_body_bytes:  # a chunked upload that grew past the limit
                    return Refusal(413, MSG_BODY_TOO_LARGE)
                chunks.append(chunk)
    except TimeoutError:
        cut_off(request, ConnectionEvent.BODY_TIMEOUT)
        return None
    except web.RequestPayloadError:  # a broken chunked encoding: nothing to answer
        cut_off(request, ConnectionEvent.BAD_BODY)
        return None
    return b"".join(chunks)


async def continue_upload(request: web.BaseRequest) -> None:
    """Tell a client that sent ``Expect: 100-continue`` to send its body (aiohttp's own
    default, for an ``expect_handler`` that refuses some requests first)."""
    expectation = request.headers.get("Expect", "")
    if request.version != HttpVersion11:
        return
    if expectation.lower() != "100-continue":
        raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expectation}")
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # the answer itself is still to come


#: The status of :func:`dropped_answer` (nginx's "client closed request"), never sent.
DROPPED_STATUS = 499


def dropped_answer() -> web.Response:
    """What a handler returns once its connection is gone: aiohttp wants a response
    object, and this one is never written."""
    return web.Response(status=DROPPED_STATUS)


def portrait_url(request: web.Request, route_prefix: str, token: str) -> str:
    """The absolute URL a client fetches a served portrait from."""
    return f"{request.scheme}://{request.host}{route_prefix}/{token}.jpg"


def recognised_data(data: CardData, order_no: str, image_url: str | None) -> dict[str, Any]:
    """The seller's ``data`` for what the offline engine read (the contract's shape)."""
    answer = data.model_dump(mode="json")
    answer["order_no"] = order_no
    answer["image_url"] = image_url if answer.get("side") == "front" else None
    return answer
