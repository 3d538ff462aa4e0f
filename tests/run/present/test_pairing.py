"""Front/back pairing: keys from names, sides from recognition, every group reported."""

from __future__ import annotations

import dataclasses

import pytest

from batch_ocr.columns import PAIR_COLUMNS
from batch_ocr.run.present import pairing
from batch_ocr.run.present.pairing import PairedCard, pair_rows
from batch_ocr.run.present.rows import Row


def front(file: str, **fields: str) -> Row:
    return Row(file=file, status="ok", side="front", name=fields.get("name", "张三"),
               id_number=fields.get("id_number", "11010519491231002X"),
               sha256=fields.get("sha256", ""))


def back(file: str, **fields: str) -> Row:
    return Row(file=file, status="ok", side="back", authority=fields.get("authority", "某公安局"),
               valid_from="2015-03-01", valid_to="2035-03-01", sha256=fields.get("sha256", ""))


def summary(cards: list[PairedCard]) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (c.key, c.pair_status, c.front.file if c.front else None, c.back.file if c.back else None)
        for c in cards
    ]


@pytest.mark.parametrize(
    ("file", "key"),
    [
        ("zhangsan_front.jpg", "zhangsan"),
        ("zhangsan_back.png", "zhangsan"),
        ("zhangsan-FRONT.JPG", "zhangsan"),
        ("zhangsan-Back.jpeg", "zhangsan"),
        ("李四-正.jpg", "李四"),
        ("李四_反.jpg", "李四"),
        ("wang正面.png", "wang"),
        ("wang_反面.png", "wang"),
        ("x_1.jpg", "x"),
        ("x-2.jpg", "x"),
        ("cardA.jpg", "card"),
        ("cardB.jpg", "card"),
        ("张三A.jpg", "张三"),
        ("scan_a.jpg", "scan"),
        ("scan-B.jpg", "scan"),
        ("p1/q/zhangsan_front.jpg", "p1/q/zhangsan"),  # the folder stays in the key
        ("a.b_back.tiff", "a.b"),  # only the last extension goes
        ("card_1_front.jpg", "card_1"),  # one marker only
        ("noext_back", "noext"),
        # Not markers:
        ("feedback.jpg", "feedback"),  # no separator before "back"
        ("photo-12.jpg", "photo-12"),
        ("lisa.jpg", "lisa"),  # bare lower-case a/b ends ordinary names
        ("bob.jpg", "bob"),
        ("JOB.jpg", "JOB"),  # bare A/B only after a non-upper-case character
        ("front.jpg", "front"),  # a stem that is only a marker is kept whole
        ("正面.png", "正面"),
    ],
)
def test_stem_key(file: str, key: str) -> None:
    assert pairing.stem_key(file) == key


def test_mixed_naming_conventions_all_pair() -> None:
    rows = [
        front("zhangsan_front.jpg"), back("zhangsan_back.png"),
        front("李四-正.jpg"), back("李四-反.jpg"),
        back("wang反面.png"), front("wang正面.png"),
        front("x_1.jpg"), back("x_2.jpg"),
        front("cardA.jpg"), back("cardB.jpg"),
    ]
    result = pair_rows(rows)
    assert summary(result.cards) == [
        ("card", "complete", "cardA.jpg", "cardB.jpg"),
        ("wang", "complete", "wang正面.png", "wang反面.png"),
        ("x", "complete", "x_1.jpg", "x_2.jpg"),
        ("zhangsan", "complete", "zhangsan_front.jpg", "zhangsan_back.png"),
        ("李四", "complete", "李四-正.jpg", "李四-反.jpg"),
    ]
    assert result.unpaired == []


@pytest.mark.parametrize("pair_by", ["auto", "stem", "folder"])
def test_side_comes_from_recognition_not_the_name(pair_by: pairing.PairBy) -> None:
    # The scanner's labels are swapped; the recognised sides win.
    rows = [back("a_front.jpg"), front("a_back.jpg")]
    [card] = pair_rows(rows, pair_by=pair_by).cards
    assert card.pair_status == "complete"
    assert card.front is not None and card.front.file == "a_back.jpg"
    assert card.back is not None and card.back.file == "a_front.jpg"


@pytest.mark.parametrize(
    ("pair_by", "expected"),
    [
        # auto: stems first, then each folder's leftovers.
        (
            "auto",
            [
                ("p1/", "complete", "p1/scan001.jpg", "p1/scan002.jpg"),
                ("p2/li", "complete", "p2/li_front.jpg", "p2/li_back.jpg"),
                ("p2/", "complete", "p2/img7.jpg", "p2/img8.jpg"),
            ],
        ),
        # stem: names that share nothing stay apart.
        (
            "stem",
            [
                ("p1/scan001", "front_only", "p1/scan001.jpg", None),
                ("p1/scan002", "back_only", None, "p1/scan002.jpg"),
                ("p2/img7", "front_only", "p2/img7.jpg", None),
                ("p2/img8", "back_only", None, "p2/img8.jpg"),
                ("p2/li", "complete", "p2/li_front.jpg", "p2/li_back.jpg"),
            ],
        ),
        # folder: p2 holds two cards, which the folder mode cannot split.
        (
            "folder",
            [
                ("p1/", "complete", "p1/scan001.jpg", "p1/scan002.jpg"),
                ("p2/", "ambiguous", None, None),
            ],
        ),
    ],
)
def test_folder_fallback(pair_by: pairing.PairBy,
                         expected: list[tuple[str, str, str | None, str | None]]) -> None:
    rows = [
        front("p1/scan001.jpg"), back("p1/scan002.jpg"),
        front("p2/li_front.jpg"), back("p2/li_back.jpg"),
        front("p2/img7.jpg"), back("p2/img8.jpg"),
    ]
    got = summary(pair_rows(rows, pair_by=pair_by).cards)
    assert sorted(got) == sorted(expected)
    assert [k for k, *_ in got] == sorted(k for k, *_ in got)  # ordered by key


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # Two leftovers of the same side are not a card.
        (
            [front("p1/scan001.jpg"), front("p1/scan002.jpg")],
            [("p1/scan001", "front_only"), ("p1/scan002", "front_only")],
        ),
        # Three leftovers: which two belong together is a guess, so none is made.
        (
            [front("p1/s1.jpg"), back("p1/s2.jpg"), back("p1/s3.jpg")],
            [("p1/s1", "front_only"), ("p1/s2", "back_only"), ("p1/s3", "back_only")],
        ),
        # Leftovers in different folders never meet.
        (
            [front("p1/s1.jpg"), back("p2/s2.jpg")],
            [("p1/s1", "front_only"), ("p2/s2", "back_only")],
        ),
        # An ambiguous stem group is not a leftover; the singles still pair.
        (
            [front("p1/a_1.jpg"), front("p1/a_2.jpg"), front("p1/s1.jpg"), back("p1/s2.jpg")],
            [("p1/", "complete"), ("p1/a", "ambiguous")],
        ),
        # Top-level files work the same, keyed "./".
        ([front("front.jpg"), back("back.jpg")], [("./", "complete")]),
    ],
)
def test_folder_fallback_only_pairs_one_front_one_back(
    rows: list[Row], expected: list[tuple[str, str]]
) -> None:
    assert [(c.key, c.pair_status) for c in pair_rows(rows).cards] == expected


@pytest.mark.parametrize(
    ("rows", "status", "members"),
    [
        ([front("a_front.jpg")], "front_only", ["a_front.jpg"]),
        ([back("a_back.jpg")], "back_only", ["a_back.jpg"]),
        ([front("a_front.jpg"), back("a_back.jpg")], "complete", ["a_back.jpg", "a_front.jpg"]),
        ([front("a_front.jpg"), front("a_1.jpg")], "ambiguous", ["a_1.jpg", "a_front.jpg"]),
        ([back("a_back.jpg"), back("a-反.jpg")], "ambiguous", ["a-反.jpg", "a_back.jpg"]),
        (
            [front("a_front.jpg"), back("a_back.jpg"), back("a_2.jpg")],
            "ambiguous",
            ["a_2.jpg", "a_back.jpg", "a_front.jpg"],
        ),
    ],
)
def test_group_status(rows: list[Row], status: str, members: list[str]) -> None:
    [card] = pair_rows(rows, pair_by="stem").cards
    assert card.pair_status == status
    assert [r.file for r in card.members] == members
    if status == "ambiguous":
        assert card.front is None and card.back is None


def test_rows_without_a_side_are_kept_unpaired() -> None:
    error = Row(file="b.jpg", status="error", error_code="E", error_message="boom")
    other = Row(file="a_back.jpg", status="not_id_card")
    rows = [front("a_front.jpg"), error, other]
    result = pair_rows(rows)
    assert summary(result.cards) == [("a", "front_only", "a_front.jpg", None)]
    assert result.unpaired == [other, error]  # sorted by file


def test_unknown_pair_by_is_refused() -> None:
    with pytest.raises(ValueError, match="pair_by"):
        pair_rows([], pair_by="name")  # type: ignore[arg-type]


def test_empty_input() -> None:
    result = pair_rows([])
    assert (result.cards, result.unpaired) == ([], [])


def test_output_does_not_depend_on_input_order() -> None:
    rows = [
        front("b_front.jpg"), back("b_back.jpg"), front("a_1.jpg"), back("a_2.jpg"),
        front("p/s1.jpg"), back("p/s2.jpg"), front("c.jpg"),
    ]
    forward = pair_rows(rows)
    backward = pair_rows(list(reversed(rows)))
    assert summary(forward.cards) == summary(backward.cards)
    assert [c.key for c in forward.cards] == ["a", "b", "c", "p/"]


def test_to_dict_of_a_complete_card() -> None:
    rows = [
        front("a_front.jpg", name="王小丽", sha256="f" * 64),
        back("a_back.jpg", authority="北京市公安局", sha256="b" * 64),
    ]
    [card] = pair_rows(rows).cards
    out = card.to_dict()
    assert tuple(out) == PAIR_COLUMNS
    assert out == {
        "front_file": "a_front.jpg",
        "back_file": "a_back.jpg",
        "pair_status": "complete",
        "name": "王小丽",
        "sex": "",
        "nation": "",
        "birth_date": "",
        "address": "",
        "id_number": "11010519491231002X",
        "authority": "北京市公安局",
        "valid_from": "2015-03-01",
        "valid_to": "2035-03-01",
        "front_status": "ok",
        "back_status": "ok",
        "front_sha256": "f" * 64,
        "back_sha256": "b" * 64,
    }


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [front("a_front.jpg")],
            {"front_file": "a_front.jpg", "back_file": "", "pair_status": "front_only",
             "name": "张三", "authority": "", "valid_to": "", "back_status": ""},
        ),
        (
            [back("a_back.jpg")],
            {"front_file": "", "back_file": "a_back.jpg", "pair_status": "back_only",
             "name": "", "authority": "某公安局", "front_status": "", "back_status": "ok"},
        ),
        # Ambiguous: every clashing file is listed, no data is picked from any of them.
        (
            [front("a_front.jpg"), front("a_1.jpg"), back("a_back.jpg")],
            {"front_file": "a_1.jpg|a_front.jpg", "back_file": "a_back.jpg",
             "pair_status": "ambiguous", "name": "", "id_number": "", "authority": "",
             "front_status": "ok|ok", "back_status": "ok"},
        ),
    ],
)
def test_to_dict_of_incomplete_cards(rows: list[Row], expected: dict[str, str]) -> None:
    [card] = pair_rows(rows).cards
    out = card.to_dict()
    assert tuple(out) == PAIR_COLUMNS
    assert {k: out[k] for k in expected} == expected


def test_paired_card_is_frozen() -> None:
    [card] = pair_rows([front("a_front.jpg")]).cards
    with pytest.raises(AttributeError):
        card.pair_status = "complete"  # type: ignore[misc]


def test_a_page_with_both_sides_is_a_complete_card_before_any_name_rule() -> None:
    both = Row(file="p/copy_1.png", status="ok", side="both", name="张三",
               authority="某公安局", valid_from="2015-03-01", valid_to="2035-03-01")  # fmt: skip
    # copy_2.png would pair with copy_1.png by name: the page's own card wins.
    result = pair_rows([both, back("p/copy_2.png")])
    assert summary(result.cards) == [
        ("p/copy", "complete", "p/copy_1.png", "p/copy_1.png"),
        ("p/copy", "back_only", None, "p/copy_2.png"),
    ]
    record = next(c for c in result.cards if c.pair_status == "complete").to_dict()
    assert (record["front_file"], record["back_file"]) == ("p/copy_1.png", "p/copy_1.png")
    assert (record["name"], record["authority"]) == ("张三", "某公安局")
    assert record["front_status"] == record["back_status"] == "ok"


def test_numbered_cards_of_one_page_are_never_guessed_into_pairs() -> None:
    rows = [dataclasses.replace(front("four.png"), card=1),
            dataclasses.replace(back("four.png"), card=2),
            dataclasses.replace(front("four.png", name="李四"), card=3),
            dataclasses.replace(back("four.png"), card=4)]  # fmt: skip
    (card,) = pair_rows(rows).cards
    assert card.pair_status == "ambiguous" and len(card.members) == 4


def test_a_card_left_alone_by_a_failed_card_on_its_page_pairs_with_no_other_file() -> None:
    """A page whose back failed (docs/documents.md): its front is numbered, and the
    folder's other back is not taken for its back."""
    failed = Row(file="p/copy.png", status="error", card=2, error_code="500")
    rows = [dataclasses.replace(front("p/copy.png"), card=1), failed, back("p/scan9.jpg")]
    result = pair_rows(rows, pair_by="auto")
    assert summary(result.cards) == [("p/copy", "front_only", "p/copy.png", None),
                                     ("p/scan9", "back_only", None, "p/scan9.jpg")]
    assert result.unpaired == [failed]
