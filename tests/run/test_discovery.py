"""Finding the images to process (``batch_ocr/run/discovery.py``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from batch_ocr.run.discovery import (
    MAX_IGNORED_LISTED,
    Candidate,
    WalkStats,
    display_path,
    is_image_name,
    walk_sources,
)

needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX symlinks")


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def walk(*sources: Path) -> tuple[list[Candidate], WalkStats]:
    stats = WalkStats()
    return list(walk_sources(list(sources), stats)), stats


def rels(*sources: Path) -> list[str]:
    return [candidate.rel for candidate in walk(*sources)[0]]


def test_walk_is_recursive_sorted_and_uses_slashes(tmp_path: Path) -> None:
    touch(tmp_path, "b.jpg", "a.jpg", "z/2.png", "z/1.png", "m/deep/er/x.gif", "m/0.bmp",
          "c/1.jpg")

    # Depth first in name order: the rows come out sorted by their path.
    assert rels(tmp_path) == ["a.jpg", "b.jpg", "c/1.jpg", "m/0.bmp", "m/deep/er/x.gif",
                              "z/1.png", "z/2.png"]


def test_walk_order_is_stable(tmp_path: Path) -> None:
    touch(tmp_path, *(f"d{i % 3}/{i:03d}.jpg" for i in range(30)))

    assert rels(tmp_path) == rels(tmp_path)
    assert rels(tmp_path) == sorted(rels(tmp_path))


def test_hidden_files_and_folders_are_skipped(tmp_path: Path) -> None:
    touch(tmp_path, ".hidden.jpg", ".git/x.jpg", ".thumbs/sub/y.png", "shown/.z.png", "ok.jpg")

    candidates, stats = walk(tmp_path)

    assert [c.rel for c in candidates] == ["ok.jpg"]
    assert stats.ignored_files == 0  # hidden is skipped, not counted as ignored


def test_other_extensions_are_counted_as_ignored(tmp_path: Path) -> None:
    touch(tmp_path, "a.jpg", "notes.txt", "sub/b.webp", "sub/c.png", "noext",
          "sub/d.HEIC", "e.heif", "f.raw")

    candidates, stats = walk(tmp_path)

    assert [c.rel for c in candidates] == ["a.jpg", "e.heif", "sub/b.webp", "sub/c.png",
                                           "sub/d.HEIC"]
    assert stats.ignored_files == 3
    assert stats.ignored == ["f.raw", "noext", "notes.txt"]


def test_pdfs_are_candidates(tmp_path: Path) -> None:
    touch(tmp_path, "scan.pdf", "sub/SCAN2.PDF", "a.jpg")

    candidates, stats = walk(tmp_path)

    assert [c.rel for c in candidates] == ["a.jpg", "scan.pdf", "sub/SCAN2.PDF"]
    assert stats.ignored_files == 0


def test_ignored_files_are_named_up_to_the_cap_and_all_counted(tmp_path: Path) -> None:
    touch(tmp_path, *(f"notes/{i:04d}.txt" for i in range(MAX_IGNORED_LISTED + 5)))

    candidates, stats = walk(tmp_path)

    assert candidates == []
    assert stats.ignored_files == MAX_IGNORED_LISTED + 5
    assert len(stats.ignored) == MAX_IGNORED_LISTED
    assert stats.ignored[:2] == ["notes/0000.txt", "notes/0001.txt"]


def test_the_runs_own_files_and_folders_are_never_walked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scans = tmp_path / "scans"
    touch(scans, "a.jpg", "portraits/a.jpg", "out/results.csv", "out/results.csv.state.sqlite",
          "keep/b.jpg", "review.html", "summary.json")
    monkeypatch.chdir(tmp_path)
    own = [Path("scans/portraits"), scans / "out" / "results.csv",
           scans / "out" / "results.csv.state.sqlite", Path("scans/review.html"),
           scans / "summary.json", scans / "not-yet" / "made.json"]
    stats = WalkStats()

    found = [c.rel for c in walk_sources([Path("scans")], stats, own_paths=own)]

    assert found == ["a.jpg", "keep/b.jpg"]
    assert stats.ignored_files == 0  # our own files are not "other files" either


def test_own_files_are_matched_through_a_linked_source_folder(tmp_path: Path) -> None:
    real = tmp_path / "real"
    touch(real, "a.jpg", "portraits/a.jpg")
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    stats = WalkStats()

    found = [c.rel for c in walk_sources([tmp_path / "link"], stats,
                                         own_paths=[real / "portraits"])]

    assert found == ["a.jpg"]


@pytest.mark.parametrize(
    ("name", "is_image"),
    [
        ("a.jpg", True), ("a.JPG", True), ("a.Jpeg", True), ("a.jpe", True), ("a.PNG", True),
        ("a.bmp", True), ("a.GIF", True), ("a.tif", True), ("a.Tiff", True),
        ("a.pdf", True), ("a.PDF", True),
        ("a.webp", True), ("a.heic", True), ("a.HEIF", True), ("a.avif", False),
        ("a.jpg.txt", False), ("jpg", False), ("a.", False),
    ],
)
def test_extension_case_is_ignored(name: str, is_image: bool) -> None:
    assert is_image_name(name) is is_image


def test_upper_case_extensions_are_found(tmp_path: Path) -> None:
    touch(tmp_path, "A.JPG", "b.Tiff", "c.PnG")

    assert rels(tmp_path) == ["A.JPG", "b.Tiff", "c.PnG"]


@pytest.mark.parametrize("name", ["card.jpg", "card.txt", ".hidden.png"])
def test_file_argument_is_always_a_candidate(tmp_path: Path, name: str) -> None:
    touch(tmp_path, name)

    candidates, stats = walk(tmp_path / name)

    assert candidates == [Candidate(tmp_path / name, name)]
    assert stats.ignored_files == 0


def test_several_sources_come_in_the_order_given(tmp_path: Path) -> None:
    touch(tmp_path, "one/b.jpg", "two/a.jpg", "single.png")

    assert rels(tmp_path / "two", tmp_path / "single.png", tmp_path / "one") == [
        "a.jpg", "single.png", "b.jpg",
    ]


@needs_symlinks
def test_symlinked_folder_is_not_entered_but_named_and_counted(tmp_path: Path) -> None:
    src, elsewhere = tmp_path / "src", tmp_path / "elsewhere"
    touch(src, "a.jpg", "real/b.jpg")
    touch(elsewhere, "secret.jpg")
    (src / "linked").symlink_to(elsewhere, target_is_directory=True)
    (src / "real" / "again").symlink_to(src / "real", target_is_directory=True)

    candidates, stats = walk(src)

    assert [c.rel for c in candidates] == ["a.jpg", "real/b.jpg"]
    # Never silent (docs/reference.md, "Options"): each link is named, with a slash, and counted.
    assert stats.ignored == ["linked/", "real/again/"]
    assert stats.ignored_files == 2 and stats.linked_folders_passed == 2


def follow(*sources: Path) -> tuple[list[Candidate], WalkStats]:
    stats = WalkStats()
    return list(walk_sources(list(sources), stats, follow_links=True)), stats


@needs_symlinks
def test_follow_links_reads_a_linked_folder_under_the_links_name(tmp_path: Path) -> None:
    src, nas = tmp_path / "src", tmp_path / "nas"
    touch(src, "a.jpg")
    touch(nas, "x.jpg", "deep/y.png", "notes.txt")
    (src / "nas").symlink_to(nas, target_is_directory=True)

    candidates, stats = follow(src)

    assert [(c.rel, c.outside_link) for c in candidates] == [
        ("a.jpg", False), ("nas/deep/y.png", False), ("nas/x.jpg", False)]
    assert candidates[2].path.read_bytes() == b"x"
    assert stats.ignored == ["nas/notes.txt"] and stats.linked_folders_passed == 0


@needs_symlinks
def test_follow_links_reads_each_real_file_once(tmp_path: Path) -> None:
    src, nas = tmp_path / "src", tmp_path / "nas"
    touch(src, "real/a.jpg")
    touch(nas, "x.jpg", "sub/y.jpg")
    (src / "a_sub").symlink_to(nas / "sub", target_is_directory=True)  # walked first
    (src / "b_nas").symlink_to(nas, target_is_directory=True)
    (src / "c_again").symlink_to(nas, target_is_directory=True)
    (src / "d_inside").symlink_to(src / "real", target_is_directory=True)

    candidates, stats = follow(src)

    assert [c.rel for c in candidates] == ["a_sub/y.jpg", "b_nas/x.jpg", "real/a.jpg"]
    assert sorted(os.path.realpath(c.path) for c in candidates) == sorted(
        os.path.realpath(p) for p in (nas / "sub/y.jpg", nas / "x.jpg", src / "real/a.jpg"))
    # Each not entered is named: a folder read through another link, a second link to
    # the same folder, a link back inside the source folder.
    assert stats.ignored == ["b_nas/sub/", "c_again/", "d_inside/"]


@needs_symlinks
def test_follow_links_never_loops_nor_chains_out(tmp_path: Path) -> None:
    src, nas, far = tmp_path / "src", tmp_path / "nas", tmp_path / "far"
    touch(src, "a.jpg")
    touch(nas, "x.jpg")
    touch(far, "secret.jpg")
    (src / "up").symlink_to(tmp_path, target_is_directory=True)  # holds src: a loop
    (src / "root").symlink_to("/", target_is_directory=True)
    (src / "self").symlink_to(".", target_is_directory=True)
    (src / "nas").symlink_to(nas, target_is_directory=True)
    (nas / "far").symlink_to(far, target_is_directory=True)  # a chain out: not followed
    (nas / "back").symlink_to(src, target_is_directory=True)
    (nas / "far.jpg").symlink_to(far / "secret.jpg")  # a file link out of the NAS folder
    (nas / "twin.jpg").symlink_to("x.jpg")  # inside the followed folder: fine

    candidates, stats = follow(src)

    assert [(c.rel, c.outside_link) for c in candidates] == [
        ("a.jpg", False), ("nas/far.jpg", True), ("nas/twin.jpg", False),
        ("nas/x.jpg", False)]
    assert stats.ignored == ["nas/back/", "nas/far/", "root/", "self/", "up/"]


@needs_symlinks
def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    touch(tmp_path, "a.jpg")
    (tmp_path / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "self.jpg").symlink_to(tmp_path / "self.jpg")  # points at itself

    candidates = walk(tmp_path)[0]

    assert [c.rel for c in candidates] == ["a.jpg", "self.jpg"]
    # A link that resolves nowhere is not known to stay inside: it is flagged.
    assert candidates[1].outside_link is True


@needs_symlinks
def test_symlink_to_a_file_outside_is_flagged_inside_is_not(tmp_path: Path) -> None:
    src, outside = tmp_path / "src", tmp_path / "outside"
    touch(src, "real.jpg", "sub/deep.png")
    touch(outside, "other.jpg")
    (src / "escape.jpg").symlink_to(outside / "other.jpg")
    (src / "same.jpg").symlink_to("real.jpg")
    (src / "up.png").symlink_to(Path("sub") / "deep.png")

    flags = {c.rel: c.outside_link for c in walk(src)[0]}

    assert flags == {
        "escape.jpg": True, "real.jpg": False, "same.jpg": False, "up.png": False,
        "sub/deep.png": False,
    }


@needs_symlinks
def test_inside_link_is_not_flagged_when_source_is_given_through_a_symlink(
    tmp_path: Path,
) -> None:
    touch(tmp_path, "real/a.jpg")
    (tmp_path / "real" / "b.jpg").symlink_to("a.jpg")
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)

    flags = {c.rel: c.outside_link for c in walk(tmp_path / "alias")[0]}

    assert flags == {"a.jpg": False, "b.jpg": False}


@pytest.mark.skipif(sys.platform != "linux", reason="needs a filesystem taking any bytes")
def test_non_utf8_name_gets_a_displayable_rel(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path) + b"/sub"
    os.mkdir(folder)
    with open(folder + b"/\xff.jpg", "wb") as handle:
        handle.write(b"x")

    (candidate,) = walk(tmp_path)[0]

    assert candidate.rel == "sub/\\xff.jpg"
    candidate.rel.encode("utf-8")  # printable in a UTF-8 table
    assert candidate.path.read_bytes() == b"x"  # and the real path still opens


@pytest.mark.skipif(sys.platform != "linux", reason="needs a filesystem taking any bytes")
def test_a_byte_and_its_escape_spelled_out_stay_two_names(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    for name in (b"\xff.jpg", b"\\xff.jpg", b"\\\xff.jpg", b"a\\b.jpg"):
        with open(folder + b"/" + name, "wb") as handle:
            handle.write(name)

    labels = {c.rel: c.path.read_bytes() for c in walk(tmp_path)[0]}

    # The escape is one-to-one: a backslash is doubled, a byte that is no UTF-8 is \xNN.
    assert labels == {"\\xff.jpg": b"\xff.jpg", "\\\\xff.jpg": b"\\xff.jpg",
                      "\\\\\\xff.jpg": b"\\\xff.jpg", "a\\\\b.jpg": b"a\\b.jpg"}


def test_display_path_leaves_chinese_alone() -> None:
    assert display_path("身份证/张三.jpg") == "身份证/张三.jpg"
