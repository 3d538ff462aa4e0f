"""Characters the recogniser may have read past, as doubt of the characters it gave.

The recogniser is a CTC network: at each step of a line it gives a probability to each
character and to the blank (no character), and the text is the best class at each step,
repeats merged, blanks left out. A character's probability says how sure the network
was of *that* character; it says nothing of one it left out. Where the blank won a step
only narrowly over a character (``1`` at 0.28 against the blank's 0.72, where a short
address line ``1室`` was read ``室`` at 0.998), that character is lost without any doubt
shown: a field missing it was given at 0.994 (``…2单元290室`` for ``…2901室``).

``read_past`` gives each such step's doubt to the character given nearest it: that
character's probability is at most one minus the lost one's. A class that would not
have been a character of its own there is no loss: the class either neighbouring step
gives (it would have merged with it, as CTC merges repeats), its other forms
(``_variants``), and a space.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: A blank step whose best other class is under this probability loses nothing worth a
#: field's doubt (the 0.95 a row is accepted at is far above what it would take off).
READ_PAST_AT_LEAST = 0.02


def read_past(predictions: np.ndarray, best: np.ndarray, kept: np.ndarray,
              probability: np.ndarray, forms: Mapping[int, list[int]],
              space: int | None) -> None:  # fmt: skip
    """Lower ``probability`` (lines x steps: each kept step's character's) in place, at
    the kept step nearest each blank step where a character was read past (see the
    module docstring). ``best``: each step's best class; ``kept``: the steps that give
    a character; ``space``: the space's class, if the recogniser has one."""
    doubtful = (best == 0) & (predictions[:, :, 0] < 1.0 - READ_PAST_AT_LEAST)
    steps = predictions.shape[1]
    for line, step in zip(*np.nonzero(doubtful), strict=True):
        given = np.flatnonzero(kept[line])
        if not given.size:
            continue
        lost = _lost_probability(predictions[line, step], best[line], step, steps, forms, space)
        if lost < READ_PAST_AT_LEAST:
            continue
        nearest = int(given[np.argmin(np.abs(given - step))])
        probability[line, nearest] = min(float(probability[line, nearest]), 1.0 - lost)


def _lost_probability(scores: np.ndarray, best: np.ndarray, step: int, steps: int,
                      forms: Mapping[int, list[int]], space: int | None) -> float:  # fmt: skip
    """The probability of the likeliest class at a blank ``step`` that would have been a
    character of its own there."""
    merged = {0} if space is None else {0, space}
    for beside in (step - 1, step + 1):
        if 0 <= beside < steps and best[beside] != 0:
            merged.update(forms.get(int(best[beside]), [int(best[beside])]))
    others = scores.copy()
    others[list(merged)] = 0.0
    return float(others.max())
