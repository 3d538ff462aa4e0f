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


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_folders_made_are_0700_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    os.umask(umask)
    (tmp_path / "theirs").mkdir(mode=0o755)
    os.chmod(tmp_path / "theirs", 0o755)

    private_files.make_private_dirs(tmp_path / "theirs" / "a" / "b")
    private_files.make_private_dirs(tmp_path / "theirs" / "a" / "b")  # already there

    assert mode(tmp_path / "theirs" / "a") == mode(tmp_path / "theirs" / "a" / "b") == 0o700
    assert mode(tmp_path / "theirs") == 0o755  # the user's own folder is left alone


def test_make_private_dirs_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError):
        private_files.make_private_dirs(tmp_path / "file")
    with pytest.raises(OSError):
        private_files.make_private_dirs(tmp_path / "file" / "below")


def test_an_atomic_write_reaches_the_disk_before_and_after_its_rename(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    def replace(src: object, dst: object) -> None:
        synced.append("rename")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(private_files.os, "fsync", fsync)
    monkeypatch.setattr(private_files.os, "replace", replace)
    replace_private(tmp_path / "new" / "summary.json", "{}")

    assert synced == ["file", "rename", "folder"]
    assert mode(tmp_path / "new") == 0o700


def test_an_atomic_file_kept_open_takes_more_writes_after_its_swap(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    atomic = private_files.AtomicFile(path)
    atomic.text.write("header\n")
    atomic.commit()
    atomic.text.write("row\n")  # an output appended to after its rebuild
    atomic.text.close()
    assert path.read_text() == "header\nrow\n" and mode(path) == 0o600


def test_only_private_files_knows_the_modes_and_writes_files() -> None:
    """One home for the way a private file or folder is written (STYLE.md, habit 14)."""
    import re

    package = Path(private_files.__file__).parent
    writes = re.compile(r"0o[67]00|os\.replace\(|\.write_text\(|\.write_bytes\(|\.mkdir\(|"
                        r"os\.mkdir\(|makedirs\(|os\.rename\(|open\([^)]*['\"][wax]b?['\"]")
    found = [f"{path.relative_to(package)}:{number}: {line.strip()}"
             for path in sorted(package.rglob("*.py")) if path.name != "private_files.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if writes.search(line)]
    assert found == []


def test_make_private_dirs_when_another_writer_makes_the_folder_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two portraits saved side by side into a folder not made yet: the other writer
    makes it between this one's look and its check that nothing else is in the way.
    That folder is no file in the way (a first run with --portraits once gave a row
    "cannot write the portrait: not a folder")."""
    folder = tmp_path / "faces"
    looked = Path.is_dir

    def made_just_after_the_look(self: Path) -> bool:
        seen = looked(self)
        if self == folder and not seen and not folder.exists():
            folder.mkdir()  # the other writer, just after this look
        return seen

    monkeypatch.setattr(Path, "is_dir", made_just_after_the_look)
    private_files.make_private_dirs(folder)
    assert looked(folder)
