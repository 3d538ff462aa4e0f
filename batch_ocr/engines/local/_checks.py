"""Each field's own check: what makes a value read off a card believable.

Pure functions of strings. A field is reported valid only if it was found and passes
the check here; the API engine's ``validity`` object means the same
(``API_CONTRACT.md``, "Response").
"""

from __future__ import annotations

import re

# The ID number's rules and the nation table have one home for the whole project.
from batch_ocr.id_rules import NATIONS, PROVINCE_NAMES, calendar_date

#: How an issuing office's name ends: a public security bureau, its branch, a police
#: station (older cards), or the exit-entry administration (residence permits).
AUTHORITY_SUFFIXES = ("公安局", "分局", "公安厅", "公安处", "派出所", "管理局")

LONG_TERM = "长期"

_PROVINCES = tuple(PROVINCE_NAMES.values())

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_NAME_RE = re.compile(rf"^[{_CJK}]+(?:·[{_CJK}]+)*$")
_ADDRESS_RE = re.compile(rf"^[{_CJK}0-9A-Za-z()（）\-－#·、，,]+$")
_AUTHORITY_RE = re.compile(rf"^[{_CJK}]+$")


def name_ok(name: str) -> bool:
    """Chinese characters, optionally transliterated parts joined by ``·``; 2-20 long."""
    return 2 <= len(name) <= 20 and bool(_NAME_RE.match(name))


def sex_ok(sex: str) -> bool:
    """男 or 女."""
    return sex in ("男", "女")


def nation_ok(nation: str) -> bool:
    """One of the 56 nations."""
    return nation in NATIONS  # the 56 short forms, as the API returns them


def address_ok(address: str) -> bool:
    """Made of what addresses are made of, and begun, as on every card, with the
    province-level division (so a misread province is not called valid)."""
    return (
        len(address) >= 6
        and address.startswith(_PROVINCES)
        and bool(_ADDRESS_RE.match(address))
    )


def authority_ok(authority: str) -> bool:
    """Chinese characters ending like an issuing office (公安局, 分局, ...)."""
    return (
        len(authority) >= 4
        and bool(_AUTHORITY_RE.match(authority))
        and authority.endswith(AUTHORITY_SUFFIXES)
    )


#: The centuries a card's period of validity lies in (cards are issued since 1984): a
#: period read off other digits (an ID number's, 45010319-77050812) lies elsewhere.
PERIOD_CENTURIES = ("19", "20")


def timelimit_ok(timelimit: str) -> bool:
    """``YYYYMMDD-YYYYMMDD`` with real dates of ``PERIOD_CENTURIES``, the end after the
    start, or ``YYYYMMDD-长期``."""
    start, sep, end = timelimit.partition("-")
    if not sep or len(start) != 8 or not start.isdigit():
        return False
    if start[:2] not in PERIOD_CENTURIES or (end != LONG_TERM and end[:2] not in PERIOD_CENTURIES):
        return False
    start_date = calendar_date(start[:4], start[4:6], start[6:])
    if start_date is None:
        return False
    if end == LONG_TERM:
        return True
    if len(end) != 8 or not end.isdigit():
        return False
    end_date = calendar_date(end[:4], end[4:6], end[6:])
    return end_date is not None and end_date > start_date
