"""Fictional rows and synthetic scans for the review-page tests.

All people here are made up (张三, 李小红, ...) and every image is drawn by Pillow in the
test, so nothing personal is ever stored in the repository.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

Row = dict[str, Any]


def draw_card(path: Path, *, hue: int = 0, size: tuple[int, int] = (1200, 760)) -> Path:
    """A fake ID-card scan: a tinted card, a 'portrait' box and some lines of 'text'."""
    width, height = size
    image = Image.new("RGB", size, (235, 235, 230))
    draw = ImageDraw.Draw(image)
    tint = ((90 + hue * 40) % 256, (150 + hue * 25) % 256, (200 + hue * 15) % 256)
    draw.rounded_rectangle((20, 20, width - 20, height - 20), radius=40, fill=tint)
    draw.rectangle((width * 0.65, height * 0.15, width * 0.92, height * 0.75), fill=(250, 250, 245))
    draw.ellipse((width * 0.70, height * 0.22, width * 0.87, height * 0.50), fill=(200, 170, 140))
    for line in range(6):
        y = height * (0.18 + line * 0.11)
        draw.rectangle(
            (width * 0.08, y, width * (0.35 + 0.04 * (line % 3)), y + 18), fill=(40, 40, 40)
        )
    draw.text((width * 0.08, height * 0.86), f"SAMPLE {hue}", fill=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=92)
    return path


#: An A4 page at 150 dpi, and an ID-1 card (85.6 x 54 mm) at that resolution.
SHEET_PX = (1240, 1754)
SHEET_CARD_PX = (506, 319)


def draw_sheet(cards: int, *, columns: int = 1, seed: int = 0) -> Image.Image:
    """A fake photocopy page: ``cards`` fake cards at their real size, in rows of
    ``columns``, on light paper (what ``_layout.find_cards`` looks for)."""
    page = Image.new("RGB", SHEET_PX, (244, 244, 240))
    card_w, card_h = SHEET_CARD_PX
    for index in range(cards):
        row, column = divmod(index, columns)
        card = Image.new("RGB", (card_w, card_h))
        draw = ImageDraw.Draw(card)
        hue = seed + index
        tint = ((90 + hue * 40) % 256, (150 + hue * 25) % 256, (200 + hue * 15) % 256)
        draw.rectangle((0, 0, card_w, card_h), fill=tint)
        draw.rectangle((card_w * 0.65, card_h * 0.15, card_w * 0.92, card_h * 0.75),
                       fill=(250, 250, 245))
        for line in range(6):
            y = card_h * (0.18 + line * 0.11)
            draw.rectangle((card_w * 0.08, y, card_w * (0.35 + 0.04 * (line % 3)), y + 8),
                           fill=(40, 40, 40))
        cell_w = SHEET_PX[0] / columns
        left = round(cell_w * (column + 0.5) - card_w / 2)
        top = 160 + row * round(card_h * 1.45)
        page.paste(card, (left, top))
    return page


def draw_portrait(path: Path) -> Path:
    """A fake cropped portrait."""
    image = Image.new("RGB", (358, 441), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.ellipse((90, 60, 270, 280), fill=(205, 175, 145))
    draw.rectangle((60, 300, 300, 441), fill=(40, 60, 110))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def thumb_view(data: dict[str, Any], thumb: dict[str, Any]) -> dict[str, Any]:
    """The page view an entry's thumbnail shows (``{}`` for a placeholder)."""
    index = thumb["view"]
    return data["views"][index] if index >= 0 else {}


def is_mosaic(data_uri: str, block_px: int = 8) -> bool:
    """Whether an embedded JPEG is flat squares of ``block_px`` (a masked thumbnail):
    inside every square the brightness varies by a few levels of JPEG noise at most."""
    import base64
    import io

    raw = base64.b64decode(data_uri.split(",", 1)[1])
    with Image.open(io.BytesIO(raw)) as image:
        grey = image.convert("L")
    width, height = grey.size
    pixels = grey.load()
    assert pixels is not None
    for top in range(0, height - block_px + 1, block_px):
        for left in range(0, width - block_px + 1, block_px):
            block = [pixels[x, y] for x in range(left, left + block_px)
                     for y in range(top, top + block_px)]  # fmt: skip
            if max(block) - min(block) > 12:  # type: ignore[operator]
                return False
    return True


def base_row(file: str, status: str = "ok", **fields: Any) -> Row:
    """A row in the JSONL shape with every pinned column present."""
    row: Row = {
        "file": file,
        "status": status,
        "side": "",
        "name": "",
        "sex": "",
        "nation": "",
        "birth_date": "",
        "address": "",
        "id_number": "",
        "authority": "",
        "valid_from": "",
        "valid_to": "",
        "invalid_fields": [],
        "order_no": "",
        "portrait_url": "",
        "error_code": "",
        "error_message": "",
        "attempts": 1,
        "sha256": "",
        "fitted": False,
        "engine": "api",
        "validity": {},
        "confidence": {},
        "checks": [],
        "portrait_file": "",
        "portrait_error": "",
        "page": None,
        "warnings": [],
        "needs_review": status != "ok",
        "review_reasons": [] if status == "ok" else [f"status:{status}"],
        "card": None,
        "escalated_for": [],
    }
    row.update(fields)
    return row


def sample_rows() -> list[Row]:
    """One row of every kind the back office sees, all fictional."""
    return [
        base_row(
            "scans/zhang_san.jpg",
            side="front",
            name="张三",
            sex="男",
            nation="汉",
            birth_date="1990-03-07",
            address="北京市东城区示例路1号",
            id_number="110101199003071234",
            order_no="A0001",
            portrait_file="portraits/zhang_san.jpg",
        ),
        base_row(
            "scans/li_xiaohong.jpg",
            side="front",
            name="李小红",
            sex="女",
            nation="汉",
            birth_date="1985-11-20",
            address="上海市黄浦区样例街22号",
            id_number="310101198511204321",
            checks=["id_checksum"],
            order_no="A0002",
            warnings=["glare"],
            needs_review=True,
            review_reasons=["check:id_checksum", "warning:glare"],
        ),
        base_row(
            "scans/li_xiaohong_back.jpg",
            side="back",
            authority="上海市公安局黄浦分局",
            valid_from="2005-01-01",
            valid_to="2015-01-01",
            checks=["expired"],
            needs_review=True,
            review_reasons=["check:expired"],
        ),
        base_row(
            "scans/wang_wu.jpg",
            side="front",
            name="王五",
            sex="男",
            nation="回",
            birth_date="1979-06-01",
            address="广东省深圳市福田区演示大道3号",
            id_number="440304197906015678",
            invalid_fields=["name"],
            validity={"name": False, "number": True},
            needs_review=True,
            review_reasons=["invalid:name"],
        ),
        base_row("scans/blurry.jpg", "scan_failed", warnings=["blur"],
                 review_reasons=["status:scan_failed", "warning:blur"]),
        base_row("scans/receipt.jpg", "not_id_card"),
        base_row(
            "scans/busy.jpg",
            "error",
            error_code="501",
            error_message="服务器繁忙，请稍后再试 (retried 4 times)",
            attempts=4,
        ),
        base_row(
            "scans/empty.jpg",
            "rejected",
            error_code="empty_file",
            error_message="the file is empty",
            attempts=0,
        ),
        base_row(
            "scans/missing_on_disk.jpg",
            "ok",
            side="back",
            authority="示例县公安局",
            valid_from="2020-01-01",
            valid_to="长期",
        ),
    ]


#: Names a back office could meet: markup, both quotes, and template syntax, which the
#: page's template must print as it is, never evaluate.
HOSTILE_FIELD = '<script>alert("name")</script> \'{{ 7*7 }}\' {% if 1 %}x{% endif %} &amp;'
HOSTILE_FILE = '<img src=x onerror=alert(1)> "{{ config }}" \'{{ 7*7 }}\'.jpg'
HOSTILE_STATUS = '<b>"{{ status }}"</b>'
HOSTILE_FLAG = "<i>{{ flag }}</i>"
HOSTILE_SIDE = "<u>'{{ side }}'</u>"


def hostile_rows() -> list[Row]:
    """Hostile strings in a field, a file name, a status, a flag and a side (the Side
    select appears because two sides are listed)."""
    return [
        base_row(HOSTILE_FILE, name=HOSTILE_FIELD, address=HOSTILE_FIELD, side="front",
                 checks=[HOSTILE_FLAG], warnings=[HOSTILE_FLAG], review_reasons=[HOSTILE_FIELD],
                 needs_review=True, error_message=HOSTILE_FIELD),
        base_row("b.jpg", HOSTILE_STATUS, side=HOSTILE_SIDE, order_no=HOSTILE_FIELD),
    ]


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """Debian's Chromium (never a browser Playwright would download)."""
    configured = os.environ.get("BATCH_OCR_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None
