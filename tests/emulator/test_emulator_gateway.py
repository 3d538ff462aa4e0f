"""The emulated gateway: every refusal of the contract table, by unit and over HTTP."""

from __future__ import annotations

import time
from typing import Any

import pytest

from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from batch_ocr.emulator.config import EmulatorConfig
from batch_ocr.emulator.server import running_emulator
from batch_ocr.provider import signing
from batch_ocr.provider.gateway import (
    MSG_BAD_SIGNATURE,
    MSG_DATE_INVALID,
    MSG_DATE_OUT_OF_DATE,
    MSG_FORMAT_ERROR,
    MSG_ID_OR_SIGNATURE_MISSING,
    MSG_NO_AUTHORIZATION,
    MSG_UNKNOWN_ID,
    AuthorizationParams,
    Refusal,
    check_request,
    parse_authorization,
)

KEYS = {DEMO_SECRET_ID: DEMO_SECRET_KEY}
NOW_S = 1_700_000_000.0


class CIHeaders(dict[str, str]):
    """A case-insensitive header mapping, as aiohttp's request.headers is."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        for name, value in self.items():
            if name.lower() == key.lower():
                return value
        return default


def good_headers(epoch_s: float = NOW_S, key: str = DEMO_SECRET_KEY) -> dict[str, str]:
    return signing.signed_headers(DEMO_SECRET_ID, key, "market", epoch_s)


def mutate(**changes: str | None) -> dict[str, str]:
    headers = good_headers()
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    return headers


GOOD = good_headers()
GOOD_SIG = signing.signature(DEMO_SECRET_KEY, GOOD["X-Date"], "market")

# (case, headers, status, message) -- one row per line of the contract table.
REFUSALS: list[tuple[str, dict[str, str], int, str]] = [
    ("no authorization", mutate(Authorization=None), 401, MSG_NO_AUTHORIZATION),
    ("empty authorization", mutate(Authorization=""), 401, MSG_NO_AUTHORIZATION),
    (
        "wrong signature",
        good_headers(key="not-the-key"),
        401,
        MSG_BAD_SIGNATURE,
    ),
    (
        "unknown secret id",
        mutate(Authorization=signing.authorization("AKIDunknown", GOOD_SIG)),
        401,
        MSG_UNKNOWN_ID,
    ),
    ("x-date missing", mutate(X_Date=None), 401, MSG_DATE_INVALID),
    ("x-date unparsable", mutate(X_Date="yesterday at noon"), 401, MSG_DATE_INVALID),
    (
        "x-date without zone",
        mutate(X_Date="Tue, 14 Nov 2023 22:13:20 -0000"),
        401,
        MSG_DATE_INVALID,
    ),
    ("x-source missing", mutate(X_Source=None), 401, MSG_BAD_SIGNATURE),
    ("x-source changed", mutate(X_Source="other"), 401, MSG_BAD_SIGNATURE),
    ("not hmac scheme", mutate(Authorization="Basic dXNlcjpwYXNz"), 401, MSG_FORMAT_ERROR),
    ("hmac without params", mutate(Authorization="hmac"), 401, MSG_FORMAT_ERROR),
    ("hmac garbage", mutate(Authorization="hmac !!!"), 401, MSG_FORMAT_ERROR),
    (
        "no signature",
        mutate(Authorization=f'hmac id="{DEMO_SECRET_ID}", algorithm="hmac-sha1"'),
        401,
        MSG_ID_OR_SIGNATURE_MISSING,
    ),
    (
        "no id",
        mutate(Authorization=f'hmac algorithm="hmac-sha1", signature="{GOOD_SIG}"'),
        401,
        MSG_ID_OR_SIGNATURE_MISSING,
    ),
    (
        "other algorithm",
        mutate(
            Authorization=signing.authorization(DEMO_SECRET_ID, GOOD_SIG).replace(
                "hmac-sha1", "hmac-sha256"
            )
        ),
        401,
        MSG_FORMAT_ERROR,
    ),
    (
        "other signed headers",
        mutate(
            Authorization=signing.authorization(DEMO_SECRET_ID, GOOD_SIG).replace(
                "x-date x-source", "date source"
            )
        ),
        401,
        MSG_FORMAT_ERROR,
    ),
]


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [row[1:] for row in REFUSALS],
    ids=[row[0] for row in REFUSALS],
)
def test_check_request_refusals(headers: dict[str, str], status: int, message: str) -> None:
    assert check_request(CIHeaders(headers), KEYS, now_s=NOW_S) == Refusal(status, message)


def test_check_request_accepts_the_samples_headers() -> None:
    assert check_request(CIHeaders(GOOD), KEYS, now_s=NOW_S) is None


def test_header_names_are_case_insensitive() -> None:
    lowered = {k.lower(): v for k, v in GOOD.items()}
    assert check_request(CIHeaders(lowered), KEYS, now_s=NOW_S) is None


@pytest.mark.parametrize("skew_s", [-901, 901, -3600, 86_400])
def test_clock_skew_beyond_900_s_either_way(skew_s: float) -> None:
    headers = good_headers(NOW_S + skew_s)
    assert check_request(CIHeaders(headers), KEYS, now_s=NOW_S) == Refusal(
        401, MSG_DATE_OUT_OF_DATE
    )


@pytest.mark.parametrize("skew_s", [-899, 899, 0])
def test_clock_skew_within_900_s_is_fine(skew_s: float) -> None:
    assert check_request(CIHeaders(good_headers(NOW_S + skew_s)), KEYS, now_s=NOW_S) is None


def test_parse_authorization_tolerates_spaces_and_bare_values() -> None:
    # The provider's curl example writes `id = "..."` and an unquoted signature.
    parsed = parse_authorization(
        'hmac id = "AKIDx", algorithm = "hmac-sha1", headers = "x-date x-source", '
        "signature = yMCxXNytW5nvVGNZ8aBtRxmiLJ4="
    )
    assert parsed == AuthorizationParams(
        "AKIDx", "hmac-sha1", ("x-date", "x-source"), "yMCxXNytW5nvVGNZ8aBtRxmiLJ4="
    )


def test_several_key_pairs_are_accepted() -> None:
    keys = {DEMO_SECRET_ID: DEMO_SECRET_KEY, "AKIDsecond": "second-key"}
    headers = signing.signed_headers("AKIDsecond", "second-key", "market", NOW_S)
    assert check_request(CIHeaders(headers), keys, now_s=NOW_S) is None
    crossed = signing.signed_headers("AKIDsecond", DEMO_SECRET_KEY, "market", NOW_S)
    assert check_request(CIHeaders(crossed), keys, now_s=NOW_S) == Refusal(401, MSG_BAD_SIGNATURE)


def test_non_ascii_signature_is_a_mismatch_not_a_crash() -> None:
    headers = mutate(Authorization=signing.authorization(DEMO_SECRET_ID, "签名"))
    assert check_request(CIHeaders(headers), KEYS, now_s=NOW_S) == Refusal(401, MSG_BAD_SIGNATURE)


# --- over HTTP: the same table against a running emulator ------------------------------


def _live(headers: dict[str, str]) -> dict[str, str]:
    """Re-date a table row to now, so only what the row broke is wrong."""
    now = good_headers(time.time())
    fixed = dict(headers)
    if "X-Date" in fixed and fixed["X-Date"] == GOOD["X-Date"]:
        fixed["X-Date"] = now["X-Date"]
        auth = fixed.get("Authorization", "")
        for key in (DEMO_SECRET_KEY, "not-the-key"):
            old = signing.signature(key, GOOD["X-Date"], "market")
            new = signing.signature(key, now["X-Date"], "market")
            auth = auth.replace(old, new)
        if "Authorization" in fixed:
            fixed["Authorization"] = auth
    return fixed


async def test_every_refusal_over_http(api: Any, cards: Any, helpers: Any) -> None:
    async with running_emulator(EmulatorConfig(fixture_paths=(cards.fixtures_path,))) as emu:
        body = helpers.form_body(cards.front)
        for case, headers, status, message in REFUSALS:
            answer = await api.post(emu.url, body, headers=_live(headers))
            assert (case, answer.status, answer.content_type, answer.json()) == (
                case,
                status,
                "application/json",
                {"message": message},
            )
        # And the control: correctly signed, it passes.
        assert (await api.recognise(emu.url, cards.front)).status == 200
        stats = emu.stats()
    assert stats["calls"] == len(REFUSALS) + 1
    assert stats["billable"] == 1
    assert stats["by_status"] == {"401": len(REFUSALS), "200": 1}
    # Refused calls still count against the image, but were not billed.
    sha = helpers.sha256_hex(cards.front)
    assert stats["per_sha256"] == {sha: len(REFUSALS) + 1}
    assert stats["billable_per_sha256"] == {sha: 1}


@pytest.mark.parametrize(("skew_s", "status"), [(-1000, 401), (1000, 401), (-800, 200), (800, 200)])
async def test_clock_skew_over_http(
    api: Any, cards: Any, helpers: Any, skew_s: float, status: int
) -> None:
    async with running_emulator() as emu:
        answer = await api.post(
            emu.url, helpers.form_body(cards.front), epoch_s=time.time() + skew_s
        )
    assert answer.status == status
    if status == 401:
        assert answer.json() == {"message": MSG_DATE_OUT_OF_DATE}
