"""One entry per card from the rows of its front and back images. Pure logic, no I/O.

Which side an image shows comes from the recognition (``Row.side``), never from its
name: a ``_front`` file that is really a back still pairs. Names only decide which
images belong together:

- ``stem``: the file path without its extension and without one side marker at the
  end of the stem (``_front``/``-back``, ``-正``/``_反``, ``正面``/``反面``, ``_1``/``-2``,
  ``_a``/``-B``, a bare ``A``/``B``). The folder stays in the key, so ``p1/x_1.jpg``
  never pairs with ``p2/x_2.jpg``.
- ``folder``: all images of one folder are one card.
- ``auto`` (default): ``stem``; then, per folder, images whose stem matched nothing
  are paired when exactly one front and one back are left over (``p1/scan001.jpg`` +
  ``p1/scan002.jpg``); a numbered card of a page of several is never such a leftover.

An image that held both sides of one card (side ``both``: docs/documents.md) is a
``complete`` card on its own, before any grouping by name.

A group of one front and one back is ``complete``; one front alone ``front_only``;
one back alone ``back_only``; anything else (two fronts, two backs, three images) is
``ambiguous`` and reported with all its rows, never guessed. Rows without a side
(errors, other documents) are not cards: they come back in ``PairingResult.unpaired``.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from batch_ocr.columns import (
    BACK_FIELDS,
    FRONT_FIELDS,
    MEMBER_SEPARATOR,
    PAIRED_TABLE_COLUMNS,
)
from batch_ocr.run.present.review import card_escalations, card_reasons, card_warnings
from batch_ocr.run.present.rows import BOTH, Row
from batch_ocr.statuses import (
    AMBIGUOUS,
    BACK_ONLY,
    COMPLETE,
    FRONT_ONLY,
    UNPAIRED,
    PairStatus,
)

PairBy = Literal["auto", "stem", "folder"]
PAIR_BY: tuple[PairBy, ...] = ("auto", "stem", "folder")

# One side marker at the end of a stem, case-insensitive. Words need a separator so
# "feedback" keeps its "back"; 正面/反面 are unambiguous without one. A bare A/B
# suffix must be upper case after a non-upper character (cardA, scan01B): a bare
# lower-case a/b ends too many ordinary names (lisa, bob).
_SIDE_MARKER = re.compile(
    r"(?:"
    r"(?i:[_\-\s.](?:front|back))"
    r"|[_\-\s.]?(?:正面|反面)"
    r"|[_\-\s.](?:正|反)"
    r"|[_\-\s.][12]"
    r"|(?i:[_\-\s.][ab])"
    r"|(?<=[^A-Z_\-\s.])[AB]"
    r")$"
)


@dataclass(frozen=True, slots=True)
class PairedCard:
    """One card: its front and back rows, or the rows that could not be paired.

    ``members`` holds every row of the group, sorted by file: for a complete card the
    front and the back, for an ambiguous group all the clashing rows (``front`` and
    ``back`` are then None).
    """

    key: str
    pair_status: PairStatus
    front: Row | None
    back: Row | None
    members: tuple[Row, ...]

    def to_dict(self) -> dict[str, str]:
        """A plain dict in ``PAIR_COLUMNS`` order: data from the side that prints it."""
        fronts = [r for r in self.members if r.side in ("front", BOTH)]
        backs = [r for r in self.members if r.side in ("back", BOTH)]
        out: dict[str, str] = {
            "front_file": _joined(r.file for r in fronts),
            "back_file": _joined(r.file for r in backs),
            "pair_status": self.pair_status,
        }
        # An ambiguous group has no front/back: its data columns stay empty rather
        # than showing one arbitrary image's values.
        for name in FRONT_FIELDS:
            out[name] = str(getattr(self.front, name)) if self.front else ""
        for name in BACK_FIELDS:
            out[name] = str(getattr(self.back, name)) if self.back else ""
        out["front_status"] = _joined(r.status for r in fronts)
        out["back_status"] = _joined(r.status for r in backs)
        out["front_sha256"] = _joined(r.sha256 for r in fronts)
        out["back_sha256"] = _joined(r.sha256 for r in backs)
        return out


@dataclass(frozen=True, slots=True)
class PairingResult:
    """Cards sorted by key, and the rows that are no card side (sorted by file)."""

    cards: list[PairedCard]
    unpaired: list[Row]


def _joined(values: Iterable[str]) -> str:
    return MEMBER_SEPARATOR.join(values)


def folder_of(file: str) -> str:
    """The folder part of a ``/``-separated relative path (``""`` at the top level)."""
    return posixpath.dirname(file)


def stem_key(file: str) -> str:
    """``p1/zhangsan_front.jpg`` -> ``p1/zhangsan``: extension and one side marker removed."""
    folder, name = posixpath.split(file)
    stem, _ext = posixpath.splitext(name)
    # A stem that is nothing but a marker (front.jpg, 正面.png) is kept whole: an empty
    # key would say nothing, and the folder fallback pairs such files anyway.
    base = _SIDE_MARKER.sub("", stem, count=1) or stem
    return f"{folder}/{base}" if folder else base


def folder_key(file: str) -> str:
    """The grouping key of the folder mode: the folder with a trailing ``/`` (``./`` at top).

    The slash keeps a folder key apart from the stem key of a same-named file.
    """
    return (folder_of(file) or ".") + "/"


def _card(key: str, rows: Sequence[Row]) -> PairedCard:
    members = tuple(sorted(rows, key=lambda r: r.file))
    fronts = [r for r in members if r.side == "front"]
    backs = [r for r in members if r.side == "back"]
    if len(fronts) == 1 and len(backs) == 1:
        return PairedCard(key, COMPLETE, fronts[0], backs[0], members)
    if len(members) == 1 and fronts:
        return PairedCard(key, FRONT_ONLY, fronts[0], None, members)
    if len(members) == 1 and backs:
        return PairedCard(key, BACK_ONLY, None, backs[0], members)
    return PairedCard(key, AMBIGUOUS, None, None, members)


def _group(rows: Iterable[Row], key_of: Callable[[str], str]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[key_of(row.file)].append(row)
    return groups


def pair_rows(rows: Sequence[Row], *, pair_by: PairBy = "auto") -> PairingResult:
    """Group front and back rows into cards (see the module docstring for the rules).

    Raises ``ValueError`` for an unknown ``pair_by``.
    """
    if pair_by not in PAIR_BY:
        raise ValueError(f"pair_by must be one of {', '.join(PAIR_BY)}, got {pair_by!r}")
    sided = [r for r in rows if r.side in ("front", "back")]
    unpaired = sorted(
        (r for r in rows if r.side not in ("front", "back", BOTH)), key=lambda r: r.file
    )
    # Both sides read on one page: that card is certain, whatever the names say.
    whole = [PairedCard(stem_key(r.file), COMPLETE, r, r, (r,)) for r in rows if r.side == BOTH]

    if pair_by == "folder":
        groups = _group(sided, folder_key)
    else:
        groups = _group(sided, stem_key)
        if pair_by == "auto":
            _pair_leftovers_by_folder(groups)

    cards = [_card(key, members) for key, members in groups.items()] + whole
    cards.sort(key=lambda c: (c.key, c.members[0].file))
    return PairingResult(cards=cards, unpaired=unpaired)


def _pair_leftovers_by_folder(groups: dict[str, list[Row]]) -> None:
    """Merge, in place, each folder's single-row stem groups when they are one front
    and one back: names that say nothing (scan001/scan002) in a folder per card."""
    leftovers: dict[str, list[str]] = defaultdict(list)
    for key, members in groups.items():
        # A numbered card was found on a page beside others (one may have failed, and
        # was likely its other side): pairing it with another file would be a guess.
        if len(members) == 1 and members[0].card is None:
            leftovers[folder_of(members[0].file)].append(key)
    for keys in leftovers.values():
        if len(keys) != 2:
            continue
        rows = [groups[k][0] for k in keys]
        if {r.side for r in rows} != {"front", "back"}:
            continue
        for k in keys:
            del groups[k]
        # Stem keys never end in "/", so this cannot merge into another group.
        groups[folder_key(rows[0].file)] = rows


def paired_records(rows: list[Row], *, pair_by: PairBy) -> Iterator[dict[str, Any]]:
    """The records of a ``--pair`` table, in ``PAIRED_TABLE_COLUMNS`` order.

    Images that are no card side (errors, other documents) are kept as ``pair_status``
    ``unpaired`` records, so no image disappears from the table.
    """
    result = pair_rows(rows, pair_by=pair_by)
    for card in result.cards:
        record: dict[str, Any] = dict.fromkeys(PAIRED_TABLE_COLUMNS, "")
        record.update(card.to_dict())
        record["checks"] = [c for r in card.members for c in r.checks]
        record["front_portrait_file"] = card.front.portrait_file if card.front else ""
        record["warnings"] = card_warnings(card.members)
        record["review_reasons"] = card_reasons(card.members, card.pair_status)
        record["needs_review"] = bool(record["review_reasons"])
        record["front_engine"] = card.front.engine if card.front else ""
        record["back_engine"] = card.back.engine if card.back else ""
        record["escalated_for"] = card_escalations(card.members)
        yield record
    for row in result.unpaired:
        record = dict.fromkeys(PAIRED_TABLE_COLUMNS, "")
        record.update(pair_status=UNPAIRED, other_file=row.file, other_status=row.status,
                      error_code=row.error_code, error_message=row.error_message, checks=[],
                      warnings=list(row.warnings), needs_review=row.needs_review,
                      review_reasons=list(row.review_reasons),
                      escalated_for=list(row.escalated_for))
        yield record
