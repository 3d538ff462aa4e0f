"""Write the review page: one self-contained HTML file that works from the local disk.

Layout of the file::

    <head>  CSP meta (hashes of our own style and script; images only from data:)
    <header> run summary, counts by status (buttons that filter), status-mix chart (SVG)
    <main>  filter/sort/search controls, pager, the list (filled by the script)
    <script type="application/json">  every entry, and each page image once (entries
                                      point at it), "<" escaped so no "</script>" ends it
    <script> vanilla JS that filters, sorts and renders 100 entries per page

Nothing on the page refers to anything outside it: no CDN, font, stylesheet or script
URL, and the Content-Security-Policy forbids every fetch but ``data:`` images, so even a
hostile string that slipped through could not make the browser call out.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from batch_ocr.private_files import replace_private
from batch_ocr.report.assets import SCRIPT, STYLE
from batch_ocr.report.entries import (
    INVALID_PREFIX,
    build_entry,
    flag_label,
    text,
    warning_label,
)
from batch_ocr.report.page_views import (
    PageKey,
    PageView,
    cards_numbered_by_page,
    own_outlines,
    page_views,
)
from batch_ocr.report.thumbs import PORTRAIT_MAX_PX, make_thumbnails

ImageFor = Callable[[Mapping[str, Any]], Path | None]

#: What an entry shows instead of a page that is no longer the one its row was read from.
CHANGED_SINCE_READ = "the file changed since this row was read"
#: Entries rendered per page: enough to scroll through, few enough to render instantly.
PAGE_SIZE = 100
#: Statuses in the order the header lists them; others follow alphabetically.
STATUS_ORDER: tuple[str, ...] = (
    "error",
    "rejected",
    "scan_failed",
    "not_id_card",
    "ok",
    "ambiguous",
    "front_only",
    "back_only",
    "complete",
)
#: Statuses the stylesheet has a colour for (anything else is drawn grey).
KNOWN_STATUSES: tuple[str, ...] = STATUS_ORDER

# The facts the header labels, by their keys in ``summary.report_facts`` (the one
# schema of the run summary); any other key is shown under its own name.
_ENGINE_KEYS = ("engine",)
_CALLS_KEYS = ("calls",)
_COST_KEYS = ("cost_estimate",)
_RUN_TIME_KEYS = ("elapsed_s",)
_CURRENCY_KEYS = ("currency",)


def write_report(
    rows: Sequence[Mapping[str, Any]],
    out_html: Path,
    *,
    image_for: ImageFor | None = None,
    summary: Mapping[str, Any] | None = None,
    masked: bool = False,
    show_faces_when_masked: bool = False,
    portrait_dir: Path | None = None,
) -> None:
    """Write the review page of ``rows`` to ``out_html`` (mode 0600, replaced atomically).

    Args:
        rows: output rows as dicts in the JSONL shape, or the per-card rows of ``--pair``.
        out_html: where to write the page; its folder is created if missing.
        image_for: maps a row to its source image for the thumbnail (``None``: no
            thumbnail). For a card row it is called once per side, with ``file`` set to
            ``front_file`` and then ``back_file``.
        summary: run facts to show (calls made, cost estimate, engine, run time, ...);
            any other key is shown as it is.
        masked: the rows are masked; the page says so and, unless
            ``show_faces_when_masked``, shows each page only as a mosaic of flat
            squares (cards outlined, nothing readable) and no portrait.
        show_faces_when_masked: embed clear images even when ``masked``.
        portrait_dir: folder a relative ``portrait_file`` is relative to (the output's
            folder); defaults to the folder of ``out_html``.
    """
    # A masked page still shows each row's page, as a mosaic with the cards outlined;
    # its portraits, being faces, are left out (README, "Masking").
    clear_images = not masked or show_faces_when_masked
    entries = [build_entry(row, index) for index, row in enumerate(rows)]
    views: list[dict[str, Any]] = []
    if image_for is not None:
        views = _add_page_views(rows, entries, image_for, mosaic=not clear_images)
    else:
        # Without image_for there are no scans to show: no boxes, the header says why.
        for entry in entries:
            entry["thumbs"] = []
    if clear_images:
        _add_portraits(rows, entries, portrait_dir or out_html.parent)
    else:
        for entry in entries:
            entry["portrait"] = ""
    if image_for is None:
        images_note = "not included (no image folder given)"
    elif not clear_images:
        images_note = "blurred into squares (masked report)"
    else:
        images_note = ""
    document = render_html(
        entries,
        summary=summary or {},
        masked=masked,
        images_embedded=clear_images,
        rows=rows,
        images_note=images_note,
        views=views,
    )
    replace_private(out_html, document)


def _add_page_views(
    rows: Sequence[Mapping[str, Any]],
    entries: list[dict[str, Any]],
    image_for: ImageFor,
    *,
    mosaic: bool,
) -> list[dict[str, Any]]:
    """Attach each entry's page thumbnails (``thumbs``); returns the views they index.

    The rows of one page share one view, so a page of four cards is embedded once.
    """
    wanted: list[list[PageKey | None]] = []
    for row, entry in zip(rows, entries, strict=True):
        keys: list[PageKey | None] = []
        for label, file in zip(entry["file_sides"], entry["files"], strict=True):
            path: Path | None = None
            if file:
                path = image_for({**row, "file": file}) if label else image_for(row)
            keys.append(None if path is None else (path, _page_of(row, label, entry)))
        wanted.append(keys)
    found = page_views({key for keys in wanted for key in keys if key is not None},
                       masked=mosaic)
    numbered = cards_numbered_by_page(entries)
    index_of: dict[PageKey, int] = {}
    views: list[dict[str, Any]] = []
    for row, entry, keys in zip(rows, entries, wanted, strict=True):
        entry["thumbs"] = []
        for label, key in zip(entry["file_sides"], keys, strict=True):
            view = None if key is None else found[key]
            if view is None or _read_another_version(row, label, view):
                problem = "image not found" if view is None else CHANGED_SINCE_READ
                entry["thumbs"].append({"label": label, "view": -1, "mine": [],
                                        "problem": problem})
                continue
            assert key is not None
            if key not in index_of:
                index_of[key] = len(views)
                views.append(_view_json(view))
            # A --pair card's side is a row of its own image: its card is unnumbered.
            mine = [] if view.outlines is None else own_outlines(
                card=entry["card"], side=entry["side"] or label,
                outline_count=len(view.outlines),
                cards_numbered=numbered.get((entry["files"][0], entry["page"]), 0))
            entry["thumbs"].append({"label": label, "view": index_of[key], "mine": mine,
                                    "problem": view.problem})
    return views


def _page_of(row: Mapping[str, Any], label: str, entry: Mapping[str, Any]) -> int | str | None:
    """Which page of its file an entry's side is: the row's ``page``; for a ``--pair``
    card's side, which names no page, the page holding the content it was read from."""
    if not label:
        page: int | None = entry["page"]
        return page
    recorded = text(row.get(f"{label}_sha256")).strip().lower()
    return recorded if len(recorded) == 64 else None


def _read_another_version(row: Mapping[str, Any], label: str, view: PageView) -> bool:
    """Whether the row was read from other content than the page now on disk (the file
    changed since): its thumbnail and outlines would show another card."""
    recorded = text(row.get(f"{label}_sha256" if label else "sha256")).strip().lower()
    return bool(view.sha256) and len(recorded) == 64 and recorded != view.sha256


def _view_json(view: PageView) -> dict[str, Any]:
    return {
        "uri": view.data_uri,
        "w": view.width,
        "h": view.height,
        # None (no OpenCV: cards not looked for) and [] (none found) differ on screen.
        "outlines": None if view.outlines is None else [list(q) for q in view.outlines],
        "masked": view.masked,
        "problem": view.problem,
    }


def _add_portraits(
    rows: Sequence[Mapping[str, Any]], entries: list[dict[str, Any]], portrait_dir: Path
) -> None:
    """Attach portrait thumbnails (as data: URIs) to ``entries``."""
    portrait_paths = [_portrait_path(row, portrait_dir) for row in rows]
    portraits = make_thumbnails(portrait_paths, max_px=PORTRAIT_MAX_PX)
    for entry, portrait, portrait_path in zip(entries, portraits, portrait_paths, strict=True):
        entry["portrait"] = portrait.data_uri
        if portrait_path is not None and portrait.problem and not entry["portrait_error"]:
            entry["portrait_error"] = f"portrait: {portrait.problem}"


def _portrait_path(row: Mapping[str, Any], portrait_dir: Path) -> Path | None:
    name = text(row.get("portrait_file"))
    if not name:
        return None
    path = Path(name)
    return path if path.is_absolute() else portrait_dir / path


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


def _esc(value: Any) -> str:
    return html.escape(text(value), quote=True)


def _number(value: Any) -> str:
    return "" if value is None else text(value)


def _value_filter(
    control_id: str, label: str, all_label: str, empty_label: str, values: Sequence[str]
) -> str:
    """A select of every value a column takes (numbers in order), with counts; no
    select at all when the column is the same everywhere (nothing to filter)."""
    counts = Counter(values)
    if len(counts) < 2:
        return ""
    ordered = sorted(counts, key=lambda v: (v != "", int(v) if v.isdigit() else 0, v))
    options = f'<option value="*all*">{_esc(all_label)}</option>' + "".join(
        f'<option value="{_esc(value)}">{_esc(value or empty_label)} ({counts[value]})</option>'
        for value in ordered
    )
    return f'<label>{_esc(label)}<select id="{control_id}">{options}</select></label>'


def _chart(counts: Sequence[tuple[str, int]], total: int) -> str:
    """The status mix as one stacked SVG bar (no script, so it shows even without JS)."""
    if not total:
        return ""
    parts = []
    x = 0.0
    for status, count in counts:
        width = 1000.0 * count / total
        parts.append(
            f'<rect class="st-{_esc(status)}" x="{x:.2f}" y="0" width="{width:.2f}" '
            f'height="18"><title>{_esc(status)}: {count} ({100.0 * count / total:.1f}%)'
            "</title></rect>"
        )
        x += width
    return (
        '<svg class="mix" viewBox="0 0 1000 18" preserveAspectRatio="none" role="img" '
        f'aria-label="status mix">{"".join(parts)}</svg>'
    )


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
    pair_count = sum(1 for entry in entries if entry["pair"])
    # A --pair output also lists the images that are no card side (errors, other papers).
    noun = "files" if not pair_count else "cards" if pair_count == len(entries) else "entries"
    counts = status_counts(entries)
    flags = flag_counts(entries)
    error_count = sum(1 for entry in entries if entry["is_error"])
    flagged_count = sum(1 for entry in entries if entry["flags"])
    review_count = sum(1 for entry in entries if entry["needs_review"])
    accepted_count = sum(1 for entry in entries if entry["needs_review"] is False)
    warnings = sorted({w for entry in entries for w in entry["warnings"]})
    generated = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")

    run_items = [(noun.capitalize(), str(len(entries)))] + summary_items(summary, rows)
    if images_note:
        run_items.append(("Card images", images_note))
    run_items.append(("Report generated", generated))
    run_html = "".join(
        f"<div><dt>{_esc(label)}</dt><dd>{_esc(value)}</dd></div>" for label, value in run_items
    )
    count_buttons = "".join(
        f'<button type="button" class="count st-{_esc(status)}" data-status="{_esc(status)}" '
        f'data-count="{count}"><span class="swatch"></span><span class="n">{count}</span> '
        f"{_esc(status)}</button>"
        for status, count in counts
    )
    count_buttons += (
        f'<button type="button" class="count flagged" data-flag="*any*" '
        f'data-count="{flagged_count}"><span class="n">{flagged_count}</span> flagged</button>'
    )
    count_buttons += (
        f'<button type="button" class="count review" data-review="yes" '
        f'data-count="{review_count}"><span class="n">{review_count}</span> need review'
        "</button>"
    )
    review_options = (
        '<option value="">All</option>'
        f'<option value="yes">Needs review ({review_count})</option>'
        f'<option value="no">No review needed ({accepted_count})</option>'
    )
    status_options = '<option value="">All statuses</option>' + "".join(
        f'<option value="{_esc(s)}">{_esc(s)} ({n})</option>' for s, n in counts
    )
    flag_options = (
        '<option value="">All</option>'
        f'<option value="*any*">Any flag ({flagged_count})</option>'
        f'<option value="*none*">No flag ({len(entries) - flagged_count})</option>'
        + "".join(
            f'<option value="{_esc(flag)}">{_esc(flag_label(flag))} ({n})</option>'
            for flag, n in flags
        )
    )
    masked_note = ""
    if masked:
        masked_note = (
            '<p class="masked-note" id="masked-note">Masked report: personal data is '
            "partly hidden"
            + ("." if images_embedded else "; pages are shown blurred into squares, "
               "portraits are not included.")
            + "</p>"
        )
    where_filters = (
        _value_filter("f-side", "Side", "All sides", "no side",
                      [text(entry["side"]) for entry in entries if not entry["pair"]])
        + _value_filter("f-page", "Page", "All pages", "not a page (one image)",
                        [_number(entry["page"]) for entry in entries if not entry["pair"]])
        + _value_filter("f-card", "Card", "All cards", "not numbered",
                        [_number(entry["card"]) for entry in entries if not entry["pair"]])
    )
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
    pager = (
        '<nav class="pager"><button type="button" class="prev">&larr; Previous</button>'
        '<span class="page"></span><button type="button" class="next">Next &rarr;</button></nav>'
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_esc(content_security_policy())}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>batch-ocr review — {len(entries)} {noun}</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>batch-ocr review</h1>
{masked_note}
<dl class="run">{run_html}</dl>
<div class="counts" id="counts">{count_buttons}</div>
{_chart(counts, len(entries))}
</header>
<main>
<form class="controls" id="controls" role="search">
<label>Status<select id="f-status">{status_options}</select></label>
<button type="button" id="errors-only" class="toggle" aria-pressed="false" data-count="{error_count}">Errors only ({error_count})</button>
<label>Flag<select id="f-flag">{flag_options}</select></label>
<label>Review<select id="f-review">{review_options}</select></label>
{where_filters}
<label>File name<input type="search" id="f-search" placeholder="Search file names" autocomplete="off"></label>
<label>Sort<select id="f-sort">
<option value="attention" selected>Needs attention first</option>
<option value="review">Needs review first</option>
<option value="file">File name, page, card</option>
<option value="page">Page, card</option>
<option value="status">Status</option>
<option value="name">Name</option>
<option value="valid_to">Valid to</option>
<option value="original">Output order</option>
</select></label>
</form>
<p class="shown" id="shown" aria-live="polite"></p>
{pager}
<ol class="entries" id="entries"></ol>
{pager}
<noscript><p class="empty">This page needs JavaScript to list the entries.</p></noscript>
</main>
<script type="application/json" id="report-data">{script_json(data)}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""  # noqa: E501
