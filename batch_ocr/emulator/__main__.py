"""``python -m batch_ocr.emulator``: the same as ``batch-ocr-emulator``."""

import sys

from batch_ocr.emulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
