"""The accuracy harness draws its generated cards in two faces (tests/benchmarks/accuracy.py).

About a third of each set's cards are drawn in Noto Sans CJK JP Bold instead of the
regular SC face, tagged ``font-bold``; the choice leaves every other draw of a set as it
was; without the bold face's package the sets are drawn in the regular face, said once.
"""

from __future__ import annotations

import sys
from types import ModuleType

import pytest

from tests.card_pages import REPO, module_at
from tests.skips import needs_local

BENCHMARKS = REPO / "tests" / "benchmarks"


def _accuracy() -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))  # office_sets imports accuracy by name
    return module_at("accuracy", BENCHMARKS / "accuracy.py")


def _office_sets() -> ModuleType:
    _accuracy()
    return module_at("office_sets", BENCHMARKS / "office_sets.py")


def test_about_a_third_of_the_office_sets_cards_are_bold() -> None:
    accuracy = _accuracy()
    for set_name in ("copy_pages", "phone_photos"):
        for seed in (21, 22):
            faces = [accuracy.card_face(set_name, seed, i) for i in range(60)]
            assert set(faces) == {"regular", "bold"}
            assert 10 <= faces.count("bold") <= 30, (set_name, seed, faces.count("bold"))
            # A case keeps its face whatever else is asked of the set.
            assert faces[:5] == [accuracy.card_face(set_name, seed, i) for i in range(5)]


@needs_local  # the copier's toner is drawn with numpy (the local extra)
def test_a_bold_copy_page_is_the_regular_page_in_the_other_face() -> None:
    office_sets = _office_sets()
    # The fourth page of seed 24: a bold back alone, 150 dpi (cheap to draw).
    bold = office_sets.copy_page_cases(4, 24, first=3)[0]
    regular = office_sets.copy_page_cases(4, 24, first=3, bold_share=0)[0]
    assert bold.degradations[0] == "font-bold"
    assert bold.degradations[1:] == regular.degradations
    assert "font-bold" not in regular.degradations
    assert (bold.name, bold.truth) == (regular.name, regular.truth)
    assert bold.image_bytes != regular.image_bytes


def test_without_the_bold_face_the_sets_are_drawn_regular_and_say_so_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    accuracy = _accuracy()
    with_bold = accuracy.small_cases(6, 17)
    bold = [i for i, case in enumerate(with_bold) if "font-bold" in case.degradations]
    assert bold and len(bold) < len(with_bold)
    capsys.readouterr()

    # The package uninstalled, as on a machine without the dev extra.
    monkeypatch.setitem(sys.modules, "noto_cjk_sans_jp_bold", None)
    accuracy._say_bold_missing.cache_clear()
    without = accuracy.small_cases(6, 17)
    err = capsys.readouterr().err
    assert err.count("no noto-cjk-sans-jp-bold installed") == 1
    for i, (case, regular) in enumerate(zip(with_bold, without, strict=True)):
        assert "font-bold" not in regular.degradations
        assert case.truth == regular.truth
        # Only the cards that were bold are drawn differently: the other draws hold.
        assert (case.image_bytes == regular.image_bytes) == (i not in bold)
