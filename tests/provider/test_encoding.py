"""The request body (``batch_ocr/provider/encoding.py``) against the provider samples' ``urlencode``."""

from __future__ import annotations

import base64
import random
from urllib.parse import parse_qs, urlencode

import pytest

from batch_ocr.provider.encoding import CONTENT_TYPE, data_uri_prefix, form_body

MIMES = ("image/jpeg", "image/png", "image/bmp", "image/gif", "image/tiff")


def samples_body(mime: str, payload: bytes) -> bytes:
    """What the provider's Python sample sends."""
    data_uri = f"data:{mime};base64," + base64.b64encode(payload).decode("ascii")
    return urlencode({"image": data_uri, "url": ""}).encode()


def payloads() -> list[bytes]:
    rng = random.Random(20240607)
    small = [rng.randbytes(length) for length in range(65)]
    # Bytes chosen so the base64 is full of '+' and '/', with each padding length.
    plus_slash = [b"\xfb\xef\xbe" * 5, b"\xff\xff", b"\xfb"]
    return [*small, *plus_slash, rng.randbytes(100 * 1024)]


@pytest.mark.parametrize("mime", MIMES)
def test_form_body_matches_urlencode_byte_for_byte(mime: str) -> None:
    for payload in payloads():
        assert form_body(mime, payload) == samples_body(mime, payload), len(payload)


@pytest.mark.parametrize("mime", MIMES)
def test_form_body_round_trips_through_parse_qs(mime: str) -> None:
    for payload in payloads():
        fields = parse_qs(form_body(mime, payload).decode("ascii"), keep_blank_values=True)

        assert set(fields) == {"image", "url"}
        assert fields["url"] == [""]
        (image,) = fields["image"]
        prefix, encoded = image.split(",", 1)
        assert prefix == f"data:{mime};base64"
        assert base64.b64decode(encoded, validate=True) == payload


def test_body_has_no_raw_base64_specials() -> None:
    body = form_body("image/png", b"\xfb\xef\xbe\xff\xff")

    assert body.startswith(b"image=data%3Aimage%2Fpng%3Bbase64%2C")
    assert body.endswith(b"&url=")
    assert not set(b"+/=:;,") & set(body.removeprefix(b"image=").removesuffix(b"&url="))
    assert b"%2B" in body and b"%2F" in body and b"%3D" in body


def test_prefix_and_content_type() -> None:
    assert data_uri_prefix("image/jpeg") == b"data%3Aimage%2Fjpeg%3Bbase64%2C"
    assert CONTENT_TYPE == "application/x-www-form-urlencoded"
