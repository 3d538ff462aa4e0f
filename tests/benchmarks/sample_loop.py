"""What a user would otherwise run: the provider's Python sample, looped over a folder.

Written for these benchmarks after the Python sample on the provider's page (not copied):
one image at a time, ``urllib`` with a fresh connection per call, the body made with
``urlencode`` of ``{"image": <data URI>, "url": ""}``, HMAC-SHA1 signing as the sample
does, each answer's JSON printed as one line. No retries, no limits, no journal.

Usage: python sample_loop.py URL FOLDER  (credentials in BATCH_OCR_SECRET_ID/_KEY)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
from email.utils import formatdate
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen


def signed_headers(secret_id: str, secret_key: str, source: str = "market") -> dict[str, str]:
    x_date = formatdate(usegmt=True)
    text = f"x-date: {x_date}\nx-source: {source}"
    digest = hmac.new(secret_key.encode(), text.encode(), hashlib.sha1).digest()
    signature = base64.b64encode(digest).decode()
    return {
        "X-Source": source,
        "X-Date": x_date,
        "Authorization": f'hmac id="{secret_id}", algorithm="hmac-sha1", '
        f'headers="x-date x-source", signature="{signature}"',
        "Content-Type": "application/x-www-form-urlencoded",
    }


def main() -> int:
    url, folder = sys.argv[1], Path(sys.argv[2])
    secret_id = os.environ["BATCH_OCR_SECRET_ID"]
    secret_key = os.environ["BATCH_OCR_SECRET_KEY"]
    failures = 0
    for path in sorted(folder.iterdir()):
        data_uri = "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()
        body = urlencode({"image": data_uri, "url": ""}).encode()
        request = Request(url, data=body, headers=signed_headers(secret_id, secret_key),
                          method="POST")
        try:
            with urlopen(request, timeout=30) as answer:
                content = answer.read()
        except HTTPError as exc:
            failures += 1
            content = exc.read()
        print(json.dumps({"file": path.name, "answer": json.loads(content or b"null")},
                         ensure_ascii=False))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
