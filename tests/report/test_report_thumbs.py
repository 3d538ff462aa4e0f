"""thumbs: small JPEG data: URIs, and failures as values."""

from __future__ import annotations

import base64
import io
import warnings
from pathlib import Path

from PIL import Image
from report_fakes import draw_card, draw_portrait

from batch_ocr.report.thumbs import (
    DATA_URI_PREFIX,
    PORTRAIT_MAX_PX,
    make_thumbnail,
    make_thumbnails,
)
from batch_ocr.vision.picture import Picture


def _decode(data_uri: str) -> Image.Image:
    assert data_uri.startswith(DATA_URI_PREFIX)
    return Image.open(io.BytesIO(base64.b64decode(data_uri[len(DATA_URI_PREFIX) :])))


def test_thumbnail_is_small(tmp_path: Path) -> None:
    scan = draw_card(tmp_path / "card.jpg", size=(3000, 1900))
    thumb = make_thumbnail(scan)
    assert thumb.problem == ""
    image = _decode(thumb.data_uri)
    assert image.format == "JPEG"
    assert max(image.size) == 160
    assert len(thumb.data_uri) < 8_000, "a thumbnail should be a few KB"


def test_png_and_sideways_photo(tmp_path: Path) -> None:
    scan = draw_card(tmp_path / "card.png", size=(600, 380))
    image = Image.open(scan)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° CW to display": a phone held sideways
    image.save(tmp_path / "sideways.jpg", exif=exif)
    assert max(_decode(make_thumbnail(scan).data_uri).size) == 160
    upright = _decode(make_thumbnail(tmp_path / "sideways.jpg").data_uri)
    assert upright.size[0] < upright.size[1]


def test_portrait_size(tmp_path: Path) -> None:
    portrait = draw_portrait(tmp_path / "p.jpg")
    image = _decode(make_thumbnail(portrait, max_px=PORTRAIT_MAX_PX).data_uri)
    assert max(image.size) == PORTRAIT_MAX_PX


def test_failures_are_values(tmp_path: Path) -> None:
    (tmp_path / "notes.jpg").write_text("not an image")
    (tmp_path / "cut.jpg").write_bytes((draw_card(tmp_path / "whole.jpg").read_bytes())[:300])
    assert make_thumbnail(None).problem == "image not found"
    assert make_thumbnail(tmp_path / "nope.jpg").problem == "image not found"
    assert make_thumbnail(tmp_path / "notes.jpg").problem == "not an image"
    assert make_thumbnail(tmp_path / "cut.jpg").problem.startswith("cannot read image")


def test_many_keep_order_and_decode_each_path_once(tmp_path: Path) -> None:
    a = draw_card(tmp_path / "a.jpg", hue=1)
    b = draw_card(tmp_path / "b.jpg", hue=2)
    thumbs = make_thumbnails([a, None, b, a])
    assert thumbs[0] == thumbs[3] and thumbs[0] != thumbs[2]
    assert thumbs[1].problem == "image not found"


def test_a_transparent_background_shows_as_paper_without_a_warning() -> None:
    image = Image.new("P", (40, 20), 0)
    image.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    image.paste(1, (0, 0, 20, 20))
    image.info["transparency"] = bytes([0] + [255] * 255)  # index 0 transparent
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        thumb = Picture(buffer.getvalue()).thumbnail(40)
    assert thumb.getpixel((30, 10)) == (255, 255, 255)
