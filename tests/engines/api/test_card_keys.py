"""A card's paid answer outlives a change in how cards are cut (docs/documents.md).

Each card of a page is its own billed call, and its answer is journaled as soon as it
arrives. Earlier versions kept it under the sha256 of the crop they sent (the card
straightened to 856 x 540 px from the 2,000 px view, JPEG quality 92); cards are now
cut at the resolution the page holds them, framed by the page, so the bytes sent
differ. A journal an earlier version wrote must still stand for the cards it paid for:
a rerun makes no call for them.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from batch_ocr.run.journal.state import Journal
from batch_ocr.run.pipeline import BatchRun, RunOptions
from batch_ocr.run.present.rows import Row
from batch_ocr.vision import crops
from batch_ocr.vision.imaging import prepare
from batch_ocr.vision.picture import Picture
from tests.engines.api.test_api_cards import BACK, FRONT, _copy_page
from tests.engines.fake_api import FakeClient, api_engine

pytestmark = pytest.mark.skipif(not crops.available(), reason="OpenCV is not installed")


def crops_as_cut_before(payload: bytes) -> list[bytes]:
    """The cards of a page as earlier versions sent them: found on the search view, each
    warped to 856 x 540 px out of the 2,000 px ``full`` view, JPEG quality 92 (what
    their journals key each card's answer by)."""
    import cv2

    from batch_ocr.vision import layout, photo

    picture = Picture(payload)
    small, scale = picture.search()
    cards = layout.page_cards(small, min_long_side_px=layout.MIN_CARD_LONG_SIDE_PX * scale)
    image = picture.full()
    cut = []
    for card in cards:
        ok, encoded = cv2.imencode(".jpg", photo.warp_card(image, card.quad / scale),
                                   [cv2.IMWRITE_JPEG_QUALITY, 92])
        assert ok
        cut.append(encoded.tobytes())
    return cut


def _journal_of_an_earlier_version(state: Path, payload: bytes, answered: int) -> list[str]:
    """A journal as an earlier version left it when killed after paying for the first
    ``answered`` cards of the page (their answers kept, no row yet); their keys."""
    keys = [hashlib.sha256(crop).hexdigest() for crop in crops_as_cut_before(payload)]
    assert len(keys) == 2
    with Journal(state) as journal:
        for key, answer in list(zip(keys, (FRONT, BACK), strict=True))[:answered]:
            journal.keep_paid_answer("api", key, answer.model_dump_json(), 1)
    return keys


async def _run(state: Path, scans: Path, client: FakeClient, **options: bool
               ) -> tuple[list[Row], BatchRun]:
    with Journal(state) as journal:
        batch = BatchRun(api_engine(client), [scans], lambda row: None, journal=journal,
                         options=RunOptions(**options))  # type: ignore[arg-type]
        await batch.run()
        return list(journal.rows()), batch


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "copy.png").write_bytes(_copy_page())
    return folder


def test_cards_are_no_longer_sent_as_earlier_versions_cut_them() -> None:
    """Else the tests below would prove nothing: the bytes sent have changed."""
    page = prepare(_copy_page())
    now = crops.card_crops(Picture(page.payload))
    before = crops_as_cut_before(page.payload)
    assert len(now) == len(before) == 2
    assert {c.jpeg for c in now}.isdisjoint(before)


async def test_a_page_an_earlier_version_paid_for_costs_no_call(tmp_path: Path,
                                                              scans: Path) -> None:
    state = tmp_path / "state.sqlite"
    _journal_of_an_earlier_version(state, prepare(_copy_page()).payload, answered=2)
    counted = FakeClient()
    _, dry = await _run(state, scans, counted, dry_run=True)
    assert (dry.summary().would_call, counted.images) == (0, [])
    client = FakeClient()  # any call would fail the test: it has no answer to give
    rows, batch = await _run(state, scans, client)
    assert client.images == []
    assert [(r.side, r.status, r.name, r.authority) for r in rows] == [
        ("both", "ok", "张三", "某市公安局")]
    assert (batch.summary().calls, batch.summary().answers_reused) == (0, 2)
    with Journal(state) as journal:
        assert not journal.holds_paid_answers("api")  # let go with the page's row


async def test_a_page_half_paid_for_by_an_earlier_version_costs_one_call(
        tmp_path: Path, scans: Path) -> None:
    state = tmp_path / "state.sqlite"
    _journal_of_an_earlier_version(state, prepare(_copy_page()).payload, answered=1)
    client = FakeClient(BACK)
    rows, batch = await _run(state, scans, client)
    assert len(client.images) == 1  # the back, cut the new way
    assert client.images[0] == crops.card_crops(Picture(prepare(_copy_page()).payload))[1].jpeg
    assert [(r.side, r.status) for r in rows] == [("both", "ok")]
    assert (batch.summary().calls, batch.summary().answers_reused) == (1, 1)


def test_a_card_s_key_is_its_page_and_place_whatever_bytes_are_sent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from batch_ocr.vision import card_cut

    page = prepare(_copy_page())
    cards = crops.card_crops(Picture(page.payload))
    digest = hashlib.sha256(page.payload).hexdigest()
    assert [c.key for c in cards] == [f"{digest}:card 1 of 2", f"{digest}:card 2 of 2"]
    assert all(c.legacy_key is None for c in cards)  # worked out only when asked
    monkeypatch.setattr(card_cut, "FRAME_SHARE", 0.08)
    recut = crops.card_crops(Picture(page.payload), legacy_keys=True)
    assert [c.key for c in recut] == [c.key for c in cards]
    assert [c.jpeg for c in recut] != [c.jpeg for c in cards]
    assert [c.legacy_key for c in recut] == [
        hashlib.sha256(crop).hexdigest() for crop in crops_as_cut_before(page.payload)]


@pytest.fixture
def scans_over_the_limits(tmp_path: Path) -> Path:
    """A 300 dpi two-sided copy as a PNG of several MB: fitted to be sent whole."""
    from tests.engines.api.test_full_resolution import scan_file

    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "scan.png").write_bytes(scan_file("PNG"))
    return folder


async def test_a_fitted_page_half_paid_for_when_cut_from_its_fitted_pixels_costs_one_call(
        tmp_path: Path, scans_over_the_limits: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cards of a page over the API's limits are now cut from the file's own pixels, not
    from the page fitted to be sent whole: their answers keep their keys."""
    from batch_ocr.errors import QuotaExceededError
    from batch_ocr.vision import card_cut

    state = tmp_path / "state.sqlite"
    with monkeypatch.context() as before:  # as cards were cut: from the fitted page
        before.setattr(card_cut, "page_pixels", lambda page, original: page.upright())
        first = FakeClient(FRONT, QuotaExceededError("API quota exceeded"))
        rows, _ = await _run(state, scans_over_the_limits, first)
    assert rows == [] and len(first.images) == 2  # the front paid for and kept, no row
    client = FakeClient(BACK)
    rows, batch = await _run(state, scans_over_the_limits, client)
    assert len(client.images) == 1  # the back alone, cut sharper than it was
    assert _width(client.images[0]) > 1.1 * _width(first.images[1])
    assert [(r.side, r.status, r.name) for r in rows] == [("both", "ok", "张三")]
    assert (batch.summary().calls, batch.summary().answers_reused) == (1, 1)


async def test_a_fitted_page_paid_for_when_cut_from_its_fitted_pixels_costs_no_call(
        tmp_path: Path, scans_over_the_limits: Path) -> None:
    state = tmp_path / "state.sqlite"
    payload = prepare((scans_over_the_limits / "scan.png").read_bytes()).payload
    as_cut_then = crops.card_crops(Picture(payload))  # from the fitted page, no original
    assert len(as_cut_then) == 2
    with Journal(state) as journal:
        for card, answer in zip(as_cut_then, (FRONT, BACK), strict=True):
            journal.keep_paid_answer("api", card.key, answer.model_dump_json(), 1)
    counted = FakeClient()
    _, dry = await _run(state, scans_over_the_limits, counted, dry_run=True)
    assert (dry.summary().would_call, counted.images) == (0, [])
    client = FakeClient()  # any call would fail the test
    rows, batch = await _run(state, scans_over_the_limits, client)
    assert client.images == []
    assert [(r.side, r.status) for r in rows] == [("both", "ok")]
    assert (batch.summary().calls, batch.summary().answers_reused) == (0, 2)


def _width(jpeg: bytes) -> int:
    from PIL import Image

    return Image.open(io.BytesIO(jpeg)).width
