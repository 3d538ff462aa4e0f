"""Masked copies of personal data, for output that may be shared.

``mask_row`` masks the three fields the spec names: the ID number, the name and the
address. Everything else is kept on purpose: ``birth_date`` and ``sex`` are what a
reviewer checks the masked card against (and the masked number no longer reveals
the birth date), ``portrait_url`` is a provider link the operator may need to follow.
A caller that must hide more does so explicitly.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

from batch_ocr.run.present.rows import Row

MASK_CHAR = "*"
#: What replaces the part of an address after the district/county level; fixed, so
#: the masked text does not reveal how long the street address was.
ADDRESS_MASK = "****"

#: Kept characters of an 18-character ID number: the region code, and the sequence
#: number + check character (the usual display form, e.g. on bank and rail tickets).
ID_KEEP_HEAD = 6
ID_KEEP_TAIL = 4
#: Anything else (a misread or a 15-digit first-generation number) keeps at most this
#: much, and never more than a third of its characters.
OTHER_KEEP_HEAD = 3
OTHER_KEEP_TAIL = 2
#: Characters an address keeps when no administrative level is found in it.
ADDRESS_FALLBACK_KEEP = 6


def mask_id_number(number: str) -> str:
    """``11010519491231002X`` -> ``110105********002X``; same length, middle masked.

    A number of another length keeps up to 3 leading and 2 trailing characters, and
    at most a third of the whole, since its layout is unknown.
    """
    number = number.strip()
    if not number:
        return ""
    if len(number) == 18:
        head, tail = ID_KEEP_HEAD, ID_KEEP_TAIL
    else:
        budget = len(number) // 3
        head = min(OTHER_KEEP_HEAD, (budget + 1) // 2)
        tail = min(OTHER_KEEP_TAIL, budget - head)
    masked = MASK_CHAR * (len(number) - head - tail)
    return number[:head] + masked + number[len(number) - tail:]


def mask_name(name: str) -> str:
    """First and last character kept, the rest masked: ``王小丽`` -> ``王*丽``.

    Two characters keep the first (``王*``), one is fully masked (``*``). The ``·`` of
    a transliterated name is masked too (``阿依古丽·买买提`` -> ``阿******提``): where it
    sits would tell the length of each part.
    """
    name = name.strip()
    if len(name) <= 1:
        return MASK_CHAR * len(name)
    if len(name) == 2:
        return name[0] + MASK_CHAR
    return name[0] + MASK_CHAR * (len(name) - 2) + name[-1]


# Address levels, matched from the start. Each level is one leading character then
# a short run, neither holding digits (\d takes full-width ones too) or punctuation.
# The leading character may be a marker (市中区) or a street word (镇江市, 路桥区); the
# run may not hold street words, so a level never reaches past 街道/镇/村 into a
# 社区, 小区 or 市场 further down the address.
_STOP = r"\d\s#,，、()（）\-号楼室栋弄巷"
_STREET = "街路镇乡村组"


def _level(markers: str, also_forbidden: str, max_len: int) -> str:
    return (
        f"(?:[^{_STOP}][^{_STOP}{_STREET}{also_forbidden}]{{0,{max_len}}}?(?:{markers}))"
    )


_ADDRESS_LEVELS = re.compile(
    # Province: 江西省, 内蒙古自治区, 香港特别行政区.
    _level("省|自治区|特别行政区", "省市区县", 7) + "?"
    # Prefecture: 南昌市, 北京市 (municipalities sit here), 恩施土家族苗族自治州, 锡林郭勒盟,
    # 阿克苏地区. A bare 州 is not a marker: it ends 郑州/广州 inside a city's name.
    + _level("市|自治州|盟|地区", "省区县旗", 10) + "?"
    # County: 红谷滩新区, 朝阳区, 南昌县, 鄂温克族自治旗, 延吉市 (county-level city).
    + _level("区|县|旗|市", "省", 14) + "?"
)


def mask_address(address: str) -> str:
    """Kept up to the district/county level, then ``****``.

    ``江西省南昌市红谷滩新区0号楼0单元0室`` -> ``江西省南昌市红谷滩新区****``. An address
    whose deepest level is a prefecture (东莞市, 中山市 have no districts) is kept to
    it. When no level is found, the first 6 characters are kept, and never more than
    half the text.
    """
    address = address.strip()
    if not address:
        return ""
    match = _ADDRESS_LEVELS.match(address)
    kept = match.end() if match else 0
    if kept == 0:
        kept = min(ADDRESS_FALLBACK_KEEP, len(address) // 2)
    return address[:kept] + ADDRESS_MASK


def mask_row(row: Row) -> Row:
    """A copy of ``row`` with name, ID number and address masked; ``row`` is unchanged."""
    # replace() is shallow: give the copy its own lists and dicts (invalid_fields,
    # checks, validity, and any added later), so editing one row never edits the other.
    containers: dict[str, Any] = {
        f.name: copy.copy(value)
        for f in dataclasses.fields(row)
        if isinstance(value := getattr(row, f.name), list | dict)
    }
    return dataclasses.replace(
        row,
        **containers,
        name=mask_name(row.name),
        id_number=mask_id_number(row.id_number),
        address=mask_address(row.address),
    )
