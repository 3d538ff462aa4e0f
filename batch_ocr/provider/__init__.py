"""The provider's protocol: what the ID card OCR API accepts, refuses and answers.

One package for what both sides of the wire must agree on (``API_CONTRACT.md``), used by
the API engine's client, by ``batch-ocr-server`` and by the emulator, so that no
production module imports the test double::

    signing   the gateway's HMAC-SHA1 signature (client and gateway)
    encoding  the request body, as the provider's samples build it
    gateway   the gateway's checks: a request's headers -> a refusal or None
    limits    the buyer's plan: calls per second and a call quota
    seller    the seller behind the gateway: read the upload, check the image
    answers   the answers over HTTP, and their envelopes
    models    the answers as typed models
    portraits portrait crops behind ``image_url``, served by random token

This module holds only the constants the others share, so importing it is cheap.
"""

from __future__ import annotations

#: The provider's API path (``API_CONTRACT.md``, "Endpoint").
DEFAULT_API_PATH = "/release/idcard_ocr/post"

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
#: JSON nesting past this is the seller's 400 before it is parsed: the body is a flat
#: object, and Python's parser would otherwise recurse until it fails.
MAX_JSON_DEPTH = 8
