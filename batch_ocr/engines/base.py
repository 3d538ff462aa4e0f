"""The one seam between a run and whatever reads the cards.

A run is handed an ``Engine`` and knows nothing else about it (STYLE.md, habit 13):
whether its calls are billed and at what price, which of its failures a later run
retries, which image limits it needs, what it counts and which resources (sessions and
their transport settings, worker processes) it holds are the engine's own business,
declared here.

Lifecycle: create (cheap, no resources) -> ``start()`` -> ``recognise()`` any number of
times, concurrently -> ``aclose()``. A dry run never starts its engine, unless the
engine must read to count its calls (``reads_in_dry_run``).

Errors an engine raises from ``recognise``:

- ``FileError``: this image failed; it becomes a row and the run goes on;
- ``FatalRunError``: nothing more can succeed; the run starts nothing new, lets what is
  in flight finish and exits 3;
- ``CallBudgetExhausted``: the engine refused to start a billed call (``--max-calls``);
  the image is left for the next run.

An engine that makes several billed calls for one image (the API engine, a call per card
on a page) keeps each answer as it arrives in the ``AnswerKeeper`` the run gives it
(``keep_answers_in``), so that an image that fails part-way, or a run killed between two
of its calls, never pays for an answer twice (docs/documents.md). A failure of one
card of such an image is a ``CardFailure`` in ``EngineResult.cards``, not an exception:
the cards that were read keep their rows.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from batch_ocr.errors import BatchOcrError
from batch_ocr.provider.models import CardData
from batch_ocr.run.cards import CardFailure, CardRead
from batch_ocr.vision.imaging import ImageLimits, PreparedImage


@dataclass(frozen=True, slots=True)
class EngineResult:
    """What an engine read from one image."""

    data: CardData
    #: Calls (API) or runs (local) it took, the first included.
    attempts: int
    #: The portrait's bytes when the engine cropped it itself; an engine that only has
    #: a link puts it in ``data.image_url`` and fetches it in ``fetch_portrait``.
    portrait_bytes: bytes | None = None
    #: The engine's own 0-1 confidence per output column (local engine); the API
    #: gives none, so it stays empty there.
    confidence: Mapping[str, float] = field(default_factory=dict)
    #: Image warnings when the engine computed them itself (the offline engine, from
    #: the card it found; the API engine, when its card search's decode served them);
    #: None: the run computes them from the image.
    warnings: tuple[str, ...] | None = None
    #: One entry per row when the image held several ID card sides that are not one
    #: front and one back (``batch_ocr.run.cards.assemble``), or when the reading of one of
    #: its cards failed (a ``CardFailure``, an ``error`` row with its number); empty
    #: when ``data`` is the image's only row.
    cards: tuple[CardRead | CardFailure, ...] = ()
    #: Keys of the answers kept for this image (``AnswerKeeper.keep``) that its rows now
    #: hold: the run lets them go once the rows are journaled for good.
    kept_answers: tuple[str, ...] = ()
    #: Every card found on a page of several, as read, in reading order, before they
    #: became rows (``assemble``): an engine that reads card by card (the offline one)
    #: gives them, so that another engine can read some of them again (hybrid).
    found: tuple[CardRead, ...] = ()
    #: The engine re-encoded or shrank the image itself before sending it (an engine
    #: that reads original pixels and sends another engine its own payload); the run
    #: says ``fitted`` for those too.
    fitted: bool = False


@dataclass(frozen=True, slots=True)
class EngineCounters:
    """What an engine has done so far, for the progress line and the summary."""

    #: Calls made, retries included (billed calls for a billed engine).
    calls: int = 0
    #: Calls that were second or later attempts.
    retries: int = 0
    #: Answers recalled from the ``AnswerKeeper`` instead of paid for again (a card
    #: of a page answered in an earlier try).
    answers_reused: int = 0
    #: Cards whose offline reading was vouched for, so no call was paid for them, and
    #: cards sent to a billed engine because it was not (hybrid; 0 for the others).
    cards_read_offline: int = 0
    cards_escalated: int = 0


@dataclass(frozen=True, slots=True)
class PaidAnswer:
    """One paid answer for a part of an image (a card of a page), kept as it arrives."""

    data: CardData
    #: Calls it took, the first included.
    attempts: int


class AnswerKeeper(ABC):
    """Where an engine keeps the answers it paid for before the image's rows exist.

    The run gives one backed by its journal (committed before ``keep`` returns, so a
    ``kill -9`` right after loses nothing); ``recall`` gives back what an earlier run
    (or an earlier try of the same image) paid for, unless the run must redo it
    (``--force``, or ``--retry-failed`` for a card that could not be read). Keys are
    the engine's: the API engine uses the sha256 of the card's crop.
    """

    @abstractmethod
    async def recall(self, key: str) -> PaidAnswer | None:
        """The kept answer under ``key`` that may stand for a new call, if any."""

    @abstractmethod
    async def keep(self, key: str, answer: PaidAnswer) -> None:
        """Keep ``answer`` under ``key``; durable when this returns."""

    @abstractmethod
    async def holds_any(self) -> bool:
        """Whether any answer may be recalled (a dry run skips cutting cards when not)."""


class NoAnswerKeeper(AnswerKeeper):
    """Keeps nothing: a run without a journal (``-o -``) and an engine never told."""

    async def recall(self, key: str) -> PaidAnswer | None:
        return None

    async def keep(self, key: str, answer: PaidAnswer) -> None:
        return None

    async def holds_any(self) -> bool:
        return False


class PortraitUnavailable(Exception):
    """The engine cannot give this portrait; the message goes to ``portrait_error``."""


class Engine(ABC):
    """Recognises prepared images; see the module docstring for the contract."""

    #: The name ``--engine`` selects it by and rows carry in ``engine``.
    name: ClassVar[str]
    #: Whether a recognition may cost money: dry runs price it, summaries say so.
    billed: ClassVar[bool] = False
    #: What one call costs, in CNY (``run.summary.CURRENCY``): a dry run quotes the calls
    #: it would make at this price, a summary the calls made. 0 when nothing is billed.
    price_per_call_cny: float = 0.0
    #: Row error codes of this engine's own failures whose cause was transient (a
    #: timeout, a worker that died): a later run tries those images again. The run's
    #: own such codes (a file that vanished, ...) are in ``batch_ocr.statuses``.
    retried_next_run: ClassVar[frozenset[str]] = frozenset()
    #: Limits images are fitted to before ``recognise``; None gives original pixels.
    image_limits: ClassVar[ImageLimits | None] = None
    #: Said once at the start of a run ("offline, nothing leaves this machine").
    description: str = ""
    #: The version of how this engine reads a card: dotted numbers ("1", "1.2"), raised
    #: by a change that reads some card differently. The journal keeps it with every
    #: page the engine read, so ``--redo-engine-older-than`` re-reads only the pages an
    #: older version recorded (docs/resume.md).
    version: ClassVar[str] = "1"
    #: A dry run starts this engine too, since it must read to count its calls (hybrid
    #: reads offline, CPU only, to know which cards it would pay for).
    reads_in_dry_run: ClassVar[bool] = False

    async def start(self) -> None:  # noqa: B027 - engines without resources skip it
        """Acquire what the engine needs (sessions, worker processes)."""

    @abstractmethod
    async def recognise(self, image: PreparedImage) -> EngineResult:
        """Recognise one image."""

    def keep_answers_in(self, keeper: AnswerKeeper) -> None:  # noqa: B027 - one call per image engines skip it
        """Where to keep answers paid for before an image's rows exist (see above).

        The run calls this once before the first ``recognise`` (or ``calls_for``).
        An engine that makes one call per image has nothing to keep and ignores it.
        """

    def images_in_flight(self) -> int:
        """Images the run should hold at once to keep a started engine busy.

        0 means no wish beyond ``--concurrency``. An engine that batches (the offline
        engine on a cluster) needs more images at once than there are requests.
        """
        return 0

    def counters(self) -> EngineCounters:
        """Calls and retries so far (an engine that counts nothing reports zeros)."""
        return EngineCounters()

    async def calls_for(self, image: PreparedImage) -> int:
        """Calls ``recognise`` would make for ``image`` now (the dry run's count): not
        those whose answers are kept already.

        Works on an engine that was not started (one that ``reads_in_dry_run`` is
        started); CPU it takes runs off the event loop.
        """
        return 1

    def halt(self, reason: BatchOcrError) -> None:  # noqa: B027 - engines without waits skip it
        """The run is stopping: start no new call; images waiting for one raise ``reason``.

        Calls already out finish. An engine that holds images waiting for a slot (the
        API engine holds more images than requests) must not start them after this:
        they would be paid for and, after a fatal output error, not written.
        """

    async def fetch_portrait(self, url: str) -> bytes:
        """The portrait behind ``data.image_url`` (an engine that gives links has it)."""
        raise PortraitUnavailable(f"the {self.name} engine cannot fetch portrait links")

    async def aclose(self) -> None:  # noqa: B027 - engines without resources skip it
        """Release what the engine holds; called once, also after a failed start."""
