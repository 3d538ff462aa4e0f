"""The output's columns: names, order and what each holds, for every writer and reader.

One table (docs/reference.md, "Output columns"): the row of an image
(``run.present.rows.Row`` has exactly these fields, in this order), the table of cards
that ``--pair`` writes, the kind of value in each column, and how a table cell spells a
value that is not text. The writers (``run/output``) format by it, the rows and the
pairing build their records by it, and the review page's loader (``report/load.py``)
restores the values of a CSV, a workbook or JSON Lines by it.

=============== ==================================== ==================================
kind            value in a row (JSONL)               in a CSV or workbook cell
=============== ==================================== ==================================
``text``        a string                             the string
``date``        ``YYYY-MM-DD``, ``长期`` or as       the same text (Excel may turn a
                printed when unparsable              text date it saved into a date)
``digits``      a string of digits (ID, order no.)   text; CSV adds a tab for Excel
``count``       an int                               a number
``number``      an int, or None (empty)              its digits, or an empty cell
``flag``        a bool                               ``true`` / ``false``
``list``        a list of strings                    ``;``-joined
``flags``       an object of bools (``validity``)    JSONL only
``scores``      an object of 0-1 floats              JSONL only
=============== ==================================== ==================================

The first nineteen columns and their order are a public interface (docs/reference.md): later
columns are appended, never inserted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a column holds (the module docstring's table)."""

    TEXT = "text"
    DATE = "date"
    DIGITS = "digits"
    COUNT = "count"
    NUMBER = "number"
    FLAG = "flag"
    LIST = "list"
    FLAGS = "flags"
    SCORES = "scores"


#: Kinds a table cell cannot hold well: only JSON Lines carries these columns.
OBJECT_KINDS: frozenset[Kind] = frozenset({Kind.FLAGS, Kind.SCORES})
#: How a table cell joins a list (``invalid_fields``, ``checks``, ``warnings``, ...).
LIST_SEPARATOR = ";"
#: How a ``--pair`` card joins the files, statuses and hashes of the images of one of
#: its sides when they clash (an ``ambiguous`` card), so the table shows which.
MEMBER_SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name and what it holds."""

    name: str
    kind: Kind = Kind.TEXT


#: The fields printed on a card's front and on its back, as columns, in table order.
FRONT_FIELDS: tuple[str, ...] = ("name", "sex", "nation", "birth_date", "address", "id_number")
BACK_FIELDS: tuple[str, ...] = ("authority", "valid_from", "valid_to")
#: Every field printed on a card: the front's, then the back's.
CARD_FIELDS: tuple[str, ...] = (*FRONT_FIELDS, *BACK_FIELDS)
#: The fields printed on each side.
SIDE_FIELDS: Mapping[str, tuple[str, ...]] = {"front": FRONT_FIELDS, "back": BACK_FIELDS}

_FIELD_KINDS: Mapping[str, Kind] = {
    "birth_date": Kind.DATE,
    "id_number": Kind.DIGITS,
    "valid_from": Kind.DATE,
    "valid_to": Kind.DATE,
}
_FIELDS = {name: Column(name, _FIELD_KINDS.get(name, Kind.TEXT)) for name in CARD_FIELDS}

#: The row of an image, in order (``Row``'s fields).
ROW_COLUMNS: tuple[Column, ...] = (
    Column("file"),
    Column("status"),
    Column("side"),
    *(_FIELDS[name] for name in CARD_FIELDS),
    Column("invalid_fields", Kind.LIST),
    Column("order_no", Kind.DIGITS),
    Column("portrait_url"),
    Column("error_code"),
    Column("error_message"),
    Column("attempts", Kind.COUNT),
    Column("sha256"),
    # --- appended after the pinned ones ---
    Column("fitted", Kind.FLAG),
    Column("engine"),
    Column("checks", Kind.LIST),
    Column("portrait_file"),
    Column("portrait_error"),
    Column("validity", Kind.FLAGS),
    Column("page", Kind.NUMBER),
    Column("confidence", Kind.SCORES),
    Column("warnings", Kind.LIST),
    Column("needs_review", Kind.FLAG),
    Column("review_reasons", Kind.LIST),
    Column("card", Kind.NUMBER),
    Column("escalated_for", Kind.LIST),
)

#: A ``--pair`` card's own columns, in order (``pairing.PairedCard.to_dict``).
PAIR_COLUMNS: tuple[str, ...] = (
    "front_file",
    "back_file",
    "pair_status",
    *CARD_FIELDS,
    "front_status",
    "back_status",
    "front_sha256",
    "back_sha256",
)
#: Every column of a ``--pair`` table: the card's own, then what a reviewer needs
#: beside them.
PAIRED_TABLE: tuple[Column, ...] = (
    *(_FIELDS.get(name, Column(name)) for name in PAIR_COLUMNS),
    Column("checks", Kind.LIST),
    Column("front_portrait_file"),
    Column("other_file"),
    Column("other_status"),
    Column("error_code"),
    Column("error_message"),
    Column("warnings", Kind.LIST),
    Column("needs_review", Kind.FLAG),
    Column("review_reasons", Kind.LIST),
    # Which engine read each side, and why the hybrid engine paid for one.
    Column("front_engine"),
    Column("back_engine"),
    Column("escalated_for", Kind.LIST),
)

#: Columns of a JSON Lines row, in order: every one.
JSONL_COLUMNS: tuple[str, ...] = tuple(column.name for column in ROW_COLUMNS)
#: Columns only JSON Lines carries (objects that a cell cannot hold well).
JSONL_ONLY_COLUMNS: frozenset[str] = frozenset(
    column.name for column in ROW_COLUMNS if column.kind in OBJECT_KINDS
)
#: Columns of a CSV row and of a workbook's ``rows`` sheet, in order.
CSV_COLUMNS: tuple[str, ...] = tuple(
    name for name in JSONL_COLUMNS if name not in JSONL_ONLY_COLUMNS
)
#: Columns of a ``--pair`` table (CSV, JSONL, or a workbook's ``cards`` sheet), in order.
PAIRED_TABLE_COLUMNS: tuple[str, ...] = tuple(column.name for column in PAIRED_TABLE)


def _kinds() -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for column in (*ROW_COLUMNS, *PAIRED_TABLE):
        if kinds.setdefault(column.name, column.kind) != column.kind:
            raise TypeError(f"column {column.name!r} has two kinds")
    return kinds


#: What every column of either table holds; a name means one thing wherever it appears.
KINDS: Mapping[str, Kind] = _kinds()


def kind_of(column: str) -> Kind:
    """What ``column`` holds; a column of no table (added by hand) is text."""
    return KINDS.get(column, Kind.TEXT)


def columns_of_kind(*kinds: Kind) -> frozenset[str]:
    """Every column, of either table, that holds one of ``kinds``."""
    return frozenset(name for name, kind in KINDS.items() if kind in kinds)


#: The provider's ``info``/``validity`` keys (API_CONTRACT.md, "Response") -> the output
#: columns they become. The one table of them: validity flags, confidences and review
#: reasons all name columns through it.
PROVIDER_KEY_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "name": ("name",),
    "sex": ("sex",),
    "nation": ("nation",),
    "birthday": ("birth_date",),
    "address": ("address",),
    "number": ("id_number",),
    "authority": ("authority",),
    "timelimit": ("valid_from", "valid_to"),
}


def columns_of(provider_key: str) -> tuple[str, ...]:
    """The output columns of a provider key (an unknown key, or a column, names itself)."""
    return PROVIDER_KEY_COLUMNS.get(provider_key, (provider_key,))


_COLUMN_RANK: Mapping[str, int] = {name: rank for rank, name in enumerate(JSONL_COLUMNS)}


def invalid_columns(keys: Iterable[str]) -> list[str]:
    """``invalid_fields`` as output columns, in column order: the provider's false
    validity keys (``number``, ``birthday``, ``timelimit``) become the columns they fill
    (``id_number``, ``birth_date``, ``valid_from`` and ``valid_to``), as every other
    column and ``review_reasons`` name them. Column names stay as they are, so rows
    journaled by earlier versions, which kept the provider's names, read the same
    (docs/reference.md, "Output columns"); the provider's own names are left in
    ``validity``, its raw answer."""
    columns = {column for key in keys for column in columns_of(key)}
    return sorted(columns, key=lambda column: (_COLUMN_RANK.get(column, len(_COLUMN_RANK)),
                                               column))
