"""The client against every answer the contract (and the network) can give."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aioresponses import aioresponses

from batch_ocr.engines.api.client import ApiClient, parse_answer
from batch_ocr.engines.api.transport import TransportSettings, make_session
from batch_ocr.errors import (
    ApiError,
    AuthError,
    ClockSkewError,
    QuotaExceededError,
    TransientApiError,
)
from batch_ocr.settings import Settings

URL = "https://ocr.example.test/release/idcard_ocr/post"
SECRET_KEY = "s3cr3t-key-never-shown"
FRONT = {
    "msg": "", "success": True, "code": 200,
    "data": {"order_no": "578630091093970000", "result": 0, "side": "front",
             "info": {"name": "张三", "sex": "女", "nation": "汉", "year": "1990", "month": "10",
                      "day": "9", "address": "江西省南昌市红谷滩新区0号楼0单元0室",
                      "number": "360429199010090000"},
             "validity": {"name": True, "sex": True, "birthday": True, "address": True,
                          "number": True},
             "image_url": "http://example.test/20.png"},
}
HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def seller(code: int, msg: str) -> dict[str, object]:
    return {"msg": msg, "success": False, "code": code, "data": {}}


class Sleeps:
    """An injected sleep that records and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_id="AKIDtest", secret_key=SECRET_KEY, endpoint=URL, max_attempts=3,
                    timeout=5)


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[aiohttp.ClientSession]:
    async with make_session(TransportSettings.of(settings)) as session:
        yield session


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(settings: Settings, session: aiohttp.ClientSession, sleeps: Sleeps) -> ApiClient:
    return ApiClient(settings.api, session, sleep=sleeps)


async def test_success_sends_signed_form_and_parses(client: ApiClient) -> None:
    with aioresponses() as mocked:
        mocked.post(URL, payload=FRONT)
        result = await client.recognise(b"image=abc&url=")
        request = next(iter(mocked.requests.values()))[0]
    assert result.attempts == 1
    assert result.data.side == "front" and result.data.info.name == "张三"
    headers = request.kwargs["headers"]
    assert headers["X-Source"] == "market"
    assert headers["X-Date"].endswith(" GMT")
    assert headers["Authorization"].startswith('hmac id="AKIDtest", algorithm="hmac-sha1"')
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.kwargs["data"] == b"image=abc&url="
    assert client.calls == 1


@pytest.mark.parametrize(
    ("answers", "attempts"),
    [
        ([{"status": 200, "payload": seller(500, "系统内部错误")}], 2),
        ([{"status": 500, "payload": seller(500, "系统内部错误")}], 2),
        ([{"status": 200, "payload": seller(501, "第三方服务异常")}], 2),
        ([{"status": 502, "body": HTML_502, "content_type": "text/html"}], 2),
        ([{"status": 503, "body": ""}], 2),
        ([{"status": 504, "payload": {"message": "Gateway Time-out"}}], 2),
        ([{"exception": TimeoutError()}], 2),
        ([{"exception": aiohttp.ServerDisconnectedError()}], 2),
        ([{"exception": aiohttp.ClientOSError(104, "Connection reset by peer")}], 2),
        ([{"status": 500, "body": ""}, {"status": 501, "payload": seller(501, "x")}], 3),
    ],
)
async def test_transient_failures_are_retried(
    client: ApiClient, sleeps: Sleeps, answers: list[dict[str, object]], attempts: int
) -> None:
    with aioresponses() as mocked:
        for answer in answers:
            mocked.post(URL, **answer)  # type: ignore[arg-type]
        mocked.post(URL, payload=FRONT)
        result = await client.recognise(b"x")
    assert result.attempts == attempts
    assert client.calls == attempts and client.retries == attempts - 1
    assert len(sleeps.calls) == attempts - 1


async def test_permanent_501_exhausts_attempts(client: ApiClient, sleeps: Sleeps) -> None:
    with aioresponses() as mocked:
        mocked.post(URL, payload=seller(501, "第三方服务异常"), repeat=True)
        with pytest.raises(TransientApiError) as caught:
            await client.recognise(b"x")
    assert caught.value.error_code == "501" and caught.value.attempts == 3
    assert "第三方服务异常" in caught.value.message
    assert client.calls == 3
    # Exponential backoff with jitter: each wait within [base, 2*base], base doubling.
    assert 0.5 <= sleeps.calls[0] <= 1.0 and 1.0 <= sleeps.calls[1] <= 2.0


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ({"status": 200, "payload": seller(400, "参数错误")}, "400"),
        ({"status": 400, "payload": seller(400, "参数错误")}, "400"),
        ({"status": 200, "payload": seller(404, "请求资源不存在")}, "404"),
        ({"status": 200, "payload": seller(1001, "图片模糊")}, "1001"),
        ({"status": 200, "body": HTML_502, "content_type": "text/html"}, "bad_response"),
        ({"status": 200, "body": "[1, 2]"}, "bad_response"),
        ({"status": 200, "payload": {"msg": "", "success": True, "code": 200}}, "bad_response"),
        ({"status": 200, "payload": {**FRONT, "data": {**FRONT["data"], "side": "top"}}},  # type: ignore[dict-item]
         "bad_response"),
        ({"status": 200, "body": '{"msg": "", "success": tr'}, "bad_response"),
    ],
)
async def test_per_file_errors_are_not_retried(
    client: ApiClient, sleeps: Sleeps, answer: dict[str, object], code: str
) -> None:
    with aioresponses() as mocked:
        mocked.post(URL, **answer)  # type: ignore[arg-type]
        with pytest.raises(ApiError) as caught:
            await client.recognise(b"x")
    assert not isinstance(caught.value, TransientApiError)
    assert caught.value.error_code == code and caught.value.attempts == 1
    assert client.calls == 1 and sleeps.calls == []


@pytest.mark.parametrize(
    ("status", "message", "error_type", "text"),
    [
        (401, "HMAC signature does not match", AuthError, "check BATCH_OCR_SECRET_ID"),
        (403, "HMAC signature cannot be verified", AuthError, "refused the credentials"),
        (401, "HMAC signature cannot be verified, the x-date header is out of date for HMAC "
         "Authentication", ClockSkewError,
         "the clock of this machine is off by more than 15 minutes"),
        (429, "API quota exceeded", QuotaExceededError, "quota is used up"),
    ],
)
async def test_fatal_answers_stop_at_once(
    client: ApiClient, status: int, message: str, error_type: type, text: str
) -> None:
    with aioresponses() as mocked:
        mocked.post(URL, status=status, payload={"message": message}, repeat=True)
        with pytest.raises(error_type) as caught:
            await client.recognise(b"x")
    assert text in str(caught.value)
    assert SECRET_KEY not in str(caught.value)
    assert client.calls == 1


async def test_rate_limit_429_honours_retry_after(client: ApiClient, sleeps: Sleeps) -> None:
    with aioresponses() as mocked:
        mocked.post(URL, status=429, payload={"message": "API rate limit exceeded"},
                    headers={"Retry-After": "7"})
        mocked.post(URL, payload=FRONT)
        result = await client.recognise(b"x")
    assert result.attempts == 2 and sleeps.calls == [7.0]


async def test_redirect_is_not_followed(client: ApiClient) -> None:
    with aioresponses() as mocked:
        mocked.post(URL, status=302, headers={"Location": "https://elsewhere.test/"})
        with pytest.raises(ApiError) as caught:
            await client.recognise(b"x")
    assert caught.value.error_code == "302"


def test_parse_answer_back_side_and_non_card() -> None:
    back = {"msg": "", "success": True, "code": 200,
            "data": {"order_no": "1", "result": 0, "side": "back",
                     "info": {"authority": "南昌市公安局昌北分局", "timelimit": "20180727-长期"},
                     "validity": {"authority": True, "timelimit": True}, "image_url": None}}
    data = parse_answer(200, json.dumps(back).encode())
    assert data.side == "back" and data.info.timelimit == "20180727-长期"


def test_gateway_message_without_json_content_type_is_still_read() -> None:
    with pytest.raises(AuthError):
        parse_answer(401, b'{"message":"HMAC signature cannot be verified"}')
