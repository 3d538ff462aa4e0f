"""write_report: a self-contained, offline, private page (issue 9)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from report_fakes import (
    HOSTILE_FIELD,
    HOSTILE_FILE,
    HOSTILE_FLAG,
    HOSTILE_SIDE,
    HOSTILE_STATUS,
    Row,
    base_row,
    draw_card,
    draw_sheet,
    hostile_rows,
    is_mosaic,
    thumb_view,
)

from batch_ocr.report import image_finder, write_report
from batch_ocr.report.assets import SCRIPT, STYLE
from batch_ocr.report.render import format_duration, script_json
from batch_ocr.run.pages import Page, split_pages
from batch_ocr.vision import crops
from tests.pdf_support import pillow_pdf

#: How every embedded JPEG starts (base64 of the JPEG SOI marker); the script itself
#: mentions "data:image/jpeg;base64," to check URIs, so that prefix alone proves nothing.
JPEG_DATA = "data:image/jpeg;base64,/9j/"
HOSTILE_NAME = "</script><script>alert(1)</script><!--<script>"


class PageParser(HTMLParser):
    """Collects what the offline checks need: URL attributes, tags, script bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.url_values: list[str] = []
        self.tags: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.meta: list[dict[str, str | None]] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {
                "src",
                "href",
                "action",
                "srcset",
                "poster",
                "data",
                "formaction",
                "xlink:href",
                "background",
                "manifest",
                "ping",
            }:
                self.url_values.append(value or "")
        if tag == "meta":
            self.meta.append(dict(attrs))
        if tag == "script":
            self._script = dict(attrs)

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, ""))
            self._script = None


def parse(path: Path) -> tuple[str, PageParser]:
    document = path.read_text("utf-8")
    parser = PageParser()
    parser.feed(document)
    return document, parser


def embedded_data(parser: PageParser) -> dict[str, Any]:
    [(attrs, body)] = [(a, b) for a, b in parser.scripts if a.get("type") == "application/json"]
    assert attrs["id"] == "report-data"
    value: dict[str, Any] = json.loads(body)
    return value


def test_page_is_self_contained_and_offline(tmp_path: Path, sample: tuple[list[Row], Path]) -> None:
    rows, images = sample
    out = tmp_path / "out" / "report.html"
    write_report(rows, out, image_for=image_finder([images]))
    document, parser = parse(out)

    # Nothing that could load: no link/iframe/object/embed, no script src, and every
    # URL-valued attribute (there are none today) would have to be an inline data: URI.
    assert not {"link", "iframe", "object", "embed", "base", "audio", "video"} & set(parser.tags)
    assert all(value.startswith("data:") for value in parser.url_values)
    assert all("src" not in attrs for attrs, _ in parser.scripts)
    assert not re.search(r"@import|@font-face|url\(", STYLE)
    assert not re.search(
        r"fetch\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon|import\(|"
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(",
        SCRIPT,
    )
    # The one URL-looking text is the SVG namespace's name, which is never fetched.
    without_svg_ns = document.replace('"http://www.w3.org/2000/svg"', "")
    assert "http://" not in without_svg_ns and "https://" not in document

    # The CSP allows exactly our own style and script, and images from data: only.
    [csp] = [m["content"] for m in parser.meta if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp is not None
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["img-src"] == "data:"

    def sha(source: str) -> str:
        return (
            "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"
        )

    assert directives["script-src"] == sha(SCRIPT)
    assert directives["style-src"] == sha(STYLE)
    assert f"<script>{SCRIPT}</script>" in document and f"<style>{STYLE}</style>" in document


def test_every_template_file_ships_in_the_wheel() -> None:
    """The page's template, stylesheet and script are package data: each must match a
    pattern of pyproject's package-data, or an installed package has no page."""
    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["batch_ocr.report"]
    report = root / "batch_ocr" / "report"
    files = [p.relative_to(report) for p in (report / "templates").iterdir() if p.is_file()]
    assert {"review.html", "review.css", "review.js"} <= {f.name for f in files}
    assert [f for f in files if not any(f.match(pattern) for pattern in patterns)] == []


def test_thumbnails_and_portrait_are_small_inline_jpegs(
    tmp_path: Path, sample: tuple[list[Row], Path]
) -> None:
    rows, images = sample
    out = tmp_path / "out" / "report.html"
    write_report(rows, out, image_for=image_finder([images]))
    data = embedded_data(parse(out)[1])
    by_file = {entry["files"][0]: entry for entry in data["entries"]}
    zhang = by_file["scans/zhang_san.jpg"]
    assert thumb_view(data, zhang["thumbs"][0])["uri"].startswith("data:image/jpeg;base64,")
    assert zhang["portrait"].startswith("data:image/jpeg;base64,")  # relative to out's folder
    assert all(len(view["uri"]) < 8_000 for view in data["views"])
    missing = by_file["scans/missing_on_disk.jpg"]["thumbs"][0]
    assert missing["problem"] == "image not found" and thumb_view(data, missing) == {}


def test_script_end_tag_in_data_cannot_break_out(tmp_path: Path) -> None:
    rows = [
        base_row(
            "</script>.jpg",
            name=HOSTILE_NAME,
            address="a\u2028b\u2029c & <b>",
            error_message="<img src=x onerror=alert(1)>",
            checks=["</script>"],
        ),
    ]
    out = tmp_path / "report.html"
    write_report(rows, out)
    document, parser = parse(out)
    # Only our two script elements exist: the data's </script> did not end the first.
    assert document.count("</script>") == 2
    assert len(parser.scripts) == 2
    entry = embedded_data(parser)["entries"][0]
    assert entry["files"] == ["</script>.jpg"]
    assert entry["name"] == HOSTILE_NAME
    assert entry["flags"] == ["</script>"]
    assert ["Address 住址", "a\u2028b\u2029c & <b>", False] in entry["fields"]
    # The header (rendered in Python) escapes too.
    assert "&lt;/script&gt;" in document


class TextParser(HTMLParser):
    """The page as a browser reads its markup: tags, and the text outside scripts and
    styles with its entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.texts: list[str] = []
        self.attribute_values: list[str] = []
        self._raw = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attribute_values += [value or "" for _, value in attrs]
        self._raw = tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._raw = False

    def handle_data(self, data: str) -> None:
        if not self._raw:
            self.texts.append(data)


def test_hostile_names_are_text_in_every_part_the_template_renders(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    write_report(hostile_rows(), out, summary={"engine": HOSTILE_FIELD, "note": HOSTILE_FILE})
    document = out.read_text("utf-8")
    parser = TextParser()
    parser.feed(document)
    # No element came from the data: only the template's own, and its two scripts.
    assert not {"img", "b", "i", "u"} & set(parser.tags)
    assert parser.tags.count("script") == 2
    texts = parser.texts
    # The header's facts, the status counts and the chart's titles, the Status, Flag
    # and Side selects: each shows the string whole, template syntax included.
    assert HOSTILE_FIELD in texts and HOSTILE_FILE in texts  # Engine, Note
    assert f" {HOSTILE_STATUS}" in texts  # its count button
    assert f"{HOSTILE_STATUS}: 1 (50.0%)" in texts  # its bar in the chart
    assert f"{HOSTILE_STATUS} (1)" in texts  # Status select
    assert f"{HOSTILE_FLAG} (1)" in texts  # Flag select
    assert f"{HOSTILE_SIDE} (1)" in texts  # Side select
    for value in (HOSTILE_STATUS, HOSTILE_FLAG, HOSTILE_SIDE):
        assert value in parser.attribute_values  # the option's value, whole
    # The entries, which the script puts on screen as text, carry them whole.
    entries = embedded_data(parse(out)[1])["entries"]
    assert entries[0]["files"] == [HOSTILE_FILE] and entries[0]["name"] == HOSTILE_FIELD
    assert entries[1]["status"] == HOSTILE_STATUS and entries[1]["side"] == HOSTILE_SIDE


def test_script_json_escapes() -> None:
    encoded = script_json({"x": "</script><!-- & \u2028"})
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert json.loads(encoded) == {"x": "</script><!-- & \u2028"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("masked", [False, True])
def test_file_is_private(tmp_path: Path, masked: bool) -> None:
    out = tmp_path / "report.html"
    out.write_text("old")
    os.chmod(out, 0o644)
    write_report([base_row("a.jpg")], out, masked=masked)
    assert _mode(out) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temp file left


def test_masked_report_shows_pages_only_as_mosaics(
    tmp_path: Path, sample: tuple[list[Row], Path]
) -> None:
    rows, images = sample
    image_for = image_finder([images])
    clear = tmp_path / "out" / "clear.html"
    write_report(rows, clear, image_for=image_for)
    assert not all(is_mosaic(v["uri"]) for v in embedded_data(parse(clear)[1])["views"])

    out = tmp_path / "out" / "masked.html"
    write_report(rows, out, image_for=image_for, masked=True)
    document, parser = parse(out)
    data = embedded_data(parser)
    assert 'id="masked-note"' in document and "blurred into squares" in document
    # Every page image embedded is flat squares; no portrait at all.
    assert len(data["views"]) == 8 and all(v["masked"] for v in data["views"])
    assert all(is_mosaic(v["uri"]) for v in data["views"])
    assert all(entry["portrait"] == "" for entry in data["entries"])
    assert document.count(JPEG_DATA) == 8

    faces = tmp_path / "out" / "faces.html"
    write_report(rows, faces, image_for=image_for, masked=True, show_faces_when_masked=True)
    assert JPEG_DATA in faces.read_text("utf-8")
    assert _mode(faces) == 0o600


def test_header_counts_and_summary(tmp_path: Path, sample: tuple[list[Row], Path]) -> None:
    rows, _ = sample
    out = tmp_path / "report.html"
    summary = {
        "calls": 11,
        "cost_estimate": 0.11,
        "currency": "CNY",
        "elapsed_s": 3723,
        "engine": "api",
        "retries": 2,
    }
    write_report(rows, out, summary=summary)
    document = out.read_text("utf-8")
    counts = dict(re.findall(r'data-status="(\w+)" data-count="(\d+)"', document))
    assert counts == {
        "error": "1",
        "rejected": "1",
        "scan_failed": "1",
        "not_id_card": "1",
        "ok": "5",
    }
    assert 'id="errors-only" class="toggle" aria-pressed="false" data-count="2"' in document
    assert 'data-flag="*any*" data-count="3"' in document
    assert 'data-review="yes" data-count="7"' in document
    assert '<option value="no">No review needed (2)</option>' in document
    for label, value in [
        ("Rows", "9"),
        ("Engine", "api"),
        ("Calls made", "11"),
        ("Cost estimate", "0.11 CNY"),
        ("Run time", "1 h 02 min 03 s"),
        ("Retries", "2"),
    ]:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in document
    assert document.count("<rect ") == 5  # one bar segment per status


def test_engine_falls_back_to_rows(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    write_report([base_row("a.jpg", engine="offline")], out)
    document = out.read_text("utf-8")
    assert "<dt>Engine</dt><dd>offline</dd>" in document
    assert "<dt>Card images</dt><dd>not included (no image folder given)</dd>" in document
    assert embedded_data(parse(out)[1])["entries"][0]["thumbs"] == []


def test_pair_rows_get_front_and_back_thumbnails(tmp_path: Path) -> None:
    draw_card(tmp_path / "in" / "a.jpg", hue=1)
    draw_card(tmp_path / "in" / "b.jpg", hue=2)
    rows = [
        {
            "front_file": "a.jpg",
            "back_file": "b.jpg",
            "pair_status": "complete",
            "name": "张三",
            "front_status": "ok",
            "back_status": "ok",
        },
        {
            "front_file": "c.jpg",
            "back_file": "",
            "pair_status": "front_only",
            "name": "李小红",
            "front_status": "ok",
            "back_status": "",
        },
    ]
    asked: list[str] = []

    def image_for(row: Mapping[str, Any]) -> Path | None:
        asked.append(row["file"])
        return image_finder([tmp_path / "in"])(row)

    out = tmp_path / "cards.html"
    write_report(rows, out, image_for=image_for)
    document, parser = parse(out)
    assert asked == ["a.jpg", "b.jpg", "c.jpg"]
    entries = embedded_data(parser)["entries"]
    assert [t["label"] for t in entries[0]["thumbs"]] == ["front", "back"]
    data = embedded_data(parser)
    assert all(thumb_view(data, t)["uri"] for t in entries[0]["thumbs"])
    assert entries[1]["thumbs"][0]["problem"] == "image not found"
    assert "batch-ocr review — 2 cards" in document


def test_pair_sides_of_a_document_show_the_page_their_content_is_on(tmp_path: Path) -> None:
    # A --pair card names its sides' files and hashes, not pages: the page of a PDF
    # whose image has the side's hash is its thumbnail.
    folder = tmp_path / "in"
    folder.mkdir()
    pages = [draw_sheet(2), draw_sheet(1, seed=5), draw_sheet(3, seed=7)]
    (folder / "day.pdf").write_bytes(pillow_pdf(images=pages))
    images = [o.image for o in split_pages((folder / "day.pdf").read_bytes())
              if isinstance(o, Page)]
    row = {"front_file": "day.pdf", "back_file": "day.pdf", "pair_status": "complete",
           "front_status": "ok", "back_status": "ok",
           "front_sha256": hashlib.sha256(images[2]).hexdigest(),
           "back_sha256": hashlib.sha256(images[1]).hexdigest()}
    changed = {**row, "front_sha256": "0" * 64, "back_sha256": ""}
    out = tmp_path / "cards.html"
    write_report([row, changed], out, image_for=image_finder([folder]))
    data = embedded_data(parse(out)[1])
    front, back = (thumb_view(data, t) for t in data["entries"][0]["thumbs"])
    assert front["uri"] and back["uri"] and front["uri"] != back["uri"]
    if crops.available():
        assert (len(front["outlines"]), len(back["outlines"])) == (3, 1)
    gone, unknown = (t["problem"] for t in data["entries"][1]["thumbs"])
    assert gone == "no page of the file holds this content now"
    assert "which one this entry is from is not known" in unknown


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(12.34, "12.3 s"), (245, "4 min 05 s"), (3723, "1 h 02 min 03 s"), ("ca. 5 min", "ca. 5 min")],
)
def test_format_duration(seconds: Any, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_file_changed_since_the_run_shows_no_other_card(tmp_path: Path) -> None:
    scan = draw_card(tmp_path / "in" / "a.jpg")
    read = hashlib.sha256(scan.read_bytes()).hexdigest()
    rows = [base_row("a.jpg", sha256=read), base_row("a.jpg", sha256="0" * 64)]
    out = tmp_path / "changed.html"
    write_report(rows, out, image_for=image_finder([tmp_path / "in"]))
    data = embedded_data(parse(out)[1])
    same, changed = (entry["thumbs"][0] for entry in data["entries"])
    assert thumb_view(data, same)["uri"].startswith(JPEG_DATA)
    assert changed["view"] == -1
    assert changed["problem"] == "the file changed since this row was read"
