"""Reading the portrait side of a card: name, sex, nation, birth date, address, number.

Pure Python. ``parse_front`` finds each field's row in turn, from the ID number up
(every other field sits above it), then lets a checksummed number confirm or correct
the birth date and sex it encodes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from batch_ocr import id_rules, regions
from batch_ocr.engines.local import _checks as checks
from batch_ocr.engines.local._confidence import (
    ADDRESS_END,
    field_confidence,
    lines_lost_between,
    rows_evidence,
)
from batch_ocr.engines.local._labels import (
    _ADDRESS_LABEL,
    _BIRTH_LABEL,
    _BIRTH_RE,
    _CJK_RE,
    _ID_RE,
    _LONG_DIGITS_RE,
    _NAME_LABEL,
    _NATION_LABEL,
    _NUMBER_LABELS,
    _NUMBER_PIECE_RE,
    _SEX_LABEL,
    _cjk_only,
    _distance,
    _has_label,
    after_label,
    digits,
    find_label,
    lower_label_first,
    strip_label,
)
from batch_ocr.engines.local._parsed import Parsed
from batch_ocr.engines.local._rows import Row
from batch_ocr.run.present.stamps import STAMP_GLYPHS, cut_address_tail

#: A birth date as read: year, month and day, digits only.
_Birth = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class _FrontFields:
    """The fields found on a front, each with the row(s) it was read from."""

    number: str
    number_row: int | None
    birth: _Birth | None
    birth_row: int | None
    sex: str
    nation: str
    sex_row: int | None
    #: The nation is the listed one a misread away from what was read (``_snap_nation``).
    nation_snapped: bool
    name: str
    name_row: int | None
    address: str
    address_rows: list[int]
    #: The name may end in a stamp's character or its own (``unstamp_name``).
    name_doubtful: bool = False
    #: A stamp's end was cut off the name (``unstamp_name``).
    name_cut: bool = False
    #: Text read around the nation was cut off it (a stamp's or a misread label's): its
    #: characters were read as given.
    nation_cut: bool = False
    #: What a stamp left after the address's end was cut off it (``cut_address_tail``).
    address_cut: bool = False


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


def _snap_nation(value: str) -> str:
    """The nation itself if listed, else the one listed nation a single misread away
    (after a misread label glued in front, or junk after it)."""
    value = value.removesuffix("族")
    if value in id_rules.NATIONS or len(value) < 2:
        return value
    # A misread 民族 label glued in front (票汉): the longest listed nation at the end;
    # for a nation of two characters or more, also what a stamp leaves before it
    # (再次贯裕固: 再次复印无效 misread, its end sunk into the label).
    for size in (4, 3, 2, 1):
        most_glued = 3 if size >= 2 else 2
        if 1 <= len(value) - size <= most_glued and value[-size:] in id_rules.NATIONS:
            return value[-size:]
    # Something after it (a stamp's 效 across the field): the longest listed nation at
    # the start, since the field holds nothing else.
    for size in (4, 3, 2, 1):
        if len(value) - size in (1, 2) and value[:size] in id_rules.NATIONS:
            return value[:size]
    # A stamp's characters on both sides (印珞巴效: 复印无效 pressed across the field):
    # a listed nation of two characters or more between them, only stamp glyphs around.
    for start in (1, 2):
        for end in (1, 2):
            inner = value[start:len(value) - end]
            if (len(inner) >= 2 and inner in id_rules.NATIONS
                    and set(value[:start] + value[len(value) - end:]) <= STAMP_GLYPHS):
                return inner
    near = _one_misread_from(value)
    if near is not None:
        return near
    # Both at once on a blurred card (视阿器 for 民族 阿昌): the misread label's one or two
    # characters in front, and one character of the nation misread.
    for glued in (1, 2):
        near = _one_misread_from(value[glued:])
        if near is not None:
            return near
    return value


def nation_within_another(nation: str) -> bool:
    """Whether another listed nation holds ``nation`` (土 in 土家): read under a stamp
    or cut out of other text, it may be that one with a character lost."""
    return any(nation in other for other in id_rules.NATIONS if other != nation)


def _one_misread_from(value: str) -> str | None:
    """The one listed nation of ``value``'s length a single misread away, if only one is.

    One character of two is thin evidence, so a nation of one character never comes
    from here, and two candidates give none.
    """
    if len(value) < 2:
        return None
    near = [n for n in id_rules.NATIONS if len(n) == len(value) and _distance(n, value) == 1]
    return near[0] if len(near) == 1 else None


def _find_number(texts: Sequence[str]) -> tuple[str, int | None]:
    """The ID number and its row: a checksummed one first, then any 18, then any other
    run of digits long enough to be one, as printed (17 or 19 characters, or the piece
    of a number a stamp left).

    A run is kept whole: a 19-digit number is not cut to 18 characters (whose check
    character may then pass), and its digits never go to the address above it.
    """
    found: list[tuple[int, str, int]] = []
    for i, text in enumerate(texts):
        for label in _NUMBER_LABELS:
            end = find_label(text, label)
            if end is not None:
                text = text[end:]
                break
        fixed = digits(text)
        run = _NUMBER_PIECE_RE.search(fixed)
        if run is None:
            continue
        number = run.group()
        if _ID_RE.fullmatch(number):
            found.append((0 if id_rules.id_number_valid(number) else 1, number, i))
        else:
            found.append((2 if _LONG_DIGITS_RE.fullmatch(number) else 3, number, i))
    if not found:
        return "", None
    _, number, row = min(found, key=lambda f: (f[0], -f[2]))
    return number, row


#: The back's printed words: none is ever part of a front's field. Read on a front's
#: row, they are the back's text where two cards lie side by side in one picture.
BACK_WORDS = ("签发机关", "有效期限", "中华人民共和国", "居民身份证")


def _without_back_words(row: Row) -> Row:
    """``row`` cut where a back's word starts in it, marked as cut (its fields are then
    flagged: what the other card's text covered is not known); as it is without one."""
    cuts = [row.text.find(word) for word in BACK_WORDS if word in row.text]
    if not cuts:
        return row
    value_cuts = [row.value_text.find(w) for w in BACK_WORDS if w in row.value_text]
    value_text = row.value_text[: min(value_cuts)] if value_cuts else row.value_text
    return dataclasses.replace(row, text=row.text[: min(cuts)], value_text=value_text,
                               overlapped=True)  # fmt: skip


def parse_front(rows: Sequence[Row]) -> Parsed:
    """Read the portrait side: name, sex, nation, birth date, address, number."""
    rows = [_without_back_words(row) for row in rows]
    texts = [r.text for r in rows]
    values = [r.value_text for r in rows]
    number, number_row = _find_number(texts)
    end = number_row if number_row is not None else len(texts)
    birth, birth_row = _find_birth(texts, end)
    sex_end = birth_row if birth_row is not None else end
    sex_row = _find_sex_row(texts, sex_end)
    sex, nation, snapped, nation_cut = (
        _read_sex_and_nation(texts[sex_row]) if sex_row is not None else ("", "", False, False)
    )
    name_end = sex_row if sex_row is not None else sex_end
    name, name_row = _find_name(texts, values, name_end)
    name, name_cut, name_doubtful = unstamp_name(name)
    start = (birth_row + 1) if birth_row is not None else (sex_row or 0) + 1
    read_address, address_rows = _find_address(values, start, end, number)
    address = cut_address_tail(read_address)
    found = _FrontFields(
        number, number_row, birth, birth_row, sex, nation, sex_row, snapped, name, name_row,
        address, address_rows, name_doubtful, name_cut, nation_cut, address != read_address,
    )  # fmt: skip
    return _front_parsed(rows, found)


def _find_birth(texts: Sequence[str], end: int) -> tuple[_Birth | None, int | None]:
    """Birth date: the first row above the number with a year, a month and a day."""
    birth: _Birth | None = None
    birth_row: int | None = None
    for i in range(end):
        rest, labelled = strip_label(texts[i], _BIRTH_LABEL)
        match = _BIRTH_RE.search(digits(rest))
        if match and (labelled or "年" in rest or "月" in rest):
            birth, birth_row = (match.group(1), match.group(2), match.group(3)), i
            break
    return birth, birth_row


def _find_sex_row(texts: Sequence[str], sex_end: int) -> int | None:
    """Sex and nation share a row above the birth date: the labelled one, else one with 男/女."""
    sex_row = None
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
    if sex_row is None and 2 <= sex_end <= len(texts):
        # A stamp across the row took its labels and the sex: the row just above the
        # birth date (under the name) that holds a nation alone is that row.
        value = _cjk_only(texts[sex_end - 1])
        if 0 < len(value) <= MAX_NATION_CHARS + 3 and _snap_nation(value) in id_rules.NATIONS:
            sex_row = sex_end - 1
    return sex_row


#: The longest nation's name (塔吉克, 鄂伦春, 维吾尔, 高山, ...: 4 with 族 at most).
MAX_NATION_CHARS = 4


def _read_sex_and_nation(text: str) -> tuple[str, str, bool, bool]:
    """Sex and nation off their shared row, whether the nation was snapped to the
    listed one a misread away (not read as it is given), and whether what was read
    around it was cut off (it was read as given, among other text)."""
    nation = ""
    rest, _ = strip_label(text, _SEX_LABEL)
    nation_at = rest.rfind("族")
    head = rest if nation_at < 0 else rest[:nation_at]
    match = re.search("[男女]", head)
    sex = match.group() if match else ""
    if nation_at >= 0:
        nation = _cjk_only(rest[nation_at + 1 :])
    else:
        tail = rest[match.end() :] if match else rest
        tail, _ = strip_label(tail, _NATION_LABEL)
        nation = _cjk_only(tail)
    # The sex label read again after the nation (a second box over the same print):
    # no nation holds it, and what follows it is the sex row's own text read twice.
    if _SEX_LABEL in nation[1:]:
        nation = nation[: nation.index(_SEX_LABEL, 1)]
    read = nation.removesuffix("族")
    snapped = _snap_nation(nation)
    cut = snapped != read and bool(snapped) and snapped in read
    return sex, snapped, snapped != read and not cut, cut


def _find_name(
    texts: Sequence[str], values: Sequence[str], name_end: int
) -> tuple[str, int | None]:
    """Name: the labelled row above the sex row, else the nearest row with Chinese in it."""
    name = ""
    candidates = []
    for i in range(name_end):
        _, labelled = strip_label(texts[i], _NAME_LABEL)
        if not labelled and lower_label_first(texts[i]):
            continue  # another field's row (住址上海市…): its label is never a name
        rest = after_label(values[i], _NAME_LABEL)
        value = _cjk_only(rest, keep="·").strip("·")
        if value:
            candidates.append((labelled, i, value))
    name_row: int | None = None
    if candidates:
        labelled_ones = [c for c in candidates if c[0]]
        _, name_row, name = labelled_ones[0] if labelled_ones else candidates[-1]
    return name, name_row


#: What a 复印无效 or 再次复印无效 stamp pressed across a name leaves of itself once its
#: middle sinks into the name's strokes: its first characters before the name (none a
#: common surname: 夏 and 印 are, and stay), its last after it.
_STAMP_HEADS, STAMP_TAIL = ("再次", "再", "次", "复"), "效"
_COPY_INVALID_HEAD = "复"


def unstamp_name(name: str) -> tuple[str, bool, bool]:
    """``name`` without the ends a copy's stamp left on it, whether such an end was cut
    off (the name is then judged as a stamped field), and whether it is in doubt (its
    confidence is then under the 0.95 a row is accepted at).

    A leading 复 is the stamp's (复 is no common surname; the name keeps two characters
    at least), and so is a trailing 效 after it. A trailing 效 alone may be a given
    name's (王效): kept, and the name flagged. A leading 再 or 次 (再次复印无效's) is cut
    the same way, and the name flagged: that stamp is wider, and its 再次 may lie where
    the name's own first character was (再次军 for 曹军).
    """
    head = next((h for h in _STAMP_HEADS if name.startswith(h)), "")
    if head and len(name) - len(head) >= 2:
        name = name[len(head):]
        if len(name) >= 3 and name.endswith(STAMP_TAIL):
            name = name[:-1]
        return name, True, head != _COPY_INVALID_HEAD
    return name, False, len(name) >= 3 and name.endswith(STAMP_TAIL)


def _find_address(
    values: Sequence[str], start: int, end: int, number: str
) -> tuple[str, list[int]]:
    """Address: every row between the birth date and the number, label stripped."""
    address_parts: list[str] = []
    address_rows: list[int] = []
    for i in range(start, end):
        text = values[i]
        if not address_parts:
            text = after_label(text, _ADDRESS_LABEL)
        if any(find_label(text, label) is not None for label in _NUMBER_LABELS):
            continue
        if _NUMBER_PIECE_RE.search(digits(text)):
            continue  # a number's digits, never an address's (no address holds ten)
        part = "".join(ch for ch in text if _CJK_RE.match(ch) or ch.isalnum() or ch in "-#()")
        if _CJK_RE.search(part) is None and re.search("[A-Za-z]", part):
            continue  # a bilingual card's line in Latin letters (Zhuang, Uyghur misread)
        if part:
            address_parts.append(part)
            address_rows.append(i)
    read = "".join(address_parts)
    address = anchor_address(read, number)
    # Rows wholly before the province are not the address's (a birth row whose date a
    # stamp hid): their characters tell nothing of it.
    cut = len(read) - len(address)
    while address_parts and cut >= len(address_parts[0]):
        cut -= len(address_parts.pop(0))
        address_rows.pop(0)
    return address, address_rows


def _front_parsed(rows: Sequence[Row], found: _FrontFields) -> Parsed:
    """The front's ``Parsed``, with what a checksummed number confirms or corrects."""
    number, number_row = found.number, found.number_row
    birth, birth_row = found.birth, found.birth_row
    sex, nation, sex_row = found.sex, found.nation, found.sex_row
    name, name_row = found.name, found.name_row
    address, address_rows = found.address, found.address_rows
    number_ok = id_rules.id_number_valid(number)
    birth_date = id_rules.calendar_date(*birth) if birth else None
    birth_confirmed = sex_confirmed = False
    if number_ok:
        # A checksummed number is stronger evidence than a date or sex read on their own:
        # it corrects them, and what it confirms is as sure as the number itself.
        from_number = id_rules.birth_date_in(number)
        if from_number is not None:
            birth_confirmed = True
            if birth_date != from_number:
                birth_date, birth_row = from_number, number_row
        if not checks.sex_ok(sex):
            sex = id_rules.sex_in(number) or sex
        sex_confirmed = sex == id_rules.sex_in(number)
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
    birth_text = "".join(info[key] for key in ("year", "month", "day"))
    evidence = {
        # A stamp's character left at a name's edge (次陈超: 再次复印无效's 次) is read
        # as sure as the name: under a stamp, such a name's edges are not clean.
        "name": rows_evidence(rows, [name_row], name, valid=validity["name"],
                              amended=found.name_doubtful, stamped=found.name_cut,
                              clean_edges=not (set(name[:1] + name[-1:]) & STAMP_GLYPHS)),
        # A sex or birth date the checksummed number encodes is as sure as the number's
        # own digits, however a stamp across its row left the recogniser.
        "sex": rows_evidence(rows, [number_row if sex_confirmed else sex_row],
                             number[16:17] if sex_confirmed else sex,
                             valid=validity["sex"], confirmed=sex_confirmed, clean_edges=True),
        # Read as one of the 56 names: a misread seldom lands on another one. Under a
        # stamp, or cut out of other text, only a name no other listed one holds.
        "nation": rows_evidence(rows, [sex_row], nation, valid=validity["nation"],
                                confirmed=validity["nation"], amended=found.nation_snapped,
                                stamped=found.nation_cut),
        "birthday": rows_evidence(rows, [number_row if birth_confirmed else birth_row],
                                  number[6:14] if birth_confirmed else birth_text,
                                  valid=validity["birthday"], confirmed=birth_confirmed,
                                  clean_edges=True),
        # Lines lost: between those read, or after it where it stops at a division.
        "address": rows_evidence(rows, address_rows, address, valid=validity["address"],
                                 amended=lines_lost_between(rows, address_rows)
                                 or regions.divisions_cut(address),
                                 stamped=found.address_cut,
                                 clean_edges=bool(ADDRESS_END.search(address)),
                                 places=regions.place_prefix(address)),
        "number": rows_evidence(rows, [number_row], number, valid=number_ok,
                                confirmed=number_ok, clean_edges=True),
    }
    if evidence["nation"].stamped and nation_within_another(nation):
        evidence["nation"] = dataclasses.replace(evidence["nation"], confirmed=False)
    printed = {"name": name, "sex": sex, "nation": nation, "birthday": birth_date or birth,
               "address": address, "number": number}  # fmt: skip
    confidence = {key: field_confidence(evidence[key]) if printed[key] else 0.0
                  for key in evidence}  # fmt: skip
    return Parsed(side="front", info=info, validity=validity, confidence=confidence)
