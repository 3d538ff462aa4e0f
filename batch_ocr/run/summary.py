"""What a run did: live counters while it runs, a frozen summary at the end, and its
two renderings (the lines on stderr and ``--summary-json``).

Three counts, each named as what it is (docs/reference.md, "Summary"): *files* the walk
found (an image file or a document; ``images_found`` in the JSON, an older name, with
``files_found`` beside it), *pages* read (an image file is one page, a PDF or a
multi-page TIFF one per page) and *cards* read (rows with a card side recognised,
status ``ok``). The rate counts pages. The review page shows the same words and numbers.

The JSON keys are a public interface (docs/reference.md, "Summary"): cron jobs and the review page
read them. ``SummaryJson`` is their one schema; the review page reads a summary file
through it rather than guessing key names.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from batch_ocr.sanitize import printable
from batch_ocr.statuses import CLEAN_STATUSES, STATUSES

#: The exit codes a cron job acts on (docs/reference.md, "Exit codes").
EXIT_OK = 0
EXIT_FILE_ERRORS = 1
EXIT_USAGE = 2
EXIT_FATAL = 3
EXIT_LOCKED = 75
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


@dataclass(slots=True)
class RunCounters:
    """Counted while the run goes; only the run writes them (progress reads them)."""

    images_found: int = 0
    rows_by_status: Counter[str] = field(default_factory=Counter)
    already_done: int = 0
    reused: int = 0
    not_attempted: int = 0
    would_call: int = 0
    calls: int = 0
    retries: int = 0
    #: Files finished in any way (rows, skipped, not attempted): what progress counts,
    #: since a document has a row per page.
    files_done: int = 0
    #: Images read: each single image, each page of a document (skipped files: none).
    pages_read: int = 0
    #: Pages read again because an older version of the engine recorded them
    #: (``--redo-engine-older-than``), and in a dry run the calls they would make.
    older_engine_rereads: int = 0
    older_engine_reread_calls: int = 0

    @property
    def rows_written(self) -> int:
        return sum(self.rows_by_status.values())

    @property
    def cards_read(self) -> int:
        """Rows with a card side recognised (status ``ok``)."""
        return self.rows_by_status["ok"]

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.rows_by_status.items() if status not in CLEAN_STATUSES)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run did, for the summary lines, ``--summary-json`` and the exit code."""

    images_found: int = 0
    rows_by_status: Counter[str] = field(default_factory=Counter)
    ignored_files: int = 0
    #: The first ``discovery.MAX_IGNORED_LISTED`` ignored files, named.
    ignored: tuple[str, ...] = ()
    already_done: int = 0
    reused: int = 0
    not_attempted: int = 0
    would_call: int = 0
    #: Images read: each single image, each page of a document.
    pages_read: int = 0
    #: ``--redo-engine-older-than``: its version, the pages read again (or, in a dry
    #: run, to read again) and, in a dry run, the calls they would make.
    redo_engine_older_than: str | None = None
    older_engine_rereads: int = 0
    older_engine_reread_calls: int = 0
    calls: int = 0
    retries: int = 0
    #: Answers for cards of a page paid for in an earlier try, not paid again.
    answers_reused: int = 0
    #: ``--engine hybrid``: cards whose offline reading was vouched for (no call paid)
    #: and cards sent to the API (in a dry run: that would be).
    cards_read_offline: int = 0
    cards_escalated: int = 0
    elapsed_s: float = 0.0
    fatal_error: str | None = None
    fatal_code: str | None = None
    budget_exhausted: bool = False
    interrupted: bool = False
    dry_run: bool = False
    engine: str = ""
    #: The engine's version (``Engine.version``), recorded with every page it reads.
    engine_version: str = ""
    #: Whether the engine's calls may cost money (the API) or not (offline).
    billed: bool = True
    #: The engine's price of one call in ``CURRENCY`` (``Engine.price_per_call_cny``).
    price_per_call: float = 0.0
    unreadable_dirs: tuple[str, ...] = ()
    #: Symbolic links to folders not entered (no ``--follow-links``), named in ``ignored``.
    linked_folders_passed: int = 0
    #: What the output holds after the run (rows by status, every run's), when known:
    #: a rerun that adds nothing still carries its earlier rejected rows.
    output_rows_by_status: Counter[str] | None = None

    @property
    def rows_written(self) -> int:
        return sum(self.rows_by_status.values())

    @property
    def files_found(self) -> int:
        """Files the walk found: an image file or a document (``images_found``)."""
        return self.images_found

    @property
    def cards_read(self) -> int:
        """Rows with a card side recognised (status ``ok``)."""
        return self.rows_by_status["ok"]

    @property
    def images_per_s(self) -> float:
        """Rows written per second (the JSON's ``images_per_s``, kept as it was)."""
        return self.rows_written / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def pages_per_s(self) -> float:
        """Pages read per second: the rate the summary line shows."""
        return self.pages_read / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def all_clean(self) -> bool:
        """Every row written is ok, not_id_card or scan_failed."""
        return all(status in CLEAN_STATUSES for status in +self.rows_by_status)

    @property
    def estimated_cost(self) -> float:
        """What the calls made (or, in a dry run, those it would make) cost."""
        if not self.billed:
            return 0.0
        calls = self.would_call if self.dry_run else self.calls
        return round(calls * self.price_per_call, 2)

    @property
    def estimated_saving(self) -> float:
        """What the card sides read offline would have cost sent to the API (hybrid)."""
        return round(self.cards_read_offline * self.price_per_call, 2)


def exit_status(summary: RunSummary, *, terminated: bool = False) -> int:
    """The exit code of a run that ended with ``summary`` (``batch-ocr`` exits with it)."""
    if summary.fatal_error is not None:
        return EXIT_FATAL
    if summary.interrupted:
        return EXIT_SIGTERM if terminated else EXIT_SIGINT
    return EXIT_OK if summary.all_clean else EXIT_FILE_ERRORS


class SummaryJson(BaseModel):
    """The schema of ``--summary-json`` (extra keys from newer versions are kept)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    exit_code: int
    images_found: int
    rows_written: int
    rows_by_status: dict[str, int]
    #: Rows by status in the output after the run (every run's; a row per card of a page
    #: of several); null when a second Ctrl-C cut the run before it could be counted.
    output_rows_by_status: dict[str, int] | None = None
    ignored_files: int
    #: Paths (relative to their source) of the first 1,000 ignored files.
    ignored: list[str] = []
    already_done: int
    reused: int
    not_attempted: int
    calls: int
    retries: int
    #: Cards of a page answered in an earlier run (or try), not sent again
    #: (docs/documents.md); absent from summaries of earlier versions.
    answers_reused: int = 0
    would_call: int
    estimated_cost: float
    #: ``--engine hybrid``: card sides (one call each) read offline and vouched for, and
    #: sent to the API, and the CNY the first saved against sending every card
    #: (docs/hybrid.md); 0 for the other engines and absent from summaries of earlier
    #: versions.
    cards_read_offline: int = 0
    cards_escalated: int = 0
    estimated_saving: float = 0.0
    elapsed_s: float
    images_per_s: float
    fatal_error: str | None
    fatal_code: str | None
    interrupted: bool
    budget_exhausted: bool
    dry_run: bool
    engine: str
    finished_at: str
    # Added later (absent from the summaries of earlier versions, so optional): the
    # three counts by name (module docstring), the rate the summary line shows, and
    # whether the engine's calls may be billed.
    files_found: int | None = None
    pages_read: int | None = None
    cards_read: int | None = None
    pages_per_s: float | None = None
    billed: bool | None = None
    #: The engine's version, ``--redo-engine-older-than`` (null when not given), the
    #: pages it read again (a dry run: would read again) and, in a dry run, the calls
    #: those would make (docs/resume.md).
    engine_version: str | None = None
    redo_engine_older_than: str | None = None
    older_engine_rereads: int | None = None
    older_engine_reread_calls: int | None = None


#: Facts the review page shows in its header (the rest of the summary is noise there),
#: named as the summary lines name them (``report_facts``).
REPORT_FACTS: tuple[str, ...] = (
    "engine", "calls", "retries", "elapsed_s", "files_found", "pages_read", "cards_read",
    "already_done", "not_attempted", "exit_code", "finished_at",
)
#: What an offline run's page says instead of calls and a cost (the summary's words).
NOTHING_BILLED = "no call made, nothing billed"
#: The currency of ``estimated_cost``.
CURRENCY = "CNY"


def summary_json(summary: RunSummary, exit_code: int) -> dict[str, Any]:
    """The machine-readable summary, keys in ``SummaryJson`` order.

    A plain dict, not built through ``SummaryJson``: building that model's validator
    took 15-50 ms at the end of every run (tests/benchmarks, throughput); the tests
    check that this dict is exactly what the model reads and writes back.
    """
    facts = dict(
        exit_code=exit_code,
        images_found=summary.images_found,
        rows_written=summary.rows_written,
        rows_by_status={s: summary.rows_by_status[s] for s in STATUSES},
        ignored_files=summary.ignored_files,
        output_rows_by_status=None if summary.output_rows_by_status is None else {
            s: summary.output_rows_by_status[s] for s in STATUSES},
        ignored=list(summary.ignored),
        already_done=summary.already_done,
        reused=summary.reused,
        not_attempted=summary.not_attempted,
        calls=summary.calls,
        retries=summary.retries,
        answers_reused=summary.answers_reused,
        would_call=summary.would_call,
        estimated_cost=summary.estimated_cost,
        cards_read_offline=summary.cards_read_offline,
        cards_escalated=summary.cards_escalated,
        estimated_saving=summary.estimated_saving,
        elapsed_s=round(summary.elapsed_s, 3),
        images_per_s=round(summary.images_per_s, 2),
        fatal_error=summary.fatal_error,
        fatal_code=summary.fatal_code,
        interrupted=summary.interrupted,
        budget_exhausted=summary.budget_exhausted,
        dry_run=summary.dry_run,
        engine=summary.engine,
        finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        files_found=summary.files_found,
        pages_read=summary.pages_read,
        cards_read=summary.cards_read,
        pages_per_s=round(summary.pages_per_s, 2),
        billed=summary.billed,
        engine_version=summary.engine_version,
        redo_engine_older_than=summary.redo_engine_older_than,
        older_engine_rereads=summary.older_engine_rereads,
        older_engine_reread_calls=summary.older_engine_reread_calls,
    )
    return {key: facts[key] for key in SummaryJson.model_fields}


def report_facts(facts: SummaryJson) -> dict[str, Any]:
    """The summary facts the review page shows, read through the schema, in the words
    of the summary lines: files, pages and cards by name; an offline run's recognitions
    are not calls (it says ``NOTHING_BILLED``, as the terminal does)."""
    shown = {key: getattr(facts, key, None) for key in REPORT_FACTS}
    if shown["files_found"] is None:  # a summary of an earlier version
        shown["files_found"] = facts.images_found
    if facts.billed is False:
        del shown["calls"], shown["retries"]
        shown["billed"] = NOTHING_BILLED
    else:
        shown.update(cost_estimate=facts.estimated_cost, currency=CURRENCY)
    return shown


def _calls_line(summary: RunSummary) -> str:
    if summary.dry_run and summary.billed:
        return (f"dry run: a real run would make {summary.would_call} calls "
                f"(about {summary.estimated_cost:.2f} {CURRENCY} at "
                f"{summary.price_per_call:g} per call)")
    if summary.dry_run:
        return (f"dry run: a real run would recognise {summary.would_call} pages with the "
                f"{summary.engine} engine (offline: nothing is billed)")
    if not summary.billed:
        return f"recognised offline by the {summary.engine} engine: {NOTHING_BILLED}"
    return f"calls made (each may be billed): {summary.calls}, retries: {summary.retries}"


def _older_engine_line(summary: RunSummary) -> str:
    """What ``--redo-engine-older-than`` re-read, or (a dry run) would re-read and cost."""
    older = (f"pages the {summary.engine} engine recorded before version "
             f"{summary.redo_engine_older_than}")
    if not summary.dry_run:
        return f"{older}, read again: {summary.older_engine_rereads}"
    line = f"dry run: {older}, to read again: {summary.older_engine_rereads}"
    if not summary.billed:
        return line + " (offline: nothing is billed)"
    calls = summary.older_engine_reread_calls
    return (line + f" ({calls} calls, about {calls * summary.price_per_call:.2f} {CURRENCY}"
            f" at {summary.price_per_call:g} per call)")


def _escalation_line(summary: RunSummary) -> str:
    """What reading offline first saved (hybrid)."""
    sent = "would be sent" if summary.dry_run else "sent"
    return (f"card sides read offline: {summary.cards_read_offline}, {sent} to the API: "
            f"{summary.cards_escalated} (about {summary.estimated_saving:.2f} {CURRENCY} "
            "saved against sending every card)")


#: Ignored files named on stderr; the summary JSON names up to 1,000.
IGNORED_SHOWN = 20


def _ignored_lines(summary: RunSummary) -> list[str]:
    """Name the files the walk passed over: nothing is skipped silently."""
    lines = [f"ignored: {printable(name)}" for name in summary.ignored[:IGNORED_SHOWN]]
    if summary.ignored_files > IGNORED_SHOWN:
        lines.append(f"ignored: and {summary.ignored_files - IGNORED_SHOWN} more"
                     + (" (see --summary-json)" if len(summary.ignored) > IGNORED_SHOWN
                        else ""))
    if summary.linked_folders_passed:
        lines.append(f"ignored: {summary.linked_folders_passed} symbolic link(s) to folders "
                     "(named with a trailing /) were not entered; --follow-links reads them")
    return lines


def summary_text(summary: RunSummary) -> str:
    """The human summary printed on stderr at the end."""
    counts = ", ".join(f"{s} {summary.rows_by_status[s]}" for s in STATUSES
                       if summary.rows_by_status[s])
    lines = [
        f"files found: {summary.files_found}"
        + (f" (other files ignored: {summary.ignored_files})" if summary.ignored_files else ""),
        *_ignored_lines(summary),
    ]
    if not summary.dry_run:  # a dry run says what a real run would read, below
        lines.append(f"pages read: {summary.pages_read}, cards read: {summary.cards_read}")
    lines.append(f"rows written: {summary.rows_written}" + (f" ({counts})" if counts else ""))
    if summary.output_rows_by_status is not None:
        held = summary.output_rows_by_status
        held_counts = ", ".join(f"{s} {held[s]}" for s in STATUSES if held[s])
        lines.append(f"the output now holds: {sum(held.values())} rows"
                     + (f" ({held_counts})" if held_counts else ""))
    if summary.already_done:
        lines.append(f"already done in an earlier run: {summary.already_done}")
    if summary.reused:
        lines.append(f"same content as another image, not sent again: {summary.reused}")
    if summary.answers_reused:
        lines.append("cards of a page answered in an earlier run, not sent again: "
                     f"{summary.answers_reused}")
    if summary.not_attempted:
        lines.append(f"not attempted (left for the next run): {summary.not_attempted}")
    if summary.redo_engine_older_than is not None:
        lines.append(_older_engine_line(summary))
    if summary.dry_run:
        # What a real run would read (docs/resume.md: honest dry run).
        lines.append(f"dry run: files to read: {summary.images_found - summary.already_done}"
                     f" ({summary.pages_read} pages)")
    lines.append(_calls_line(summary))
    if summary.cards_read_offline or summary.cards_escalated:
        lines.append(_escalation_line(summary))
    lines.append(f"elapsed: {summary.elapsed_s:.1f} s, {summary.pages_per_s:.1f} pages/s")
    for problem in summary.unreadable_dirs:
        lines.append(f"unreadable folder: {printable(problem)}")
    if summary.budget_exhausted:
        lines.append("stopped at --max-calls; the rest waits for the next run")
    return "\n".join("batch-ocr: " + line for line in lines)
