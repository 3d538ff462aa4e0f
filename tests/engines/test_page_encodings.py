"""No side is lost however a two-sided copy page is encoded (docs/documents.md).

A page reaches the offline engine as a lossy JPEG, a PNG, a TIFF frame or a PDF's
embedded JPEG. Each must give one row, side ``both``, with every field of both sides:
once a quality-75 JPEG lost its back (the scanner's shadow line, ringing in the JPEG,
was taken for the paper's noise and the pale back for paper).
"""

from __future__ import annotations

import json

import pytest
from PIL import Image

from tests.card_pages import (
    DOCUMENTS,
    PAGE_ENCODINGS,
    encode_page,
    field_forms,
    page_image,
    scanned_copy,
    scanned_copy_truth,
)
from tests.skips import needs_documents, needs_local

pytestmark = [
    needs_local,
]


def _both_sides(image_bytes: bytes) -> dict[str, str]:
    """The fields of the one row the engine gives for a two-sided page."""
    from batch_ocr.engines.local import recognise

    result = recognise(image_bytes)
    assert (result.data.side, result.cards) == ("both", ())
    return field_forms(result.data)


def test_a_lossy_jpeg_copy_keeps_both_sides() -> None:
    got = _both_sides(scanned_copy("jpeg75"))
    want = scanned_copy_truth()
    assert {name: got[name] for name in want} == want


@pytest.mark.slow
@pytest.mark.parametrize(
    ("encoding", "options"),
    [("jpeg60", {"grey": False}), ("pdf-jpeg75", {"page_turns": 1}),
     ("jpeg75", {"page_turns": 2, "row_gap": 0.04}), ("jpeg85", {"row_gap": 0.04}),
     ("jpeg75", {"page_turns": 2, "row_gap": 0.0})],
    ids=["colour-jpeg60", "sideways-pdf", "upside-down-a-finger-apart", "a-finger-apart",
         "upside-down-touching"],
)  # fmt: skip
def test_generated_copies_keep_both_sides(encoding: str, options: dict) -> None:
    got = _both_sides(scanned_copy(encoding, **options))
    want = scanned_copy_truth()
    assert {name: got[name] for name in want} == want


def _two_sided_dev_pages() -> list[str]:
    if not DOCUMENTS.is_dir():
        return []
    metas = (json.loads(p.read_text(encoding="utf-8")) for p in sorted(DOCUMENTS.glob("*.json")))
    return [meta["file"] for meta in metas if sorted(meta["sides"]) == ["back", "front"]]


def _dev_truth(file_name: str) -> dict[str, str]:
    meta = json.loads((DOCUMENTS / file_name).with_suffix(".json").read_text(encoding="utf-8"))
    truth = dict(meta["truth"])
    start, _, end = truth.pop("timelimit").partition("-")
    truth["timelimit"] = f"{start.replace('.', '')}-{end.replace('.', '')}"
    return truth


#: Fields the recogniser misreads on a page in one encoding, both sides still found: an
#: accuracy limit, not a lost side (strict: the test says so when it is read right).
MISREAD = {("bdci_photocopy_nixueting.jpg", "jpeg60"): "渭 of the stamped address read 清"}


@needs_documents
@pytest.mark.slow
@pytest.mark.parametrize("encoding", PAGE_ENCODINGS)
@pytest.mark.parametrize("file_name", _two_sided_dev_pages() or ["(no two-sided page)"])
def test_every_dev_page_in_every_encoding_gives_both_sides(file_name: str, encoding: str) -> None:
    image = page_image(encode_page(Image.open(DOCUMENTS / file_name), encoding))
    got = _both_sides(image)  # both sides, whatever the encoding
    want = _dev_truth(file_name)
    wrong = {name: (got[name], value) for name, value in want.items() if got[name] != value}
    misread = MISREAD.get((file_name, encoding))
    if misread is not None:
        assert len(wrong) <= 1, wrong
        if wrong:
            pytest.xfail(misread)
        pytest.fail(f"read right now: drop it from MISREAD ({misread})")
    assert not wrong
