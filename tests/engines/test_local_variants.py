"""Other forms of a character: a card prints the simplified one, and the recogniser's
doubt between two forms of one character is no doubt about what the card says."""

from __future__ import annotations

import numpy as np
import pytest

from batch_ocr.engines.local import available
from batch_ocr.engines.local._rows import clean
from batch_ocr.engines.local._variants import simplified, simplified_of


def test_traditional_and_japanese_forms_read_as_the_card_prints_them() -> None:
    assert clean("姓名黃芳") == "姓名黄芳"
    assert clean("民族朝鮮") == "民族朝鲜"  # traditional
    assert clean("性別男") == "性别男"  # the Japanese form of 别
    assert simplified("鍾") == "钟"  # the surname


def test_characters_in_simplified_use_are_left_as_read() -> None:
    # 著 and 乾 are traditional forms too (of 着, of 干), but cards print them as such.
    assert simplified("著乾") == "著乾"
    for form in simplified_of():
        with pytest.raises(UnicodeEncodeError):
            form.encode("gb2312")


needs_models = pytest.mark.skipif(
    not available(), reason="the 'local' extra is not installed (pip install 'batch-ocr[local]')"
)


def _one_step(characters: list[str], shares: dict[str, float]) -> np.ndarray:
    """A line of one CTC step giving ``shares``' characters their probabilities."""
    step = np.zeros((1, 1, len(characters)), dtype=np.float32)
    for character, share in shares.items():
        step[0, 0, characters.index(character)] = share
    return step


@needs_models
def test_a_character_split_between_its_forms_is_as_sure_as_their_sum() -> None:
    from batch_ocr.engines.local import _ocr

    characters = list(_ocr.models().rec.postprocess_op.character)
    split = _ocr._character_probabilities(_one_step(characters, {"黃": 0.51, "黄": 0.49}))
    assert split == [[pytest.approx(1.0)]]


@needs_models
def test_a_doubt_between_two_characters_stays() -> None:
    from batch_ocr.engines.local import _ocr

    characters = list(_ocr.models().rec.postprocess_op.character)
    doubt = _ocr._character_probabilities(_one_step(characters, {"黄": 0.51, "萸": 0.49}))
    assert doubt == [[pytest.approx(0.51)]]
