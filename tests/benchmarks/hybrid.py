"""``--engine hybrid`` against ``--engine api``: calls paid, fields right, silent errors.

    python tests/benchmarks/hybrid.py [--set NAME ...] [--count N] [--seed N] [--workers N]
                                      [--report PATH]

Measured the way a user meets it (STYLE.md, habit 16): the real CLI as a process, once
per set with ``--engine api`` and once with ``--engine hybrid``, against
``batch-ocr-emulator`` answering from truths. The API here reads every card right: for
each picture the harness works out exactly what batch-ocr will send (the picture fitted
to the API's limits, or each card cut out of a page of several, by the very functions
the API engine uses) and writes the card's true fields as the emulator's fixture for
those bytes: fixtures keyed by the card's content. A crop that holds no card of the
case gets the provider's "not a card" answer. The harness checks every answer the
emulator gave came from a fixture (``fixture misses``).

Sets: the accuracy harness's phone photos (``synthetic``) and photocopies
(``photocopy``), the published ``specimens`` and the copy pages of ``documents`` (read
from beside the project, skipped where absent). Each set is scored as
``tests/benchmarks/accuracy.py`` scores it (fields in its forms, a case's rows merged):
field-exact, and silent errors (a wrong or missing field on a row that does not need
review). Checks are judged on 2026-01-01. Targets: hybrid pays at most 25% of the calls
API-only pays, with no fewer exact fields and no more silent errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parents[1]))

import accuracy  # noqa: E402
from harness import Emulator, emulator, run_batch_ocr  # noqa: E402

DEFAULT_REPORT = Path(__file__).with_name("hybrid_report.json")
#: The sets of a realistic mix: phone photos and photocopies, generated; the dev sets.
GENERATED = {"synthetic": 8, "photocopy": 15}
AS_OF = "2026-01-01"
TARGET_CALL_SHARE = 0.25
FRONT_INFO = ("name", "sex", "nation", "address", "number")


# ------------------------------------------------------------------------ the truths


def sent_payloads(image_bytes: bytes) -> list[bytes]:
    """What batch-ocr sends the API for this picture, with either engine: the picture
    fitted to the API's limits, or one crop per card of a page of several.

    Hybrid reads the original pixels and fits them itself: for the JPEGs and PNGs of
    these sets the two are the same bytes (``imaging.prepare`` keeps a picture within
    the limits as it is).
    """
    from batch_ocr.vision import crops
    from batch_ocr.vision.imaging import API_LIMITS, prepare

    prepared = prepare(prepare(image_bytes, None).payload, API_LIMITS)
    if prepare(image_bytes, API_LIMITS).payload != prepared.payload:
        raise ValueError("the two engines would send different bytes for this picture")
    cards = (crops.card_crops(prepared.picture)
             if crops.may_hold_several(prepared.width, prepared.height) else [])
    return [card.jpeg for card in cards] or [prepared.payload]


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


def _side_read(payload: bytes) -> str:
    """Which side a crop shows, as the offline engine reads it ("none" for no card)."""
    from batch_ocr.engines.local import recognise

    data = recognise(payload).data
    return data.side if any(data.validity.values()) else "none"


def case_fixtures(case: accuracy.Case) -> list[dict[str, Any]]:
    """The emulator's fixtures for one case: its true fields for each payload sent.

    A picture sent whole is answered its first side (the provider reads one side per
    call). The crops of a page are told apart by the side they show; each side of the
    case answers the first crop showing it, and any other crop is "not a card".
    """
    import hashlib

    payloads = sent_payloads(case.image_bytes)
    sides = case.side.split("+")
    if len(payloads) == 1:
        answers = [(payloads[0], "front" if "front" in sides else sides[0])]
    else:
        answers, left = [], list(sides)
        for payload in payloads:
            side = _side_read(payload)
            if side in left:
                left.remove(side)
                answers.append((payload, side))
    return [{"sha256": hashlib.sha256(payload).hexdigest(), "file": case.name,
             "data": truth_data(case.truth, side)} for payload, side in answers]


# ------------------------------------------------------------------------ the runs


def _file_name(case: accuracy.Case) -> str:
    from batch_ocr.vision.imaging import sniff_format

    suffix = {"JPEG": ".jpg", "PNG": ".png"}.get(sniff_format(case.image_bytes[:16]) or "", "")
    return case.name if Path(case.name).suffix else case.name + suffix


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


def score_rows(cases: Sequence[accuracy.Case], output: Path) -> dict[str, int]:
    """Exact fields and silent errors (a field wrong or missing while nothing asks a
    person to look) of one run's output."""
    rows_by_file: dict[str, list[dict[str, Any]]] = {}
    for line in output.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows_by_file.setdefault(row["file"], []).append(row)
    exact = total = silent = flagged_rows = 0
    for case in cases:
        rows = rows_by_file.get(_file_name(case), [])
        got, flagged = _observed(rows)
        anything_flagged = not rows or any(row["needs_review"] for row in rows)
        flagged_rows += anything_flagged
        for key, want in case.truth.items():
            total += 1
            if got.get(key, "") == want:
                exact += 1
            elif not flagged.get(key, anything_flagged):
                silent += 1
    return {"exact": exact, "total": total, "silent": silent, "cases_flagged": flagged_rows}


def run_set(name: str, cases: Sequence[accuracy.Case], emu: Emulator, work: Path, *,
            fixture_keys: set[str], workers: int) -> dict[str, Any]:
    """The set through both engines; calls, fields and silent errors of each."""
    scans = work / name
    scans.mkdir()
    for case in cases:
        (scans / _file_name(case)).write_bytes(case.image_bytes)
    report: dict[str, Any] = {"cards": sum(len(c.side.split("+")) for c in cases)}
    for engine in ("api", "hybrid"):
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
            **score_rows(cases, output),
        }
    return report


# ------------------------------------------------------------------------ the report


def table(reports: dict[str, dict[str, Any]]) -> str:
    """One line per set and the total: calls, exact fields and silent errors of each."""
    lines = ["| set | cards | API calls | hybrid calls | share | exact API | exact hybrid "
             "| silent API | silent hybrid |", "|---|---|---|---|---|---|---|---|---|"]
    for name, r in reports.items():
        api, hybrid = r["api"], r["hybrid"]
        share = hybrid["calls"] / api["calls"] if api["calls"] else 0.0
        lines.append(f"| {name} | {r['cards']} | {api['calls']} | {hybrid['calls']} | "
                     f"{share:.0%} | {api['exact']}/{api['total']} | "
                     f"{hybrid['exact']}/{hybrid['total']} | {api['silent']} | "
                     f"{hybrid['silent']} |")
    return "\n".join(lines)


def totals(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def total(engine: str, key: str) -> int:
        return sum(r[engine][key] for r in reports.values())

    summed = {engine: {key: total(engine, key) for key in
                       ("calls", "exact", "total", "silent", "fixture_misses")}
              for engine in ("api", "hybrid")}  # fmt: skip
    api, hybrid = summed["api"], summed["hybrid"]
    share = hybrid["calls"] / api["calls"] if api["calls"] else 0.0
    met = (share <= TARGET_CALL_SHARE and hybrid["exact"] >= api["exact"]
           and hybrid["silent"] <= api["silent"]
           and api["fixture_misses"] == hybrid["fixture_misses"] == 0)
    return {"cards": sum(r["cards"] for r in reports.values()), **summed,
            "call_share": round(share, 3), "met": met}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 0 when every target is met, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=(*GENERATED, "specimens", "documents"), action="append",
                        help="a set to run (repeatable; default: all)")
    parser.add_argument("--count", type=int, default=24, help="cards per generated set")
    parser.add_argument("--seed", type=int, default=None, help="seed of the generated sets")
    parser.add_argument("--workers", type=int, default=2, help="offline engine processes")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="JSON report path")
    args = parser.parse_args(argv)

    from batch_ocr.engines.local import available

    if not available():
        print("the local engine is not installed: pip install 'batch-ocr[local]'", file=sys.stderr)
        return 2
    wanted = set(args.set or (*GENERATED, "specimens", "documents"))
    builders = {"synthetic": accuracy.synthetic_cases, "photocopy": accuracy.photocopy_cases}
    sets = {name: builders[name](args.count, seed if args.seed is None else args.seed)
            for name, seed in GENERATED.items() if name in wanted}
    for name, folder, build in (("specimens", accuracy.SPECIMENS, accuracy.specimen_cases),
                                ("documents", accuracy.DOCUMENTS, accuracy.document_cases)):
        if name not in wanted:
            continue
        if folder.is_dir():
            sets[name] = build()
        else:
            print(f"no {name} at {folder}: skipping that set", file=sys.stderr)
    fixtures = [fixture for cases in sets.values() for case in cases
                for fixture in case_fixtures(case)]
    reports: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="hybrid-bench-") as tmp:
        work = Path(tmp)
        truths = work / "truths.jsonl"
        truths.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in fixtures),
                          encoding="utf-8")
        keys = {fixture["sha256"] for fixture in fixtures}
        with emulator("--fixtures", str(truths)) as emu:
            for name, cases in sets.items():
                reports[name] = run_set(name, cases, emu, work, fixture_keys=keys,
                                        workers=args.workers)
                print(f"{name}: {json.dumps(reports[name])}", file=sys.stderr)
    summary = totals(reports)
    print(table(reports))
    api, hybrid = summary["api"], summary["hybrid"]
    print(f"\nall sets: {summary['cards']} cards; hybrid paid {hybrid['calls']} calls of "
          f"API-only's {api['calls']} ({summary['call_share']:.0%}); exact fields "
          f"{hybrid['exact']}/{hybrid['total']} (API-only {api['exact']}/{api['total']}); "
          f"silent errors {hybrid['silent']} (API-only {api['silent']}); fixture misses "
          f"{api['fixture_misses'] + hybrid['fixture_misses']}")
    args.report.write_text(json.dumps({"sets": reports, "all": summary,
                                       "targets": {"call_share": TARGET_CALL_SHARE}},
                                      ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"report: {args.report}")
    return 0 if summary["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
