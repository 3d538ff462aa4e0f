"""Offline ID card recognition (issue 8): the same rows as the API, no third party.

Install with the ``local`` extra; every model ships inside the installed packages and
nothing is downloaded at run time. ``recognise`` reads one image synchronously;
``LocalEngine`` runs it in a pool of worker processes for the pipeline.

::

    LocalEngineError (a FileError)   this file failed in the local engine -> an error row
"""

from batch_ocr.engines.local._engine import LocalEngine, available
from batch_ocr.engines.local._recognise import recognise
from batch_ocr.engines.local._result import LocalEngineError, LocalRecognition

__all__ = ["LocalEngine", "LocalEngineError", "LocalRecognition", "available", "recognise"]
