"""batch-ocr-report: exit codes and exact messages."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from report_fakes import Row, draw_card, is_mosaic, thumb_view

from batch_ocr.report import cli
from batch_ocr.report.thumbs import make_thumbnail
from batch_ocr.run.summary import RunSummary, summary_json

JPEG_DATA = "data:image/jpeg;base64,/9j/"


def write_jsonl(path: Path, rows: list[Row]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def embedded(out: Path) -> dict[str, Any]:
    document = out.read_text("utf-8")
    start = document.index('id="report-data">') + len('id="report-data">')
    value: dict[str, Any] = json.loads(document[start : document.index("</script>", start)])
    return value


def test_every_option_has_help() -> None:
    for action in cli.build_parser()._actions:
        assert action.help, f"{action.option_strings or action.dest} has no help text"


def test_builds_page_from_jsonl(
    tmp_path: Path, sample: tuple[list[Row], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rows, images = sample
    output = write_jsonl(tmp_path / "out" / "result.jsonl", rows)
    summary = tmp_path / "summary.json"
    facts = summary_json(RunSummary(calls=7, engine="api", price_per_call=1.0), 0)
    summary.write_text(json.dumps(facts), "utf-8")
    html_path = tmp_path / "review" / "report.html"

    code = cli.main(
        [str(output), "-o", str(html_path), "--images", str(images), "--summary-json", str(summary)]
    )

    assert code == 0
    assert capsys.readouterr().out == f"Wrote {html_path} (9 rows)\n"
    document = html_path.read_text("utf-8")
    assert "<dt>Calls made</dt><dd>7</dd>" in document
    assert JPEG_DATA in document
    assert stat.S_IMODE(html_path.stat().st_mode) == 0o600
    # portrait_file is relative to the output's folder, not to the page's.
    zhang = [e for e in embedded(html_path)["entries"] if e["name"] == "张三"][0]
    assert zhang["portrait"].startswith(JPEG_DATA)


def test_first_image_folder_that_has_the_file_wins(tmp_path: Path) -> None:
    first = draw_card(tmp_path / "one" / "a.jpg", hue=1)
    draw_card(tmp_path / "two" / "a.jpg", hue=5)
    draw_card(tmp_path / "two" / "b.jpg", hue=6)
    output = write_jsonl(
        tmp_path / "out.jsonl",
        [{"file": "a.jpg", "status": "ok"}, {"file": "b.jpg", "status": "ok"}],
    )
    out = tmp_path / "r.html"
    assert (
        cli.main(
            [str(output), "-o", str(out), "--images", str(tmp_path / "one"), str(tmp_path / "two")]
        )
        == 0
    )
    data = embedded(out)
    thumbs = [thumb_view(data, e["thumbs"][0])["uri"] for e in data["entries"]]
    assert thumbs[0] == make_thumbnail(first).data_uri
    assert thumbs[1].startswith(JPEG_DATA)


def test_mask(
    tmp_path: Path, sample: tuple[list[Row], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rows, images = sample
    output = write_jsonl(tmp_path / "out" / "result.jsonl", rows)
    out = tmp_path / "masked.html"
    assert cli.main([str(output), "-o", str(out), "--images", str(images), "--mask"]) == 0
    assert capsys.readouterr().out == f"Wrote {out} (9 rows, masked)\n"
    document = out.read_text("utf-8")
    # Pages only as flat squares, no portrait.
    assert all(is_mosaic(view["uri"]) for view in embedded(out)["views"])
    assert all(entry["portrait"] == "" for entry in embedded(out)["entries"])
    assert "张三" not in document and "张*" in document
    assert "110101199003071234" not in document and "110101********1234" in document
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    faces = tmp_path / "faces.html"
    assert (
        cli.main([str(output), "-o", str(faces), "--images", str(images), "--mask", "--show-faces"])
        == 0
    )
    assert JPEG_DATA in faces.read_text("utf-8")


def test_missing_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.jsonl"
    assert cli.main([str(missing), "-o", str(tmp_path / "r.html")]) == 2
    assert capsys.readouterr().err == f"batch-ocr-report: error: {missing}: no such file\n"
    assert not (tmp_path / "r.html").exists()


def test_missing_image_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = write_jsonl(tmp_path / "out.jsonl", [{"file": "a.jpg", "status": "ok"}])
    code = cli.main(
        [str(output), "-o", str(tmp_path / "r.html"), "--images", str(tmp_path / "gone")]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        f"batch-ocr-report: error: --images {tmp_path / 'gone'}: no such folder\n"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{nope", "not JSON (Expecting property name enclosed in double quotes)"),
        ("[1]", "the summary must be a JSON object"),
        ('{"calls_made": 7, "engine": "api"}',
         "not a batch-ocr --summary-json file (check: already_done, budget_exhausted, "
         "calls, dry_run, elapsed_s)"),
    ],
)
def test_bad_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, reason: str
) -> None:
    output = write_jsonl(tmp_path / "out.jsonl", [{"file": "a.jpg", "status": "ok"}])
    summary = tmp_path / "s.json"
    summary.write_text(content, "utf-8")
    code = cli.main([str(output), "-o", str(tmp_path / "r.html"), "--summary-json", str(summary)])
    assert code == 2
    assert capsys.readouterr().err == f"batch-ocr-report: error: {summary}: {reason}\n"


def test_unwritable_destination(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = write_jsonl(tmp_path / "out.jsonl", [{"file": "a.jpg", "status": "ok"}])
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = cli.main([str(output), "-o", str(blocker / "r.html")])
    assert code == 1
    assert capsys.readouterr().err.startswith(
        f"batch-ocr-report: error: cannot write {blocker / 'r.html'}: "
    )


def test_out_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["out.jsonl"])
    assert exited.value.code == 2
    assert "the following arguments are required: -o/--out" in capsys.readouterr().err
