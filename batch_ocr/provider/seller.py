"""The seller behind the gateway: read the upload, check the image, answer from fixtures.

Contract: ``API_CONTRACT.md``, "Request body", "Image limits", "Response". Choices where
it leaves room:

- the body is form-urlencoded; a JSON object with the same fields is accepted too;
- ``url`` uploads answer 400 "参数错误": the emulator never fetches anything;
- the format is judged from the bytes (magic numbers), not from the data URI's type;
- a picture not in the fixtures gets the provider's "not an ID card" answer: success,
  ``result`` 0, ``side`` front, empty ``info``, every ``validity`` flag false, no portrait.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from batch_ocr.provider import (
    MAX_IMAGE_BYTES,
    MAX_JSON_DEPTH,
    MAX_SIDE_PX,
    MIN_SIDE_PX_EXCLUSIVE,
)
from batch_ocr.vision.imaging import MIME_BY_FORMAT, PreparedImage

CODE_MESSAGES: dict[int, str] = {
    200: "",
    400: "参数错误",
    404: "请求资源不存在",
    500: "系统内部错误,请联系服务商",
    501: "第三方服务异常",
    1001: "服务异常",
}

# Longest base64 text that can decode to MAX_IMAGE_BYTES, so an oversized upload is
# refused before it is decoded.
_MAX_BASE64_CHARS = 4 * -(-MAX_IMAGE_BYTES // 3)
_MAX_CHECKED = 4096

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)


class FixtureError(ValueError):
    """A fixtures file line is not a valid fixture."""


class Fixture(BaseModel):
    """One recorded answer: the provider's ``data`` for the image with this sha256."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    file: str = ""
    data: dict[str, Any]
    portrait_box: tuple[int, int, int, int] | None = None


def load_fixtures(paths: Iterable[Path]) -> dict[str, Fixture]:
    """Read JSONL fixtures files into sha256 (lower-case hex) -> fixture; later files win."""
    fixtures: dict[str, Fixture] = {}
    for path in paths:
        with Path(path).open(encoding="utf-8") as lines:
            for line_no, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    fixture = Fixture.model_validate_json(line)
                except ValidationError as exc:
                    raise FixtureError(f"{path}:{line_no}: not a fixture: {exc}") from exc
                fixtures[fixture.sha256.lower()] = fixture
    return fixtures


@dataclass(frozen=True, slots=True)
class Upload:
    """What a request body carried: the decoded image, or why there is none."""

    image: bytes | None = None
    #: Why the body is a "参数错误" (for logs and tests); None when ``image`` is set.
    problem: str | None = None


def _unquote_plus(value: bytes) -> bytes:
    if b"%" not in value and b"+" not in value:
        return value  # fast path: nothing escaped
    return unquote_to_bytes(value.replace(b"+", b" "))


def parse_form(body: bytes) -> dict[str, bytes]:
    """The ``image`` and ``url`` fields of a form-urlencoded body (first occurrence wins).

    Hand-rolled rather than ``parse_qsl`` so a 1.4 MB image field is unescaped once, as
    bytes, without a str round trip.
    """
    fields: dict[str, bytes] = {}
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        key = _unquote_plus(name).decode("utf-8", "replace")
        if key in ("image", "url") and key not in fields:
            fields[key] = _unquote_plus(value)
    return fields


# A JSON string (escapes included) or one bracket; the unrolled form keeps a 1.4 MB
# base64 string one fast match.
_JSON_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def json_too_deep(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``body`` nests arrays and objects deeper than ``max_depth``.

    A linear scan before parsing: ``json.loads`` recurses once per level and fails with a
    RecursionError (a crash, not an answer) on a body nested some thousand deep.
    Brackets inside strings do not count; an unterminated string can only make the scan
    count too many, and such a body is not valid JSON anyway.
    """
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False  # the usual flat object: too few brackets to nest too deep
    depth = 0
    for match in _JSON_STRING_OR_BRACKET.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def parse_json(body: bytes) -> dict[str, bytes] | None:
    """The ``image`` and ``url`` fields of a JSON object body, or None if it is not one
    (or nests deeper than :data:`~batch_ocr.provider.MAX_JSON_DEPTH`)."""
    if json_too_deep(body):
        return None
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(obj, dict):
        return None
    fields: dict[str, bytes] = {}
    for key in ("image", "url"):
        value = obj.get(key)
        if isinstance(value, str):
            fields[key] = value.encode("utf-8")
        elif value is not None:
            return None
    return fields


def decode_data_uri(value: bytes) -> bytes | str:
    """``data:image/...;base64,<b64>`` -> the bytes, or a str saying what is wrong."""
    header, sep, payload = value.partition(b",")
    if not sep or not header.startswith(b"data:") or not header.endswith(b";base64"):
        return "image is not a base64 data URI"
    # Some encoders (Java's BASE64Encoder) wrap lines; a space is kept as an error, since
    # it is what an unescaped '+' becomes in a form body.
    payload = payload.replace(b"\r", b"").replace(b"\n", b"")
    if len(payload) > _MAX_BASE64_CHARS:
        return "image larger than 1 MB"
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return "image is not valid base64"


def parse_upload(body: bytes, content_type: str) -> Upload:
    """Read a request body into an :class:`Upload` (the image bytes or the problem)."""
    fields: dict[str, bytes] | None
    if content_type == "application/json" or body[:1] in (b"{", b"["):
        fields = parse_json(body)
        if fields is None:
            return Upload(problem="body is not a JSON object of strings")
    else:
        fields = parse_form(body)
    image = fields.get("image", b"")
    url = fields.get("url", b"")
    if bool(image) == bool(url):
        return Upload(problem="exactly one of image and url must be given")
    if url:
        return Upload(problem="url uploads are not supported by the emulator")
    decoded = decode_data_uri(image)
    if isinstance(decoded, str):
        return Upload(problem=decoded)
    return Upload(image=decoded)


@dataclass(frozen=True, slots=True)
class ImageCheck:
    """The outcome of the provider's image checks on some bytes."""

    problem: str | None
    image_format: str = ""
    width: int = 0
    height: int = 0

    def prepared(self, image: bytes) -> PreparedImage:
        """``image``, which passed these checks, as an engine takes it: within the API's
        limits as it is, so neither re-encoded nor shrunk."""
        return PreparedImage(mime=MIME_BY_FORMAT[self.image_format], payload=image,
                             width=self.width, height=self.height, fitted=False)


def sniff_format(image: bytes) -> str | None:
    """The format the bytes start like (JPEG, PNG, GIF, TIFF, BMP), or None."""
    for magic, image_format in _MAGIC:
        if image.startswith(magic):
            return image_format
    return None


def check_image(image: bytes) -> ImageCheck:
    """Apply the provider's limits: format, 8 < width, height <= 4000, <= 1 MB."""
    if len(image) > MAX_IMAGE_BYTES:
        return ImageCheck("image larger than 1 MB")
    image_format = sniff_format(image)
    if image_format is None:
        return ImageCheck("not a JPEG, PNG, BMP, GIF or TIFF image")
    try:
        with warnings.catch_warnings():
            # A huge declared size is a decompression-bomb warning; make it a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(image), formats=[image_format]) as opened:
                width, height = opened.size
    except Exception:  # Pillow raises many kinds on a corrupt header; all mean 400
        return ImageCheck(f"unreadable {image_format} image")
    for side in (width, height):
        if not MIN_SIDE_PX_EXCLUSIVE < side <= MAX_SIDE_PX:
            return ImageCheck(f"{width}x{height} px is outside 9..4000 px", image_format)
    return ImageCheck(None, image_format, width, height)


def envelope(code: int, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The seller's answer ``{"msg", "success", "code", "data"}`` for ``code``."""
    return {
        "msg": CODE_MESSAGES.get(code, CODE_MESSAGES[1001]),
        "success": code == 200,
        "code": code,
        "data": data if data is not None else {},
    }


def not_a_card_data() -> dict[str, Any]:
    """``data`` for a picture that is not an ID card (contract: success, validity all false)."""
    return {
        "order_no": "",
        "result": 0,
        "side": "front",
        "info": {
            "name": "",
            "sex": "",
            "nation": "",
            "year": "",
            "month": "",
            "day": "",
            "address": "",
            "number": "",
        },
        "validity": {
            "name": False,
            "sex": False,
            "birthday": False,
            "address": False,
            "number": False,
        },
        "image_url": None,
    }


@dataclass(frozen=True, slots=True)
class Recognition:
    """A successful answer's ``data`` and whether it should carry a portrait URL."""

    data: dict[str, Any]
    wants_portrait: bool
    portrait_box: tuple[int, int, int, int] | None = None


class Seller:
    """Answers recognitions from fixtures; remembers recent image checks by sha256."""

    def __init__(self, fixtures: dict[str, Fixture]) -> None:
        self._fixtures = fixtures
        # Checks are a pure function of the bytes, so a re-sent image skips Pillow.
        self._checked: OrderedDict[str, ImageCheck] = OrderedDict()
        # 18 digits like the provider's order numbers, unique within this process and,
        # being time-based, across restarts too.
        self._order_numbers = itertools.count(int(time.time() * 1000) * 100_000)

    @property
    def fixtures(self) -> dict[str, Fixture]:
        """The loaded fixtures, by sha256."""
        return self._fixtures

    def check(self, image: bytes, sha256: str) -> ImageCheck:
        """:func:`check_image`, memoised by ``sha256``."""
        result = self._checked.get(sha256)
        if result is None:
            result = check_image(image)
            self._checked[sha256] = result
            if len(self._checked) > _MAX_CHECKED:
                self._checked.popitem(last=False)
        return result

    def next_order_no(self) -> str:
        """A fresh, unique numeric order number."""
        return str(next(self._order_numbers))

    def recognise(self, sha256: str) -> Recognition:
        """The answer for an image that passed the checks."""
        fixture = self._fixtures.get(sha256)
        if fixture is None:
            data = not_a_card_data()
            data["order_no"] = self.next_order_no()
            return Recognition(data, wants_portrait=False)
        data = dict(fixture.data)  # shallow: only the top-level keys are rewritten
        if not data.get("order_no"):
            data["order_no"] = self.next_order_no()
        validity = data.get("validity")
        is_card = isinstance(validity, dict) and any(validity.values())
        wants_portrait = data.get("side") == "front" and data.get("result", 0) == 0 and is_card
        data.setdefault("image_url", None)
        return Recognition(data, wants_portrait, fixture.portrait_box)
