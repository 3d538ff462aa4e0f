"""Saving portraits for rows (``batch_ocr/run/present/portraits.py``), with a fake engine."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from batch_ocr.engines.base import Engine, EngineResult, PortraitUnavailable
from batch_ocr.run.present.portraits import (
    PortraitError,
    copy_for_row,
    portrait_path,
    save,
    save_for_row,
)
from batch_ocr.run.present.rows import Row
from batch_ocr.sanitize import file_label
from batch_ocr.vision.imaging import PreparedImage


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 16), (120, 90, 80)).save(buffer, "JPEG")
    return buffer.getvalue()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 16), (120, 90, 80)).save(buffer, "PNG")
    return buffer.getvalue()


JPEG = jpeg()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


class FakeEngine(Engine):
    """Hands out portraits by link, or refuses them; counts what it was asked."""

    name = "fake"

    def __init__(self, portraits: dict[str, bytes] | None = None) -> None:
        self.portraits = portraits or {}
        self.fetched: list[str] = []

    async def recognise(self, image: PreparedImage) -> EngineResult:
        raise AssertionError("portraits never recognise")

    async def fetch_portrait(self, url: str) -> bytes:
        self.fetched.append(url)
        if url not in self.portraits:
            raise PortraitUnavailable("HTTP 404 (the link may have expired)")
        return self.portraits[url]


def front(file: str = "sub/zhang.png", url: str = "") -> Row:
    return Row(file=file, status="ok", side="front", name="张三", portrait_url=url)


def test_portrait_path_uses_the_real_format_and_stays_inside(tmp_path: Path) -> None:
    assert portrait_path(tmp_path, "sub/zhang.png", JPEG) == tmp_path / "sub" / "zhang.png.jpg"
    assert portrait_path(tmp_path, "a.jpg", png()) == tmp_path / "a.jpg.png"
    assert portrait_path(tmp_path, "../../etc/x.jpg", JPEG) == tmp_path / "etc" / "x.jpg.jpg"
    with pytest.raises(PortraitError, match="not an image"):
        portrait_path(tmp_path, "a.jpg", b"<html>expired</html>")


async def test_bytes_from_the_result_are_saved_0600(tmp_path: Path) -> None:
    engine = FakeEngine()
    row = await save_for_row(front(), tmp_path, JPEG, engine)
    saved = tmp_path / "sub" / "zhang.png.jpg"
    assert row == Row(file="sub/zhang.png", status="ok", side="front", name="张三",
                      portrait_file=str(saved))
    assert saved.read_bytes() == JPEG
    assert mode(saved) == 0o600
    assert engine.fetched == [], "bytes in hand must not be fetched again"


async def test_no_bytes_and_no_link_is_a_portrait_error(tmp_path: Path) -> None:
    engine = FakeEngine()
    row = await save_for_row(front(), tmp_path, None, engine)
    assert row.portrait_error == "no portrait was found on this card"
    assert row.portrait_file == ""
    assert (row.status, row.name) == ("ok", "张三"), "a portrait never fails its row"
    assert list(tmp_path.iterdir()) == []


async def test_a_link_is_fetched_through_the_engine(tmp_path: Path) -> None:
    engine = FakeEngine({"https://p/1": JPEG})
    row = await save_for_row(front(url="https://p/1"), tmp_path, None, engine)
    assert engine.fetched == ["https://p/1"]
    assert row.portrait_file == str(tmp_path / "sub" / "zhang.png.jpg")
    assert (tmp_path / "sub" / "zhang.png.jpg").read_bytes() == JPEG


async def test_an_unavailable_portrait_becomes_portrait_error(tmp_path: Path) -> None:
    engine = FakeEngine()
    row = await save_for_row(front(url="https://p/expired"), tmp_path, None, engine)
    assert row.portrait_error == "HTTP 404 (the link may have expired)"
    assert (row.status, row.portrait_file) == ("ok", "")


async def test_the_base_engine_cannot_fetch_links(tmp_path: Path) -> None:
    class Linkless(Engine):
        name = "linkless"

        async def recognise(self, image: PreparedImage) -> EngineResult:
            raise AssertionError

    row = await save_for_row(front(url="https://p/1"), tmp_path, None, Linkless())
    assert row.portrait_error == "the linkless engine cannot fetch portrait links"


async def test_bytes_that_are_no_image_become_portrait_error(tmp_path: Path) -> None:
    row = await save_for_row(front(), tmp_path, b"<html>", FakeEngine())
    assert row.portrait_error == "the portrait is not an image"
    assert list(tmp_path.iterdir()) == []


async def test_an_unwritable_folder_becomes_portrait_error(tmp_path: Path) -> None:
    blocker = tmp_path / "portraits"
    blocker.write_text("a file where the folder should be")
    row = await save_for_row(front(), blocker, JPEG, FakeEngine())
    assert row.portrait_error.startswith("cannot write the portrait: ")
    assert row.status == "ok"


@pytest.mark.parametrize("side", ["back", ""])
async def test_other_sides_are_untouched(tmp_path: Path, side: str) -> None:
    engine = FakeEngine({"https://p/1": JPEG})
    row = Row(file="b.png", status="ok", side=side, portrait_url="https://p/1")
    assert await save_for_row(row, tmp_path, JPEG, engine) is row
    assert await save_for_row(row, tmp_path, None, engine) is row
    assert engine.fetched == []
    assert list(tmp_path.iterdir()) == []


async def test_copy_for_row_copies_the_file(tmp_path: Path) -> None:
    original = await save_for_row(front("a/one.png"), tmp_path, JPEG, FakeEngine())
    copy = await copy_for_row(original, front("b/two.png"), tmp_path)
    assert copy.portrait_file == str(tmp_path / "b" / "two.png.jpg")
    assert (tmp_path / "b" / "two.png.jpg").read_bytes() == JPEG
    assert mode(tmp_path / "b" / "two.png.jpg") == 0o600
    assert (tmp_path / "a" / "one.png.jpg").read_bytes() == JPEG


async def test_copy_for_row_without_an_original_portrait(tmp_path: Path) -> None:
    failed = Row(file="a.png", status="ok", side="front",
                 portrait_error="HTTP 404 (the link may have expired)")
    copy = await copy_for_row(failed, front("b.png"), tmp_path)
    assert copy.portrait_error == "HTTP 404 (the link may have expired)"
    plain = Row(file="a.png", status="ok", side="front")
    assert (await copy_for_row(plain, front("c.png"), tmp_path)).portrait_error == (
        "no portrait for this content")
    back = Row(file="d.png", status="ok", side="back")
    assert await copy_for_row(plain, back, tmp_path) is back


async def test_copy_for_row_when_the_original_file_is_gone(tmp_path: Path) -> None:
    original = Row(file="a.png", status="ok", side="front",
                   portrait_file=str(tmp_path / "gone.jpg"))
    copy = await copy_for_row(original, front("b.png"), tmp_path)
    assert copy.portrait_error.startswith("cannot copy the portrait: ")
    assert copy.portrait_file == ""


def test_portrait_names_are_one_to_one(tmp_path: Path) -> None:
    """Two files never share a portrait: not a.jpg and a.png, not a file named like a
    page or a card of another (x-page1.png beside x.pdf), not a name with a raw byte and
    one spelling it out (``sanitize.file_label``)."""
    named = [("a.jpg", None, None), ("a.png", None, None), ("x-page1.png", None, None),
             ("x.pdf", 1, None), ("x.png", None, 1), ("x-card1.png", None, None),
             ("x.pdf", 1, 1), ("x.pdf-page1.png", None, None), ("x.pdf", 11, None),
             ("x.pdf", 1, 11), (file_label(os.fsdecode(b"\\xff.jpg")), None, None),
             (file_label(os.fsdecode(b"\xff.jpg")), None, None), ("d/a.jpg", None, None),
             ("d.jpg", None, None)]
    paths = [portrait_path(tmp_path, file, JPEG, page, card) for file, page, card in named]
    assert len(set(paths)) == len(named), paths
    assert portrait_path(tmp_path, "x.pdf", JPEG, 1) == tmp_path / "x.pdf-page1.jpg"
    assert portrait_path(tmp_path, "x-page1.png", JPEG) == tmp_path / "x-page1.png.jpg"


def test_save_returns_the_path_written(tmp_path: Path) -> None:
    assert save(tmp_path, "x/y.bmp", JPEG) == str(tmp_path / "x" / "y.bmp.jpg")
