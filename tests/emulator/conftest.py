"""Fixtures for the emulator's tests: images, a fixtures file, signed calls."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from PIL import Image, ImageDraw

from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from batch_ocr.provider import signing

_MIME = {"JPEG": "jpeg", "PNG": "png", "BMP": "bmp", "GIF": "gif", "TIFF": "tiff"}


def make_image(
    size: tuple[int, int] = (200, 126),
    image_format: str = "PNG",
    color: tuple[int, int, int] = (200, 190, 170),
) -> bytes:
    """A synthetic card-like picture (with a dark 'portrait' block) in ``image_format``."""
    image = Image.new("RGB", size, color)
    if size[0] > 40 and size[1] > 40:
        draw = ImageDraw.Draw(image)
        draw.rectangle((size[0] * 2 // 3, 10, size[0] - 10, size[1] - 10), fill=(40, 40, 60))
    out = BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


def data_uri(image: bytes, image_format: str = "PNG") -> str:
    """``data:image/<type>;base64,<...>`` as the provider wants it."""
    return f"data:image/{_MIME[image_format]};base64,{base64.b64encode(image).decode()}"


def form_body(image: bytes | None = None, image_format: str = "PNG", url: str = "") -> bytes:
    """The form body the provider's samples send (both fields, one empty)."""
    fields = {"image": data_uri(image, image_format) if image is not None else "", "url": url}
    return urlencode(fields).encode()


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class Answer:
    """A response read in full."""

    status: int
    content_type: str
    text: str

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.text)


class Api:
    """Signed calls to an emulator's API path."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def post(
        self,
        url: str,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        secret_id: str = DEMO_SECRET_ID,
        secret_key: str = DEMO_SECRET_KEY,
        epoch_s: float | None = None,
        content_type: str = "application/x-www-form-urlencoded",
        timeout_s: float = 10.0,
    ) -> Answer:
        """POST ``body``; ``headers`` replaces the signed headers when given."""
        sent = (
            dict(headers)
            if headers is not None
            else signing.signed_headers(secret_id, secret_key, "market", epoch_s)
        )
        sent["Content-Type"] = content_type
        async with self.session.post(
            url, data=body, headers=sent, timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as response:
            return Answer(response.status, response.content_type, await response.text())

    async def recognise(self, url: str, image: bytes, image_format: str = "PNG") -> Answer:
        """POST one image as the samples do, with the demo keys."""
        return await self.post(url, form_body(image, image_format))


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    """A client session wrapped for signed calls."""
    async with aiohttp.ClientSession() as session:
        yield Api(session)


@dataclass(frozen=True)
class Cards:
    """Three synthetic card images and a fixtures file describing them."""

    front: bytes
    back: bytes
    front_no_box: bytes
    fixtures_path: Path
    portrait_box: tuple[int, int, int, int]


FRONT_DATA: dict[str, Any] = {
    "result": 0,
    "side": "front",
    "info": {
        "name": "张三",
        "sex": "女",
        "nation": "汉",
        "year": "1990",
        "month": "10",
        "day": "9",
        "address": "江西省南昌市红谷滩新区0号楼0单元0室",
        "number": "360429199010090000",
    },
    "validity": {"name": True, "sex": True, "birthday": True, "address": True, "number": True},
}
BACK_DATA: dict[str, Any] = {
    "order_no": "578628195163700000",
    "result": 0,
    "side": "back",
    "info": {"authority": "南昌市公安局昌北分局", "timelimit": "20180727-长期"},
    "validity": {"authority": True, "timelimit": True},
    "image_url": None,
}


@pytest.fixture(scope="session")
def cards(tmp_path_factory: pytest.TempPathFactory) -> Cards:
    """Card images plus ``fixtures.jsonl`` in the format ``samples/fixtures.jsonl`` uses."""
    front = make_image((200, 126), "PNG", (200, 190, 170))
    back = make_image((200, 126), "JPEG", (170, 190, 200))
    front_no_box = make_image((160, 100), "BMP", (190, 200, 170))
    box = (133, 10, 190, 116)
    lines = [
        {"sha256": sha256_hex(front), "file": "front.png", "data": FRONT_DATA, "portrait_box": box},
        {"sha256": sha256_hex(back), "file": "back.jpg", "data": BACK_DATA},
        {"sha256": sha256_hex(front_no_box), "file": "front.bmp", "data": FRONT_DATA},
    ]
    path = tmp_path_factory.mktemp("fixtures") / "fixtures.jsonl"
    path.write_text(
        "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n",
        encoding="utf-8",
    )
    return Cards(front, back, front_no_box, path, box)


class Helpers:
    """The module's plain helpers, handed to tests as a fixture (conftest is not imported)."""

    make_image = staticmethod(make_image)
    data_uri = staticmethod(data_uri)
    form_body = staticmethod(form_body)
    sha256_hex = staticmethod(sha256_hex)
    front_data = FRONT_DATA
    back_data = BACK_DATA


@pytest.fixture(scope="session")
def helpers() -> type[Helpers]:
    """Image, data URI, form body and hash helpers."""
    return Helpers
