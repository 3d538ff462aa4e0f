"""From recognised text lines to the provider's ``info`` and ``validity`` objects.

Pure Python (no numpy, no models), so the parsing rules are tested on strings alone.
The input is what the OCR read on a card already turned upright: text lines with their
boxes in card pixels. Lines are grouped into rows, labels are found even when the OCR
merges them with the value (``姓名李小红``) or misreads one of their characters, and each
value is normalised to what the API engine returns (``API_CONTRACT.md``, "Response").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from batch_ocr import id_rules
from batch_ocr.engines.local import _checks as checks

FRONT_VALIDITY_KEYS = ("name", "sex", "nation", "birthday", "address", "number")
BACK_VALIDITY_KEYS = ("authority", "timelimit")

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
#: Everything the OCR may use for the middle dot of transliterated names.
_DOTS = "·•・‧∙⋅●.。、°"
#: Latin look-alikes the recogniser gives for digits inside numbers and dates.
_DIGIT_LOOKALIKES = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "i": "1",
     "Z": "2", "z": "2", "S": "5", "s": "5", "B": "8", "g": "9", "q": "9", "×": "X",
     "x": "X", "ⅹ": "X"}
)  # fmt: skip
#: Traditional characters the recogniser was seen to return, and common ones on cards.
_TRADITIONAL = str.maketrans(
    "漢區號東廣門陽華國龍長達貴麗紅軍強濤鵬愛誠興業慶圖樓棟單層蘭劉陳楊黃趙吳周孫馬"
    "鄭謝韓馮鄧張葉羅許賀歐蕭錢湯鍾顧薛閻傑娟偉靜豔輝鳳衛寶齊聶蔣蘇盧彭寧雲灣營鎮鄉縣"
    "團橋莊園灣嶺會義億萬變觀戶發機關證備號碼鬥歲",
    "汉区号东广门阳华国龙长达贵丽红军强涛鹏爱诚兴业庆图楼栋单层兰刘陈杨黄赵吴周孙马"
    "郑谢韩冯邓张叶罗许贺欧萧钱汤钟顾薛阎杰娟伟静艳辉凤卫宝齐聂蒋苏卢彭宁云湾营镇乡县"
    "团桥庄园湾岭会义亿万变观户发机关证备号码斗岁",
)
_ID_RE = re.compile(r"\d{17}[\dX]")
_LONG_DIGITS_RE = re.compile(r"\d[\dX]{14,}")
_BIRTH_RE = re.compile(r"(\d{4})\D{0,3}?(\d{1,2})\D{1,3}?(\d{1,2})")
_DATE8 = r"(\d{4})[.．,，·\-]?(\d{2})[.．,，·\-]?(\d{2})"
_PERIOD_RE = re.compile(_DATE8 + r"[^\d长]{0,3}(?:" + _DATE8 + r"|(长期|长.|.期))")


@dataclass(frozen=True, slots=True)
class TextLine:
    """One recognised line: its text, confidence and box (card pixels, y down)."""

    text: str
    score: float
    left: float
    top: float
    right: float
    bottom: float

    @property
    def center_y(self) -> float:
        """Vertical centre of the box."""
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        """Box height."""
        return self.bottom - self.top


@dataclass(frozen=True, slots=True)
class Row:
    """Lines that sit side by side, joined left to right.

    ``value_text`` leaves out lines that lie mostly in the label column of a rectified
    card (a label the recogniser misread cannot then leak into the value).
    """

    text: str
    value_text: str
    top: float
    bottom: float
    left: float
    right: float
    #: The recogniser's least confidence among the lines of ``value_text``.
    score: float = 1.0


@dataclass(slots=True)
class Parsed:
    """What the card says, in the provider's ``info``/``validity`` shape.

    ``confidence`` maps each ``info`` key to the recogniser's 0-1 confidence in the
    lines it was read from (the least sure line counts); 0 for a field not found.
    """

    side: str  # "front", "back" or "none"
    info: dict[str, str] = field(default_factory=dict)
    validity: dict[str, bool] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)


def clean(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), no spaces, one kind of middle dot.

    Traditional forms the recogniser sometimes gives for characters cards print
    simplified (漢 for 汉) are turned back.
    """
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text)
    text = text.translate(_TRADITIONAL)
    return "".join("·" if ch in _DOTS else ch for ch in text)


def group_rows(lines: Sequence[TextLine], *, label_column_right: float | None = None) -> list[Row]:
    """Group lines whose vertical centres are close into rows, top to bottom.

    With ``label_column_right`` (x where values start on a rectified front), a line
    centred left of it is a label (or another script's label) and is kept out of
    ``value_text``; a label glued to its value is cut apart before (``_split_labels``).
    """
    rows: list[list[TextLine]] = []
    heights = sorted(ln.height for ln in lines)
    # A box much taller than a line (a stamp pressed across two rows) would join them.
    tallest = 1.5 * heights[len(heights) // 2] if heights else 0.0
    for line in sorted(lines, key=lambda ln: ln.center_y):
        if not clean(line.text):
            continue
        if rows:
            last = rows[-1]
            row_center = sum(ln.center_y for ln in last) / len(last)
            row_height = min(max(ln.height for ln in last), tallest)
            # Labels are smaller than values and sit a little lower: half a line of slack.
            if abs(line.center_y - row_center) < 0.5 * max(row_height, min(line.height, tallest)):
                last.append(line)
                continue
        rows.append([line])
    out = []
    for row in rows:
        row.sort(key=lambda ln: ln.left)
        values = [
            ln for ln in row
            if label_column_right is None or (ln.left + ln.right) / 2 > label_column_right
        ]  # fmt: skip
        out.append(
            Row(
                text="".join(clean(ln.text) for ln in row),
                value_text="".join(clean(ln.text) for ln in values),
                top=min(ln.top for ln in row),
                bottom=max(ln.bottom for ln in row),
                left=min(ln.left for ln in row),
                right=max(ln.right for ln in row),
                score=min(ln.score for ln in (values or row)),
            )
        )
    return out


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


def anchor_address(address: str, number: str) -> str:
    """The address from its province on: what was read before it is not the address.

    Every address on a card begins with its province-level division. The one the ID
    number's region code names is looked for first (the number is checksummed, the
    address is not), then any other (the holder may have moved).
    """
    expected = id_rules.PROVINCE_NAMES.get(number[:2])
    names = [expected] if expected else []
    names += [n for n in id_rules.PROVINCE_NAMES.values() if n != expected]
    for name in names:
        at = address.find(name)
        if at > 0:
            return address[at:]
        if at == 0:
            return address
    return address


def find_label(text: str, label: str) -> int | None:
    """End index of ``label`` found anywhere in ``text`` (one error allowed), or None."""
    at = text.find(label)
    if at >= 0:
        return at + len(label)
    n = len(label)
    if n < 3:
        return None  # two characters with one wrong is one character: too weak to trust
    best: tuple[int, int] | None = None
    for start in range(len(text)):
        for k in (n - 1, n, n + 1):
            window = text[start : start + k]
            if len(window) < n - 1:
                continue
            dist = _distance(window, label)
            if dist <= _max_errors(label) and (best is None or dist < best[0]):
                best = (dist, start + k)
    return None if best is None else best[1]


def _has_label(text: str, label: str) -> bool:
    return strip_label(text, label)[1] if len(label) <= 2 else find_label(text, label) is not None


def digits(text: str) -> str:
    """Latin look-alikes turned into the digits (and X) they stand for."""
    return text.translate(_DIGIT_LOOKALIKES)


def _cjk_only(text: str, keep: str = "") -> str:
    return "".join(ch for ch in text if _CJK_RE.match(ch) or ch in keep)


def _snap_nation(value: str) -> str:
    """The nation itself if listed, else the one listed nation a single misread away."""
    value = value.removesuffix("族")
    if value in id_rules.NATIONS or len(value) < 2:
        return value
    # A misread 民族 label glued in front (票汉): the longest listed nation at the end.
    for size in (4, 3, 2, 1):
        if len(value) - size in (1, 2) and value[-size:] in id_rules.NATIONS:
            return value[-size:]
    # Something after it (a stamp's 效 across the field): the longest listed nation at
    # the start, since the field holds nothing else.
    for size in (4, 3, 2, 1):
        if len(value) - size in (1, 2) and value[:size] in id_rules.NATIONS:
            return value[:size]
    near = [n for n in id_rules.NATIONS if len(n) == len(value) and _distance(n, value) == 1]
    return near[0] if len(near) == 1 else value


def _least(rows: Sequence[Row], indices: Sequence[int | None]) -> float:
    """The least recogniser confidence among the rows a field was read from (0: none)."""
    scores = [rows[i].score for i in indices if i is not None]
    return round(min(scores), 3) if scores else 0.0


# --------------------------------------------------------------------------- side


def side_scores(rows: Sequence[Row]) -> tuple[int, int]:
    """How much the text looks like a front and like a back."""
    texts = [r.text for r in rows]
    joined = "".join(texts)
    front = sum(
        1
        for label in (_NAME_LABEL, _SEX_LABEL, _NATION_LABEL, _BIRTH_LABEL, _ADDRESS_LABEL)
        if label in joined
    )
    front += any(find_label(t, _NUMBER_LABELS[0]) is not None for t in texts)
    front += 2 * any(_LONG_DIGITS_RE.search(digits(t)) for t in texts)
    back = sum(find_label(joined, t) is not None for t in _BACK_TITLES)
    back += any(find_label(t, _AUTHORITY_LABEL) is not None for t in texts)
    back += any(find_label(t, _PERIOD_LABEL) is not None for t in texts)
    back += 2 * any(_PERIOD_RE.search(digits(t)) for t in texts)
    return front, back


def parse(rows: Sequence[Row]) -> Parsed:
    """Decide the side and read its fields; a picture with no card text is ``none``."""
    front, back = side_scores(rows)
    if max(front, back) < 2:
        return Parsed(side="none", validity=dict.fromkeys(FRONT_VALIDITY_KEYS, False))
    return parse_front(rows) if front >= back else parse_back(rows)


# --------------------------------------------------------------------------- front


def _find_number(texts: Sequence[str]) -> tuple[str, int | None]:
    """The ID number and its row: a checksummed one first, then any 18, then a long run."""
    found: list[tuple[int, str, int]] = []
    for i, text in enumerate(texts):
        for label in _NUMBER_LABELS:
            end = find_label(text, label)
            if end is not None:
                text = text[end:]
                break
        fixed = digits(text)
        match = _ID_RE.search(fixed)
        if match:
            number = match.group()
            found.append((0 if id_rules.id_number_valid(number) else 1, number, i))
            continue
        run = _LONG_DIGITS_RE.search(fixed)
        if run:
            found.append((2, run.group(), i))
    if not found:
        return "", None
    _, number, row = min(found, key=lambda f: (f[0], -f[2]))
    return number, row


def parse_front(rows: Sequence[Row]) -> Parsed:
    """Read the portrait side: name, sex, nation, birth date, address, number."""
    texts = [r.text for r in rows]
    values = [r.value_text for r in rows]
    number, number_row = _find_number(texts)
    end = number_row if number_row is not None else len(texts)

    # Birth date: the first row above the number with a year, a month and a day.
    birth: tuple[str, str, str] | None = None
    birth_row: int | None = None
    for i in range(end):
        rest, labelled = strip_label(texts[i], _BIRTH_LABEL)
        match = _BIRTH_RE.search(digits(rest))
        if match and (labelled or "年" in rest or "月" in rest):
            birth, birth_row = (match.group(1), match.group(2), match.group(3)), i
            break

    # Sex and nation share a row above the birth date.
    sex_end = birth_row if birth_row is not None else end
    sex, nation, sex_row = "", "", None
    for i in range(sex_end):
        text = texts[i]
        if _has_label(text, _SEX_LABEL) or "民族" in text or "族" in text[2:]:
            sex_row = i
            break
    if sex_row is None:
        for i in range(1, sex_end):
            if re.search("[男女]", texts[i]):
                sex_row = i
                break
    if sex_row is not None:
        text = texts[sex_row]
        rest, _ = strip_label(text, _SEX_LABEL)
        nation_at = rest.rfind("族")
        head = rest if nation_at < 0 else rest[:nation_at]
        match = re.search("[男女]", head)
        sex = match.group() if match else ""
        if nation_at >= 0:
            nation = _cjk_only(rest[nation_at + 1 :])
        elif match:
            tail = rest[match.end() :]
            tail, _ = strip_label(tail, _NATION_LABEL)
            nation = _cjk_only(tail)
        nation = _snap_nation(nation)

    # Name: the labelled row above the sex row, else the nearest row with Chinese in it.
    name = ""
    name_end = sex_row if sex_row is not None else sex_end
    candidates = []
    for i in range(name_end):
        _, labelled = strip_label(texts[i], _NAME_LABEL)
        rest = after_label(values[i], _NAME_LABEL)
        value = _cjk_only(rest, keep="·").strip("·")
        if value:
            candidates.append((labelled, i, value))
    name_row: int | None = None
    if candidates:
        labelled_ones = [c for c in candidates if c[0]]
        _, name_row, name = labelled_ones[0] if labelled_ones else candidates[-1]

    # Address: every row between the birth date and the number, label stripped.
    address_parts: list[str] = []
    address_rows: list[int] = []
    start = (birth_row + 1) if birth_row is not None else (sex_row or 0) + 1
    for i in range(start, end):
        text = values[i]
        if not address_parts:
            text = after_label(text, _ADDRESS_LABEL)
        if any(find_label(text, label) is not None for label in _NUMBER_LABELS):
            continue
        part = "".join(ch for ch in text if _CJK_RE.match(ch) or ch.isalnum() or ch in "-#()")
        if part:
            address_parts.append(part)
            address_rows.append(i)
    address = anchor_address("".join(address_parts), number)

    number_ok = id_rules.id_number_valid(number)
    birth_date = id_rules.calendar_date(*birth) if birth else None
    number_score = _least(rows, [number_row])
    birth_score = _least(rows, [birth_row]) if birth_date else 0.0
    sex_score = _least(rows, [sex_row]) if sex else 0.0
    if number_ok:
        # A checksummed number is stronger evidence than a date or sex read on their own,
        # and what it confirms is as sure as the number itself.
        from_number = id_rules.birth_date_in(number)
        if from_number is not None:
            agrees = birth_date == from_number
            birth_score = max(birth_score, number_score) if agrees else number_score
            birth_date = from_number
        if not checks.sex_ok(sex):
            sex = id_rules.sex_in(number) or sex
            sex_score = number_score
        elif sex == id_rules.sex_in(number):
            sex_score = max(sex_score, number_score)
    info = {
        "name": name,
        "sex": sex,
        "nation": nation,
        "year": str(birth_date.year) if birth_date else (birth[0] if birth else ""),
        "month": str(birth_date.month) if birth_date else (birth[1] if birth else ""),
        "day": str(birth_date.day) if birth_date else (birth[2] if birth else ""),
        "address": address,
        "number": number,
    }
    validity = {
        "name": checks.name_ok(name),
        "sex": checks.sex_ok(sex),
        "nation": checks.nation_ok(nation),
        "birthday": birth_date is not None,
        "address": checks.address_ok(address),
        "number": number_ok,
    }
    confidence = {
        "name": _least(rows, [name_row]) if name else 0.0,
        "sex": sex_score if sex else 0.0,
        "nation": _least(rows, [sex_row]) if nation else 0.0,
        "birthday": birth_score if birth_date or birth else 0.0,
        "address": _least(rows, address_rows) if address else 0.0,
        "number": number_score if number else 0.0,
    }
    return Parsed(side="front", info=info, validity=validity, confidence=confidence)


# --------------------------------------------------------------------------- back


def parse_back(rows: Sequence[Row]) -> Parsed:
    """Read the emblem side: issuing authority and period of validity."""
    texts = [r.text for r in rows]
    period_row: int | None = None
    timelimit = ""
    for i, text in enumerate(texts):
        match = _PERIOD_RE.search(digits(text))
        if match:
            groups = match.groups()
            end = "".join(groups[3:6]) if groups[3] else checks.LONG_TERM
            timelimit = f"{''.join(groups[0:3])}-{end}"
            period_row = i
            break
    if period_row is None:
        for i, text in enumerate(texts):
            if find_label(text, _PERIOD_LABEL) is not None:
                period_row = i
                break

    authority_parts: list[str] = []
    authority_rows: list[int] = []
    label_row: int | None = None
    for i, text in enumerate(texts):
        end_at = find_label(text, _AUTHORITY_LABEL)
        if end_at is not None:
            label_row = i
            authority_parts.append(_cjk_only(text[end_at:]))
            authority_rows.append(i)
            break
    if label_row is not None:
        # A long office name wraps onto the next row (above the period of validity).
        stop = period_row if period_row is not None and period_row > label_row else len(texts)
        for i in range(label_row + 1, stop):
            if find_label(texts[i], _PERIOD_LABEL) is not None:
                break
            authority_parts.append(_cjk_only(texts[i]))
            authority_rows.append(i)
    else:
        for i, text in enumerate(texts):
            value = _cjk_only(text)
            if value.endswith(checks.AUTHORITY_SUFFIXES):
                authority_parts.append(value)
                authority_rows.append(i)
                break
    authority = "".join(authority_parts)
    info = {"authority": authority, "timelimit": timelimit}
    validity = {
        "authority": checks.authority_ok(authority),
        "timelimit": checks.timelimit_ok(timelimit),
    }
    confidence = {
        "authority": _least(rows, authority_rows) if authority else 0.0,
        "timelimit": _least(rows, [period_row]) if timelimit else 0.0,
    }
    return Parsed(side="back", info=info, validity=validity, confidence=confidence)
