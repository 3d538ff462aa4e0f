"""Run summaries (``batch_ocr/run/summary.py``): exit codes, cost, the JSON keys, the lines."""

from __future__ import annotations

from collections import Counter

import pytest

from batch_ocr.run import summary as summary_module
from batch_ocr.run.summary import (
    EXIT_FATAL,
    EXIT_FILE_ERRORS,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    RunSummary,
    SummaryJson,
    exit_status,
    summary_json,
    summary_text,
)


def test_exit_codes() -> None:
    clean = RunSummary(rows_by_status=Counter(ok=3, not_id_card=1, scan_failed=2))
    unclean = RunSummary(rows_by_status=Counter(ok=3, error=1))
    rejected = RunSummary(rows_by_status=Counter(rejected=1))
    assert exit_status(RunSummary()) == EXIT_OK == 0
    assert exit_status(clean) == EXIT_OK
    assert exit_status(unclean) == EXIT_FILE_ERRORS == 1
    assert exit_status(rejected) == EXIT_FILE_ERRORS
    fatal = RunSummary(rows_by_status=Counter(ok=1), fatal_error="bad key", interrupted=True)
    assert exit_status(fatal) == EXIT_FATAL == 3
    assert exit_status(fatal, terminated=True) == EXIT_FATAL
    interrupted = RunSummary(rows_by_status=Counter(error=1), interrupted=True)
    assert exit_status(interrupted) == EXIT_SIGINT == 130
    assert exit_status(interrupted, terminated=True) == EXIT_SIGTERM == 143
    # Zero counts left in the counter do not make a run unclean.
    assert exit_status(RunSummary(rows_by_status=Counter(ok=1, error=0))) == EXIT_OK


def test_estimated_cost() -> None:
    billed = RunSummary(calls=7, would_call=100, price_per_call=0.15, billed=True)
    assert billed.estimated_cost == pytest.approx(1.05)
    dry = RunSummary(calls=0, would_call=100, price_per_call=0.15, billed=True, dry_run=True)
    assert dry.estimated_cost == pytest.approx(15.0)
    offline = RunSummary(calls=7, would_call=100, price_per_call=0.15, billed=False)
    assert offline.estimated_cost == 0.0
    offline_dry = RunSummary(would_call=100, price_per_call=0.15, billed=False, dry_run=True)
    assert offline_dry.estimated_cost == 0.0


def test_summary_json_has_exactly_the_schema_keys_and_validates_back() -> None:
    run = RunSummary(images_found=5, rows_by_status=Counter(ok=3, error=1, rejected=1),
                     ignored_files=2, already_done=1, reused=1, calls=4, retries=1,
                     elapsed_s=2.0, engine="api", price_per_call=0.5)
    facts = summary_json(run, exit_status(run))
    assert list(facts) == list(SummaryJson.model_fields)
    assert facts["exit_code"] == 1
    assert facts["rows_written"] == 5
    assert facts["rows_by_status"] == {"ok": 3, "not_id_card": 0, "scan_failed": 0,
                                       "rejected": 1, "error": 1}
    assert facts["estimated_cost"] == pytest.approx(2.0)
    assert facts["images_per_s"] == pytest.approx(2.5)
    assert SummaryJson.model_validate(facts).model_dump() == facts


def test_report_facts_read_through_the_schema() -> None:
    facts = SummaryJson.model_validate(summary_json(RunSummary(engine="local"), 0))
    shown = summary_module.report_facts(facts)
    assert set(summary_module.REPORT_FACTS) <= set(shown)
    assert shown["currency"] == "CNY"


def test_summary_text_of_a_billed_run() -> None:
    run = RunSummary(images_found=4, ignored_files=1, rows_by_status=Counter(ok=2, error=1),
                     already_done=1, reused=1, not_attempted=1, calls=3, retries=1,
                     elapsed_s=2.0, engine="api", budget_exhausted=True,
                     unreadable_dirs=("locked\x1b[31m",))
    lines = summary_text(run).splitlines()
    assert lines == [
        "batch-ocr: images found: 4 (other files ignored: 1)",
        "batch-ocr: rows written: 3 (ok 2, error 1)",
        "batch-ocr: already done in an earlier run: 1",
        "batch-ocr: same content as another image, not sent again: 1",
        "batch-ocr: not attempted (left for the next run): 1",
        "batch-ocr: calls made (each may be billed): 3, retries: 1",
        "batch-ocr: elapsed: 2.0 s, 1.5 images/s",
        lines[7],
        "batch-ocr: stopped at --max-calls; the rest waits for the next run",
    ]
    assert lines[7].startswith("batch-ocr: unreadable folder: locked")
    assert "\x1b" not in lines[7], "a folder name must not reach the terminal raw"


def test_summary_text_of_an_offline_run() -> None:
    run = RunSummary(images_found=1, rows_by_status=Counter(ok=1), calls=1, billed=False,
                     engine="local", elapsed_s=1.0)
    text = summary_text(run)
    assert ("batch-ocr: recognised offline by the local engine: no call made, nothing billed"
            in text.splitlines())
    assert "billed):" not in text


def test_summary_text_of_dry_runs() -> None:
    billed = RunSummary(images_found=10, would_call=10, dry_run=True, price_per_call=0.15,
                        engine="api")
    assert ("batch-ocr: dry run: a real run would make 10 calls (about 1.50 CNY at 0.15 per call)"
            in summary_text(billed).splitlines())
    offline = RunSummary(images_found=10, would_call=10, dry_run=True, billed=False,
                         engine="local")
    assert ("batch-ocr: dry run: a real run would recognise 10 images with the local engine "
            "(offline: nothing is billed)" in summary_text(offline).splitlines())


def test_an_empty_run_says_so_plainly() -> None:
    assert summary_text(RunSummary(engine="api")).splitlines()[:2] == [
        "batch-ocr: images found: 0",
        "batch-ocr: rows written: 0",
    ]


def test_cards_answered_in_an_earlier_run_are_counted_apart_from_calls() -> None:
    run = RunSummary(images_found=1, rows_by_status=Counter(ok=1), calls=1, answers_reused=1,
                     engine="api", elapsed_s=1.0)
    assert ("batch-ocr: cards of a page answered in an earlier run, not sent again: 1"
            in summary_text(run).splitlines())
    facts = summary_json(run, 0)
    assert (facts["calls"], facts["answers_reused"]) == (1, 1)
    older = {k: v for k, v in facts.items() if k != "answers_reused"}
    assert SummaryJson.model_validate(older).answers_reused == 0  # an earlier version's file
