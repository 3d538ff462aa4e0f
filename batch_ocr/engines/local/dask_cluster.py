"""The local engine's executor on a Dask cluster (``--dask tcp://host:port``, the
``dask`` extra).

The driver (this process) keeps everything but the recognition: walking, pre-flight,
dedup, the state journal and the output, so resume and exactly-once rows are the same
as with local processes. Only image bytes go to the workers, in batches:

- ``run`` queues one image and awaits its result; a dispatcher takes up to
  ``batch_images`` queued images into one Dask task whenever fewer than
  ``batches_in_flight`` tasks are out. Under load batches fill up (per-task overhead is
  paid once per batch); when the queue is short they leave at once (no waiting to fill).
- Each batch's result fans back to its images as soon as the batch finishes, so rows
  stream out while the cluster works (``as_completed`` over small batches, bounded).
- Each worker loads the models once (``dask_worker.ModelLoader``, a worker plugin).

Faults (docs/cluster.md): a worker that dies takes its running batch
with it and the scheduler reruns it elsewhere (no row is lost or failed); a batch that
keeps killing workers fails each of its images with ``WorkerDied``, and the engine
retries them alone (``run_alone``, a batch of one), so only the culprit gets an
``error`` row (``local_worker_died``), as with local processes. A scheduler that goes
away fails every waiting image with ``ClusterLostError``, which stops the run (exit 3);
one that cannot be reached at start is ``ClusterUnreachableError``, before any work
(both in ``batch_ocr.errors``). Dask waits for workers forever, so a watcher stops the
run when the cluster has had no worker for ``no_worker_grace_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import dask
from distributed import Client
from distributed.client import FutureCancelledError
from distributed.scheduler import KilledWorker
from distributed.security import Security

from batch_ocr.engines.local._result import LocalEngineError, LocalRecognition
from batch_ocr.engines.local.dask_worker import (
    BatchOutcome,
    ImageFailure,
    ModelLoader,
    recognise_batch,
)
from batch_ocr.engines.local.executor import ENGINE_FAILED, Executor, WorkerDied
from batch_ocr.errors import ClusterLostError, ClusterUnreachableError, FatalRunError
from batch_ocr.settings import DASK_CONNECT_TIMEOUT_S

#: Images per Dask task at most. At ~0.5 s of CPU per image a full batch is ~4 s of
#: work against a few ms of scheduling, and a lost worker costs at most that much redo.
BATCH_IMAGES = 8
#: Batches out on the cluster per worker thread: one running, one queued behind it, so
#: a thread never waits for the driver between batches.
BATCHES_PER_THREAD = 2
#: Seconds ``aclose`` waits for the client to disconnect (a lost scheduler never answers).
CLOSE_TIMEOUT_S = 5.0
#: A cluster left without any worker this long stops the run rather than hang it.
NO_WORKER_GRACE_S = 60.0
#: Seconds between two looks at the cluster's workers.
WATCH_INTERVAL_S = 2.0
#: Loggers of Dask that write to the terminal; quiet unless ``--verbose``.
DASK_LOGGERS = ("distributed", "distributed.client", "distributed.worker",
                "distributed.scheduler", "distributed.comm", "distributed.core",
                "distributed.batched", "tornado", "tornado.application")

log = logging.getLogger(__name__)

BatchTask = Callable[[list[bytes]], BatchOutcome]


def quiet_dask_logs(*, verbose: bool) -> None:
    """Keep Dask's own log lines (reconnects, warnings) off the terminal unless verbose.

    Called after ``distributed`` is imported: importing it configures these loggers.
    """
    level = logging.INFO if verbose else logging.CRITICAL + 1
    for name in DASK_LOGGERS:
        logging.getLogger(name).setLevel(level)


@dataclass(slots=True)
class _Waiting:
    """One image queued for the cluster and the future its caller awaits."""

    payload: bytes
    result: asyncio.Future[LocalRecognition]


async def connect_cluster(address: str, timeout_s: float) -> tuple[Client, int]:
    """A client of the scheduler at ``address`` whose workers have loaded the models,
    and their thread count; ``ClusterUnreachableError`` before any work otherwise."""
    if address.startswith("tls://") and not _client_tls_configured():
        raise ClusterUnreachableError(
            f"the Dask scheduler at {address} speaks TLS, but this machine's Dask "
            "configuration has no TLS certificates for a client: set "
            "distributed.comm.tls.ca-file, .client.cert and .client.key (or "
            "DASK_DISTRIBUTED__COMM__TLS__CA_FILE, ..._CLIENT__CERT, ..._CLIENT__KEY); "
            "see docs/cluster.md")
    try:
        client = await Client(address, asynchronous=True, timeout=timeout_s,
                              set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ClusterUnreachableError(
            f"cannot reach the Dask scheduler at {address} "
            f"({type(exc).__name__}); check --dask and that the scheduler is running"
        ) from None
    try:
        await client.wait_for_workers(1, timeout=timeout_s)
    except (TimeoutError, OSError):
        await _close(client)
        raise ClusterUnreachableError(
            f"no Dask worker joined the scheduler at {address} within "
            f"{timeout_s:g} s; start some with: dask worker {address}"
        ) from None
    try:
        await client.register_plugin(ModelLoader(), name=ModelLoader.name)
        threads = sum((await client.nthreads()).values())
    except Exception as exc:  # noqa: BLE001 - any failure here means no usable cluster
        await _close(client)
        raise ClusterUnreachableError(
            f"the Dask workers at {address} cannot load the models "
            f"({type(exc).__name__}: {exc}); install batch-ocr[local,dask] on every worker"
        ) from None
    return client, threads


def crosses_network_in_clear(address: str) -> bool:
    """Whether images sent to the scheduler at ``address`` leave this machine unencrypted:
    a plain TCP address (``tcp://``, or none) of a host other than this one."""
    scheme, _, rest = address.rpartition("://")
    if scheme not in ("", "tcp"):
        return False  # tls://, or Dask's in-process and UCX transports
    host = urllib.parse.urlsplit(f"//{rest}").hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may be any machine
        return True


def _client_tls_configured() -> bool:
    """Whether Dask's configuration gives a client what it needs to speak TLS."""
    return Security().get_connection_args("client").get("ssl_context") is not None


async def _close(client: Client) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.close(), CLOSE_TIMEOUT_S)


def _settle(waiting: _Waiting, outcome: LocalRecognition | LocalEngineError) -> None:
    """Give ``waiting``'s caller its recognition or its per-image error."""
    if waiting.result.done():
        return
    if isinstance(outcome, LocalEngineError):
        waiting.result.set_exception(outcome)
    else:
        waiting.result.set_result(outcome)


def _outcome(outcome: LocalRecognition | ImageFailure) -> LocalRecognition | LocalEngineError:
    """A worker's outcome for one image: its recognition, or its error raised here."""
    if isinstance(outcome, ImageFailure):
        return LocalEngineError(outcome.error_code, outcome.message)
    return outcome


async def watch_workers(client: Client, address: str, grace_s: float) -> ClusterLostError:
    """Return why the cluster is lost: no worker for ``grace_s``, or no scheduler.

    Dask waits for workers forever; a cron run must not. A scheduler that stops
    answering here is lost too (its futures may not have said so yet).
    """
    alone_since: float | None = None
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(WATCH_INTERVAL_S)
        try:
            workers = len(await asyncio.wait_for(client.nthreads(), 30))
        except (OSError, TimeoutError) as exc:
            return ClusterLostError(lost_message(address, type(exc).__name__))
        if workers:
            alone_since = None
            continue
        alone_since = alone_since or loop.time()
        if loop.time() - alone_since >= grace_s:
            return ClusterLostError(
                f"no Dask worker left on the scheduler at {address} for {grace_s:g} s; "
                "rows finished so far are saved, run again when workers are back")


def lost_message(address: str, reason: str) -> str:
    return (f"lost the Dask scheduler at {address} ({reason}); rows finished so far are "
            "saved, run again when the cluster is back")


class DaskCluster(Executor):
    """The workers of the Dask cluster whose scheduler is at ``address``.

    ``start`` must be awaited before ``run``; ``task`` is what the workers run per
    batch (tests inject one that kills its worker).
    """

    def __init__(
        self,
        address: str,
        *,
        batch_images: int = BATCH_IMAGES,
        batches_per_thread: int = BATCHES_PER_THREAD,
        connect_timeout_s: float = DASK_CONNECT_TIMEOUT_S,
        no_worker_grace_s: float = NO_WORKER_GRACE_S,
        task: BatchTask = recognise_batch,
        verbose: bool = False,
    ) -> None:
        # Importing Dask set up its loggers; keep them off the terminal unless asked.
        quiet_dask_logs(verbose=verbose)
        self.address = address
        self.description = f"on the Dask cluster at {address}"
        self.batch_images = batch_images
        self.batches_per_thread = batches_per_thread
        self.connect_timeout_s = connect_timeout_s
        self.no_worker_grace_s = no_worker_grace_s
        self._task = task
        self._client: Client | None = None
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()
        self._dispatcher: asyncio.Task[None] | None = None
        # Each batch out on the cluster, by the task awaiting it.
        self._batch_tasks: dict[asyncio.Task[None], list[_Waiting]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._lost: ClusterLostError | None = None
        self._threads = 0
        self._closed = False
        #: Dask tasks submitted (batches, and images retried alone).
        self.tasks_submitted = 0

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Connect to the scheduler and load the models on every worker (idempotent)."""
        if self._client is not None:
            return
        self._client, self._threads = await connect_cluster(self.address,
                                                            self.connect_timeout_s)
        if crosses_network_in_clear(self.address):
            log.warning("the Dask cluster at %s is not encrypted: card images cross the "
                        "network in clear (docs/cluster.md, \"Encrypted clusters\")",
                        self.address)

    def worker_threads(self) -> int:
        """Threads across the cluster's workers when the run started (at least 1)."""
        return max(1, self._threads)

    def batches_in_flight(self) -> int:
        """How many batches may be out on the cluster at once."""
        return self.batches_per_thread * self.worker_threads()

    def images_in_flight(self) -> int:
        """Images the run should hold at once to keep every batch full."""
        return self.batch_images * self.batches_in_flight()

    async def aclose(self) -> None:
        self._closed = True
        for helper in (self._dispatcher, self._watcher):
            if helper is not None:
                helper.cancel()
                await asyncio.gather(helper, return_exceptions=True)
        for task in list(self._batch_tasks):
            task.cancel()
        await asyncio.gather(*self._batch_tasks, return_exceptions=True)
        self._fail_waiting(ClusterLostError("the engine is closed"))
        await self._close_client()

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _close(client)

    # -- recognition -------------------------------------------------------------

    def _waiting(self, payload: bytes) -> _Waiting:
        """``payload`` waiting for the cluster; raises when nothing more can run."""
        if self._lost is not None:
            raise self._lost
        if self._client is None or self._closed:
            raise ClusterLostError(f"not connected to the Dask scheduler at {self.address}")
        if self._dispatcher is None:
            self._dispatcher = asyncio.create_task(self._dispatch())
            self._watcher = asyncio.create_task(self._watch())
        return _Waiting(payload, asyncio.get_running_loop().create_future())

    async def run(self, payload: bytes) -> LocalRecognition:
        waiting = self._waiting(payload)
        self._queue.put_nowait(waiting)
        return await waiting.result

    async def run_alone(self, payload: bytes) -> LocalRecognition:
        """A batch of one, sent at once (the engine sends one image alone at a time)."""
        waiting = self._waiting(payload)
        self._send([waiting])
        return await waiting.result

    async def _dispatch(self) -> None:
        """Send queued images in batches, with at most ``batches_in_flight`` out."""
        slots = asyncio.Semaphore(self.batches_in_flight())
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < self.batch_images and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await slots.acquire()
            # Images queued while waiting for a slot join this batch.
            while len(batch) < self.batch_images and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._send(batch).add_done_callback(lambda _: slots.release())

    def _send(self, batch: list[_Waiting]) -> asyncio.Task[None]:
        """Run ``batch`` on the cluster, tracked until done (a lost cluster fails it)."""
        task = asyncio.create_task(self._run_batch(batch))
        self._batch_tasks[task] = batch
        task.add_done_callback(lambda done: self._batch_tasks.pop(done, None))
        return task

    async def _watch(self) -> None:
        client = self._client
        if client is not None:
            lost = await watch_workers(client, self.address, self.no_worker_grace_s)
            self._lose(lost)

    def _lose(self, error: ClusterLostError) -> None:
        """Fail every image out or queued with ``error``; nothing more is sent."""
        self._lost = self._lost or error
        for task, batch in list(self._batch_tasks.items()):
            self._fail_waiting(self._lost, batch)
            task.cancel()
        self._fail_waiting(self._lost)

    async def _run_batch(self, batch: list[_Waiting]) -> None:
        try:
            outcomes = await self._submit([w.payload for w in batch])
        except KilledWorker:
            # Every worker that tried the batch died. Alone, the image is the culprit;
            # in company, the engine retries each alone so only the culprit fails.
            alone = len(batch) == 1
            message = ("a Dask worker process died each time it recognised this image"
                       if alone else "a Dask worker process died while recognising the "
                       "batch holding this image")
            for waiting in batch:
                _settle(waiting, WorkerDied(message, alone=alone))
            return
        except ClusterLostError as exc:
            self._lost = self._lost or exc
            self._fail_waiting(self._lost, batch)
            return
        except asyncio.CancelledError:
            self._fail_waiting(ClusterLostError("the engine is closed"), batch)
            raise
        except Exception as exc:  # noqa: BLE001 - an unexpected failure of the batch
            for waiting in batch:
                _settle(waiting, LocalEngineError(ENGINE_FAILED, f"{type(exc).__name__}: {exc}"))
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            _settle(waiting, _outcome(outcome))

    async def _submit(self, payloads: list[bytes]) -> BatchOutcome:
        """One Dask task for ``payloads``; a lost scheduler becomes ``ClusterLostError``."""
        client = self._client
        if client is None or client.status not in ("running", "newly-created"):
            raise self._lost or ClusterLostError(lost_message(self.address, "the client is closed"))
        try:
            # The bytes ride in the task on purpose: a task that carries its own input is
            # rerun anywhere when its worker dies, where scattered data would be lost with
            # the worker. A batch is bounded (8 files of at most 64 MB), so Dask's warning
            # about large graphs is only noise on the user's terminal here.
            with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1GiB"}):
                future = client.submit(self._task, payloads, pure=False)
            self.tasks_submitted += 1
            outcomes: BatchOutcome = await future
        except KilledWorker:
            raise
        except (FutureCancelledError, OSError, TimeoutError) as exc:
            raise ClusterLostError(lost_message(self.address, type(exc).__name__)) from None
        return outcomes

    def _fail_waiting(self, error: FatalRunError, batch: list[_Waiting] | None = None) -> None:
        """Fail ``batch`` and every image still queued (nothing more can run)."""
        waiting_now = list(batch or [])
        while not self._queue.empty():
            waiting_now.append(self._queue.get_nowait())
        for waiting in waiting_now:
            if not waiting.result.done():
                waiting.result.set_exception(error)
