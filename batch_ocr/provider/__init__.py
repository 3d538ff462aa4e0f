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
    connections the gateway's front door: a cap on connections and deadlines for a
              request to arrive, so that traffic without credentials cannot exhaust it

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

#: Connections held at once. Past it, the connection that has waited longest for its
#: request (still arriving, idle or refused) is closed to make room; see ``connections``.
MAX_CONNECTIONS = 512
#: A request's headers must all arrive within this of the connection opening (or of the
#: request's first byte on a kept-alive connection), else the connection is cut off.
HEADER_TIMEOUT_S = 10.0
#: A request's body must all arrive within this of its headers, else it is cut off: at
#: least ~70 kB/s for the largest body the provider accepts.
BODY_TIMEOUT_S = 60.0
#: A kept-alive connection with no request for this long is closed. Longer than clients'
#: own idle limit (aiohttp's 15 s), so a client never reuses a connection being closed.
IDLE_TIMEOUT_S = 75.0
#: After a request refused unread, its body is drained (and dropped) for at most this
#: long and at most ``MAX_BODY_BYTES``, so the client can finish sending and read the
#: answer; then the connection is closed.
LINGER_S = 5.0
#: JSON nesting past this is the seller's 400 before it is parsed: the body is a flat
#: object, and Python's parser would otherwise recurse until it fails.
MAX_JSON_DEPTH = 8
