"""Once per content (``batch_ocr/run/dedup.py``): copies share one recognition, memory is bounded."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

from batch_ocr.run.dedup import ContentDedup, SeenContents
from batch_ocr.run.present.rows import Row

BOUND_S = 5.0


class Recogniser:
    """Counts calls; each waits until ``release`` is set, then answers or raises."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.error = error

    async def __call__(self) -> Row:
        self.calls += 1
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return Row(file=f"first-{self.calls}.jpg", status="ok", sha256="aa")


async def answer(file: str) -> Row:
    return Row(file=file, status="ok")


async def test_concurrent_copies_recognise_once_and_share_the_row() -> None:
    dedup = ContentDedup()
    recognise = Recogniser()
    copies = [asyncio.create_task(dedup.once("aa", recognise)) for _ in range(5)]
    for _ in range(3):
        await asyncio.sleep(0)
    recognise.release.set()
    results = await asyncio.wait_for(asyncio.gather(*copies), BOUND_S)

    assert recognise.calls == 1
    rows = {id(row) for row, _ in results}
    assert len(rows) == 1
    assert sorted(is_copy for _, is_copy in results) == [False, True, True, True, True]
    assert results[0] == (Row(file="first-1.jpg", status="ok", sha256="aa"), False)
    # A copy met later takes the remembered row, without a call.
    row, is_copy = await dedup.once("aa", recognise)
    assert (row.file, is_copy, recognise.calls) == ("first-1.jpg", True, 1)


async def test_different_contents_are_recognised_separately() -> None:
    dedup = ContentDedup()
    first = await dedup.once("aa", lambda: answer("a.jpg"))
    second = await dedup.once("bb", lambda: answer("b.jpg"))
    assert first == (Row(file="a.jpg", status="ok"), False)
    assert second == (Row(file="b.jpg", status="ok"), False)


async def test_an_exception_reaches_every_waiting_copy_and_the_next_call_tries_again() -> None:
    dedup = ContentDedup()
    failing = Recogniser(error=ValueError("engine bug"))
    copies = [asyncio.create_task(dedup.once("aa", failing)) for _ in range(3)]
    for _ in range(3):
        await asyncio.sleep(0)
    failing.release.set()
    results = await asyncio.wait_for(asyncio.gather(*copies, return_exceptions=True), BOUND_S)
    assert failing.calls == 1
    assert all(isinstance(result, ValueError) for result in results), results
    assert len(dedup) == 0, "a failed content must not be remembered"

    row, is_copy = await dedup.once("aa", lambda: answer("again.jpg"))
    assert (row.file, is_copy) == ("again.jpg", False)


async def test_the_remembered_rows_are_bounded_and_least_recently_used_go_first() -> None:
    dedup = ContentDedup(max_remembered=3)
    calls: list[str] = []

    def recogniser(sha: str) -> Callable[[], Awaitable[Row]]:
        async def recognise() -> Row:
            calls.append(sha)
            return Row(file=sha, status="ok")
        return recognise

    for sha in ("a", "b", "c"):
        await dedup.once(sha, recogniser(sha))
    await dedup.once("a", recogniser("a"))  # a is now the most recently used
    await dedup.once("d", recogniser("d"))  # evicts b, the least recently used
    assert len(dedup) == 3
    assert calls == ["a", "b", "c", "d"]

    assert (await dedup.once("a", recogniser("a")))[1] is True
    assert (await dedup.once("b", recogniser("b")))[1] is False  # forgotten: recognised again
    assert calls == ["a", "b", "c", "d", "b"]

    for number in range(50):
        await dedup.once(f"x{number}", recogniser(f"x{number}"))
        assert len(dedup) <= 3


async def test_len_counts_in_flight_contents_above_the_bound() -> None:
    dedup = ContentDedup(max_remembered=2)
    blocked = [Recogniser(), Recogniser()]
    in_flight = [asyncio.create_task(dedup.once(f"slow{n}", r)) for n, r in enumerate(blocked)]
    await asyncio.sleep(0)
    for number in range(10):
        await dedup.once(f"fast{number}", lambda: answer("fast.jpg"))
        assert len(dedup) <= 2 + 2
    assert len(dedup) == 4
    for recognise in blocked:
        recognise.release.set()
    await asyncio.wait_for(asyncio.gather(*in_flight), BOUND_S)
    assert len(dedup) == 2


async def test_forget_drops_a_finished_content() -> None:
    dedup = ContentDedup()
    await dedup.once("aa", lambda: answer("one.jpg"))
    await dedup.once("bb", lambda: answer("two.jpg"))
    dedup.forget("aa")
    dedup.forget("never-seen")  # harmless
    assert len(dedup) == 1
    row, is_copy = await dedup.once("aa", lambda: answer("three.jpg"))
    assert (row.file, is_copy) == ("three.jpg", False)


def test_seen_contents_knows_what_was_added_and_rarely_claims_what_was_not() -> None:
    seen = SeenContents()
    added = [hashlib.sha256(str(index).encode()).hexdigest() for index in range(50_000)]
    for sha256 in added:
        seen.add(sha256)
    assert all(sha256 in seen for sha256 in added)  # never "certainly not" for one seen
    others = [hashlib.sha256(f"other {index}".encode()).hexdigest() for index in range(20_000)]
    false_maybes = sum(sha256 in seen for sha256 in others)
    assert false_maybes < 20  # ~0.003% expected at 50,000 contents in 1 MB
