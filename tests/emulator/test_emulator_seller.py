"""The emulated seller: body parsing, image checks, fixture answers, portraits, body limit."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from PIL import Image

from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from batch_ocr.emulator.config import EmulatorConfig
from batch_ocr.emulator.server import EmulatorHandle, running_emulator
from batch_ocr.provider import signing
from batch_ocr.provider.gateway import MSG_BODY_TOO_LARGE
from batch_ocr.provider.seller import (
    FixtureError,
    check_image,
    decode_data_uri,
    load_fixtures,
    parse_form,
    parse_upload,
)

PARAM_ERROR = {"msg": "参数错误", "success": False, "code": 400, "data": {}}


@pytest.fixture
async def emu(cards: Any) -> AsyncIterator[EmulatorHandle]:
    async with running_emulator(EmulatorConfig(fixture_paths=(cards.fixtures_path,))) as handle:
        yield handle


# --- units -----------------------------------------------------------------------------


def test_parse_form_unescapes_base64_once() -> None:
    body = urlencode({"image": "data:image/png;base64,ab+/cd==", "url": ""}).encode()
    assert b"%2B" in body and b"%2F" in body and b"%3D" in body
    assert parse_form(body) == {"image": b"data:image/png;base64,ab+/cd==", "url": b""}


def test_parse_form_plus_is_a_space() -> None:
    # An unescaped '+' in base64 is a client bug; the form rules make it a space.
    assert parse_form(b"image=a+b&image=second") == {"image": b"a b"}


def test_parse_upload_accepts_json_leniently(helpers: Any) -> None:
    image = helpers.make_image((20, 20))
    body = json.dumps({"image": helpers.data_uri(image)}).encode()
    assert parse_upload(body, "application/json").image == image
    assert parse_upload(b"[1]", "application/json").problem is not None


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"iVBORw0KGgo=",  # base64 without the data URI prefix
        b"data:image/png,iVBORw0KGgo=",  # not base64-flagged
        b"data:image/png;base64,not base64!",
        b"data:image/png;base64,ab cd",  # what an unescaped '+' turns into
    ],
)
def test_decode_data_uri_rejects(value: bytes) -> None:
    assert isinstance(decode_data_uri(value), str)


def test_decode_data_uri_accepts_wrapped_lines() -> None:
    assert decode_data_uri(b"data:image/png;base64,YWJj\r\nZGVm") == b"abcdef"


@pytest.mark.parametrize(
    ("size", "image_format", "ok"),
    [
        ((9, 9), "PNG", True),
        ((8, 100), "PNG", False),
        ((100, 8), "GIF", False),
        ((6, 6), "JPEG", False),
        ((4000, 9), "PNG", True),
        ((4001, 9), "PNG", False),
        ((5000, 5000), "PNG", False),
        ((50, 50), "BMP", True),
        ((50, 50), "TIFF", True),
        ((50, 50), "GIF", True),
        ((50, 50), "JPEG", True),
    ],
)
def test_check_image_limits(
    helpers: Any, size: tuple[int, int], image_format: str, ok: bool
) -> None:
    check = check_image(helpers.make_image(size, image_format))
    assert (check.problem is None) == ok, check.problem
    if ok:
        assert (check.image_format, check.width, check.height) == (image_format, *size)


def test_check_image_format_from_content_not_name() -> None:
    assert check_image(b"hello, not an image").problem is not None
    assert check_image(b"\x89PNG\r\n\x1a\n truncated").problem is not None
    webp = BytesIO()
    Image.new("RGB", (20, 20)).save(webp, format="WEBP")
    assert check_image(webp.getvalue()).problem is not None


def test_check_image_over_1_mb(helpers: Any) -> None:
    # 600x600 BMP is 1,080,054 bytes: over 1 MiB, yet small enough for the body limit.
    image = helpers.make_image((600, 600), "BMP")
    assert len(image) > 1024 * 1024
    assert check_image(image).problem == "image larger than 1 MB"


def test_load_fixtures_reports_the_bad_line(tmp_path: Path, cards: Any) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        cards.fixtures_path.read_text(encoding="utf-8") + '{"sha256": "xyz"}\n', encoding="utf-8"
    )
    with pytest.raises(FixtureError, match=r"bad\.jsonl:5"):
        load_fixtures([path])
    assert len(load_fixtures([cards.fixtures_path])) == 3


# --- over HTTP -------------------------------------------------------------------------


def test_helper_answers_are_400(helpers: Any) -> None:
    assert helpers.form_body(None, url="") == b"image=&url="


@pytest.mark.parametrize(
    "case",
    ["not an image", "6x6", "5000 px", "over 1 MB", "neither field", "both fields", "url only"],
)
async def test_bad_uploads_answer_param_error(
    api: Any, emu: EmulatorHandle, helpers: Any, case: str
) -> None:
    small = helpers.make_image((20, 20))
    body = {
        "not an image": helpers.form_body(b"GIF89a but not really an image"),
        "6x6": helpers.form_body(helpers.make_image((6, 6), "JPEG"), "JPEG"),
        "5000 px": helpers.form_body(helpers.make_image((5000, 20))),
        "over 1 MB": helpers.form_body(helpers.make_image((600, 600), "BMP"), "BMP"),
        "neither field": helpers.form_body(None),
        "both fields": helpers.form_body(small, url="http://example.com/a.png"),
        "url only": helpers.form_body(None, url="http://example.com/a.png"),
    }[case]
    answer = await api.post(emu.url, body)
    assert (answer.status, answer.content_type, answer.json()) == (
        200,
        "application/json",
        PARAM_ERROR,
    )
    stats = emu.stats()
    assert stats["billable"] == 0
    assert stats["by_code"] == {"400": 1}


async def test_fixture_answers(api: Any, emu: EmulatorHandle, cards: Any, helpers: Any) -> None:
    front = (await api.recognise(emu.url, cards.front)).json()
    assert (front["msg"], front["success"], front["code"]) == ("", True, 200)
    data = front["data"]
    assert {k: data[k] for k in ("result", "side", "info", "validity")} == helpers.front_data
    assert data["order_no"].isdigit() and len(data["order_no"]) >= 18

    back = (await api.recognise(emu.url, cards.back, "JPEG")).json()
    assert back["data"] == helpers.back_data  # its own order_no is kept; no portrait for the back

    again = (await api.recognise(emu.url, cards.front)).json()["data"]
    assert again["order_no"] != data["order_no"]
    assert again["image_url"] != data["image_url"]


async def test_unknown_image_is_not_a_card(api: Any, emu: EmulatorHandle, helpers: Any) -> None:
    answer = (await api.recognise(emu.url, helpers.make_image((64, 64), "GIF"), "GIF")).json()
    data = answer.pop("data")
    assert answer == {"msg": "", "success": True, "code": 200}
    assert data["result"] == 0 and data["side"] == "front"
    assert set(data["info"].values()) == {""}
    assert data["validity"] and not any(data["validity"].values())
    assert data["image_url"] is None
    assert data["order_no"].isdigit()
    assert emu.stats()["billable"] == 1  # the provider charges a non-card too


async def test_json_body_is_accepted(
    api: Any, emu: EmulatorHandle, cards: Any, helpers: Any
) -> None:
    body = json.dumps({"image": helpers.data_uri(cards.back, "JPEG"), "url": ""}).encode()
    answer = await api.post(emu.url, body, content_type="application/json")
    assert answer.json()["data"]["side"] == "back"


async def fetch(url: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.content_type, await response.read()


@pytest.mark.serial  # fetches before a 0.3 s expiry
async def test_portrait_is_cropped_then_expires(api: Any, cards: Any) -> None:
    config = EmulatorConfig(fixture_paths=(cards.fixtures_path,), portrait_ttl_s=0.3)
    async with running_emulator(config) as emu:
        url = (await api.recognise(emu.url, cards.front)).json()["data"]["image_url"]
        placeholder_url = (await api.recognise(emu.url, cards.front_no_box, "BMP")).json()["data"][
            "image_url"
        ]
        status, content_type, jpeg = await fetch(url)
        assert (status, content_type) == (200, "image/jpeg")
        x0, y0, x1, y1 = cards.portrait_box
        with Image.open(BytesIO(jpeg)) as portrait:
            assert portrait.format == "JPEG"
            assert portrait.size == (x1 - x0, y1 - y0)
            # The box covers the dark block drawn on the card.
            assert max(portrait.convert("L").getextrema()) < 100
        status, _, placeholder = await fetch(placeholder_url)
        assert status == 200 and placeholder.startswith(b"\xff\xd8\xff")
        await asyncio.sleep(0.35)
        assert (await fetch(url))[0] == 404
        assert (await fetch(placeholder_url))[0] == 404
        assert emu.stats()["portraits_served"] == 2


@pytest.mark.parametrize(
    "path",
    [
        "/_emulator/portrait/..%2F..%2F..%2Fetc%2Fpasswd.jpg",
        "/_emulator/portrait/%2Fetc%2Fpasswd.jpg",
        "/_emulator/portrait/" + quote("../../pyproject.toml", safe="") + ".jpg",
        "/_emulator/portrait/unknown-token.jpg",
        "/_emulator/portrait/.jpg",
    ],
)
async def test_portrait_route_is_only_a_dict_lookup(emu: EmulatorHandle, path: str) -> None:
    status, _, _ = await fetch(emu.base_url + path)
    assert status == 404


def _signed() -> dict[str, str]:
    headers = signing.signed_headers(DEMO_SECRET_ID, DEMO_SECRET_KEY, "market")
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return headers


async def test_body_over_the_limit_is_refused_early(emu: EmulatorHandle) -> None:
    big = b"image=" + b"A" * (5 * 1024 * 1024)
    async with aiohttp.ClientSession() as session:
        try:
            async with session.post(emu.url, data=big, headers=_signed()) as response:
                status, body = response.status, await response.json()
        except aiohttp.ClientError:
            # The server may close before the client finished sending; then stats tell.
            status, body = 413, {"message": MSG_BODY_TOO_LARGE}

        async def chunks() -> AsyncIterator[bytes]:
            yield b"image="
            for _ in range(80):  # 5 MiB
                yield b"A" * 65536

        try:
            async with session.post(emu.url, data=chunks(), headers=_signed()) as response:
                chunked_status, chunked_body = response.status, await response.json()
        except aiohttp.ClientError:
            chunked_status, chunked_body = 413, {"message": MSG_BODY_TOO_LARGE}
    assert (status, body) == (413, {"message": MSG_BODY_TOO_LARGE})
    assert (chunked_status, chunked_body) == (413, {"message": MSG_BODY_TOO_LARGE})
    stats = emu.stats()
    assert stats["by_status"] == {"413": 2}
    assert stats["billable"] == 0


async def test_a_1_mb_image_fits_under_the_body_limit(
    api: Any, emu: EmulatorHandle, helpers: Any
) -> None:
    # Worst case the contract allows: ~1 MiB of bytes whose base64 is all '/', which
    # form-escaping triples (a mostly white BMP).
    image = helpers.make_image((600, 580), "BMP", (255, 255, 255))
    assert 1_000_000 < len(image) <= 1024 * 1024
    body = helpers.form_body(image, "BMP")
    assert len(body) > 3_000_000  # far over the ~2 MB a "typical image" limit allows
    answer = await api.post(emu.url, body)
    assert answer.json()["code"] == 200


def test_base64_helper_roundtrip(helpers: Any) -> None:
    image = helpers.make_image((10, 10))
    assert base64.b64decode(helpers.data_uri(image).split(",", 1)[1]) == image
