"""``--engine hybrid`` against ``--engine api``: calls paid, fields right, silent errors.

    python tests/benchmarks/hybrid.py [--set NAME ...] [--count N] [--seed N] [--workers N]
                                      [--report PATH]

Measured the way a user meets it (STYLE.md, habit 16): the real CLI as a process, once
per set with ``--engine api`` and once with ``--engine hybrid``, against
``batch-ocr-emulator`` answering from truths. The API here reads every card right: for
each file the harness works out exactly what batch-ocr will send, with either engine, by
the very functions the run uses (``sent_payloads``: a PDF's pages as the run renders
them, each page prepared with the engine's limits, then sent whole or cut into one
straightened card per call), and writes the card's true fields as the emulator's
fixture for those bytes: fixtures keyed by the card's content. A crop that shows none
of the case's sides (a bank card beside the ID card) gets the provider's "not a card"
answer as a fixture of its own. The harness checks every answer the emulator gave came
from a fixture (``fixture misses``, which must be 0), and names every case whose sides
could not all be given a payload (``uncovered``).

Sets, by default the realistic mix: the accuracy harness's ``phone_photos`` and
``copy_pages`` (``office_sets.py``; a copy page saved as a PDF is given to batch-ocr as
that PDF), the published ``specimens`` and the copy pages of ``documents`` (read from
beside the project, skipped where absent). The harness's older generated sets
``synthetic`` (phone photos) and ``photocopy`` can be chosen with ``--set``. Each set is
scored as ``tests/benchmarks/accuracy.py`` scores it (fields in its forms, a case's rows
merged): field-exact, and silent errors (a wrong or missing field on a row that does
not need review). Checks are judged on 2026-01-01. Targets: hybrid pays at most 25% of
the calls API-only pays, with no fewer exact fields and no more silent errors. The
report also gives, per set, why hybrid escalated what it did (``escalated_for``).
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import io
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parents[1]))

import accuracy  # noqa: E402
from harness import Emulator, emulator, run_batch_ocr  # noqa: E402

DEFAULT_REPORT = Path(__file__).with_name("hybrid_report.json")
#: The realistic mix, the default: phone photos and copy pages as offices hold them,
#: and the published sets.
MIX = ("phone_photos", "copy_pages", "specimens", "documents")
#: The accuracy harness's generated sets this benchmark runs (``accuracy.GENERATED_SETS``
#: holds their builders and seeds).
GENERATED = ("phone_photos", "copy_pages", "synthetic", "photocopy")
SHARED = {"specimens": (accuracy.SPECIMENS, accuracy.specimen_cases),
          "documents": (accuracy.DOCUMENTS, accuracy.document_cases)}  # fmt: skip
AS_OF = "2026-01-01"
TARGET_CALL_SHARE = 0.25
FRONT_INFO = ("name", "sex", "nation", "address", "number")
SIDE_FIELDS = {"front": accuracy.FRONT_FIELDS, "back": accuracy.BACK_FIELDS}
#: A crop of a page is taken for a side of its case when the offline engine's reading of
#: it is at least this like the side's true fields (the mean of each field's similarity,
#: 0-1): a stamped or blurred side read in part still is; a bank card beside it is not.
MIN_LIKENESS = 0.3
ENGINES = ("api", "hybrid")


# ------------------------------------------------------------------------ the files


@dataclass
class CaseFile:
    """A case as the file batch-ocr is given, what each engine sends for it, and the
    fixtures that answer those bytes with the case's truth."""

    case: accuracy.Case
    name: str
    data: bytes
    sent: dict[str, list[bytes]] = field(default_factory=dict)
    fixtures: list[dict[str, Any]] = field(default_factory=list)
    #: Why some of the case's sides will not be answered right (say so, never silently).
    uncovered: list[str] = field(default_factory=list)

    @property
    def sides(self) -> list[str]:
        return case_sides(self.case)


def case_sides(case: accuracy.Case) -> list[str]:
    """The card sides a case holds, the front first (``both``: a front and a back)."""
    sides = set(case.side.split("+")) - {""}
    if "both" in sides:
        sides = (sides - {"both"}) | {"front", "back"}
    return sorted(sides, key=("front", "back").index)


def _pdf_holding(jpeg: bytes, dpi: int) -> bytes:
    """A one-page PDF holding ``jpeg`` as it is (no re-encoding), the page the size the
    picture is at ``dpi``: what a scanner saving to PDF writes."""
    import pypdfium2 as pdfium
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as picture:
        width, height = (side * 72 / dpi for side in picture.size)
    document = pdfium.PdfDocument.new()
    try:
        page = document.new_page(width, height)
        image = pdfium.PdfImage.new(document)
        image.load_jpeg(io.BytesIO(jpeg), inline=True)
        image.set_matrix(pdfium.PdfMatrix().scale(width, height))
        page.insert_obj(image)
        page.gen_content()
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()
    finally:
        document.close()


def case_file(case: accuracy.Case) -> CaseFile:
    """The file a case is given to batch-ocr as: its picture; a copy page the set saved
    as a PDF (``pdf-jpeg75``) as a PDF holding that page's JPEG, as the set made it."""
    from batch_ocr.vision.imaging import sniff_format

    if "pdf-jpeg75" in case.degradations:
        dpi = next((int(d.removesuffix("dpi")) for d in case.degradations
                    if d.endswith("dpi") and d.removesuffix("dpi").isdigit()), 150)
        return CaseFile(case, case.name + ".pdf", _pdf_holding(case.image_bytes, dpi))
    suffix = {"JPEG": ".jpg", "PNG": ".png"}.get(sniff_format(case.image_bytes[:16]) or "", "")
    name = case.name if Path(case.name).suffix else case.name + suffix
    return CaseFile(case, name, case.image_bytes)


# ------------------------------------------------------------------------ what is sent


def _calls(image: Any, *, honour_no_card: bool) -> list[bytes]:
    """The payloads an engine sends for one prepared page: a straightened crop per card
    of a page of several (``crops.card_crops``, from the file's own pixels when the page
    was fitted), else the page as prepared; none for a page the pre-flight check found
    no card on, where the run makes a row without asking an engine."""
    from batch_ocr.vision import crops

    if honour_no_card and image.no_card is not None:
        return []
    try:
        if crops.may_hold_several(image.width, image.height):
            cards = crops.card_crops(image.picture, original=image.original)
            if cards:
                return [card.jpeg for card in cards]
        return [image.payload]
    finally:
        image.picture.release()


def sent_payloads(file_bytes: bytes) -> tuple[dict[str, list[bytes]], list[str]]:
    """What batch-ocr may send the API for a file, with each engine, and notes on pages
    nothing is sent for.

    The run's own steps: the file's pages (``pages.split_pages``: a PDF's pages as the
    run renders them, or the embedded scan it takes byte for byte), each prepared with
    the engine's limits (``imaging.prepare``, as ``run.jobs.PageReader`` does), then
    whole or cut into cards as the API engine sends it. ``--engine api`` prepares with
    the API's limits; ``--engine hybrid`` prepares the original pixels for the offline
    engine and, for what it escalates, prepares that payload with the API's limits
    (``EnginePair.paid_image``) and sends it as the API engine does (``crops_of``,
    ``read_cards``): ``hybrid`` lists every payload it could pay for.
    """
    from batch_ocr.errors import ImageRejected
    from batch_ocr.run import pages
    from batch_ocr.vision.imaging import API_LIMITS, prepare

    sent: dict[str, list[bytes]] = {engine: [] for engine in ENGINES}
    notes: list[str] = []
    for page in pages.split_pages(file_bytes):
        where = f"page {page.number}" if page.number is not None else "the file"
        if isinstance(page, pages.PageRejected):
            notes.append(f"{where} refused before any call ({page.error_code})")
            continue
        try:
            api = prepare(page.image, API_LIMITS)
            if api.no_card is not None:
                notes.append(f"{where}: no card found before reading ({api.no_card})")
            sent["api"] += _calls(api, honour_no_card=True)
        except ImageRejected as exc:
            notes.append(f"{where} refused for the API ({exc.error_code})")
        try:
            offline = prepare(page.image, None)
        except ImageRejected as exc:
            notes.append(f"{where} refused ({exc.error_code})")
            continue
        offline.picture.release()
        if offline.no_card is not None:
            continue
        try:
            sent["hybrid"] += _calls(prepare(offline.payload, API_LIMITS), honour_no_card=False)
        except ImageRejected as exc:
            notes.append(f"{where} refused for the API by hybrid ({exc.error_code})")
    return sent, notes


# ------------------------------------------------------------------------ the truths


def truth_data(truth: dict[str, str], side: str) -> dict[str, Any]:
    """The provider's ``data`` for a side of a card that reads exactly ``truth``."""
    if side == "front":
        year, month, day = truth["birth"].split("-")
        info = {key: truth[key] for key in FRONT_INFO}
        info.update(year=year, month=str(int(month)), day=str(int(day)))
        validity = dict.fromkeys(("name", "sex", "nation", "birthday", "address", "number"),
                                 True)
    else:
        info = {"authority": truth["authority"], "timelimit": truth["timelimit"]}
        validity = {"authority": True, "timelimit": True}
    return {"result": 0, "side": side, "info": info, "validity": validity}


_READINGS: dict[str, dict[str, str]] = {}


def _reading(payload: bytes) -> dict[str, str]:
    """The offline engine's reading of a crop in the harness's forms (cached by bytes:
    both engines often send the same crop)."""
    from batch_ocr.engines.local import LocalEngineError, recognise

    key = hashlib.sha256(payload).hexdigest()
    if key not in _READINGS:
        try:
            data = recognise(payload).data
            _READINGS[key] = accuracy.observed(data) if any(data.validity.values()) else {}
        except LocalEngineError:
            _READINGS[key] = {}
    return _READINGS[key]


def likeness(read: dict[str, str], truth: dict[str, str], side: str) -> float:
    """How like a side's true fields a reading is: the mean similarity of its fields."""
    keys = [key for key in SIDE_FIELDS[side] if key in truth]
    if not keys:
        return 0.0
    return sum(difflib.SequenceMatcher(None, read.get(key, ""), truth[key]).ratio()
               for key in keys) / len(keys)  # fmt: skip


def assign_sides(payloads: Sequence[bytes], sides: Sequence[str], truth: dict[str, str]
                 ) -> tuple[list[str | None], list[str]]:  # fmt: skip
    """Which side of the case each payload shows (None: none of them), and the sides no
    payload was found for.

    A picture sent whole is answered its first side (the provider reads one side per
    call). Crops of a page are matched to sides by the offline engine's reading of each
    (most alike first, at least ``MIN_LIKENESS``); when as many crops as sides are left
    unmatched, they are taken in order (a side the offline engine reads nothing of is
    still a card).
    """
    if len(payloads) == 1:
        return [sides[0]], list(sides[1:])
    scores = sorted(((likeness(_reading(payload), truth, side), index, side)
                     for index, payload in enumerate(payloads) for side in sides),
                    reverse=True)  # fmt: skip
    shown: list[str | None] = [None] * len(payloads)
    for score, index, side in scores:
        if score >= MIN_LIKENESS and shown[index] is None and side not in shown:
            shown[index] = side
    left = [side for side in sides if side not in shown]
    free = [index for index, side in enumerate(shown) if side is None]
    if left and len(left) == len(free):
        for index, side in zip(free, left, strict=True):
            shown[index] = side
        left = []
    return shown, left


def case_fixtures(item: CaseFile) -> None:
    """Work out what each engine sends for the case and its fixtures (``item.sent``,
    ``item.fixtures``, ``item.uncovered``)."""
    from batch_ocr.provider.seller import not_a_card_data

    item.sent, notes = sent_payloads(item.data)
    item.uncovered += notes
    fixtures: dict[str, dict[str, Any]] = {}
    for engine in ENGINES:
        payloads = list(dict.fromkeys(item.sent[engine]))
        if not payloads:
            continue
        shown, left = assign_sides(payloads, item.sides, item.case.truth)
        if left and len(payloads) == 1:
            item.uncovered.append(f"{engine}: sent whole (its cards were not found apart): "
                                  f"the API answers its {shown[0]} only")
        elif left:
            item.uncovered.append(f"{engine}: none of the {len(payloads)} crops shows the "
                                  f"{'+'.join(left)}")
        for payload, side in zip(payloads, shown, strict=True):
            data = truth_data(item.case.truth, side) if side else not_a_card_data()
            sha256 = hashlib.sha256(payload).hexdigest()
            fixtures.setdefault(sha256, {"sha256": sha256, "file": item.name, "data": data})
    item.fixtures = list(fixtures.values())


# ------------------------------------------------------------------------ the runs


def _observed(rows: Sequence[dict[str, Any]]) -> tuple[dict[str, str], dict[str, bool]]:
    """A case's fields in the harness's forms from its rows (the first that has each),
    and whether the row each came from needs review."""
    got: dict[str, str] = {}
    flagged: dict[str, bool] = {}
    for row in rows:
        if row["status"] != "ok":
            continue
        valid_to = "长期" if row["valid_to"] == "长期" else row["valid_to"].replace("-", "")
        period = (f"{row['valid_from'].replace('-', '')}-{valid_to}"
                  if row["valid_from"] else "")
        fields = {"name": row["name"], "sex": row["sex"], "nation": row["nation"],
                  "birth": row["birth_date"], "address": row["address"],
                  "number": row["id_number"], "authority": row["authority"],
                  "timelimit": period}
        for key, value in fields.items():
            if value and key not in got:
                got[key], flagged[key] = value, bool(row["needs_review"])
    return got, flagged


def _rows_by_file(output: Path) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for line in output.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows.setdefault(row["file"], []).append(row)
    return rows


def score_rows(items: Sequence[CaseFile], output: Path) -> dict[str, Any]:
    """Exact fields and silent errors (a field wrong or missing while nothing asks a
    person to look) of one run's output, and each field not exact (``wrong``: the file,
    the field, and whether a person is asked to look)."""
    rows_by_file = _rows_by_file(output)
    exact = total = silent = flagged_rows = 0
    wrong: list[str] = []
    for item in items:
        rows = rows_by_file.get(item.name, [])
        got, flagged = _observed(rows)
        anything_flagged = not rows or any(row["needs_review"] for row in rows)
        flagged_rows += anything_flagged
        for key, want in item.case.truth.items():
            total += 1
            if got.get(key, "") == want:
                exact += 1
                continue
            unflagged = not flagged.get(key, anything_flagged)
            silent += unflagged
            wrong.append(f"{item.name}: {key} {'missing' if key not in got else 'wrong'}, "
                         f"{'silent' if unflagged else 'flagged'}")
    return {"exact": exact, "total": total, "silent": silent, "cases_flagged": flagged_rows,
            "wrong": wrong}


def _listed(value: Any) -> list[str]:
    """A list column of a JSONL row (a list; ``;``-joined text in older forms)."""
    if isinstance(value, list):
        return [str(item) for item in value]
    return [item for item in str(value or "").split(";") if item]


def escalations(output: Path, items: Sequence[CaseFile]) -> dict[str, Any]:
    """Why hybrid paid: each escalated row's file, side, ``escalated_for`` and the fields
    the offline reading had otherwise than the API (``disagree:``; none: the offline
    reading was already right, as the API here reads every card right), and how often
    each reason came up.

    A picture of several sides sent whole gets one answer for a page the offline engine
    read as several rows: no row is compared then (``compared`` false).
    """
    whole = {item.name for item in items
             if len(item.sides) > 1 and len(set(item.sent["hybrid"])) == 1}
    rows = [{"file": row["file"], "side": row["side"],
             "escalated_for": _listed(row["escalated_for"]),
             "compared": row["file"] not in whole,
             "disagree": [reason.removeprefix("disagree:")
                          for reason in _listed(row.get("review_reasons"))
                          if reason.startswith("disagree:")]}
            for rows in _rows_by_file(output).values() for row in rows
            if row.get("engine") == "api"]  # fmt: skip
    reasons = Counter(reason for row in rows for reason in row["escalated_for"])
    compared = [row for row in rows if row["compared"]]
    return {"reasons": dict(reasons.most_common()), "rows_compared": len(compared),
            "rows_offline_was_right": sum(1 for row in compared if not row["disagree"]),
            "rows": rows}


def run_set(name: str, items: Sequence[CaseFile], emu: Emulator, work: Path, *,
            fixture_keys: set[str], workers: int) -> dict[str, Any]:
    """The set through both engines; calls, fields and silent errors of each."""
    scans = work / name
    scans.mkdir()
    for item in items:
        (scans / item.name).write_bytes(item.data)
    report: dict[str, Any] = {"cards": sum(len(item.sides) for item in items)}
    for engine in ENGINES:
        emu.reset()
        output = work / f"{name}-{engine}.jsonl"
        measured = run_batch_ocr([scans], output, endpoint=emu.url, timeout_s=3600, extra=[
            "--engine", engine, "--workers", str(workers), "--as-of", AS_OF])
        if measured.exit_code not in (0, 1):
            raise RuntimeError(f"{engine} run failed ({measured.exit_code}): "
                               f"{measured.stderr_tail}")
        answered = set(emu.stats()["billable_per_sha256"])
        summary = measured.summary
        report[engine] = {
            "calls": summary["calls"],
            "cards_read_offline": summary.get("cards_read_offline", 0),
            "cards_escalated": summary.get("cards_escalated", 0),
            "fixture_misses": len(answered - fixture_keys),
            "wall_s": round(measured.wall_s, 1),
            **score_rows(items, output),
        }
        if engine == "hybrid":
            report["escalated"] = escalations(output, items)
    report["uncovered"] = {item.name: item.uncovered for item in items if item.uncovered}
    return report


# ------------------------------------------------------------------------ the report


def _share(api: dict[str, Any], hybrid: dict[str, Any]) -> float:
    return hybrid["calls"] / api["calls"] if api["calls"] else 0.0


def table(reports: dict[str, dict[str, Any]], summary: dict[str, Any]) -> str:
    """One line per set and the total: calls, exact fields, silent errors and fixture
    misses of each engine."""
    lines = ["| set | cards | API-only calls | hybrid calls | share | exact API-only "
             "| exact hybrid | silent API-only | silent hybrid | fixture misses |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in [*reports.items(), ("all", summary)]:
        api, hybrid = r["api"], r["hybrid"]
        lines.append(f"| {name} | {r['cards']} | {api['calls']} | {hybrid['calls']} | "
                     f"{_share(api, hybrid):.0%} | {api['exact']}/{api['total']} | "
                     f"{hybrid['exact']}/{hybrid['total']} | {api['silent']} | "
                     f"{hybrid['silent']} | {api['fixture_misses'] + hybrid['fixture_misses']} |")
    return "\n".join(lines)


def totals(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def total(engine: str, key: str) -> int:
        return sum(r[engine][key] for r in reports.values())

    summed = {engine: {key: total(engine, key) for key in
                       ("calls", "exact", "total", "silent", "fixture_misses")}
              for engine in ENGINES}  # fmt: skip
    api, hybrid = summed["api"], summed["hybrid"]
    share = _share(api, hybrid)
    uncovered = sum(len(r["uncovered"]) for r in reports.values())
    met = (share <= TARGET_CALL_SHARE and hybrid["exact"] >= api["exact"]
           and hybrid["silent"] <= api["silent"]
           and api["fixture_misses"] == hybrid["fixture_misses"] == 0)
    return {"cards": sum(r["cards"] for r in reports.values()), **summed,
            "call_share": round(share, 3), "cases_uncovered": uncovered, "met": met}


def build_sets(wanted: Sequence[str], count: int, seed: int | None) -> dict[str, list[CaseFile]]:
    """The sets asked for, as files with their fixtures worked out."""
    sets: dict[str, list[accuracy.Case]] = {}
    for name in wanted:
        if name in SHARED:
            folder, build_shared = SHARED[name]
            if folder.is_dir():
                sets[name] = build_shared()
            else:
                print(f"no {name} at {folder}: skipping that set", file=sys.stderr)
            continue
        build, default_seed = accuracy.GENERATED_SETS[name]
        sets[name] = build(count, default_seed if seed is None else seed)
    files: dict[str, list[CaseFile]] = {}
    for name, cases in sets.items():
        files[name] = [case_file(case) for case in cases]
        for item in files[name]:
            case_fixtures(item)
    return files


def _print_findings(reports: dict[str, dict[str, Any]], summary: dict[str, Any]) -> None:
    api, hybrid = summary["api"], summary["hybrid"]
    print(f"\nall sets: {summary['cards']} cards; hybrid paid {hybrid['calls']} calls of "
          f"API-only's {api['calls']} ({summary['call_share']:.0%}); exact fields "
          f"{hybrid['exact']}/{hybrid['total']} (API-only {api['exact']}/{api['total']}); "
          f"silent errors {hybrid['silent']} (API-only {api['silent']}); fixture misses "
          f"{api['fixture_misses'] + hybrid['fixture_misses']}")
    for name, report in reports.items():
        reasons = report["escalated"]["reasons"]
        if reasons:
            print(f"{name}: escalated for " + ", ".join(f"{r} ({n})" for r, n in reasons.items()))
            escalated = report["escalated"]
            print(f"{name}: escalated rows the offline engine had read right already: "
                  f"{escalated['rows_offline_was_right']} of the {escalated['rows_compared']} "
                  f"compared ({len(escalated['rows']) - escalated['rows_compared']} pages "
                  "sent whole: not compared)")
        for file, notes in report["uncovered"].items():
            print(f"{name}: {file}: not every side can be read by the API: {'; '.join(notes)}")


def set_arguments(description: str, mix: Sequence[str], report: Path
                  ) -> argparse.ArgumentParser:  # fmt: skip
    """The arguments of a benchmark that runs the sets through batch-ocr (this one's and
    ``api_path.py``'s): the sets (``mix`` by default), their size and seed, the offline
    engine's processes and the report's path (``report`` by default)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--set", choices=(*GENERATED, *SHARED), action="append",
                        help=f"a set to run (repeatable; default: {', '.join(mix)})")
    parser.add_argument("--count", type=int, default=24, help="cases per generated set")
    parser.add_argument("--seed", type=int, default=None, help="seed of the generated sets")
    parser.add_argument("--workers", type=int, default=2, help="offline engine processes")
    parser.add_argument("--report", type=Path, default=report, help="JSON report path")
    return parser


def local_engine_missing() -> bool:
    """Whether the ``local`` extra is missing (said on stderr): both engines need it."""
    from batch_ocr.engines.local import available

    if available():
        return False
    print("the local engine is not installed: pip install 'batch-ocr[local]'", file=sys.stderr)
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 0 when every target is met, 1 otherwise."""
    args = set_arguments(__doc__.split("\n\n")[0], MIX, DEFAULT_REPORT).parse_args(argv)
    if local_engine_missing():
        return 2
    sets = build_sets(list(dict.fromkeys(args.set or MIX)), args.count, args.seed)
    fixtures = [fixture for items in sets.values() for item in items for fixture in item.fixtures]
    reports: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="hybrid-bench-") as tmp:
        work = Path(tmp)
        truths = work / "truths.jsonl"
        truths.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in fixtures),
                          encoding="utf-8")
        keys = {fixture["sha256"] for fixture in fixtures}
        with emulator("--fixtures", str(truths)) as emu:
            for name, items in sets.items():
                reports[name] = run_set(name, items, emu, work, fixture_keys=keys,
                                        workers=args.workers)
                print(f"{name}: {json.dumps(reports[name], ensure_ascii=False)}",
                      file=sys.stderr)
    summary = totals(reports)
    print(table(reports, summary))
    _print_findings(reports, summary)
    args.report.write_text(json.dumps({"sets": reports, "all": summary,
                                       "targets": {"call_share": TARGET_CALL_SHARE}},
                                      ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"report: {args.report}")
    return 0 if summary["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
