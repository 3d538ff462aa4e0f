"""The errors batch-ocr knows, in one hierarchy.

::

    BatchOcrError
    ├── ConfigError            usage or configuration problem          -> exit 2
    ├── RunLockedError         another run holds the state's or output's lock -> exit 75
    ├── CallBudgetExhausted    --max-calls reached: the image waits for the next run
    ├── RunStopping            the run is stopping: the image waits for the next run
    ├── FatalRunError          nothing more can succeed in this run    -> exit 3
    │   ├── OutputError        the output or state cannot be written (disk full)
    │   ├── UnreachableError   the API never answered: wrong endpoint, network down
    │   ├── ClusterUnreachableError  no Dask scheduler (or no worker) at --dask at start
    │   ├── ClusterLostError   the cluster an engine runs on went away
    │   └── FatalApiError      the API says every further call would fail too
    │       ├── AuthError          401/403: bad SecretId/SecretKey
    │       ├── QuotaExceededError 429 "API quota exceeded"
    │       └── ClockSkewError     X-Date out of date: this machine's clock is off
    └── FileError              this file failed; the run goes on       -> a row, exit 1
        ├── ImageRejected      we refused it before paying (row status ``rejected``)
        └── ApiError           the API refused or failed it (row status ``error``)
            └── TransientApiError  500/501/502/503/504/429 rate, timeouts, resets: retried

Each ``FileError`` carries an ``error_code`` (the provider's code like ``400``/``501``, or
ours like ``empty_file``) and a message fit for a row and a log. No error message ever
contains the secret key: errors are built from the answer, never from our request.
"""

from __future__ import annotations


class BatchOcrError(Exception):
    """Base of every error batch-ocr raises on purpose."""


class ConfigError(BatchOcrError):
    """The command line, the config file or the environment is wrong."""


class RunLockedError(BatchOcrError):
    """Another batch-ocr run holds the lock on the same state journal or output."""


class CallBudgetExhausted(BatchOcrError):
    """A billed call was refused because ``--max-calls`` calls were made already."""


class RunStopping(BatchOcrError):
    """The run is stopping (Ctrl-C, SIGTERM): a call not yet started is not started."""


class FatalRunError(BatchOcrError):
    """Stop the run: start nothing new, let what is in flight finish."""

    error_code: str = "fatal"


class OutputError(FatalRunError):
    """The output or the state journal cannot be written (e.g. the disk is full)."""

    error_code = "output_error"


class UnreachableError(FatalRunError):
    """The API has not answered once and file after file fails to reach it."""

    error_code = "unreachable"


class ClusterLostError(FatalRunError):
    """The cluster (scheduler) an engine sends its work to cannot be reached."""

    error_code = "cluster_lost"


class ClusterUnreachableError(FatalRunError):
    """No Dask scheduler answered at ``--dask`` when the run started (or no worker)."""

    error_code = "cluster_unreachable"


class FatalApiError(FatalRunError):
    """An answer that every further call would get too: stop the run."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class AuthError(FatalApiError):
    """The gateway refused our credentials (401/403)."""

    error_code = "auth"


class QuotaExceededError(FatalApiError):
    """The purchased quota is used up (429 ``API quota exceeded``)."""

    error_code = "quota_exceeded"


class ClockSkewError(FatalApiError):
    """The gateway says our X-Date is out of date."""

    error_code = "clock_skew"


class FileError(BatchOcrError):
    """One file failed; it gets a row with ``error_code`` and the message."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        #: Calls made for this file before it failed (0 when refused locally).
        self.attempts = 0
        #: The engine that failed it when the run's engine is made of several (hybrid:
        #: ``local`` or ``api``), for the row's ``engine``; empty: the run's engine.
        self.engine = ""


class ImageRejected(FileError):
    """Refused locally before any paid call (empty, unreadable, not an image, ...)."""


class ApiError(FileError):
    """The API answered with a per-file error (400, 404, 1001, a bad answer ...)."""

    def __init__(
        self,
        error_code: str,
        message: str,
        *,
        http_status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(error_code, message)
        self.http_status = http_status
        self.retry_after_s = retry_after_s


class TransientApiError(ApiError):
    """A failure worth retrying: the same request may well succeed in a moment."""
