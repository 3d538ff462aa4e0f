"""batch-ocr end to end through the emulator (issue 3's acceptance tests)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from batch_ocr.cli import main
from batch_ocr.provider import signing
from tests.e2e_support import (
    FIXTURES,
    HOSTILE,
    SAMPLES,
    emulator_in_thread,
    make_images,
    read_rows,
)

pytestmark = pytest.mark.usefixtures("demo_keys")


def fixtures_by_file() -> dict[str, dict]:
    return {
        entry["file"]: entry["data"]
        for entry in map(json.loads, FIXTURES.read_text(encoding="utf-8").splitlines())
    }


def test_clean_run_over_samples_matches_the_fixtures(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.jsonl"
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        code = main([str(SAMPLES), str(HOSTILE), "-o", str(out), "--endpoint", emulator.url])
        stats = emulator.stats()
    rows = {row["file"]: row for row in read_rows(out)}
    expected = fixtures_by_file()
    assert code == 1  # broken.jpg is rejected
    assert rows["broken.jpg"]["status"] == "rejected"
    assert rows["broken.jpg"]["error_code"] == "corrupt_image"
    assert rows["not_a_card.jpg"]["status"] == "not_id_card"
    for name, data in expected.items():
        row = rows[name]
        assert row["status"] == "ok" and row["side"] == data["side"], name
        info = data["info"]
        if data["side"] == "front":
            assert (row["name"], row["sex"], row["nation"], row["address"], row["id_number"]) == (
                info["name"], info["sex"], info["nation"], info["address"], info["number"])
            year, month, day = (int(info[k]) for k in ("year", "month", "day"))
            assert row["birth_date"] == f"{year:04d}-{month:02d}-{day:02d}"
            assert row["portrait_url"].startswith(emulator.base_url + "/_emulator/portrait/")
        else:
            assert row["authority"] == info["authority"]
            start, end = info["timelimit"].split("-")
            assert row["valid_from"] == f"{start[:4]}-{start[4:6]}-{start[6:]}"
            assert row["valid_to"] == ("长期" if end == "长期" else f"{end[:4]}-{end[4:6]}-{end[6:]}")
    assert stats["billable"] == len(expected) + 1  # the cards and the non-card picture
    assert "calls made (each may be billed): 11, retries: 0" in capsys.readouterr().err


@pytest.mark.slow  # 1.1 s: the fast suite stays under a minute
def test_faults_end_with_every_image_ok_and_billed_once(tmp_path: Path) -> None:
    hashes = make_images(tmp_path / "scans", 60)
    out = tmp_path / "out.jsonl"
    with emulator_in_thread(seed=7, fail_rate=0.15, html_error_rate=0.05, reset_rate=0.05,
                            hang_rate=0.05, latency_ms=5) as emulator:
        code = main([str(tmp_path / "scans"), "-o", str(out), "--endpoint", emulator.url,
                     "--timeout", "1", "--max-attempts", "12", "--concurrency", "16"])
        stats = emulator.stats()
    rows = read_rows(out)
    assert code == 0
    assert len(rows) == 60 and {row["status"] for row in rows} == {"not_id_card"}
    assert stats["calls"] > 60  # faults really happened
    assert stats["billable"] == len(set(hashes))
    assert all(count == 1 for count in stats["billable_per_sha256"].values())
    assert sum(row["attempts"] for row in rows) == stats["calls"]


@pytest.mark.parametrize(
    ("options", "argv", "message"),
    [
        ({"quota": 5}, [], "batch-ocr: fatal: the API quota is used up (HTTP 429: API quota "
         "exceeded); buy more calls or wait for the quota to renew, then run again"),
        ({}, ["--bad-key"], "batch-ocr: fatal: the API refused the credentials (HTTP 401: HMAC "
         "signature does not match); check BATCH_OCR_SECRET_ID and BATCH_OCR_SECRET_KEY"),
        ({}, ["--skew"], "batch-ocr: fatal: the API refused the request date: the clock of this "
         "machine is off by more than 15 minutes; fix the system time (e.g. enable NTP) and "
         "run again"),
    ],
)
def test_fatal_conditions_stop_the_run_with_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    options: dict, argv: list[str], message: str,
) -> None:
    make_images(tmp_path / "scans", 200)
    out = tmp_path / "out.jsonl"
    if "--bad-key" in argv:
        monkeypatch.setenv("BATCH_OCR_SECRET_KEY", "wrong-key")
    if "--skew" in argv:
        # This machine's clock an hour slow; the emulator (same process) keeps real time.
        real_http_date = signing.http_date
        monkeypatch.setattr(signing, "http_date",
                            lambda epoch_s=None: real_http_date(time.time() - 3600))
    with emulator_in_thread(latency_ms=2, **options) as emulator:
        code = main([str(tmp_path / "scans"), "-o", str(out), "--endpoint", emulator.url,
                     "--concurrency", "4"])
        stats = emulator.stats()
    err = capsys.readouterr().err
    assert code == 3
    assert err.count("batch-ocr: fatal:") == 1 and message in err
    assert "wrong-key" not in err
    # It stopped at once instead of burning through 200 files.
    assert stats["calls"] <= options.get("quota", 0) + 4 + 4
    rows = read_rows(out)
    assert len(rows) == stats["billable"]  # only answered images have rows


@pytest.mark.serial  # times how soon the run stops
def test_unreachable_api_stops_the_run_instead_of_retrying_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    make_images(tmp_path / "scans", 100)
    out = tmp_path / "out.jsonl"
    started = time.monotonic()
    code = main([str(tmp_path / "scans"), "-o", str(out), "--endpoint",
                 f"http://127.0.0.1:{port}/release/idcard_ocr/post", "--max-attempts", "2",
                 "--concurrency", "2"])
    err = capsys.readouterr().err
    assert code == 3
    assert "batch-ocr: fatal: cannot reach the API (cannot connect to 127.0.0.1:" in err
    assert "check --endpoint and the network" in err
    rows = read_rows(out)
    assert 3 <= len(rows) <= 4 and {r["error_code"] for r in rows} == {"connection_error"}
    assert time.monotonic() - started < 20
