"""Issue 2's acceptance run: the real CLI against an independent checking server.

The server below re-implements the gateway's check from the provider's Python sample
(``hmac`` + ``base64`` + ``parse_qs``), not from ``batch_ocr.provider.signing``, and answers each
image by a script keyed on the image's content, so every status path is exercised.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import hmac
import io
import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from PIL import Image

from batch_ocr.cli import main
from tests.pictures import marked

SECRET_ID = "AKIDindependent"
SECRET_KEY = "independent-secret"

FRONT_DATA = {"order_no": "1", "result": 0, "side": "front",
              "info": {"name": "李小红", "sex": "女", "nation": "汉", "year": "1990", "month": "3",
                       "day": "7", "address": "北京市朝阳区某路1号", "number": "11010519900307002X"},
              "validity": {"name": True, "sex": True, "birthday": True, "address": True,
                           "number": True},
              "image_url": "http://127.0.0.1/p.png"}
BACK_DATA = {"order_no": "2", "result": 0, "side": "back",
             "info": {"authority": "北京市公安局朝阳分局", "timelimit": "20180727-长期"},
             "validity": {"authority": True, "timelimit": True}, "image_url": None}
NOT_CARD = {"order_no": "3", "result": 0, "side": "front", "info": {},
            "validity": {"name": False, "sex": False, "birthday": False, "address": False,
                         "number": False}, "image_url": None}
SCAN_FAILED = {"order_no": "4", "result": 1, "side": "front", "info": {}, "validity": {}}


def ok(data: dict[str, object]) -> web.Response:
    return web.json_response({"msg": "", "success": True, "code": 200, "data": data})


def seller_error(code: int, msg: str, http_status: int = 200) -> web.Response:
    return web.json_response({"msg": msg, "success": False, "code": code, "data": {}},
                             status=http_status)


@dataclass
class Script:
    """What to answer for each content: a list of answers, the last one repeating."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    refusals: list[str] = field(default_factory=list)


def check_like_the_gateway(request: web.Request, form: dict[str, list[str]]) -> str | None:
    """The gateway's HMAC check as the provider's Python sample computes the signature."""
    x_date = request.headers.get("X-Date", "")
    source = request.headers.get("X-Source", "")
    auth = request.headers.get("Authorization", "")
    sign_str = f"x-date: {x_date}\nx-source: {source}"
    expected = base64.b64encode(hmac.new(SECRET_KEY.encode(), sign_str.encode(),
                                         hashlib.sha1).digest()).decode()
    wanted = (f'hmac id="{SECRET_ID}", algorithm="hmac-sha1", headers="x-date x-source", '
              f'signature="{expected}"')
    if auth != wanted:
        return f"bad authorization {auth!r}"
    parsedate_to_datetime(x_date)  # must parse as RFC 1123
    if not x_date.endswith(" GMT") or source != "market":
        return "bad date or source"
    if request.content_type != "application/x-www-form-urlencoded":
        return "bad content type"
    if set(form) != {"image"}:  # parse_qs drops the empty url=
        return f"bad fields {sorted(form)}"
    return None


def make_app(script: Script) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        form = parse_qs(raw.decode("ascii"), keep_blank_values=False)
        problem = check_like_the_gateway(request, form)
        if problem:
            script.refusals.append(problem)
            return web.json_response({"message": "HMAC signature does not match"}, status=401)
        data_uri = form["image"][0]
        header, _, b64 = data_uri.partition(",")
        image = base64.b64decode(b64, validate=True)
        with Image.open(io.BytesIO(image)) as opened:
            real_mime = Image.MIME[opened.format or ""]
        if header != f"data:{real_mime};base64":
            script.refusals.append(f"mime {header} for {real_mime}")
            return seller_error(400, "参数错误")
        if len(image) > 1024 * 1024 or max(opened.size) > 4000:
            script.refusals.append("over the limits")
            return seller_error(400, "参数错误")
        sha = hashlib.sha256(image).hexdigest()
        plan = script.answers.get(sha, ["front"])
        answer = plan[min(script.calls[sha], len(plan) - 1)]
        script.calls[sha] += 1
        return {
            "front": lambda: ok(FRONT_DATA),
            "back": lambda: ok(BACK_DATA),
            "not_card": lambda: ok(NOT_CARD),
            "scan_failed": lambda: ok(SCAN_FAILED),
            "400": lambda: seller_error(400, "参数错误"),
            "500": lambda: seller_error(500, "系统内部错误,请联系服务商"),
            "501": lambda: seller_error(501, "第三方服务异常", http_status=501),
            "html502": lambda: web.Response(status=502, content_type="text/html",
                                            text="<html><body>502 Bad Gateway</body></html>"),
            "429": lambda: web.json_response({"message": "API rate limit exceeded"}, status=429,
                                             headers={"Retry-After": "0"}),
        }[answer]()

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/release/idcard_ocr/post", handle)
    return app


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    """The checking server on 127.0.0.1, in its own thread (the CLI runs its own loop)."""
    script = Script()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app(script))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/release/idcard_ocr/post", script
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.run_until_complete(runner.cleanup())
    loop.close()


def card_picture(path: Path, colour: str, size: tuple[int, int] = (400, 250),
                 fmt: str | None = None) -> str:
    marked(size, colour).save(path, fmt)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_mixed_folder_gives_the_right_rows(server: tuple[str, Script], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    url, script = server
    scans = tmp_path / "scans"
    (scans / "sub").mkdir(parents=True)
    plan = {
        "front.jpg": ("front", "red", "JPEG"),
        "back.png": ("back", "green", "PNG"),
        "sub/front2.BMP": ("front", "blue", "BMP"),
        "photo.gif": ("not_card", "yellow", "GIF"),
        "blurry.tiff": ("scan_failed", "purple", "TIFF"),
        "refused.jpg": ("400", "orange", "JPEG"),
        "flaky.jpg": ("500,500,front", "pink", "JPEG"),
        "down.jpg": ("501", "brown", "JPEG"),
        "gateway.jpg": ("html502,back", "grey", "JPEG"),
        "limited.jpg": ("429,front", "navy", "JPEG"),
    }
    for name, (answers, colour, fmt) in plan.items():
        sha = card_picture(scans / name, colour, fmt=fmt)
        script.answers[sha] = answers.split(",")
    # An oversize phone photo: noise so it cannot compress under 1 MB, 4500 px wide.
    rng = random.Random(1)
    noise = Image.frombytes("RGB", (4500, 300), rng.randbytes(4500 * 300 * 3))
    noise.save(scans / "phone.jpg", quality=95)
    original = (scans / "phone.jpg").read_bytes()
    (scans / "empty.jpg").write_bytes(b"")
    (scans / "notes.jpg").write_text("not an image")
    Image.new("RGB", (6, 6)).save(scans / "tiny.png")
    (scans / "readme.txt").write_text("ignored")
    (scans / ".hidden.jpg").write_bytes(b"")

    monkeypatch.setenv("BATCH_OCR_SECRET_ID", SECRET_ID)
    monkeypatch.setenv("BATCH_OCR_SECRET_KEY", SECRET_KEY)
    monkeypatch.setattr("batch_ocr.engines.api.retry_policy.BACKOFF_INITIAL_S", 0.001)
    out = tmp_path / "results.csv"
    code = main([str(scans), "-o", str(out), "--endpoint", url, "--max-attempts", "3"])

    assert script.refusals == []
    assert code == 1
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["file"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == sorted([*plan, "phone.jpg", "empty.jpg", "notes.jpg", "tiny.png"])
    expect = {
        "front.jpg": ("ok", "front", "", "1"),
        "back.png": ("ok", "back", "", "1"),
        "sub/front2.BMP": ("ok", "front", "", "1"),
        "photo.gif": ("not_id_card", "", "", "1"),
        "blurry.tiff": ("scan_failed", "front", "", "1"),
        "refused.jpg": ("error", "", "400", "1"),
        "flaky.jpg": ("ok", "front", "", "3"),
        "down.jpg": ("error", "", "501", "3"),
        "gateway.jpg": ("ok", "back", "", "2"),
        "limited.jpg": ("ok", "front", "", "2"),
        "phone.jpg": ("ok", "front", "", "1"),
        "empty.jpg": ("rejected", "", "empty_file", "0"),
        "notes.jpg": ("rejected", "", "unsupported_format", "0"),
        "tiny.png": ("rejected", "", "bad_dimensions", "0"),
    }
    for name, (status, side, error_code, attempts) in expect.items():
        row = rows[name]
        assert (row["status"], row["side"], row["error_code"], row["attempts"]) == (
            status, side, error_code, attempts), name
    assert rows["front.jpg"]["birth_date"] == "1990-03-07"
    assert rows["back.png"]["valid_from"] == "2018-07-27"
    assert rows["back.png"]["valid_to"] == "长期"
    assert rows["photo.gif"]["invalid_fields"] == ""  # no ID card: no field of one
    assert rows["phone.jpg"]["fitted"] == "true"
    assert (scans / "phone.jpg").read_bytes() == original
    assert "第三方服务异常" in rows["down.jpg"]["error_message"]
    assert rows["front.jpg"]["sha256"] == hashlib.sha256(
        (scans / "front.jpg").read_bytes()).hexdigest()
    # Nothing we could refuse ourselves was sent; everything else exactly as planned.
    sent = sum(script.calls.values())
    assert sent == 11 + 2 + 2 + 1 + 1  # one each, plus flaky x2, 501 x2, 502 and 429 once
    summary = capsys.readouterr().err
    assert "files found: 14 (other files ignored: 1)" in summary
    assert "rows written: 14 (ok 7, not_id_card 1, scan_failed 1, rejected 3, error 2)" in summary
    assert f"calls made (each may be billed): {sent}, retries: 6" in summary


def test_jsonl_keeps_chinese_and_validity(server: tuple[str, Script], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = server
    card_picture(tmp_path / "a.jpg", "red")
    monkeypatch.setenv("BATCH_OCR_SECRET_ID", SECRET_ID)
    monkeypatch.setenv("BATCH_OCR_SECRET_KEY", SECRET_KEY)
    out = tmp_path / "out.jsonl"
    assert main([str(tmp_path / "a.jpg"), "-o", str(out), "--endpoint", url]) == 0
    text = out.read_text(encoding="utf-8")
    assert "李小红" in text
    row = json.loads(text)
    assert row["validity"]["number"] is True and row["invalid_fields"] == []
    assert row["file"] == "a.jpg" and row["status"] == "ok"
