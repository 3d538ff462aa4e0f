"""The output at the end of a run is in the journal's order, whichever way it was made.

A first run puts the lines it appended in order instead of reading the journal again
(``output.OutputFile.finish``, ``appended_are_all``); what it writes must be byte for
byte what the rewrite from the journal writes, for every format, with answers finishing
out of order, nested and non-ASCII names, and pages holding several cards.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from pathlib import Path

import pytest

from batch_ocr.engines.base import Engine, EngineCounters, EngineResult
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run.cards import CardRead
from batch_ocr.run.journal.state import Journal
from batch_ocr.run.output import file as output_module
from batch_ocr.run.output.file import OutputFile
from batch_ocr.run.pipeline import RunOptions
from batch_ocr.run.runner import OutputView, Runner
from batch_ocr.settings import Settings
from batch_ocr.vision.imaging import PreparedImage
from tests.pictures import marked

BOUND_S = 60.0
NAMES = ["b.png", "A.png", "a/z.png", "a/页.png", "c 1.png", "_x.png", "a/b/c.png",
         "证件/正面.png", "z.png", "0.png"] + [f"many/{index:03d}.png" for index in range(30)]
#: Images this wide hold three cards (a row each).
THREE_CARDS_WIDTH = 150


class ShuffledEngine(Engine):
    """Answers after a random pause, so rows finish in no particular order."""

    name = "shuffled"

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.calls = 0

    async def recognise(self, image: PreparedImage) -> EngineResult:
        self.calls += 1
        await asyncio.sleep(self.random.uniform(0, 0.02))
        digest = hashlib.sha256(image.payload).hexdigest()
        data = CardData(result=0, side="front",
                        info=CardInfo(name=f"张{digest[:4]}", number=digest[:18]))
        if image.width != THREE_CARDS_WIDTH:
            return EngineResult(data, attempts=1)
        cards = tuple(CardRead(data, card=number) for number in (1, 2, 3))
        return EngineResult(data, attempts=1, cards=cards)

    def counters(self) -> EngineCounters:
        return EngineCounters(calls=self.calls)


def make_scans(folder: Path) -> Path:
    for index, name in enumerate(NAMES):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        width = THREE_CARDS_WIDTH if index % 7 == 3 else 120
        marked((width, 60), (index * 6, 90, 200)).save(path)
    return folder


def journal_rewrite(runner: Runner, output: Path, fmt: str) -> bytes:
    """What the output holds when rewritten from the journal (the general path)."""
    copy = output.with_name("from-journal" + output.suffix)
    assert runner.state_path is not None
    with Journal(runner.state_path) as journal:
        rebuilt = OutputFile(str(copy), fmt, bom=True)
        rebuilt.start(runner.present(row) for row in journal.rows())
        rebuilt.finish()
    return copy.read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_first_run_ends_in_the_journals_order(tmp_path: Path, fmt: str,
                                                      seed: int) -> None:
    scans = make_scans(tmp_path / "scans")
    output = tmp_path / f"out.{fmt}"
    runner = Runner(Settings.model_validate({}), [scans], str(output),
                    engine=ShuffledEngine(seed), options=RunOptions(concurrency=8),
                    view=OutputView(mask=seed == 2))
    summary = await asyncio.wait_for(runner.run(), BOUND_S)
    assert summary.rows_written == len(NAMES) + 2 * sum(
        1 for index in range(len(NAMES)) if index % 7 == 3)

    assert output.read_bytes() == journal_rewrite(runner, output, fmt)


async def test_two_sources_with_the_same_names_are_ordered_by_the_journal(
        tmp_path: Path) -> None:
    """Rows do not hold the full path the journal also orders by: such a run falls
    back to reading the journal, and its output is still in the journal's order."""
    first = make_scans(tmp_path / "one")
    second = make_scans(tmp_path / "two")
    output = tmp_path / "out.csv"
    runner = Runner(Settings.model_validate({}), [second, first], str(output),
                    engine=ShuffledEngine(4), options=RunOptions(concurrency=8))
    await asyncio.wait_for(runner.run(), BOUND_S)

    assert output.read_bytes() == journal_rewrite(runner, output, "csv")


async def test_a_first_run_longer_than_the_lines_kept_reads_the_journal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output_module, "MAX_KEPT_LINES", 5)
    scans = make_scans(tmp_path / "scans")
    output = tmp_path / "out.csv"
    runner = Runner(Settings.model_validate({}), [scans], str(output),
                    engine=ShuffledEngine(5), options=RunOptions(concurrency=8))
    await asyncio.wait_for(runner.run(), BOUND_S)

    assert output.read_bytes() == journal_rewrite(runner, output, "csv")
