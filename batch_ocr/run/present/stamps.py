"""Stamps and watermarks that copies carry over a card's text, cut out of what was read.

A 身份证复印件 is stamped 复印无效 ("invalid if copied") or watermarked 仅限…使用 /
仅供…使用 ("for … only"), often right across a field (docs/documents.md): the
recogniser then reads ``蒙古印无效`` as a nation, ``…村复印无效`` or ``…385号节无效`` as
the end of an address, ``开户使用`` or a lone ``复`` as a line of its own that lands in a
field. None of these words is ever part of a name, nation, address or issuing
authority, so they never reach a field, whichever engine read the card:

- :func:`strip_stamps` cuts them out of one recognised line (the offline engine, before
  it parses the fields);
- :func:`clean_info` cuts them out of a card's fields and what they leave at a field's
  edges (every row, so an API answer that carries stamp text is cleaned too).

What a stamp under printed text looks like once read, and so what is cut:

- 复印无效 (and 再次复印无效) with up to two of its characters lost or misread, as long
  as two are read right, or at a line's end 再次 and one of them (``…205号再次复比``);
  a misread counts only as one of the look-alikes the recogniser gives for that
  character (``节`` or ``段`` for 印, ``郊`` for 效), so a partial match never takes a
  character that is not the stamp's (``蒙古印无效`` keeps ``古``, ``…村复印无效`` keeps
  ``村``);
- 仅限 / 仅供 / 用于 … 使用 (a purpose of up to 16 characters; also 限… or 供…使用 with
  仅 lost, and 仅限… cut short at a line's end), with 此复印件 before it;
- a watermark's tail (``…开户使用``) on a short line of its own, or ``使用`` with the two
  characters before it where it is glued to a field;
- a line made only of a stamp's characters (``复``, ``此复印件``, ``仅``): a field is
  never one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from batch_ocr import id_rules
from batch_ocr.provider.models import CardInfo

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
#: The stamp's characters and what the recogniser misreads each as under printed text
#: (seen in tests/benchmarks/accuracy.py's ``stamped``, ``photocopy`` and ``pages``
#: sets; a shape the recogniser has not been seen giving is not guessed).
_COPY_INVALID_LOOKALIKES = (
    ("复", "夏復雙"), ("印", "节段锡即卬"), ("无", "天旡無先"), ("效", "郊効発"),
)
#: Every character a copy's stamp or watermark is read as, its look-alikes included: a
#: short remnant made only of them is the stamp's.
STAMP_GLYPHS: frozenset[str] = frozenset(
    "复印无效再次此件仅限供使用之用于" + "".join(look for _, look in _COPY_INVALID_LOOKALIKES)
)
#: At most this many of the four characters lost or misread...
_MAX_COPY_INVALID_ERRORS = 2
#: ... but two-character remnants only where no field has them: 无效 and 印无 anywhere,
#: 复印 at a line's end (复 and 印 alone are a surname and a printing works).
_TWO_CHARACTER_REMNANTS = ("无效", "印无")


def _copy_invalid_alternatives() -> list[str]:
    """Every reading of 复印无效 with at most two characters lost or misread (two right),
    longest first so a match takes the whole remnant."""
    found: set[str] = set()
    for states in itertools.product(("right", "misread", "lost"), repeat=4):
        if sum(s != "right" for s in states) > _MAX_COPY_INVALID_ERRORS:
            continue
        if states.count("right") < 2:
            continue
        parts = []
        for at, ((char, lookalikes), state) in enumerate(
            zip(_COPY_INVALID_LOOKALIKES, states, strict=True)
        ):
            if state == "right":
                parts.append(char)
            elif state == "misread" and states.count("right") == 3 and 0 < at < 3:
                # Held on both sides by three characters read right: anything.
                parts.append(r"\S")
            elif state == "misread":
                parts.append(f"[{lookalikes}]")
        if len(parts) == 2 and "".join(parts) not in _TWO_CHARACTER_REMNANTS:
            continue
        found.add("".join(parts))
    return sorted(found, key=lambda p: (-len(re.sub(r"\[[^]]*]|\\S", ".", p)), p))


#: 复印无效 and 再次复印无效, whole or with up to two characters lost or misread; at a
#: line's end, 再次 and one of the stamp's characters with the rest misread or lost
#: (``…205号再次复比``): no field holds 再次 then a character of the stamp.
_COPY_INVALID = re.compile(
    r"(?:再次?)?(?:" + "|".join(_copy_invalid_alternatives()) + r"|复印$)"
    r"|再次[复印无效]\S{0,3}$"
)
#: 仅限…使用, 仅供…使用 / 之用 / 用, 仅用于… (a purpose of up to 16 characters), also cut
#: short at a line's end ("仅限BDCI比" when the rest ran off the card); with 仅 lost, 限…
#: and 供… only up to an explicit 使用 / 之用 (限 and 供 alone are in 有限公司, 供销社);
#: 此复印件 before them.
_PURPOSE = rf"[{_CJK}A-Za-z0-9（）()·、]"
_FOR_USE_ONLY = re.compile(
    rf"(?:此?复印件?)?(?:仅(?:限|供|用于){_PURPOSE}{{0,16}}?(?:使用|之用|用途|用|$)"
    rf"|(?:限|供){_PURPOSE}{{0,16}}?(?:使用|之用))"
)
#: A watermark's end with its start lost: ``使用`` / ``之用`` (or ``使`` at a line's end)
#: and what is left of the purpose before it.
_USE_TAIL = re.compile(r"(?:使用|之用|使$)")
#: A line this short around a watermark's end is the watermark alone (开户使用, 验使用).
_MAX_TAIL_LINE_REST = 4
#: Characters a field ends with: never taken as a purpose glued before 使用.
_FIELD_END = re.compile(r"[0-9局号室村组楼栋院族户]")
#: The characters of the stamps themselves: a line made only of them is a stamp's piece.
_STAMP_CHARACTERS = frozenset("复印无效再次此件仅限供使用之用于")
#: What is left of a line once its stamps are cut: only punctuation is no text.
_ONLY_PUNCTUATION = re.compile(r"^[\s\W_]*$")


def _cut_use_tail(text: str) -> str:
    """``text`` without a watermark's tail whose start was lost (see the module's doc)."""
    match = _USE_TAIL.search(text)
    if match is None:
        return text
    before, after = text[: match.start()], text[match.end() :]
    if match.group() == "使":
        # A lone 使 at the end: taken only after a field's last character (…分局使); a
        # name may end in 使.
        return before if _FIELD_END.match(before[-1:]) else text
    if len(before.strip()) + len(after.strip()) <= _MAX_TAIL_LINE_REST:
        return ""
    keep = len(before)
    for _ in range(2):
        if keep and re.match(rf"[{_CJK}]", before[keep - 1]) and not _FIELD_END.match(
            before[keep - 1]
        ):
            keep -= 1
    return _cut_use_tail(before[:keep] + after)


def strip_stamps(text: str) -> str:
    """``text`` without the stamps and watermarks copies carry; may be empty."""
    if text.strip() and set(re.sub(r"[\s\W_]", "", text)) <= _STAMP_CHARACTERS:
        return ""
    cleaned = _FOR_USE_ONLY.sub("", text)
    cleaned = _COPY_INVALID.sub("", cleaned)
    cleaned = _cut_use_tail(cleaned)
    if cleaned != text and _ONLY_PUNCTUATION.match(cleaned):
        return ""
    return cleaned


#: 复印无效 split by the detector into two boxes: the end of one line and the start of
#: another (``…青秀区复`` and ``印无效``).
_COPY_INVALID_TEXT = "复印无效"


def strip_stamps_of_lines(lines: Sequence[str]) -> list[str]:
    """Each of one picture's ``lines`` without its stamps (:func:`strip_stamps`), and
    without the piece of 复印无效 it ends or starts with when another line holds the
    rest of that stamp: 复 at the end of ``…青秀区复`` is the stamp's when ``印无效`` is
    a line of the same picture, and only then (复 also ends a line of 复兴路)."""
    cut = list(lines)
    for at in range(1, len(_COPY_INVALID_TEXT)):
        head, rest = _COPY_INVALID_TEXT[:at], _COPY_INVALID_TEXT[at:]
        for i, line in enumerate(lines):
            ends, starts = line.rstrip(), line.lstrip()
            others = [other for j, other in enumerate(lines) if j != i]
            if len(ends) > len(head) and ends.endswith(head) and any(
                other.lstrip().startswith(rest) for other in others
            ):
                cut[i] = ends[: -len(head)]
            elif len(starts) > len(rest) and starts.startswith(rest) and any(
                other.rstrip().endswith(head) for other in others
            ):
                cut[i] = starts[len(rest) :]
    return [strip_stamps(line) for line in cut]


def is_stamp(text: str) -> bool:
    """Whether the whole line is a stamp or watermark."""
    return bool(text.strip()) and not strip_stamps(text).strip()


#: The characters an address ends with (a number, a house, a room, a village or its
#: group, a street, ...).
ADDRESS_END_CHARACTERS = "0-9号室组村栋楼户院屯队巷弄场苑座层元庄社寨湾里街路道"
#: What follows an address's end made only of a stamp's characters (``…503室效``,
#: ``…828号再次``): 复印无效 or 再次复印无效 pressed across the end of the address, its
#: other characters sunk into the print. No address goes on past its number or room
#: with those, so they are the stamp's (an address's own 复兴路 or 印江 comes before).
_ADDRESS_STAMP_TAIL = re.compile(
    rf"(?<=[{ADDRESS_END_CHARACTERS}])[{''.join(sorted(STAMP_GLYPHS))}]{{1,6}}$"
)


def cut_address_tail(address: str) -> str:
    """``address`` without what a stamp left after its end (``_ADDRESS_STAMP_TAIL``)."""
    return _ADDRESS_STAMP_TAIL.sub("", address)


#: A stamp's character left at the start of an address or an issuing authority, which
#: begin with a place: 无 and 印 also begin places (无锡, 无为, 无极, 无棣; 印江, 印台), so
#: they are taken only before anything else.
_LEADING_REMNANT = re.compile(r"^(?:[复效仅限供使用此件再次]|无(?![锡为极棣])|印(?![江台]))+")
#: After an issuing authority's last 局 (公安局, 分局) nothing of the authority follows.
_AUTHORITY_TAIL = re.compile(r"局([^局]*)$")


def clean_field(key: str, value: str) -> str:
    """One field of an answer (a provider ``info`` key) without stamp text."""
    cleaned = strip_stamps(value).strip() if value.strip() else value
    if key == "address":
        cleaned = cut_address_tail(cleaned)
    if key in ("address", "authority") and cleaned:
        rest = _LEADING_REMNANT.sub("", cleaned)
        if key == "authority" or any(rest.startswith(p) for p in id_rules.PROVINCE_NAMES.values()):
            cleaned = rest
    if key == "authority":
        tail = _AUTHORITY_TAIL.search(cleaned)
        if tail and tail.group(1) and set(tail.group(1)) & _STAMP_CHARACTERS:
            cleaned = cleaned[: tail.start(1)]
    if key == "nation" and cleaned not in id_rules.NATIONS:
        kept = "".join(c for c in cleaned if c not in _STAMP_CHARACTERS)
        if kept in id_rules.NATIONS or not kept:
            cleaned = kept
    return cleaned


#: The ``info`` keys that hold text a stamp can fall on (dates and the number are digits).
_TEXT_KEYS = ("name", "nation", "address", "authority")


def clean_info(info: CardInfo) -> CardInfo:
    """``info`` with stamp text cut out of its text fields (the same object when none)."""
    changes = {}
    for key in _TEXT_KEYS:
        value = getattr(info, key)
        if value:
            cleaned = clean_field(key, value)
            if cleaned != value:
                changes[key] = cleaned
    return info.model_copy(update=changes) if changes else info
