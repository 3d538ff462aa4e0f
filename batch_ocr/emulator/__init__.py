"""An emulator of the provider's ID card OCR API: the gateway and the seller together.

It is a real ``aiohttp.web`` server that checks the gateway's HMAC-SHA1 signature,
answers from recorded fixtures, serves portrait crops, injects seeded faults and counts
what a real account would be billed (``API_CONTRACT.md``). Start it with
``batch-ocr-emulator`` or, in-process, with :func:`batch_ocr.emulator.server.running_emulator`.

The provider's protocol itself (gateway, seller, answers, portrait store) lives in
:mod:`batch_ocr.provider`, which ``batch-ocr-server`` uses too. This module holds only the
emulator's own constants, so importing it is cheap.
"""

from __future__ import annotations

#: Documented demo credentials: the emulator accepts them when no others are given.
#: They are not secrets and open nothing but a local emulator.
DEMO_SECRET_ID = "AKIDdemo0000000000000000000000000000"
DEMO_SECRET_KEY = "demo-secret-key-0000000000000000"

DEFAULT_HOST = "127.0.0.1"
#: 0 asks the OS for a free port; the listening line says which one it picked.
DEFAULT_PORT = 0

#: How long a "hang" fault holds the call before the gateway gives up with a 504.
HANG_S = 300.0

#: Prefix of the emulator's own routes (stats, reset, portraits); they need no auth.
CONTROL_PREFIX = "/_emulator"
