"""The offline engine: the same rows as the API, no third party (the ``local`` extra).

Every model ships inside the installed packages and nothing is downloaded at run time.

::

    engine.LocalEngine           the Engine a run is handed ("local")
      └── executor.Executor      where the recogniser runs:
            ├── processes.ProcessPool     worker processes here (--workers)
            └── dask_cluster.DaskCluster  a Dask cluster (--dask; dask_worker runs there)
    recognise(bytes)             one image, synchronous: the _* modules read the card

    LocalEngineError (a FileError)   this file failed in the local engine -> an error row
    └── executor.WorkerDied          its worker process died (a later run tries again)

Importing this package loads neither the models nor Dask.
"""

from batch_ocr.engines.local._recognise import recognise
from batch_ocr.engines.local._result import LocalEngineError, LocalRecognition
from batch_ocr.engines.local.engine import LocalEngine, available

__all__ = ["LocalEngine", "LocalEngineError", "LocalRecognition", "available", "recognise"]
