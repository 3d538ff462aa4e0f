"""``python -m batch_ocr`` runs the command-line tool."""

from batch_ocr.cli import command

command()
