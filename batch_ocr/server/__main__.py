"""``python -m batch_ocr.server``: the same as ``batch-ocr-server``."""

import sys

from batch_ocr.server.cli import main

if __name__ == "__main__":
    sys.exit(main())
