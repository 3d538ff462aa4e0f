"""The signature must match the provider's algorithm byte for byte."""

from __future__ import annotations

import locale
import subprocess
import sys

from batch_ocr.provider import signing

#   printf 'x-date: Mon, 19 Mar 2018 12:08:40 GMT\nx-source: market' \
#     | openssl dgst -sha1 -hmac 'test-secret-key-123' -binary | base64
PINNED_SIGNATURE = "YCF/QjzOKtHHy3ZULZjnSNm3BCY="
PINNED_EPOCH_S = 1521461320  # Mon, 19 Mar 2018 12:08:40 GMT


def test_http_date_is_rfc1123_gmt() -> None:
    assert signing.http_date(PINNED_EPOCH_S) == "Mon, 19 Mar 2018 12:08:40 GMT"


def test_signature_matches_independent_computation() -> None:
    x_date = signing.http_date(PINNED_EPOCH_S)
    assert signing.signature("test-secret-key-123", x_date, "market") == PINNED_SIGNATURE


def test_signed_headers_exactly_as_the_samples_build_them() -> None:
    headers = signing.signed_headers("AKIDexample", "test-secret-key-123", "market",
                                     PINNED_EPOCH_S)
    assert headers == {
        "X-Source": "market",
        "X-Date": "Mon, 19 Mar 2018 12:08:40 GMT",
        "Authorization": 'hmac id="AKIDexample", algorithm="hmac-sha1", '
        f'headers="x-date x-source", signature="{PINNED_SIGNATURE}"',
    }


def test_date_stays_english_under_a_chinese_locale() -> None:
    # strftime('%a') would say 周一 under zh_CN; the gateway needs "Mon".
    code = (
        "import locale\n"
        "try:\n    locale.setlocale(locale.LC_ALL, 'zh_CN.UTF-8')\n"
        "except locale.Error:\n    pass\n"
        "from batch_ocr.provider.signing import http_date\n"
        f"print(http_date({PINNED_EPOCH_S}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"LC_ALL": "zh_CN.UTF-8", "LANG": "zh_CN.UTF-8"})
    assert out.stdout.strip() == "Mon, 19 Mar 2018 12:08:40 GMT"
    assert locale.getlocale() is not None
