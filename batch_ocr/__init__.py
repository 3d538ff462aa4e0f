"""batch-ocr: turn a folder of scanned Chinese resident ID cards into a clean table."""

__version__ = "0.1.0"
