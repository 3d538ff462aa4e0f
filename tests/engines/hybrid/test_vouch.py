"""Which offline readings the hybrid engine pays to have read again, and disagreements."""

from __future__ import annotations

import dataclasses

from batch_ocr.engines.hybrid import vouch
from batch_ocr.run.cards import CardRead, merge_sides
from batch_ocr.run.present.review import review_reasons
from batch_ocr.run.present.rows import row_from_card
from tests.engines.hybrid.cards import AS_OF, BACK, FRONT, NOT_A_CARD, SURE, front


def test_a_clean_reading_is_vouched_for() -> None:
    assert vouch.row_doubts(CardRead(FRONT, confidence=SURE), (), as_of=AS_OF) == ()
    assert vouch.card_doubts(CardRead(BACK, confidence=SURE), (), as_of=AS_OF) == ()


def test_doubts_are_the_review_signal_s_own_reasons() -> None:
    unsure = CardRead(front(name=""), confidence={**SURE, "address": 0.5})
    doubts = vouch.row_doubts(unsure, ("side_unread",), as_of=AS_OF)
    assert doubts == ("missing:name", "warning:side_unread", "low_confidence:address")
    row = dataclasses.replace(
        row_from_card("", unsure.data, attempts=1, sha256="", confidence=unsure.confidence),
        warnings=["side_unread"])
    assert list(doubts) == review_reasons(row, checks=[])  # one home for the reasons


def test_a_failing_cross_check_is_a_doubt() -> None:
    wrong_check_char = front(number="360113199010099890")
    assert "check:id_checksum" in vouch.row_doubts(CardRead(wrong_check_char, confidence=SURE),
                                                   (), as_of=AS_OF)


def test_a_picture_read_as_no_card_is_doubted_a_card_of_another_kind_on_a_page_is_not() -> None:
    assert vouch.row_doubts(CardRead(NOT_A_CARD), (), as_of=AS_OF) == ("status:not_id_card",)
    assert vouch.card_doubts(CardRead(NOT_A_CARD), (), as_of=AS_OF) == ()
    seen = CardRead(NOT_A_CARD, side_seen=True)
    assert vouch.card_doubts(seen, (), as_of=AS_OF) == ("warning:side_unread",)


def test_disagreements_name_the_fields_read_otherwise() -> None:
    assert vouch.disagreements(FRONT, FRONT) == ()
    assert vouch.disagreements(front(name="张王"), FRONT) == ("name",)
    assert vouch.disagreements(front(address="江西省南昌市 红谷滩区丰和中大道1001号"),
                               FRONT) == ()  # spaces and line breaks do not count
    assert vouch.disagreements(front(name="", number="1"), FRONT) == ("id_number",)
    assert vouch.disagreements(front(year="1991"), FRONT) == ("birth_date",)


def test_a_front_and_back_read_as_one_row_are_compared_too() -> None:
    """A copy page's two sides read as one row (``both``): a field the API read otherwise
    is named, as on a single side."""
    both = merge_sides(FRONT, BACK)
    assert vouch.disagreements(both, both) == ()
    assert vouch.disagreements(merge_sides(front(address="陕西省宝鸡市陈仓区钓渭镇梁家崖村"), BACK),
                               merge_sides(front(address="陕西省宝鸡市陈仓区钓清镇梁家崖村"), BACK)
                               ) == ("address",)
    assert vouch.disagreements(both, FRONT) == ("side",)


def test_what_the_offline_engine_did_not_read_is_no_opinion() -> None:
    assert vouch.disagreements(NOT_A_CARD, FRONT) == ()
    assert vouch.disagreements(FRONT, BACK) == ("side",)


def test_rows_are_compared_only_when_both_engines_made_as_many() -> None:
    offline = [CardRead(front(name="李四")), CardRead(BACK)]
    assert vouch.row_disagreements(offline, [CardRead(FRONT), CardRead(BACK)]) == [
        ("name",), ()]
    assert vouch.row_disagreements(offline[:1], [CardRead(FRONT), CardRead(BACK)]) == [(), ()]


def test_glare_off_every_field_of_an_offline_reading_costs_nothing() -> None:
    # The offline engine lowers the confidence of each field a glare spot lies on; a
    # reading whose every field stayed sure has the spot elsewhere (the portrait).
    assert vouch.row_doubts(CardRead(FRONT, confidence=SURE), ("glare",), as_of=AS_OF) == ()
    under = CardRead(FRONT, confidence={**SURE, "name": 0.9})
    assert vouch.row_doubts(under, ("glare",), as_of=AS_OF) == ("low_confidence:name",)
