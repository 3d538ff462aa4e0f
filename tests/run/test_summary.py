"""Run summaries (``batch_ocr/run/summary.py``): exit codes, cost, the JSON keys, the lines."""

from __future__ import annotations

import dataclasses
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
    facts = SummaryJson.model_validate(summary_json(RunSummary(engine="api"), 0))
    shown = summary_module.report_facts(facts)
    assert set(summary_module.REPORT_FACTS) <= set(shown)
    assert shown["currency"] == "CNY"


def test_files_pages_and_cards_are_three_counts_named_alike_everywhere() -> None:
    """11 files (one a 4-page PDF) are 14 pages and, with a not-a-card page and a
    two-card page, 14 rows of which 13 read a card: each number is named as what it
    is, in the lines, the JSON and the review page's facts; the rate counts pages."""
    run = RunSummary(images_found=11, pages_read=14, calls=72, billed=False,
                     rows_by_status=Counter(ok=13, not_id_card=1), elapsed_s=7.0,
                     engine="local")
    lines = summary_text(run).splitlines()
    assert lines[:3] == ["batch-ocr: files found: 11",
                         "batch-ocr: pages read: 14, cards read: 13",
                         "batch-ocr: rows written: 14 (ok 13, not_id_card 1)"]
    assert lines[-1] == "batch-ocr: elapsed: 7.0 s, 2.0 pages/s"
    assert not any("call" in line and "no call made" not in line for line in lines), (
        "an offline run makes no call")
    facts = summary_json(run, 0)
    # The earlier keys keep their names and meanings; the new ones name the counts.
    assert (facts["images_found"], facts["files_found"]) == (11, 11)
    assert (facts["pages_read"], facts["cards_read"], facts["rows_written"]) == (14, 13, 14)
    assert (facts["pages_per_s"], facts["images_per_s"]) == (2.0, 2.0)
    assert facts["billed"] is False
    shown = summary_module.report_facts(SummaryJson.model_validate(facts))
    assert (shown["files_found"], shown["pages_read"], shown["cards_read"]) == (11, 14, 13)
    assert "calls" not in shown and "cost_estimate" not in shown
    assert shown["billed"] == "no call made, nothing billed"


def test_a_summary_of_an_earlier_version_still_names_its_files() -> None:
    facts = summary_json(RunSummary(images_found=3, engine="api", calls=3), 0)
    older = {k: v for k, v in facts.items()
             if k not in ("files_found", "pages_read", "cards_read", "pages_per_s", "billed")}
    shown = summary_module.report_facts(SummaryJson.model_validate(older))
    assert shown["files_found"] == 3 and shown["calls"] == 3
    assert shown["pages_read"] is None  # unknown: the page leaves it out


def test_summary_text_of_a_billed_run() -> None:
    run = RunSummary(images_found=4, ignored_files=1, rows_by_status=Counter(ok=2, error=1),
                     already_done=1, reused=1, not_attempted=1, pages_read=4, calls=3,
                     retries=1, elapsed_s=2.0, engine="api", budget_exhausted=True,
                     unreadable_dirs=("locked\x1b[31m",))
    lines = summary_text(run).splitlines()
    assert lines == [
        "batch-ocr: files found: 4 (other files ignored: 1)",
        "batch-ocr: pages read: 4, cards read: 2",
        "batch-ocr: rows written: 3 (ok 2, error 1)",
        "batch-ocr: already done in an earlier run: 1",
        "batch-ocr: same content as another image, not sent again: 1",
        "batch-ocr: not attempted (left for the next run): 1",
        "batch-ocr: calls made (each may be billed): 3, retries: 1",
        "batch-ocr: elapsed: 2.0 s, 2.0 pages/s",
        lines[8],
        "batch-ocr: stopped at --max-calls; the rest waits for the next run",
    ]
    assert lines[8].startswith("batch-ocr: unreadable folder: locked")
    assert "\x1b" not in lines[8], "a folder name must not reach the terminal raw"


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
    assert ("batch-ocr: dry run: a real run would recognise 10 pages with the local engine "
            "(offline: nothing is billed)" in summary_text(offline).splitlines())


def test_an_empty_run_says_so_plainly() -> None:
    assert summary_text(RunSummary(engine="api")).splitlines()[:2] == [
        "batch-ocr: files found: 0",
        "batch-ocr: pages read: 0, cards read: 0",
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


def test_a_hybrid_run_says_what_reading_offline_first_saved() -> None:
    run = RunSummary(images_found=10, rows_by_status=Counter(ok=10), calls=2,
                     cards_read_offline=8, cards_escalated=2, price_per_call=1.5,
                     engine="hybrid", elapsed_s=1.0)
    assert ("batch-ocr: card sides read offline: 8, sent to the API: 2 (about 12.00 CNY saved "
            "against sending every card)" in summary_text(run).splitlines())
    facts = summary_json(run, 0)
    assert (facts["cards_read_offline"], facts["cards_escalated"], facts["estimated_saving"],
            facts["estimated_cost"]) == (8, 2, 12.0, 3.0)
    dry = dataclasses.replace(run, dry_run=True, calls=0, would_call=2)
    assert ("batch-ocr: card sides read offline: 8, would be sent to the API: 2 (about 12.00 CNY "
            "saved against sending every card)" in summary_text(dry).splitlines())
    assert "read offline" not in summary_text(RunSummary(engine="api", calls=3))
    older = {k: v for k, v in facts.items() if k not in ("cards_read_offline",
                                                         "cards_escalated", "estimated_saving")}
    assert SummaryJson.model_validate(older).estimated_saving == 0.0
