"""What the review page shows about one row: fields, flags, errors and its place in the list.

Pure functions from a row dict (JSONL shape, or a ``--pair`` card row) to a plain
"entry" dict that the page embeds as JSON. No I/O here: thumbnails are added by
``page.py``. Everything in an entry is text the browser puts on screen with
``textContent``; nothing here is HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from batch_ocr.columns import (
    CARD_FIELDS,
    LIST_SEPARATOR,
    MEMBER_SEPARATOR,
    columns_of,
    invalid_columns,
)
from batch_ocr.statuses import (
    COMPLETE,
    FAILED_STATUSES,
    INCOMPLETE_PAIR_STATUSES,
    NOT_ID_CARD,
    OK,
    SCAN_FAILED,
)

_FIELD_LABEL: Mapping[str, str] = {
    "name": "Name 姓名",
    "sex": "Sex 性别",
    "nation": "Nation 民族",
    "birth_date": "Born 出生",
    "address": "Address 住址",
    "id_number": "ID number 公民身份号码",
    "authority": "Authority 签发机关",
    "valid_from": "Valid from 有效期起",
    "valid_to": "Valid to 有效期至",
}
#: Recognised fields in display order (the table's): (column, label).
FIELD_LABELS: tuple[tuple[str, str], ...] = tuple(
    (column, _FIELD_LABEL[column]) for column in CARD_FIELDS
)

#: ``checks`` flags we know -> (label, columns to highlight).
KNOWN_CHECKS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "id_checksum": ("ID number checksum fails", ("id_number",)),
    "id_birth_mismatch": ("ID number and birth date disagree", ("id_number", "birth_date")),
    "id_sex_mismatch": ("ID number and sex disagree", ("id_number", "sex")),
    "id_region_unknown": ("ID number region code unknown", ("id_number",)),
    "nation_unknown": ("Unknown ethnic group", ("nation",)),
    "validity_period_invalid": (
        "Validity period not 5/10/20 years or 长期",
        ("valid_from", "valid_to"),
    ),
    "expired": ("Card expired", ("valid_to",)),
}
# Flags added later still get highlighted when a word of theirs names a field; this is
# best effort and only decides which cell is tinted, never whether the flag is shown.
_CHECK_WORD_FIELDS: Mapping[str, str] = {
    "id": "id_number",
    "number": "id_number",
    "checksum": "id_number",
    "birth": "birth_date",
    "birthday": "birth_date",
    "sex": "sex",
    "gender": "sex",
    "name": "name",
    "nation": "nation",
    "address": "address",
    "authority": "authority",
    "expired": "valid_to",
    "expiry": "valid_to",
    "valid": "valid_to",
}

#: Image warnings (``image_warnings.WARNINGS``, and ``cards.SIDE_UNREAD``) -> what the
#: page says.
WARNING_LABELS: Mapping[str, str] = {
    "copy": "Photocopy",
    "reshoot": "Photo of a screen",
    "blur": "Blurred",
    "glare": "Glare over the text",
    "border_incomplete": "Card cut off by the picture's edge",
    "occluded": "Something covers the fields",
    "side_unread": "A card side on the page could not be read",
}


# Rank of an entry in the default order ("needs attention first"): lower comes first.
RANK_ERROR = 0
RANK_FAILED = 1
RANK_FLAGGED = 2
RANK_NOT_CARD = 3
RANK_OK = 4

INVALID_PREFIX = "invalid:"

# Columns shown elsewhere on an entry, so not repeated under "details".
_SHOWN_SINGLE = frozenset(
    {
        "file",
        "status",
        "invalid_fields",
        "checks",
        "validity",
        "error_code",
        "error_message",
        "portrait_file",
        "portrait_error",
        "side",
        "page",
        "card",
        "warnings",
        "needs_review",
        "review_reasons",
    }
    | set(_FIELD_LABEL)
)
_SHOWN_PAIR = frozenset({"front_file", "back_file", "pair_status"}) | _SHOWN_SINGLE


def is_pair_row(row: Mapping[str, Any]) -> bool:
    """Whether ``row`` is a per-card row of a ``--pair`` run (vs. one row per image)."""
    return "pair_status" in row or "front_file" in row


def text(value: Any) -> str:
    """A cell as display text: ``None`` is empty, lists are comma-joined."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(text(item) for item in value)
    return str(value)


def optional_number(value: Any) -> int | None:
    """``page`` or ``card`` as a number; None when empty (or not a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    cell = text(value).strip()
    return int(cell) if cell.isdigit() else None


def invalid_fields_of(row: Mapping[str, Any]) -> list[str]:
    """The columns marked invalid: ``invalid_fields``, else the false keys of
    ``validity``, as columns (an output of an earlier version names them as the
    provider does: ``number`` is ``id_number``)."""
    listed = row.get("invalid_fields")
    if isinstance(listed, (list, tuple)):
        return invalid_columns(str(item) for item in listed if str(item))
    if isinstance(listed, str) and listed:
        return invalid_columns(part for part in listed.split(LIST_SEPARATOR) if part)
    validity = row.get("validity")
    if isinstance(validity, Mapping):
        return invalid_columns(str(key) for key, ok in validity.items() if not ok)
    return []


def checks_of(row: Mapping[str, Any]) -> list[str]:
    """The ``checks`` flags of a row as a list."""
    checks = row.get("checks")
    if isinstance(checks, (list, tuple)):
        return [str(item) for item in checks if str(item)]
    if isinstance(checks, str) and checks:
        return [part for part in checks.split(LIST_SEPARATOR) if part]
    return []


def flags_of(row: Mapping[str, Any]) -> list[str]:
    """Every flag of a row: its ``checks`` then ``invalid:<key>`` per invalid field."""
    return checks_of(row) + [INVALID_PREFIX + key for key in invalid_fields_of(row)]


def list_of(row: Mapping[str, Any], column: str) -> list[str]:
    """A list column (``warnings``, ``review_reasons``) as a list, ``;``-joined text too."""
    value = row.get(column)
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value if str(item)]
    if isinstance(value, str) and value:
        return [part for part in value.split(LIST_SEPARATOR) if part]
    return []


def needs_review_of(row: Mapping[str, Any]) -> bool | None:
    """The row's ``needs_review``; None for an output written before the column existed."""
    value = row.get("needs_review")
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def warning_label(warning: str) -> str:
    """Human text for an image warning code."""
    return WARNING_LABELS.get(warning, warning.replace("_", " "))


def flag_label(flag: str) -> str:
    """Human text for a flag code."""
    if flag.startswith(INVALID_PREFIX):
        key = flag[len(INVALID_PREFIX) :]
        columns = columns_of(key)
        # The English part of each column's label ("Valid from 有效期起": "Valid from").
        names = " / ".join(_FIELD_LABEL.get(col, col).rsplit(" ", 1)[0] for col in columns)
        return f"{names} marked invalid"
    known = KNOWN_CHECKS.get(flag)
    return known[0] if known else flag.replace("_", " ")


def flagged_columns(flags: Sequence[str]) -> set[str]:
    """The columns to highlight for ``flags``."""
    columns: set[str] = set()
    for flag in flags:
        if flag.startswith(INVALID_PREFIX):
            key = flag[len(INVALID_PREFIX) :]
            columns.update(columns_of(key))
        elif flag in KNOWN_CHECKS:
            columns.update(KNOWN_CHECKS[flag][1])
        else:
            for word in flag.lower().replace("-", "_").split("_"):
                if word in _CHECK_WORD_FIELDS:
                    columns.add(_CHECK_WORD_FIELDS[word])
    return columns


def entry_status(row: Mapping[str, Any]) -> str:
    """The status an entry is filtered by: ``status``, or ``pair_status`` for a card."""
    key = "pair_status" if is_pair_row(row) else "status"
    return text(row.get(key)) or "unknown"


def _members(value: Any) -> list[str]:
    """The members of an ambiguous card's side (``a.jpg|b.jpg``), or the one value."""
    return [part for part in text(value).split(MEMBER_SEPARATOR) if part]


def side_statuses(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(side, status) of every image of a card row; empty for a per-image row."""
    if not is_pair_row(row):
        return []
    return [
        (side, status)
        for side in ("front", "back")
        for status in _members(row.get(f"{side}_status"))
    ]


def rank_of(row: Mapping[str, Any], flags: Sequence[str]) -> int:
    """Place in the default order: errors, then failures, flagged cards, non-cards, ok.

    A card that needs review for another reason (a warning, a low confidence, an
    incomplete pair) counts as flagged.
    """
    if needs_review_of(row) and entry_status(row) in (OK, COMPLETE):
        flags = [*flags, "needs_review"]
    if is_pair_row(row):
        statuses = {status for _, status in side_statuses(row)}
        if statuses & FAILED_STATUSES:
            return RANK_ERROR
        if SCAN_FAILED in statuses or entry_status(row) in INCOMPLETE_PAIR_STATUSES:
            return RANK_FAILED
        return RANK_FLAGGED if flags else RANK_OK
    status = entry_status(row)
    if status in FAILED_STATUSES:
        return RANK_ERROR
    if status == SCAN_FAILED:
        return RANK_FAILED
    if flags:
        return RANK_FLAGGED
    if status == NOT_ID_CARD:
        return RANK_NOT_CARD
    return RANK_OK


def errors_of(row: Mapping[str, Any]) -> list[list[str]]:
    """[where, code, message] for every error pair in the row (``front_error_code``...)."""
    found: list[list[str]] = []
    for key in row:
        if not key.endswith("error_code"):
            continue
        prefix = key[: -len("error_code")]
        code = text(row.get(key))
        message = text(row.get(prefix + "error_message"))
        if code or message:
            found.append([prefix.rstrip("_"), code, message])
    # A message without a code (written by hand or by an older version) still shows.
    for key in row:
        if key.endswith("error_message"):
            prefix = key[: -len("error_message")]
            if prefix + "error_code" not in row and text(row.get(key)):
                found.append([prefix.rstrip("_"), "", text(row.get(key))])
    return found


def files_of(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(side, file) of every image of an entry; side is "" for a per-image row.

    A card lists its front then its back; an ambiguous card lists every clashing image.
    """
    if is_pair_row(row):
        return [
            (side, file) for side in ("front", "back") for file in _members(row.get(f"{side}_file"))
        ]
    return [("", text(row.get("file")))]


def entries_noun(entries: Sequence[Mapping[str, Any]]) -> str:
    """What the page's entries are, in the words of the run's summary: the output's
    ``rows`` (a row per page, or per card on a page of several: not files, which the
    header counts apart as ``Files found``), ``cards`` for a ``--pair`` table, and
    ``entries`` for a ``--pair`` output that also lists images no card side is on."""
    pair_count = sum(1 for entry in entries if entry["pair"])
    if not pair_count:
        return "rows"
    return "cards" if pair_count == len(entries) else "entries"


def build_entry(row: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The JSON-ready entry for ``row`` (thumbnails are added by the page)."""
    pair = is_pair_row(row)
    files = files_of(row)
    flags = flags_of(row)
    bad_columns = flagged_columns(flags)
    fields = [
        [label, text(row.get(column)), column in bad_columns]
        for column, label in FIELD_LABELS
        if text(row.get(column)) or column in bad_columns
    ]
    shown = _SHOWN_PAIR if pair else _SHOWN_SINGLE
    details = [
        [str(key), text(value)]
        for key, value in row.items()
        if key not in shown
        and not key.endswith(("error_code", "error_message", "_status"))
        and text(value)
        and not isinstance(value, Mapping)
    ]
    status = entry_status(row)
    rank = rank_of(row, flags)
    return {
        "index": index,
        "pair": pair,
        "files": [file for _, file in files],
        "file_sides": [side for side, _ in files],
        "side": "" if pair else text(row.get("side")),
        "page": None if pair else optional_number(row.get("page")),
        "card": None if pair else optional_number(row.get("card")),
        "status": status,
        "sides": [list(pair_) for pair_ in side_statuses(row)],
        "flags": flags,
        "warnings": list_of(row, "warnings"),
        "needs_review": needs_review_of(row),
        "review_reasons": list_of(row, "review_reasons"),
        "fields": fields,
        "errors": errors_of(row),
        "details": details,
        "rank": rank,
        "is_error": rank == RANK_ERROR,
        "name": text(row.get("name")),
        "valid_to": text(row.get("valid_to")),
        "portrait_error": text(row.get("portrait_error")),
    }
