"""Reading the emblem side of a card: issuing authority and period of validity."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence

from batch_ocr import id_rules, regions
from batch_ocr.engines.local import _checks as checks
from batch_ocr.engines.local._confidence import field_confidence, rows_evidence
from batch_ocr.engines.local._labels import (
    _AUTHORITY_LABEL,
    _BACK_TITLES,
    _NUMBER_LABELS,
    _PERIOD_LABEL,
    _PERIOD_RE,
    _cjk_only,
    date_shaped,
    digits,
    find_label,
)
from batch_ocr.engines.local._parsed import Parsed
from batch_ocr.engines.local._rows import Row
from batch_ocr.run.present.checks import validity_period_ok
from batch_ocr.run.present.stamps import STAMP_GLYPHS


def parse_back(rows: Sequence[Row]) -> Parsed:
    """Read the emblem side: issuing authority and period of validity."""
    texts = [r.text for r in rows]
    period_row: int | None = None
    timelimit = ""
    # The first period whose start reads as a date; a number's or a bank card's digits
    # can take a period's shape (36011319-68611165) but seldom a date's.
    found = [(i, m) for i, text in enumerate(texts) for m in _PERIOD_RE.finditer(digits(text))]
    for i, match in ([f for f in found if date_shaped(*f[1].groups()[:3])] or found)[:1]:
        groups = match.groups()
        end = "".join(groups[3:6]) if groups[3] else checks.LONG_TERM
        timelimit = f"{''.join(groups[0:3])}-{end}"
        period_row = i
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
            part = _cjk_only(texts[i])
            if part:  # a bilingual card's line in its other script holds none of it
                authority_parts.append(part)
                authority_rows.append(i)
    else:
        for i, text in enumerate(texts):
            value = _cjk_only(text)
            if value.endswith(checks.AUTHORITY_SUFFIXES):
                authority_parts.append(value)
                authority_rows.append(i)
                break
    authority, labelled = _after_period_label(_no_label(_after_titles("".join(authority_parts))))
    authority, tail = _office_end(authority)
    stamp_tail, stamp_head = bool(tail) and set(tail) <= STAMP_GLYPHS, _stamp_head(authority)
    as_read, authority = authority, _public_security_word(authority)
    # A row wholly in the tail (a smudge or another script's line under the name) tells
    # nothing of the name. Where the tail is such rows only, after a name the table
    # lists whole (``_listed_office``: nothing follows its 分局 on a card), nothing of
    # the name is unknown; a tail on the name's own row may hide how it really ends.
    authority_rows = _rows_before_tail(authority_rows, authority_parts, len(tail))
    own_row_tail = len("".join(authority_parts[:len(authority_rows)])) > len(authority)
    authority, repaired = _doubted_office_listed(rows, authority_rows, authority)
    trailed = (bool(tail) and not stamp_tail and (own_row_tail or not _listed_office(authority))
               or labelled or _in_doubt(as_read, authority, repaired))  # fmt: skip
    info = {"authority": authority, "timelimit": timelimit}
    validity = {
        "authority": checks.authority_ok(authority),
        "timelimit": checks.timelimit_ok(timelimit),
    }
    evidence = {
        "authority": rows_evidence(rows, authority_rows, authority,
                                   valid=validity["authority"], amended=trailed,
                                   stamped=stamp_tail or stamp_head,
                                   clean_edges=office_start(authority),
                                   places=_confirmed_places(authority)),
        "timelimit": rows_evidence(rows, [period_row], timelimit, valid=validity["timelimit"],
                                   confirmed=lawful_period(timelimit), clean_edges=True),
    }
    if evidence["timelimit"].stamped and timelimit.endswith(checks.LONG_TERM):
        # 长期 is lawful from any start date: under a stamp, the start's digits are
        # confirmed by nothing.
        evidence["timelimit"] = dataclasses.replace(evidence["timelimit"], confirmed=False)
    confidence = {key: field_confidence(evidence[key]) if info[key] else 0.0
                  for key in evidence}  # fmt: skip
    return Parsed(side="back", info=info, validity=validity, confidence=confidence)


def _rows_before_tail(indices: list[int], parts: list[str], tail: int) -> list[int]:
    """``indices`` without the last ones whose ``parts`` lie wholly in the ``tail`` last
    characters cut off the field."""
    kept = list(indices)
    for part in reversed(parts):
        if not kept or tail < len(part) or not part:
            break
        tail -= len(part)
        kept.pop()
    return kept


def _after_titles(authority: str) -> str:
    """The office's name without the card's title read into the same row (a tilted
    photo joins 中华人民共和国 居民身份证 to the line below): no office's name holds
    居民身份证, and what comes before it is the title's. (中华人民共和国 alone starts
    the exit-entry administration's name: it is not cut.)"""
    end = find_label(authority, _BACK_TITLES[1])
    return authority[end:] if end is not None and end < len(authority) else authority


#: Characters read after an office's name ends (分局, 公安局, ...) that are cut: a stamp's
#: remnant or a smudge, never the office's (a longer tail is left, and fails the rule).
MAX_OFFICE_TAIL = 2


#: The characters of the labels and titles either side prints: an office's name made
#: of these alone (号码, 居民中华人民, 中华人民共和国) is a label read in its place.
_PRINTED_LABEL_CHARACTERS = frozenset("".join(
    (*_BACK_TITLES, _AUTHORITY_LABEL, _PERIOD_LABEL, *_NUMBER_LABELS)))


def _no_label(authority: str) -> str:
    """``authority``, or nothing where it is made of ``_PRINTED_LABEL_CHARACTERS``
    alone: a label or a title read where the name was lost is never a name."""
    return "" if set(authority) <= _PRINTED_LABEL_CHARACTERS else authority


def _after_period_label(authority: str) -> tuple[str, bool]:
    """The office's name without the period's label read in front of it (有效期限上海市…,
    the two rows of a tilted back read as one), and whether it was there (the field is
    then flagged: the rows were not told apart)."""
    end = find_label(authority[: len(_PERIOD_LABEL) + 1], _PERIOD_LABEL)
    if end is None or end >= len(authority):
        return authority, False
    return authority[end:], True


def _office_end(authority: str) -> tuple[str, str]:
    """The office's name up to where it ends, and the short tail cut after it (empty if
    none). A tail made of a copy's stamp's characters (``效``) is the stamp's; any other
    flags the field: what it was is not known."""
    if authority.endswith(checks.AUTHORITY_SUFFIXES):
        return authority, ""
    ends = [authority.rfind(suffix) + len(suffix) for suffix in checks.AUTHORITY_SUFFIXES
            if suffix in authority]  # fmt: skip
    end = max(ends, default=0)
    if end and 0 < len(authority) - end <= MAX_OFFICE_TAIL:
        return authority[:end], authority[end:]
    return authority, ""


#: An office's name starts with its place: a province-level division, or a city,
#: prefecture or county of two to four characters (杭州市, 乌鲁木齐市, 延边朝鲜族自治州 is
#: long but starts with no other place).
_PLACE_START = re.compile(r"^[\u4e00-\u9fff]{2,4}?[市州县盟]")


def office_start(authority: str) -> bool:
    """Whether ``authority`` starts as an office's name does, with its place: a known
    division (``regions``), or one shaped like a city or county that holds no
    province-level name further in (``入上海市…``: a stamp's remnant before it)."""
    provinces = tuple(id_rules.PROVINCE_NAMES.values())
    if authority.startswith(provinces) or regions.place_prefix(authority):
        return True
    return (bool(_PLACE_START.match(authority)) and not _stamp_head(authority)
            and not any(p in authority for p in provinces))  # fmt: skip


def _stamp_head(authority: str) -> bool:
    """Whether ``authority`` starts with a copy's stamp's character where no place the
    GB/T 2260 table lists starts (再关津市… of 再次复印无效 across 天津市…: 无锡 and 印江
    are places): the stamp crossed the name, whatever the recogniser says of the line."""
    return authority[:1] in STAMP_GLYPHS and not regions.place_prefix(authority)


#: 公安局 with its middle character misread (公委局, 公要局: a stamp across it): every
#: office's name that holds 公 then 局 holds 公安局 (公安分局 has 安 next to 公).
_PUBLIC_SECURITY_MISREAD = re.compile("公[^安分]局")


def _listed_office(authority: str) -> bool:
    """Whether ``authority`` is a place the GB/T 2260 table lists, 公安局, then nothing
    or the 分局 of a division inside that place, named as the table names it or without
    its 区 (武汉市公安局, 重庆市公安局渝中区分局, 拉萨市公安局城关分局)."""
    place = regions.place_prefix(authority)
    head = place + "公安局"
    if not place or not authority.startswith(head):
        return False
    district = authority[len(head):]
    if not district:
        return True
    district = district.removesuffix("分局")
    if not district or len(district) == len(authority) - len(head):
        return False
    named = [place + district, place + district + "区"]
    return any(regions.place_prefix(name) == name for name in named)


@functools.lru_cache(maxsize=256)
def gaps_of_listed_office(authority: str) -> tuple[int, ...] | None:
    """Where a run of characters a glare spot washed out whole may lie in ``authority``
    (indices of the characters it would lie before), when it is an office's name the
    GB/T 2260 table lists (``_listed_office``) and ends with its 分局 (nothing follows
    on a card): the places where another listed office holds it with characters more
    (上海市公安局徐汇区分局 holds 上海市公安局徐汇分局 with 区 before 分局). Lost anywhere
    else, the name left would be listed by no one. None for any other name: what a spot
    took off it is not known. (Nothing follows 分局; before its place, 0.)"""
    if not (authority.endswith("分局") and _listed_office(authority)):
        return None
    return tuple(sorted({
        at for office in regions.offices() if len(office) > len(authority)
        for at in range(len(authority))
        if office.startswith(authority[:at]) and office.endswith(authority[at:])
    }))  # fmt: skip


def _confirmed_places(authority: str) -> str:
    """The start of ``authority`` the GB/T 2260 table confirms: the whole name where it
    is a listed office (``_listed_office``: a misread seldom lands on another district
    of the same city, spelt as the table spells it), else its chain of divisions."""
    return authority if _listed_office(authority) else regions.place_prefix(authority)


def _public_security_word(authority: str) -> str:
    """The office's name with 公安局 read back where its middle was misread (公委局)."""
    return _PUBLIC_SECURITY_MISREAD.sub("公安局", authority)


def _guessed(read: str, authority: str, taken_for_listed: bool) -> bool:
    """Whether the office's name given (``authority``) is a guess: not what was
    ``read``, and not a name the GB/T 2260 table lists read but for characters of its
    form (``_slips_in_its_form_only``: 公委局 for 公安局, 拉萨夏 for 拉萨市), the only ones
    such a name can hold there. The field is then flagged.

    ``taken_for_listed``: the name was taken for the listed office nearest what was read
    (``_nearest_office``)."""
    if authority == read:
        return False
    if not taken_for_listed and _listed_office(authority):
        return False  # 公安局 put back in a name whose every other part is listed
    return not (authority in regions.offices() and _slips_in_its_form_only(read, authority))


def lawful_period(timelimit: str) -> bool:
    """A period (``YYYYMMDD-YYYYMMDD`` or ``YYYYMMDD-长期``) of real dates and a lawful
    length (5, 10 or 20 years to the day, or 长期): its digits agree with each other, as
    a misread's seldom do."""
    if not checks.timelimit_ok(timelimit):
        return False
    start, _, end = timelimit.partition("-")
    valid_to = end if end == checks.LONG_TERM else f"{end[:4]}-{end[4:6]}-{end[6:]}"
    return validity_period_ok(f"{start[:4]}-{start[4:6]}-{start[6:]}", valid_to)


#: A read office's name whose least sure character is surer than this, on lines no
#: stamp crossed, is given as read.
SURE_OFFICE_READ = 0.95
#: The most characters a read office's name may differ by from the listed one it is
#: taken for (one in a name under ``MIN_TWO_SLIPS_CHARS``): a place's character misread
#: or lost under a stamp (拉萨重公安局, 州市公安局… for 杭州市公安局…), at most two.
MAX_OFFICE_SLIPS = 2
MIN_TWO_SLIPS_CHARS = 9


def _doubted_office_listed(rows: Sequence[Row], indices: Sequence[int], authority: str
                           ) -> tuple[str, bool]:  # fmt: skip
    """``_nearest_office`` of an office's name read from ``rows[i]`` for each of
    ``indices``, where the recogniser doubts it or a stamp crossed it; else the name as
    read. An office named since the table's last edition, read surely, stays."""
    read_as = rows_evidence(rows, indices, authority, valid=True)
    if read_as.stamped or read_as.least < SURE_OFFICE_READ or _stamp_head(authority):
        return _nearest_office(authority)
    return authority, False


def _in_doubt(read: str, authority: str, taken_for_listed: bool) -> bool:
    """Whether the office's name given (``authority``) must be checked: a guess
    (``_guessed``), or a name read surely that the GB/T 2260 table does not list but
    lies a slip or two from one it lists (乌鲁木市公安局天山区分局): a character the
    recogniser lost or swapped, far more often than an office named since the table's
    last edition. Such a name is given as read, and flagged."""
    if _guessed(read, authority, taken_for_listed):
        return True
    return not taken_for_listed and _nearest_office(authority)[1]


# Asked twice of one name where a doubted read was not taken for a listed office
# (``_doubted_office_listed``, then ``_in_doubt``): the table's search is the cost.
@functools.lru_cache(maxsize=1024)
def _nearest_office(authority: str) -> tuple[str, bool]:
    """The office's name, or the one name the GB/T 2260 table's divisions give
    (``regions.offices``) a slip or two away from it where it is none itself, and
    whether it was so taken (the field is then flagged: what it gives is a guess, the
    nearest real office, not what was read). Two names as near give none."""
    offices = regions.offices()
    if not authority.endswith("局") or authority in offices:
        return authority, False
    near = _nearest_listed(authority, offices)
    head = len(authority) - len(authority.lstrip("".join(STAMP_GLYPHS)))
    if near is None and 0 < head <= MAX_OFFICE_SLIPS:
        # A stamp's character before the name (再武汉…): the name read without it.
        near = _nearest_listed(authority[head:], offices)
    return (authority, False) if near is None else (near, True)


#: The characters every office's name of its form holds (place 公安局 district 分局) at
#: their places: the place's and the district's last (市, 州, 县, 区...), 公安局, 分局.
_FORM_CHARACTERS = frozenset("省市州县区盟旗公安局分")


def _slips_in_its_form_only(read: str, office: str) -> bool:
    """Whether ``read`` is the listed ``office`` but for characters of its form
    (``_FORM_CHARACTERS`` where the form puts them) misread or lost, none read in
    excess (拉萨夏公安冕城关分局 and 武汉公委局洪山区分局 for 拉萨市公安局城关分局 and
    武汉市公安局洪山区分局: a stamp across 市 and 局): the characters that tell one office
    from another were all read as the table names them, so the office is no guess."""
    import difflib

    place = regions.place_prefix(office)
    form = {len(place) - 1, *range(len(place), len(place) + 3)}
    if office.endswith("分局"):
        form |= {len(office) - 3, len(office) - 2, len(office) - 1}
    matcher = difflib.SequenceMatcher(None, read, office, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 - i1 > j2 - j1 or not all(
            at in form and office[at] in _FORM_CHARACTERS for at in range(j1, j2)
        ):  # fmt: skip
            return False
    return True


def _nearest_listed(authority: str, offices: frozenset[str]) -> str | None:
    """The one office of ``offices`` fewest slips away from ``authority``, if no other is
    as near and it is near enough (``MAX_OFFICE_SLIPS``)."""
    most = MAX_OFFICE_SLIPS if len(authority) >= MIN_TWO_SLIPS_CHARS else 1
    read = set(authority)
    best: list[str] = []
    best_slips = most + 1
    for office in offices:
        if abs(len(office) - len(authority)) > most or len(read - set(office)) > most:
            continue
        slips = _slips(authority, office, best_slips + 1)
        if slips < best_slips:
            best, best_slips = [office], slips
        elif slips == best_slips <= most:
            best.append(office)
    return best[0] if len(best) == 1 else None


def _slips(a: str, b: str, cap: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``cap`` once it is sure to reach it."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) >= cap:
            return cap
        previous = current
    return min(previous[-1], cap)
