"""An emulator of the provider's ID card OCR API: the gateway and the seller together.

It is a real ``aiohttp.web`` server that checks the gateway's HMAC-SHA1 signature,
answers from recorded fixtures, serves portrait crops, injects seeded faults and counts
what a real account would be billed (``API_CONTRACT.md``). Start it with
``batch-ocr-emulator`` or, in-process, with :func:`batch_ocr.emulator.server.running_emulator`.

This module holds only the constants every other module shares, so importing it is cheap.
"""

from __future__ import annotations

#: Documented demo credentials: the emulator accepts them when no others are given.
#: They are not secrets and open nothing but a local emulator.
DEMO_SECRET_ID = "AKIDdemo0000000000000000000000000000"
DEMO_SECRET_KEY = "demo-secret-key-0000000000000000"

#: The provider's API path (``API_CONTRACT.md``, "Endpoint").
DEFAULT_API_PATH = "/release/idcard_ocr/post"
DEFAULT_HOST = "127.0.0.1"
#: 0 asks the OS for a free port; the listening line says which one it picked.
DEFAULT_PORT = 0

#: The gateway refuses an X-Date further than this from its clock, either way.
MAX_CLOCK_SKEW_S = 900.0

#: Image limits the provider checks (``API_CONTRACT.md``, "Image limits").
#: "1 MB" is read as 1 MiB: the provider does not say which, and the generous reading
#: keeps the emulator from refusing what the real API may accept.
MAX_IMAGE_BYTES = 1024 * 1024
MIN_SIDE_PX_EXCLUSIVE = 8
MAX_SIDE_PX = 4000

#: Request body limit. 1 MiB of image is 1.4 MB of base64; form-escaping turns each '+'
#: and '/' into three bytes, ~1.45 MB for a typical (compressed) image but up to 4.2 MB
#: for one whose base64 is all '/' (a white BMP). The limit covers that worst case, so
#: no upload the provider accepts is refused for size, and still bounds memory per call.
MAX_BODY_BYTES = 4 * 1024 * 1024 + 64 * 1024

#: The portrait URL is valid for one hour, like the provider's ("有效期一个小时").
PORTRAIT_TTL_S = 3600.0
#: At most this many portrait URLs are remembered; the oldest go first.
MAX_PORTRAITS = 10_000

#: How long a "hang" fault holds the call before the gateway gives up with a 504.
HANG_S = 300.0

#: Prefix of the emulator's own routes (stats, reset, portraits); they need no auth.
CONTROL_PREFIX = "/_emulator"
