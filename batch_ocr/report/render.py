"""The review page's HTML: what the header says, rendered by the page's template.

Layout of the page (``templates/review.html``)::

    <head>  CSP meta (hashes of our own style and script; images only from data:)
    <header> run summary, counts by status (buttons that filter), status-mix chart (SVG)
    <main>  filter/sort/search controls, pager, the list (filled by the script)
    <script type="application/json">  every entry, and each page image once (entries
                                      point at it), "<" escaped so no "</script>" ends it
    <script> vanilla JS that filters, sorts and renders 100 entries per page

The template is rendered with autoescaping on, so every string from a row (a file name,
OCR text, a status or flag the output holds) reaches the page as text; only our own
stylesheet, script and the entries' JSON (escaped for a script element by
``script_json``) go in as they are.

Nothing on the page refers to anything outside it: no CDN, font, stylesheet or script
URL, and the Content-Security-Policy forbids every fetch but ``data:`` images, so even a
hostile string that slipped through could not make the browser call out.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from batch_ocr.report.assets import SCRIPT, STYLE, page_template
from batch_ocr.report.entries import (
    INVALID_PREFIX,
    entries_noun,
    flag_label,
    text,
    warning_label,
)
from batch_ocr.statuses import (
    AMBIGUOUS,
    BACK_ONLY,
    COMPLETE,
    ERROR,
    FRONT_ONLY,
    NOT_ID_CARD,
    OK,
    REJECTED,
    SCAN_FAILED,
)

#: Entries rendered per page: enough to scroll through, few enough to render instantly.
PAGE_SIZE = 100
#: Statuses (of rows, then of cards) in the order the header lists them, worst first;
#: others follow alphabetically.
STATUS_ORDER: tuple[str, ...] = (
    ERROR, REJECTED, SCAN_FAILED, NOT_ID_CARD, OK, AMBIGUOUS, FRONT_ONLY, BACK_ONLY, COMPLETE,
)
#: Statuses the stylesheet has a colour for (anything else is drawn grey).
KNOWN_STATUSES: tuple[str, ...] = STATUS_ORDER
#: The width of the status-mix bar in SVG units.
_CHART_WIDTH = 1000.0

# The facts the header labels, by their keys in ``summary.report_facts`` (the one
# schema of the run summary); any other key is shown under its own name.
_ENGINE_KEYS = ("engine",)
_CALLS_KEYS = ("calls",)
_COST_KEYS = ("cost_estimate",)
_RUN_TIME_KEYS = ("elapsed_s",)
_CURRENCY_KEYS = ("currency",)


def render_html(
    entries: Sequence[Mapping[str, Any]],
    *,
    summary: Mapping[str, Any],
    masked: bool,
    images_embedded: bool,
    rows: Sequence[Mapping[str, Any]] = (),
    images_note: str = "",
    views: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The whole page as a string (entries carry their thumbnails as indexes into
    ``views``, the page images)."""
    noun = entries_noun(entries)
    counts = status_counts(entries)
    flags = flag_counts(entries)
    run_items = [(noun.capitalize(), str(len(entries))), *summary_items(summary, rows)]
    if images_note:
        run_items.append(("Card images", images_note))
    run_items.append(("Report generated",
                      dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")))
    warnings = sorted({w for entry in entries for w in entry["warnings"]})
    data = {
        "entries": list(entries),
        "page_size": PAGE_SIZE,
        "known_statuses": list(KNOWN_STATUSES),
        "flag_labels": {flag: flag_label(flag) for flag, _ in flags},
        "warning_labels": {warning: warning_label(warning) for warning in warnings},
        "masked": masked,
        "images_embedded": images_embedded,
        "views": list(views),
    }
    return page_template().render(
        csp=content_security_policy(),
        style=Markup(STYLE),
        script=Markup(SCRIPT),
        data_json=Markup(script_json(data)),
        entry_count=len(entries),
        noun=noun,
        masked=masked,
        images_embedded=images_embedded,
        run_items=run_items,
        counts=counts,
        bars=chart_bars(counts, len(entries)),
        flags=[(flag, flag_label(flag), n) for flag, n in flags],
        flagged_count=sum(1 for entry in entries if entry["flags"]),
        review_count=sum(1 for entry in entries if entry["needs_review"]),
        accepted_count=sum(1 for entry in entries if entry["needs_review"] is False),
        error_count=sum(1 for entry in entries if entry["is_error"]),
        where_filters=where_filters(entries),
    )


def status_counts(entries: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """(status, count) in header order: known statuses first, then the rest by name."""
    counts = Counter(str(entry["status"]) for entry in entries)
    known = [(status, counts[status]) for status in STATUS_ORDER if counts[status]]
    other = sorted((s, n) for s, n in counts.items() if s not in STATUS_ORDER)
    return known + other


def flag_counts(entries: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """(flag, number of entries with it): checks first, then invalid fields, by name."""
    counts = Counter(flag for entry in entries for flag in set(entry["flags"]))
    return sorted(counts.items(), key=lambda item: (item[0].startswith(INVALID_PREFIX), item[0]))


def summary_items(
    summary: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """(label, text) pairs for the header: known facts first, then any other key."""
    used: set[str] = set()

    def first(keys: Sequence[str]) -> Any:
        for key in keys:
            if key in summary and summary[key] not in (None, ""):
                used.add(key)
                return summary[key]
        return None

    items: list[tuple[str, str]] = []
    engine = first(_ENGINE_KEYS)
    if engine is None:
        # Rebuilt from an output file: the rows know which engine read them.
        engines = sorted({text(row.get("engine")) for row in rows} - {""})
        engine = ", ".join(engines) or None
    if engine is not None:
        items.append(("Engine", text(engine)))
    calls = first(_CALLS_KEYS)
    if calls is not None:
        items.append(("Calls made", text(calls)))
    cost = first(_COST_KEYS)
    if cost is not None:
        currency = first(_CURRENCY_KEYS)
        shown = f"{cost:.2f}" if isinstance(cost, float) else text(cost)
        items.append(("Cost estimate", f"{shown} {text(currency)}".strip()))
    run_time = first(_RUN_TIME_KEYS)
    if run_time is not None:
        items.append(("Run time", format_duration(run_time)))
    for key, value in summary.items():
        if key in used or value in (None, ""):
            continue
        if isinstance(value, Mapping):
            value = ", ".join(f"{k} {text(v)}" for k, v in value.items())
        items.append((key.replace("_", " ").capitalize(), text(value)))
    return items


def format_duration(value: Any) -> str:
    """Seconds as ``1 h 02 min 03 s`` / ``4 min 05 s`` / ``12.3 s``; text stays as is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return text(value)
    seconds = float(value)
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"


def chart_bars(counts: Sequence[tuple[str, int]], total: int) -> list[dict[str, Any]]:
    """The status mix as the segments of one stacked SVG bar (drawn without script, so
    it shows even without JS); none when there is no entry."""
    bars: list[dict[str, Any]] = []
    x = 0.0
    for status, count in counts if total else ():
        width = _CHART_WIDTH * count / total
        bars.append({"status": status, "count": count, "x": f"{x:.2f}", "width": f"{width:.2f}",
                     "share": f"{100.0 * count / total:.1f}"})
        x += width
    return bars


def where_filters(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The Side, Page and Card selects: each a select of every value its column takes
    (numbers in order), with counts; none for a column that is the same everywhere
    (nothing to filter). A ``--pair`` card has no side, page or card of its own."""
    images = [entry for entry in entries if not entry["pair"]]
    columns = (
        ("f-side", "Side", "All sides", "no side", [text(e["side"]) for e in images]),
        ("f-page", "Page", "All pages", "not a page (one image)",
         [_number(e["page"]) for e in images]),
        ("f-card", "Card", "All cards", "not numbered", [_number(e["card"]) for e in images]),
    )
    selects = []
    for control_id, label, all_label, empty_label, values in columns:
        counts = Counter(values)
        if len(counts) < 2:
            continue
        ordered = sorted(counts, key=lambda v: (v != "", int(v) if v.isdigit() else 0, v))
        selects.append({"id": control_id, "label": label, "all_label": all_label,
                        "options": [(value, value or empty_label, counts[value])
                                    for value in ordered]})
    return selects


def _number(value: Any) -> str:
    return "" if value is None else text(value)


def script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``/``\\u003e``/``\\u0026``, so no
    ``</script>`` or ``<!--`` in OCR text can end or alter the element (HTML spec,
    "Restrictions for contents of script elements"); JSON.parse reads them back.
    """
    dumped = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        dumped.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy() -> str:
    """The page's CSP: nothing may load but data: images, our style and our script."""
    return (
        "default-src 'none'; img-src data:; "
        f"style-src {_csp_hash(STYLE)}; script-src {_csp_hash(SCRIPT)}; "
        "base-uri 'none'; form-action 'none'"
    )
