"""``batch-ocr-server``: a self-hosted server that speaks the provider's API, backed by
the offline engine on local worker processes or on a Dask cluster (``--dask``).

The production counterpart of ``batch-ocr-emulator --engine local`` (the emulator stays
the test double): the same request handling, signature check and answers (it reuses the
emulator's gateway, seller and answers modules), plus what production needs: credentials
from the environment or the config file, a bounded queue answering 429
``API rate limit exceeded`` when full, ``GET /healthz``, a graceful SIGTERM, and logs
without personal data. Start it with ``batch-ocr-server`` or ``python -m batch_ocr.server``;
in-process with :func:`batch_ocr.server.app.running_server`.
"""

from __future__ import annotations

#: Where it listens unless told otherwise (the emulator's path, so only the host changes).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
#: Calls held at once (recognising or waiting) per image the engine works on at once.
QUEUE_PER_ENGINE_SLOT = 2
#: At least this many calls are held, however small the engine.
MIN_QUEUE = 8
#: Seconds calls in flight get to finish on SIGTERM before the server stops anyway.
SHUTDOWN_GRACE_S = 30.0
#: Where portraits (``image_url``) are served, without auth, by random token only.
PORTRAIT_ROUTE = "/portrait"
HEALTH_ROUTE = "/healthz"
