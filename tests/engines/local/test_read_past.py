"""A character the recogniser read past (the blank winning its step only narrowly) is
doubt about the text, shown on the character given beside it."""

from __future__ import annotations

import numpy as np
import pytest

from batch_ocr.engines.local._read_past import READ_PAST_AT_LEAST, read_past

#: The classes of a tiny recogniser: the blank, a space, and four characters.
CLASSES = ["", " ", "1", "室", "黄", "黃"]


def _steps(*shares: dict[str, float]) -> np.ndarray:
    """One line whose steps give ``shares``' classes their probabilities (the blank
    the rest)."""
    line = np.zeros((1, len(shares), len(CLASSES)), dtype=np.float32)
    for step, share in enumerate(shares):
        for character, p in share.items():
            line[0, step, CLASSES.index(character)] = p
        line[0, step, 0] = 1.0 - sum(share.values())
    return line


def _given(predictions: np.ndarray, forms: dict[int, list[int]] | None = None) -> list[float]:
    """The probability of each character the line gives, with what was read past."""
    best = predictions.argmax(axis=2)
    probability = predictions.max(axis=2)
    kept = best != 0
    kept[:, 1:] &= best[:, 1:] != best[:, :-1]
    read_past(predictions, best, kept, probability, forms or {}, CLASSES.index(" "))
    return [float(p) for p in probability[0][kept[0]]]


def test_a_character_the_blank_narrowly_beat_doubts_the_one_beside_it() -> None:
    # 1室 read 室: at the step before 室, 1 had 0.28 and the blank 0.72.
    line = _steps({}, {"1": 0.28}, {}, {"室": 0.998}, {})
    assert _given(line) == [pytest.approx(0.72)]


def test_a_line_read_without_a_near_miss_keeps_its_probabilities() -> None:
    line = _steps({}, {"1": 0.9}, {"1": 0.01}, {"室": 0.99}, {"室": READ_PAST_AT_LEAST / 2})
    assert _given(line) == [pytest.approx(0.9), pytest.approx(0.99)]


def test_the_same_character_beside_its_step_is_no_loss() -> None:
    # 室 spread over two steps (the second a blank by a little) is one 室: CTC merges it.
    line = _steps({"室": 0.99}, {"室": 0.4}, {})
    assert _given(line) == [pytest.approx(0.99)]


def test_another_form_of_the_character_beside_is_no_loss_nor_is_a_space() -> None:
    forms = {CLASSES.index("黄"): [4, 5], CLASSES.index("黃"): [4, 5]}
    line = _steps({"黄": 0.98}, {"黃": 0.3}, {" ": 0.4}, {"室": 0.99})
    assert _given(line, forms) == [pytest.approx(0.98), pytest.approx(0.99)]


def test_a_repeated_character_read_once_is_doubted() -> None:
    # 11 needs a blank between its two 1s: a third step's 1 after the blank is a second 1.
    line = _steps({"1": 0.99}, {}, {"1": 0.35}, {}, {"室": 0.99})
    assert _given(line) == [pytest.approx(0.65), pytest.approx(0.99)]
