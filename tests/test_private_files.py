"""Private files (``batch_ocr/private_files.py``): 0600 from creation, atomic replacement."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from batch_ocr import private_files
from batch_ocr.private_files import open_private, replace_private, touch_private

pytestmark = pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX modes only")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """A permissive umask, so a file created without an explicit mode would be 0644/0666."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_open_private_creates_0600(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with open_private(path) as handle:
        handle.write("姓名\n")
    assert mode(path) == 0o600
    assert path.read_text(encoding="utf-8") == "姓名\n"


def test_open_private_truncates_or_appends(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old content\n")
    with open_private(path) as handle:
        handle.write("a\n")
    with open_private(path, append=True) as handle:
        handle.write("b\n")
    assert path.read_text() == "a\nb\n"


@pytest.mark.parametrize("append", [False, True])
def test_open_private_tightens_an_existing_0644_file(tmp_path: Path, append: bool) -> None:
    path = tmp_path / "out.csv"
    path.write_text("x\n")
    path.chmod(0o644)
    with open_private(path, append=append) as handle:
        handle.write("y\n")
    assert mode(path) == 0o600


def test_touch_private_creates_empty_0600_and_tightens(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.sqlite"
    touch_private(fresh)
    assert (fresh.read_bytes(), mode(fresh)) == (b"", 0o600)

    existing = tmp_path / "existing.sqlite"
    existing.write_bytes(b"keep me")
    existing.chmod(0o644)
    touch_private(existing)
    assert (existing.read_bytes(), mode(existing)) == (b"keep me", 0o600)


def test_tighten_leaves_absent_files_alone(tmp_path: Path) -> None:
    private_files.tighten(tmp_path / "absent")
    assert not (tmp_path / "absent").exists()


@pytest.mark.parametrize("data", ["名字 text\n", b"\x00\xffbinary"])
def test_replace_private_writes_str_and_bytes(tmp_path: Path, data: str | bytes) -> None:
    path = tmp_path / "deeper" / "portrait.jpg"  # missing folders are made
    replace_private(path, data)
    expected = data.encode("utf-8") if isinstance(data, str) else data
    assert path.read_bytes() == expected
    assert mode(path) == 0o600


def test_replace_private_swaps_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text("old")
    path.chmod(0o644)
    with path.open() as reader:  # a reader that opened the old file keeps all of it
        replace_private(path, "new content")
        assert reader.read() == "old"
    assert path.read_text() == "new content"
    assert mode(path) == 0o600, "a more open file must be replaced, not reused"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"], "temp file left"


def test_replace_private_cleans_up_when_the_write_fails(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "summary.json"
    path.write_text("old")

    def failing_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(private_files.os, "replace", failing_replace)
    with pytest.raises(OSError):
        replace_private(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_replace_private_ignores_a_stale_temporary_of_a_killed_run(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    stale = private_files.temporary_beside(path)
    stale.write_text("half a file")
    stale.chmod(0o644)
    replace_private(path, "whole")
    assert path.read_text() == "whole"
    assert not stale.exists()
