"""``batch-ocr-emulator``: the listening line, serving, clean exit on signals, flags."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from batch_ocr.emulator.cli import build_parser, config_from_args, main
from batch_ocr.provider import signing

SCRIPT = Path(sys.executable).with_name("batch-ocr-emulator")
LISTENING = re.compile(r"^listening on http://127\.0\.0\.1:(\d+)/release/idcard_ocr/post\n$")


def _start(*args: str) -> subprocess.Popen[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "batch_ocr.emulator"]
    return subprocess.Popen(
        [*command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "0"},
    )


def _post(url: str, body: bytes, secret_key: str = DEMO_SECRET_KEY) -> tuple[int, Any]:
    headers = signing.signed_headers(DEMO_SECRET_ID, secret_key, "market")
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_console_script_prints_the_line_serves_and_stops(
    sig: signal.Signals, cards: Any, helpers: Any
) -> None:
    process = _start("--port", "0", "--fixtures", str(cards.fixtures_path), "--seed", "1")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = LISTENING.match(line)
        assert match, line
        url = line.removeprefix("listening on ").strip()
        status, answer = _post(url, helpers.form_body(cards.front))
        assert status == 200 and answer["data"]["info"]["name"] == "张三"
        status, answer = _post(url, helpers.form_body(cards.front), secret_key="nope")
        assert (status, answer) == (401, {"message": "HMAC signature does not match"})
        stats_url = url.replace("/release/idcard_ocr/post", "/_emulator/stats")
        with urllib.request.urlopen(stats_url, timeout=5) as response:
            assert json.loads(response.read())["billable"] == 1
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert stdout == ""  # exactly one line in all
    assert "Traceback" not in stderr


def test_python_dash_m_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "batch_ocr.emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    assert "--fail-codes" in result.stdout


def test_every_option_has_help() -> None:
    for action in build_parser()._actions:
        assert action.help, action.option_strings


def test_secret_pairs_and_defaults() -> None:
    parser = build_parser()
    default = config_from_args(parser.parse_args([]))
    assert default.secret_keys == {DEMO_SECRET_ID: DEMO_SECRET_KEY}
    assert (default.host, default.port, default.path) == (
        "127.0.0.1",
        0,
        "/release/idcard_ocr/post",
    )
    pairs = config_from_args(
        parser.parse_args(
            [
                "--secret-id",
                "a",
                "--secret-key",
                "A",
                "--secret-id",
                "b",
                "--secret-key",
                "B",
                "--fail-codes",
                "500,1001",
            ]
        )
    )
    assert pairs.secret_keys == {"a": "A", "b": "B"}
    assert pairs.fail_codes == (500, 1001)


@pytest.mark.parametrize(
    "args",
    [
        ["--secret-id", "only-an-id"],
        ["--fail-rate", "1.5"],
        ["--fail-rate", "0.6", "--reset-rate", "0.6"],
        ["--fail-codes", "500,x"],
    ],
)
def test_bad_flags_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(args)
    assert excinfo.value.code == 2
    assert "batch-ocr-emulator: error:" in capsys.readouterr().err


def test_bad_fixtures_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("not json\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "batch_ocr.emulator", "--fixtures", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "bad.jsonl:1" in result.stderr
