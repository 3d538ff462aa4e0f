"""Several cards on one image: which become rows, and when a front and a back are one."""

from __future__ import annotations

from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run.cards import CardRead, assemble, is_id_side, merge_sides
from batch_ocr.run.present.rows import row_from_card

FRONT_OK = dict.fromkeys(("name", "sex", "nation", "birthday", "address", "number"), True)
BACK_OK = {"authority": True, "timelimit": True}


def front(name: str = "张三", number: str = "360113199010099893", *, result: int = 0,
          order_no: str = "F1") -> CardData:  # fmt: skip
    return CardData(
        order_no=order_no, result=result, side="front",
        info=CardInfo(name=name, sex="男", nation="汉", year="1990", month="10", day="9",
                      address="江西省南昌市红谷滩区丰和中大道1001号", number=number),
        validity=FRONT_OK if result == 0 else dict.fromkeys(FRONT_OK, False),
        image_url="http://127.0.0.1/portrait.jpg",
    )  # fmt: skip


def back(authority: str = "南昌市公安局红谷滩分局", *, result: int = 0,
         order_no: str = "B1") -> CardData:  # fmt: skip
    return CardData(order_no=order_no, result=result, side="back",
                    info=CardInfo(authority=authority, timelimit="20180727-20380727"),
                    validity=BACK_OK if result == 0 else dict.fromkeys(BACK_OK, False))  # fmt: skip


def other() -> CardData:
    """What an engine says of a bank card or a blank template: no flag true."""
    return CardData(order_no="X1", result=0, side="front", info=CardInfo(name="示例银行"),
                    validity=dict.fromkeys(FRONT_OK, False))  # fmt: skip


def test_one_front_and_one_back_become_one_row_with_both_sides() -> None:
    rows = assemble([CardRead(back()), CardRead(front(), b"jpeg")])
    assert len(rows) == 1
    (merged,) = rows
    assert merged.card is None and merged.portrait_bytes == b"jpeg"
    row = row_from_card("page.png", merged.data, attempts=2, sha256="s")
    assert (row.status, row.side) == ("ok", "both")
    assert (row.name, row.id_number, row.birth_date) == ("张三", "360113199010099893", "1990-10-09")
    assert (row.authority, row.valid_from, row.valid_to) == (
        "南昌市公安局红谷滩分局", "2018-07-27", "2038-07-27")
    assert row.order_no == "F1;B1"
    assert row.portrait_url == "http://127.0.0.1/portrait.jpg"
    assert row.invalid_fields == []


def test_one_side_alone_is_the_images_row_unnumbered() -> None:
    assert assemble([CardRead(back())]) == [CardRead(back())]


def test_a_card_of_another_kind_adds_no_row_beside_an_id_card() -> None:
    rows = assemble([CardRead(other()), CardRead(front())])
    assert [(r.data.side, r.card) for r in rows] == [("front", None)]
    rows = assemble([CardRead(front()), CardRead(other()), CardRead(back())])
    assert [(r.data.side, r.card) for r in rows] == [("both", None)]


def test_nothing_but_other_kinds_is_one_not_id_card_row() -> None:
    rows = assemble([CardRead(other()), CardRead(other())])
    assert len(rows) == 1
    row = row_from_card("page.png", rows[0].data, attempts=2, sha256="s")
    assert (row.status, row.side, row.card) == ("not_id_card", "", None)


def test_more_than_one_card_is_never_guessed_each_side_numbered() -> None:
    four = [CardRead(front("甲")), CardRead(back("甲局")), CardRead(front("乙")),
            CardRead(back("乙局"))]  # fmt: skip
    rows = assemble(four)
    assert [(r.data.side, r.card) for r in rows] == [
        ("front", 1), ("back", 2), ("front", 3), ("back", 4)]
    two_fronts = assemble([CardRead(front("甲")), CardRead(other()), CardRead(front("乙"))])
    assert [(r.data.info.name, r.card) for r in two_fronts] == [("甲", 1), ("乙", 2)]


def test_a_merged_card_is_scan_failed_only_when_neither_side_was_read() -> None:
    half = merge_sides(front(), back(result=1))
    assert half.result == 0 and half.validity["authority"] is False
    row = row_from_card("p.png", half, attempts=2, sha256="s")
    assert row.status == "ok" and row.invalid_fields == ["authority", "valid_from", "valid_to"]
    assert merge_sides(front(result=1), back(result=1)).result == 1


def test_a_scan_failed_side_is_still_an_id_card_side() -> None:
    assert is_id_side(front(result=1))
    assert not is_id_side(other())


def test_the_front_alone_of_a_both_card_is_what_the_provider_answers_for_a_page() -> None:
    from batch_ocr.run.cards import front_side

    alone = front_side(merge_sides(front(), back()))
    assert alone.side == "front" and alone.info.name == "张三"
    assert alone.info.authority is None and set(alone.validity) == set(FRONT_OK)
    assert front_side(back()) == back()


def test_a_failed_card_keeps_its_place_and_nothing_is_merged_or_guessed() -> None:
    from batch_ocr.errors import ApiError
    from batch_ocr.run.cards import CardFailure, partly_read

    failed = CardFailure(0, ApiError("500", "internal error"))
    rows = partly_read([CardRead(other()), CardRead(front()), failed, CardRead(back())])
    # The bank card adds no row; the front and back of what may be one card are not
    # merged while the card between them is unknown; numbers are places among all found.
    assert [(r.card, type(r).__name__) for r in rows] == [
        (2, "CardRead"), (3, "CardFailure"), (4, "CardRead")]
    assert isinstance(rows[1], CardFailure) and rows[1].error.error_code == "500"
    only_failures = partly_read([failed, failed])
    assert [r.card for r in only_failures] == [1, 2]


def test_a_side_seen_and_not_read_warns_on_every_row_of_the_image() -> None:
    """A back found by its print (no outline) that reads as nothing is a side lost: the
    front's row says so, where a bank card beside it adds nothing."""
    from batch_ocr.run.cards import SIDE_UNREAD

    rows = assemble([CardRead(front()), CardRead(other(), side_seen=True)])
    assert [(r.data.side, r.warnings) for r in rows] == [("front", (SIDE_UNREAD,))]
    rows = assemble([CardRead(front()), CardRead(other())])
    assert [(r.data.side, r.warnings) for r in rows] == [("front", ())]
    # Read after all: nothing was lost, nothing to say.
    rows = assemble([CardRead(front()), CardRead(back(), side_seen=True)])
    assert [(r.data.side, r.warnings) for r in rows] == [("both", ())]
    # Nothing read at all (a blank template's labels): the not_id_card row says enough.
    rows = assemble([CardRead(other(), side_seen=True), CardRead(other(), side_seen=True)])
    assert rows[0].warnings == ()


def test_a_side_seen_and_not_read_warns_beside_a_failed_card() -> None:
    from batch_ocr.errors import ApiError
    from batch_ocr.run.cards import SIDE_UNREAD, CardFailure, partly_read

    failed = CardFailure(0, ApiError("500", "internal error"))
    rows = partly_read([CardRead(front()), CardRead(other(), side_seen=True), failed])
    assert [(r.card, getattr(r, "warnings", None)) for r in rows] == [
        (1, (SIDE_UNREAD,)), (3, None)]  # fmt: skip


def test_a_row_says_which_engine_read_its_sides_and_why() -> None:
    escalated = CardRead(front(), engine="api", escalated_for=("missing:name",),
                         disagree=("name",))
    offline = CardRead(back(), engine="local")
    [merged] = assemble([offline, escalated])
    assert (merged.engine, merged.escalated_for, merged.disagree) == (
        "api", ("missing:name",), ("name",))
    [alone] = assemble([offline])
    assert (alone.engine, alone.escalated_for) == ("local", ())
    two = assemble([escalated, offline, CardRead(front("李四"), engine="local")])
    assert [(r.card, r.engine) for r in two] == [(1, "api"), (2, "local"), (3, "local")]
    assert assemble([CardRead(back())])[0].engine == ""  # one engine: the run names it
