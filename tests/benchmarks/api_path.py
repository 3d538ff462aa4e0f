"""The API path against the offline engine, on the same files: do both engines agree?

    python tests/benchmarks/api_path.py [--set NAME ...] [--count N] [--seed N]
                                        [--workers N] [--report PATH]

The API engine sends the provider each card cut out of a page, straightened and turned
upright (README, "Engines"). Whether what it sends reads as well as what the offline
engine reads for itself is measured here the way a user would see it: the real CLI as a
process, once with ``--engine local`` and once with ``--engine api`` against
``batch-ocr-emulator --engine local`` (the same offline engine, behind the provider's
API, reading only the bytes it is sent). Both runs are scored as
``tests/benchmarks/accuracy.py`` scores a set (``hybrid.score_rows``: fields exact,
silent errors), and every field the two runs give differently is listed with the truth.

Sets, by default: the accuracy harness's ``copy_pages`` and ``phone_photos``
(``office_sets.py``; a copy page saved as a PDF is given as that PDF), the published
``specimens`` and the copy pages of ``documents`` (read from beside the project,
skipped where absent). Target: on every set the API path has as many exact fields as
the offline engine (within one field in a hundred) and no more silent errors.
"""

from __future__ import annotations

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
import hybrid  # noqa: E402
from harness import Emulator, emulator, run_batch_ocr  # noqa: E402

DEFAULT_REPORT = Path(__file__).with_name("api_path_report.json")
MIX = ("copy_pages", "phone_photos", "specimens", "documents")
ENGINES = ("local", "api")
AS_OF = "2026-01-01"
#: The API path may miss at most this share of the fields the offline engine reads
#: exactly: a crop re-encoded for the wire can change a hard character either way.
TARGET_EXACT_GAP = 0.01


def build_sets(wanted: Sequence[str], count: int, seed: int | None
               ) -> dict[str, list[hybrid.CaseFile]]:  # fmt: skip
    """The sets asked for, as the files batch-ocr is given."""
    files: dict[str, list[hybrid.CaseFile]] = {}
    for name in wanted:
        if name in hybrid.SHARED:
            folder, build_shared = hybrid.SHARED[name]
            if not folder.is_dir():
                print(f"no {name} at {folder}: skipping that set", file=sys.stderr)
                continue
            cases = build_shared()
        else:
            build, default_seed = accuracy.GENERATED_SETS[name]
            cases = build(count, default_seed if seed is None else seed)
        files[name] = [hybrid.case_file(case) for case in cases]
    return files


def field_values(rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """A file's fields in the harness's forms (``hybrid._observed``)."""
    got, _ = hybrid._observed(rows)
    return got


def differences(items: Sequence[hybrid.CaseFile], outputs: dict[str, Path]
                ) -> list[dict[str, str]]:  # fmt: skip
    """Each field the two runs give differently, with the truth."""
    rows = {engine: hybrid._rows_by_file(path) for engine, path in outputs.items()}
    found = []
    for item in items:
        read = {engine: field_values(rows[engine].get(item.name, [])) for engine in ENGINES}
        for key, truth in item.case.truth.items():
            local, api = read["local"].get(key, ""), read["api"].get(key, "")
            if local != api:
                found.append({"file": item.name, "field": key, "truth": truth,
                              "local": local, "api": api})
    return found


def run_set(name: str, items: Sequence[hybrid.CaseFile], emu: Emulator, work: Path, *,
            workers: int) -> dict[str, Any]:
    """The set through both engines: each one's score, and where they differ."""
    scans = work / name
    scans.mkdir()
    for item in items:
        (scans / item.name).write_bytes(item.data)
    report: dict[str, Any] = {"cards": sum(len(item.sides) for item in items)}
    outputs: dict[str, Path] = {}
    for engine in ENGINES:
        emu.reset()
        outputs[engine] = work / f"{name}-{engine}.jsonl"
        measured = run_batch_ocr([scans], outputs[engine], endpoint=emu.url, timeout_s=3600,
                                 extra=["--engine", engine, "--workers", str(workers),
                                        "--as-of", AS_OF])
        if measured.exit_code not in (0, 1):
            raise RuntimeError(f"{engine} run failed ({measured.exit_code}): "
                               f"{measured.stderr_tail}")
        scored = hybrid.score_rows(items, outputs[engine])
        report[engine] = {"calls": measured.summary.get("calls", 0), **scored}
    report["differences"] = differences(items, outputs)
    local, api = report["local"], report["api"]
    report["met"] = (api["exact"] >= local["exact"] - TARGET_EXACT_GAP * local["total"]
                     and api["silent"] <= local["silent"])
    return report


def table(reports: dict[str, dict[str, Any]]) -> str:
    lines = ["| set | cards | exact offline | exact API path | silent offline "
             "| silent API path | API calls | fields given differently |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in reports.items():
        local, api = r["local"], r["api"]
        lines.append(f"| {name} | {r['cards']} | {local['exact']}/{local['total']} | "
                     f"{api['exact']}/{api['total']} | {local['silent']} | {api['silent']} | "
                     f"{api['calls']} | {len(r['differences'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 0 when the API path matches the offline engine on every set."""
    args = hybrid.set_arguments(__doc__.split("\n\n")[0], MIX, DEFAULT_REPORT).parse_args(argv)
    if hybrid.local_engine_missing():
        return 2
    sets = build_sets(list(dict.fromkeys(args.set or MIX)), args.count, args.seed)
    reports: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="api-path-bench-") as tmp, \
            emulator("--engine", "local", "--workers", "1") as emu:
        for name, items in sets.items():
            reports[name] = run_set(name, items, emu, Path(tmp), workers=args.workers)
    print(table(reports))
    for name, report in reports.items():
        for diff in report["differences"]:
            print(f"{name}: {diff['file']} {diff['field']}: offline {diff['local']!r}, "
                  f"API path {diff['api']!r}, truth {diff['truth']!r}")
    args.report.write_text(json.dumps({"sets": reports, "as_of": AS_OF,
                                       "target_exact_gap": TARGET_EXACT_GAP},
                                      ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"report: {args.report}")
    return 0 if all(report["met"] for report in reports.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
