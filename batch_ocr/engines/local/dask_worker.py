"""What runs inside a Dask worker: the models loaded once, and a batch of images read.

Imported by the workers by name (``batch_ocr.engines.local.dask_worker.recognise_batch``), so
every worker needs batch-ocr with the ``local`` and ``dask`` extras installed; only the
image bytes travel, never a file path (docs/cluster.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from distributed import WorkerPlugin

from batch_ocr.engines.local._recognise import recognise
from batch_ocr.engines.local._result import LocalEngineError, LocalRecognition
from batch_ocr.engines.local.executor import ENGINE_FAILED

#: The plugin's name on the cluster: registering it again (a second run) replaces it.
PLUGIN_NAME = "batch-ocr-models"


@dataclass(frozen=True, slots=True)
class ImageFailure:
    """One image of a batch that the engine could not read (a ``LocalEngineError``).

    Sent back as a plain value: an exception with a custom ``__init__`` does not always
    survive pickling, and one bad image must not fail its whole batch.
    """

    error_code: str
    message: str


BatchOutcome = list[LocalRecognition | ImageFailure]


class ModelLoader(WorkerPlugin):
    """Loads the OCR models when a worker starts (or when the plugin is registered).

    The models then stay in the worker process for every batch it runs, as with the
    local pool's initializer; one ONNX thread per Dask thread keeps threads from fighting.
    """

    name = PLUGIN_NAME

    def setup(self, worker: Any) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from batch_ocr.engines.local import _ocr

        _ocr.models()


def recognise_batch(payloads: list[bytes]) -> BatchOutcome:
    """Recognise each image of a batch; a failing image becomes an ``ImageFailure``.

    A bug in the engine on one image is that image's failure, as in the local pool
    (``local_engine_failed``); a crash of the process is Dask's to retry elsewhere.
    """
    outcomes: BatchOutcome = []
    for payload in payloads:
        try:
            outcomes.append(recognise(payload))
        except LocalEngineError as exc:
            outcomes.append(ImageFailure(exc.error_code, exc.message))
        except Exception as exc:  # noqa: BLE001 - one image's bug, not the batch's
            outcomes.append(ImageFailure(ENGINE_FAILED, f"{type(exc).__name__}: {exc}"))
    return outcomes
