"""Finding printed labels and reading values on the cleaned text of a row.

Pure Python. Labels are found even when the OCR merges them with the value
(``姓名李小红``) or misreads one of their characters; digits come back from the Latin
look-alikes the recogniser gives for them.
"""

from __future__ import annotations

import functools
import re

_NAME_LABEL = "姓名"
_SEX_LABEL = "性别"
_NATION_LABEL = "民族"
_BIRTH_LABEL = "出生"
_ADDRESS_LABEL = "住址"
_NUMBER_LABELS = ("公民身份号码", "公民身份证号码")
_AUTHORITY_LABEL = "签发机关"
_PERIOD_LABEL = "有效期限"
_BACK_TITLES = ("中华人民共和国", "居民身份证")

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
#: How far into a row a label is looked for behind stray characters (another
#: script's label read as junk on a bilingual card).
LABEL_SEARCH_CHARS = 8
_CJK_RE = re.compile(rf"[{_CJK}]")
#: Latin look-alikes the recogniser gives for digits inside numbers and dates.
_DIGIT_LOOKALIKES = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "i": "1",
     "Z": "2", "z": "2", "S": "5", "s": "5", "B": "8", "g": "9", "q": "9", "×": "X",
     "x": "X", "ⅹ": "X"}
)  # fmt: skip
_ID_RE = re.compile(r"\d{17}[\dX]")
_LONG_DIGITS_RE = re.compile(r"\d[\dX]{14,}")
#: A number as a card may print it: 17 to 19 characters (one dropped or doubled).
_NUMBER_AS_PRINTED_RE = re.compile(r"\d[\dX]{16,18}")
#: Digits enough to be an ID number or what a stamp left of one: no other field of a
#: front holds ten in a row (a birth date has 8, a house number a few).
_NUMBER_PIECE_RE = re.compile(r"\d[\dX]{9,}")
_BIRTH_RE = re.compile(r"(\d{4})\D{0,3}?(\d{1,2})\D{1,3}?(\d{1,2})")
_DATE8 = r"(\d{4})[.．,，·\-]?(\d{2})[.．,，·\-]?(\d{2})"
_PERIOD_RE = re.compile(_DATE8 + r"[^\d长]{0,3}(?:" + _DATE8 + r"|(长期|长.|.期))")


# Memoised: a card's rows are parsed several times (after each fallback read, for the
# side, for the page's labels), and this pure Python is a few percent of a card's CPU.
@functools.lru_cache(maxsize=4096)
def _distance(a: str, b: str) -> int:
    """Levenshtein distance (strings here are a few characters long)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _max_errors(label: str) -> int:
    return 1 if len(label) <= 4 else 2


def strip_label(text: str, label: str) -> tuple[str, bool]:
    """Remove ``label`` from the start of ``text``, tolerating one misread or lost character.

    Returns the rest and whether a label was found. Of the prefixes within reach of the
    label, the closest wins; on a tie, the one made only of the label's own characters
    (``姓刘洋``: the lost 名 must not take 刘 with it).
    """
    if text.startswith(label):
        return text[len(label) :], True
    best: tuple[int, int, int] | None = None
    limit = _max_errors(label)
    for k in range(max(1, len(label) - limit), len(label) + limit + 1):
        if k > len(text):
            break
        prefix = text[:k]
        dist = _distance(prefix, label)
        if dist > limit or not any(ch in label for ch in prefix):
            continue
        foreign = sum(ch not in label for ch in prefix)
        key = (dist, foreign, -k)
        if best is None or key < best:
            best = key
    if best is None:
        return text, False
    return text[-best[2] :], True


def after_label(text: str, label: str) -> str:
    """``text`` after ``label``, which may follow a little junk (``iSlSU住址新疆…``).

    On bilingual cards the other script's label sits just left of the Chinese one and
    the recogniser reads it as a few stray characters glued in front. The label is
    looked for exactly within ``LABEL_SEARCH_CHARS`` of the start, else tolerantly at
    the start (``strip_label``).
    """
    at = text.find(label, 0, len(label) + LABEL_SEARCH_CHARS)
    if at >= 0:
        return text[at + len(label) :]
    return strip_label(text, label)[0]



@functools.lru_cache(maxsize=4096)
def find_label(text: str, label: str) -> int | None:
    """End index of ``label`` found anywhere in ``text`` (one error allowed), or None."""
    at = text.find(label)
    if at >= 0:
        return at + len(label)
    n = len(label)
    if n < 3:
        return None  # two characters with one wrong is one character: too weak to trust
    # A window within e edits of the label shares at least n - e of its characters.
    needed = n - _max_errors(label)
    chars = set(label)
    if sum(ch in chars for ch in text) < needed:
        return None
    best: tuple[int, int] | None = None
    for start in range(len(text)):
        for k in (n - 1, n, n + 1):
            window = text[start : start + k]
            if len(window) < n - 1 or sum(ch in chars for ch in window) < needed:
                continue
            dist = _distance(window, label)
            if dist <= _max_errors(label) and (best is None or dist < best[0]):
                best = (dist, start + k)
    return None if best is None else best[1]


def _has_label(text: str, label: str) -> bool:
    return strip_label(text, label)[1] if len(label) <= 2 else find_label(text, label) is not None


def lower_label_first(text: str) -> bool:
    """Whether ``text`` starts (as ``after_label`` looks) with the label of a front's
    row below the name's."""
    return any(text.find(label, 0, len(label) + LABEL_SEARCH_CHARS) >= 0 for label in (
        _SEX_LABEL, _NATION_LABEL, _BIRTH_LABEL, _ADDRESS_LABEL, *_NUMBER_LABELS))


def digits(text: str) -> str:
    """Latin look-alikes turned into the digits (and X) they stand for."""
    return text.translate(_DIGIT_LOOKALIKES)


def _cjk_only(text: str, keep: str = "") -> str:
    return "".join(ch for ch in text if _CJK_RE.match(ch) or ch in keep)


def date_shaped(year: str, month: str, day: str) -> bool:
    """Whether digits read as a date look like one: a year 19xx or 20xx, a month, a day up
    to 31 (a card may print a date that does not exist, 31 April)."""
    return (year[:2] in ("19", "20") and month.isdigit() and day.isdigit()
            and 1 <= int(month) <= 12 and 1 <= int(day) <= 31)  # fmt: skip
