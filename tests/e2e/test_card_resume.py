"""A page of several cards through the API never pays twice for a card (docs/documents.md).

Each card on a page is its own billed call. When one of them fails (an error after the
last attempt, a refusal, a kill -9 between two calls, the quota running out), the cards
already answered keep their answers: the page gets a row per card (the failed one an
``error`` row with its number), and the next run, ``--retry-failed`` and ``--dry-run``
count and pay only the cards still due. Measured the way a user would: the real CLI as
a process against ``batch-ocr-emulator --engine local`` (real recognition of each crop)
on 127.0.0.1, counting the emulator's billable calls and which crops they were for.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.card_pages import make_samples, page_bytes, people
from tests.e2e_support import (
    demo_env,
    emulator_process,
    faults_on_second_call,
    kill_9_when_answered,
    stats_of,
)
from tests.skips import needs_local

pytestmark = [
    needs_local,
    pytest.mark.slow,
]


def _scans(tmp_path: Path) -> tuple[Path, Any]:
    """``copy.png``: a grey photocopy page with one person's front above the back."""
    samples = make_samples()
    person = people(1, seed=21)[0]
    page = samples.CardPage("copy", (samples.PageCard("front", person),
                                     samples.PageCard("back", person)))  # fmt: skip
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "copy.png").write_bytes(page_bytes(page))
    return scans, person


@pytest.fixture
def local_emulator() -> Iterator[Any]:
    """Start ``batch-ocr-emulator --engine local`` with extra flags; stopped at the end."""
    stack: list[Any] = []

    def start(*flags: str) -> str:
        context = emulator_process("--engine", "local", "--workers", "1", *flags)
        stack.append(context)
        return context.__enter__()

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


def _cli(*args: str, url: str) -> list[str]:
    # One attempt, so the emulator's fault decides; a long timeout, so a busy machine's
    # slow recognition is not taken for one.
    return [sys.executable, "-m", "batch_ocr", *args, "--max-attempts", "1",
            "--concurrency", "1", "--timeout", "120"]  # fmt: skip


def _run(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cli(*args, url=url), env=demo_env(BATCH_OCR_ENDPOINT=url),
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _shown(rows: list[dict[str, str]]) -> list[tuple[str, str, str, str]]:
    return [(r["card"], r["side"], r["status"], r["error_code"]) for r in rows]


def _assert_whole_card(rows: list[dict[str, str]], person: Any) -> None:
    assert _shown(rows) == [("", "both", "ok", "")]
    row = rows[0]
    assert (row["name"], row["id_number"].rstrip("\t")) == (person.name, person.number)
    assert (row["authority"], row["valid_from"]) == (person.authority,
                                                     person.valid_from.isoformat())


def test_a_card_that_fails_is_the_only_one_paid_again(tmp_path: Path, local_emulator: Any,
                                                      healthy: str) -> None:
    scans, person = _scans(tmp_path)
    out = tmp_path / "out.csv"
    faces = ("--portraits", str(tmp_path / "faces"))
    failing = local_emulator(*faults_on_second_call(fail_code=500))
    first = _run(str(scans), "-o", str(out), *faces, url=failing)
    assert first.returncode == 1, first.stderr  # a row failed: the exit code says so
    paid_first = stats_of(failing)
    assert (paid_first["calls"], paid_first["billable"]) == (2, 1)
    rows = _rows(out)
    assert _shown(rows) == [("1", "front", "ok", ""), ("2", "", "error", "500")]
    assert (rows[0]["name"], rows[0]["file"]) == (person.name, "copy.png")
    assert rows[1]["file"] == "copy.png" and rows[1]["error_message"]
    assert Path(rows[0]["portrait_file"]).name == "copy.png-card1.jpg"

    dry = _run(str(scans), "-o", str(out), "--dry-run", url=healthy)
    assert dry.returncode == 0, dry.stderr
    assert "a real run would make 1 calls" in dry.stderr
    again = _run(str(scans), "-o", str(out), *faces, url=healthy)
    assert again.returncode == 0, again.stderr
    paid_again = stats_of(healthy)
    assert (paid_again["calls"], paid_again["billable"]) == (1, 1)  # the back only
    assert "cards of a page answered in an earlier run, not sent again: 1" in again.stderr
    assert "calls made (each may be billed): 1," in again.stderr
    assert not set(paid_again["billable_per_sha256"]) & set(paid_first["billable_per_sha256"])
    _assert_whole_card(_rows(out), person)
    # The front's portrait link, kept with its answer, still works within its hour.
    assert Path(_rows(out)[0]["portrait_file"]).name == "copy.png.jpg"
    assert Path(_rows(out)[0]["portrait_file"]).is_file()

    noop = _run(str(scans), "-o", str(out), url=healthy)
    assert noop.returncode == 0, noop.stderr
    assert stats_of(healthy)["calls"] == 1
    _assert_whole_card(_rows(out), person)


def test_retry_failed_redoes_only_the_card_that_was_refused(
        tmp_path: Path, local_emulator: Any, healthy: str) -> None:
    scans, person = _scans(tmp_path)
    out = tmp_path / "out.csv"
    refusing = local_emulator(*faults_on_second_call(fail_code=400))  # permanent: a row, never retried
    first = _run(str(scans), "-o", str(out), url=refusing)
    assert first.returncode == 1, first.stderr
    assert _shown(_rows(out)) == [("1", "front", "ok", ""), ("2", "", "error", "400")]

    rerun = _run(str(scans), "-o", str(out), url=healthy)
    assert rerun.returncode == 0, rerun.stderr  # a refusal is final: not sent again
    assert "already done in an earlier run: 1" in rerun.stderr
    assert stats_of(healthy)["calls"] == 0
    assert _shown(_rows(out))[1] == ("2", "", "error", "400")
    dry = _run(str(scans), "-o", str(out), "--retry-failed", "--dry-run", url=healthy)
    assert "a real run would make 1 calls" in dry.stderr, dry.stderr
    retried = _run(str(scans), "-o", str(out), "--retry-failed", url=healthy)
    assert retried.returncode == 0, retried.stderr
    assert (stats_of(healthy)["calls"], stats_of(healthy)["billable"]) == (1, 1)
    _assert_whole_card(_rows(out), person)


def test_kill_9_between_two_card_calls_keeps_the_first_answer(
        tmp_path: Path, local_emulator: Any, healthy: str) -> None:
    scans, person = _scans(tmp_path)
    out = tmp_path / "out.csv"
    hanging = local_emulator(*faults_on_second_call(hang=True))  # the second call never answers
    kill_9_when_answered(_cli(str(scans), "-o", str(out), url=hanging), hanging)
    assert stats_of(hanging)["billable"] == 1

    again = _run(str(scans), "-o", str(out), url=healthy)
    assert again.returncode == 0, again.stderr
    assert (stats_of(healthy)["calls"], stats_of(healthy)["billable"]) == (1, 1)
    _assert_whole_card(_rows(out), person)


def test_quota_running_out_between_two_cards_costs_one_call_to_finish(
        tmp_path: Path, local_emulator: Any, healthy: str) -> None:
    """With a second copy of the same page beside it: the same content is read once."""
    scans, person = _scans(tmp_path)
    (scans / "copy-again.png").write_bytes((scans / "copy.png").read_bytes())
    out = tmp_path / "out.csv"
    one_call_left = local_emulator("--quota", "1")
    first = _run(str(scans), "-o", str(out), url=one_call_left)
    assert first.returncode == 3, first.stderr  # fatal: the run stops with one message
    assert "quota" in first.stderr.lower() and "Traceback" not in first.stderr
    assert stats_of(one_call_left)["billable"] == 1
    assert _rows(out) == []  # the page has no row until its cards are all answered

    again = _run(str(scans), "-o", str(out), url=healthy)
    assert again.returncode == 0, again.stderr
    assert (stats_of(healthy)["calls"], stats_of(healthy)["billable"]) == (1, 1)
    assert "same content as another image, not sent again: 1" in again.stderr
    rows = _rows(out)
    assert [r["file"] for r in rows] == ["copy-again.png", "copy.png"]
    _assert_whole_card(rows[:1], person)
    _assert_whole_card(rows[1:], person)
