"""Other forms of the characters a mainland card prints simplified.

The recogniser's dictionary holds traditional and Japanese forms beside the simplified
ones, and on a grey copy or in a face drawn in a Japanese style it may split its belief
between two forms of one character (黃 0.51, 黄 0.49). A card prints the simplified
form only, so the text is turned to it, and a character's probability is that of all
its forms together (``forms_of_each_class``): splitting between 黄 and 黃 is no doubt
about what the card says.

The table (``variants.tsv`` beside this module) says where it comes from.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources


@functools.cache
def simplified_of() -> dict[str, str]:
    """Each other form, with the simplified character it stands for."""
    text = resources.files(__package__).joinpath("variants.tsv").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            form, simplified = line.split("\t")
            table[form] = simplified
    return table


@functools.cache
def _translation() -> dict[int, int]:
    return {ord(form): ord(simplified) for form, simplified in simplified_of().items()}


def simplified(text: str) -> str:
    """``text`` with each other form turned to its simplified character."""
    return text.translate(_translation())


def forms_of_each_class(characters: Sequence[str]) -> dict[int, list[int]]:
    """For each class of the recogniser (an index into ``characters``) whose character
    has other forms in its dictionary, the classes of all its forms, itself included."""
    by_simplified: dict[str, list[int]] = {}
    for index, character in enumerate(characters):
        key = simplified_of().get(character, character)
        by_simplified.setdefault(key, []).append(index)
    return {
        index: forms
        for forms in by_simplified.values()
        if len(forms) > 1
        for index in forms
    }
