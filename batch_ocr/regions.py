"""The names of China's administrative divisions (GB/T 2260), as addresses and issuing
offices print them.

An address on a card starts with its divisions, each inside the one before: a province,
one of its prefecture-level cities, one of that city's counties or districts
(福建省厦门市思明区…); an issuing office starts with its city or county (厦门市公安局…).
A run of characters that names such a chain is evidence that they were read right: a
misread seldom lands on a real name, still less on one inside the division read before
it. ``place_prefix`` finds that run.

The table (``gb2260.tsv`` beside this module) holds every code with every name it had
in the editions 2002-2013, so a card issued under an older name is still known; a
division created since is not, and what it names is then simply not confirmed.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping
from importlib import resources

#: A prefecture-level entry that is no place (the districts of a municipality, the
#: counties a province governs directly): skipped when walking down the chain.
_PLACEHOLDER_MARKS = ("市辖区", "直辖")


def _placeholder(name: str) -> bool:
    return name == "县" or any(mark in name for mark in _PLACEHOLDER_MARKS)


@functools.cache
def _names() -> Mapping[str, tuple[str, ...]]:
    """Code -> the names it had (placeholders left out)."""
    text = resources.files("batch_ocr").joinpath("gb2260.tsv").read_text(encoding="utf-8")
    table: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, _, names = line.partition("\t")
        table[code] = tuple(n for n in names.split("|") if not _placeholder(n))
    return table


def _parent(code: str, table: Mapping[str, tuple[str, ...]]) -> str:
    """The division a code lies in ("" for a province), over any placeholder."""
    if code.endswith("0000"):
        return ""
    prefecture = code[:4] + "00"
    if code != prefecture and table.get(prefecture):
        return prefecture
    return code[:2] + "0000"


@functools.cache
def _children() -> Mapping[str, Mapping[str, tuple[tuple[str, str], ...]]]:
    """Code -> (name, code) of each division inside it, by the name's first character;
    "*" -> every division. By first character: ``place_prefix`` looks at the names that
    can start where it is, not at all 3,500 of them (a card's parse asks it a few dozen
    times, which cost a tenth of a copy page's CPU)."""
    table = _names()
    inside: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for code, names in table.items():
        for name in names:
            if not name:
                continue  # an empty name starts every text and names nothing
            for within in (_parent(code, table), "*"):
                inside[within][name[0]].append((name, code))
    return {within: {first: tuple(pairs) for first, pairs in by_first.items()}
            for within, by_first in inside.items()}  # fmt: skip


def place_prefix(text: str) -> str:
    """The longest start of ``text`` that names a chain of divisions, each inside the one
    before (``福建省厦门市思明区`` of an address, ``厦门市`` of an office's name); ""
    when ``text`` starts with no division's name.

    The chain may start at any level (an office names its city first), and only the
    divisions in the table are known. The search is cached (``_chain``): a card's
    address and office are parsed again after each look at its fields.
    """
    return text[: _chain(text)[0]]


@functools.lru_cache(maxsize=1024)
def _chain(text: str) -> tuple[int, str]:
    """How long the longest start of ``text`` naming a chain of divisions is
    (``place_prefix``), and the code of its last division ("*" when none)."""
    children = _children()
    empty: Mapping[str, tuple[tuple[str, str], ...]] = {}

    def longest(at: int, within: str) -> tuple[int, str]:
        best = (at, within)
        if at >= len(text):
            return best
        for name, code in children.get(within, empty).get(text[at], ()):
            if text.startswith(name, at):
                best = max(best, longest(at + len(name), code), key=lambda found: found[0])
        return best

    return longest(0, "*")


def divisions_cut(address: str) -> bool:
    """Whether ``address`` lost characters among its divisions (GB/T 2260) that nothing
    else shows: it ends with its chain of divisions (广西壮族自治区南宁市青秀区), or
    partway through the name of a division inside the last one (内蒙古自治区呼和浩特市新城,
    of 新城区), where no address on a card stops (a street, a village or a building
    follows); or, after that chain, it names such a division without its first
    characters (乌鲁木齐市山区, of 天山区: a glare spot took 天)."""
    length, code = _chain(address)
    if not length:
        return False
    rest = address[length:]
    if not rest:
        return True
    inside = [name for names in _children().get(code, {}).values() for name, _ in names]
    return any(
        (len(name) > len(rest) and name.startswith(rest))
        or any(rest.startswith(name[cut:]) for cut in range(1, len(name) - 1)
               if name[-1] in _DIVISION_ENDS)
        for name in inside
    )  # fmt: skip


#: How the name of a county-level division ends, where a cut-off start leaves a
#: name still shaped as one (天山区 read 山区).
_DIVISION_ENDS = "区县市旗"


#: How a city-level division's name ends when it has a public security bureau (公安局)
#: of its own, and how a county-level one's does.
_CITY_ENDS = ("市", "州", "盟", "地区")
_COUNTY_ENDS = ("市", "县", "旗", "区")


@functools.cache
def offices() -> frozenset[str]:
    """The issuing offices' names the table's divisions give, as cards print them: a
    city's bureau (杭州市公安局), a branch of it in one of its districts or counties,
    named with or without 区 (杭州市公安局西湖区分局, 深圳市公安局南山分局, 上海市公安局
    浦东分局), and a
    county's own bureau (桐庐县公安局)."""
    table = _names()
    names: set[str] = set()
    for code, own in table.items():
        parent = _parent(code, table)
        if not parent or code.endswith("00"):
            # A province-level municipality (北京市) or a city: its own bureau.
            names.update(f"{name}公安局" for name in own if name.endswith(_CITY_ENDS))
            continue
        for name in own:
            if name.endswith(_COUNTY_ENDS[:3]):
                names.add(f"{name}公安局")
            for city in table.get(parent, ()):
                if not city.endswith(_CITY_ENDS):
                    continue
                names.add(f"{city}公安局{name}分局")
                for suffix in ("新区", "区"):
                    if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                        names.add(f"{city}公安局{name[: -len(suffix)]}分局")
                        break
    return frozenset(names)
