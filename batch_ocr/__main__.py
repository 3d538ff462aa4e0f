"""``python -m batch_ocr`` and the ``batch-ocr`` command.

The garbage collector is off from the first import until the run starts: start-up
only allocates what lives to the end (``cli.command`` says what that saves).
"""

import gc


def run() -> None:
    """Import the command-line tool with the collector off, then run it."""
    gc.disable()
    from batch_ocr.cli import command

    command()


if __name__ == "__main__":
    run()
