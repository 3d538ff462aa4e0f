"""The ceiling: the least a client can do against the emulator, to compare batch-ocr with.

One aiohttp session, C tasks posting pre-read files (signed, form body via
``batch_ocr.provider.encoding``) and reading each answer; no checks, journal or output. What it
reaches is what this machine, loopback and the emulator allow at that latency.

Usage: python raw_client.py URL FOLDER CONCURRENCY
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp

from batch_ocr.provider import signing
from batch_ocr.provider.encoding import CONTENT_TYPE, form_body


async def main(url: str, folder: Path, concurrency: int) -> int:
    secret_id = os.environ["BATCH_OCR_SECRET_ID"]
    secret_key = os.environ["BATCH_OCR_SECRET_KEY"]
    paths = sorted(folder.iterdir())
    pending = iter(paths)
    failures = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        for path in pending:
            headers = signing.signed_headers(secret_id, secret_key, "market")
            headers["Content-Type"] = CONTENT_TYPE
            body = form_body("image/jpeg", path.read_bytes())
            async with session.post(url, data=body, headers=headers) as answer:
                await answer.read()
                failures += answer.status != 200

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))))
