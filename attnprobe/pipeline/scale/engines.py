"""Engines: who runs the shards. In this process, or in local worker processes.

Every engine runs :func:`attnprobe.pipeline.scale.shards.run_shard` on each shard and
hands each :class:`~attnprobe.pipeline.scale.shards.ShardOutput` to ``on_done`` as it
comes (the driver stores it: the work area on disk, or memory). A shard that
raises something other than an :class:`~attnprobe.errors.AttnprobeError` (a
bad input, which would fail every shard: raised at once) is tried again
:data:`RETRIES` times; if it still fails, the engine goes on with the other
shards and returns ``{shard number: (id, error)}``, so the driver reports it
by id instead of dropping it. The Ray engine lives in
:mod:`attnprobe.pipeline.scale.ray_engine`.

Worker processes start with ``spawn`` (no inherited torch state), load the
model once each (from its path), ignore Ctrl-C (the driver stops them), and
report each finished batch on a queue, so that one progress bar counts the
sentences of every worker. With a work area they write their finished shards
into it themselves and hand the driver only the statistics: the driver never
holds a shard's records.
"""

from __future__ import annotations

import logging
import queue
import signal

from attnprobe.errors import AttnprobeError
from attnprobe.pipeline.scale.shards import RunOptions, ShardTask, run_shard

__all__ = ["RETRIES", "InProcessEngine", "LocalEngine", "release_memory", "run_into"]

log = logging.getLogger("attnprobe")

#: further tries of a failed shard before it is reported
RETRIES = 1


def _failed(task: ShardTask, attempt: int, exc: BaseException, failures: dict) -> bool:
    """Log a failed try; record the failure when no try is left. True: try again."""
    shard = task.shard
    log.debug("shard %d (%s) failed", shard.number, shard.id, exc_info=exc)
    if attempt < RETRIES:
        log.warning("shard %d (%s) failed (%s); trying it again", shard.number, shard.id, exc)
        return True
    failures[shard.number] = (shard.id, f"{type(exc).__name__}: {exc}")
    return False


class InProcessEngine:
    """Run the shards one after another in this process, with the model already loaded."""

    name = "in-process"

    def __init__(self, model):
        self.model = model

    def run(self, tasks, options: RunOptions, on_done, progress, area=None) -> dict:
        failures: dict = {}
        for task in tasks:
            attempt = 0
            while True:
                try:
                    out = run_into(area, self.model, task, options, attempt, progress=progress)
                except AttnprobeError:
                    raise
                except Exception as exc:  # noqa: BLE001 - retried, then reported by id
                    if _failed(task, attempt, exc, failures):
                        attempt += 1
                        continue
                    break
                on_done(out)
                break
        return failures


# ------------------------------------------------------------------ local workers

_WORKER: dict = {}  # in a worker process: its model and progress queue

#: a worker started before the run knew its work area takes it from its first job
_AREA_LATER = "later"


def _init_worker(model_ref, threads: int, trust: bool, progress, area) -> None:
    import torch

    from attnprobe.models.registry import load
    from attnprobe.pipeline.scale.work_area import WorkArea

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver stops its workers
    bound_heap()
    torch.set_num_threads(threads)
    _WORKER["model"] = load(model_ref, trust=trust)
    _WORKER["progress"] = progress
    _WORKER["area"] = area if area is None or isinstance(area, str) else WorkArea(*area)


def _ready() -> None:
    """A first, empty job: it starts a worker process (which then loads the model)."""


def _work(task: ShardTask, options: RunOptions, attempt: int, place=None):
    q, area = _WORKER["progress"], _WORKER["area"]
    if isinstance(area, str):  # _AREA_LATER: started before the run knew its work area
        from attnprobe.pipeline.scale.work_area import WorkArea

        area = _WORKER["area"] = None if place is None else WorkArea(*place)
    try:
        return run_into(area, _WORKER["model"], task, options, attempt, progress=q.put)
    finally:
        release_memory()


def run_into(area, model, task: ShardTask, options: RunOptions, attempt: int, progress=None):
    """:func:`run_shard`, its records streamed into ``area`` (a WorkArea) as its batches
    finish: only the statistics come back. Without an area, the records come back."""
    if area is None:
        return run_shard(model, task, options, attempt, progress=progress)
    writer = area.writer(task.shard.number, task.shard.id)
    try:
        out = run_shard(model, task, options, attempt, progress=progress, sink=writer.write)
    except BaseException:
        writer.discard()
        raise
    writer.close(out.stats)
    return out


#: allocations from this size up get their own memory map, handed back when freed
MMAP_THRESHOLD = 1 << 20


def bound_heap() -> None:
    """Keep a worker's size that of its live data (called once, as a worker starts).

    glibc serves a large allocation (a batch's tensors) from its own memory map
    and unmaps it when freed; but each such free raises the size from which it
    does so, until large blocks come from the heap, where a later batch of
    another shape cannot reuse their holes: the worker's peak then creeps up
    with the length of the run's longest batches and the order they came in.
    Fixing the threshold at :data:`MMAP_THRESHOLD` (glibc's
    ``mallopt(M_MMAP_THRESHOLD)``; elsewhere nothing) stops that. Measured on
    1,000 and 10,000 toy pairs (``benchmarks.bench_scale``): a worker's peak
    grew 1.4% (291 -> 295 MB) instead of 7-13%; its CPU time did not move
    (10,000 pairs, three paired runs: 54.0 user seconds at best either way,
    system 5.9-7.0 s either way). 128 KiB bounds it as well (+2.2%) but
    doubles the system time (fresh pages for every batch tensor); 4 MiB no
    longer bounds it (+11%).

    Examples
    --------
    Called in a worker process, once, before it loads the model (not here: it would
    change this process's allocator):

    >>> MMAP_THRESHOLD // 1024  # KiB: blocks from 1 MiB up get their own map
    1024
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    mallopt(-3, MMAP_THRESHOLD)  # -3: M_MMAP_THRESHOLD (malloc.h)


def release_memory() -> None:
    """Hand the memory a finished shard freed back to the system (a worker, between shards).

    glibc keeps freed memory for reuse; after many shards of different
    lengths it is scattered, and a worker's size would creep up with the number
    of shards it ran. Collecting the shard's cyclic garbage (so that Python can
    hand back its emptied arenas) and trimming the C heap (glibc's
    ``malloc_trim``; elsewhere nothing) start every shard from about the same size
    (measured: +4 MB over 19 shards, +13 MB without the collection).
    """
    import ctypes
    import gc

    gc.collect()

    if "trim" not in _WORKER:
        try:
            _WORKER["trim"] = ctypes.CDLL("libc.so.6").malloc_trim  # glibc (Linux)
        except (OSError, AttributeError):
            _WORKER["trim"] = None
    if _WORKER["trim"] is not None:
        _WORKER["trim"](0)


class LocalEngine:
    """Run the shards on ``workers`` local processes, each loading the model once."""

    name = "local workers"

    def __init__(self, model_ref, workers: int, threads: int = 1, trust: bool = False):
        self.model_ref, self.workers, self.threads, self.trust = model_ref, workers, threads, trust
        self._early = None  # (pool, counts) started by start(), not yet used by run()

    def _pool(self, mp, counts, area):
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(
            self.workers,
            mp_context=mp,
            initializer=_init_worker,
            initargs=(self.model_ref, self.threads, self.trust, counts, area),
        )

    def start(self) -> None:
        """Start the worker processes now (they load the model while the driver prepares
        the run); :meth:`run` uses them, :meth:`stop` ends them if it never comes."""
        import multiprocessing

        mp = multiprocessing.get_context("spawn")
        counts = mp.Queue()
        pool = self._pool(mp, counts, _AREA_LATER)
        for _ in range(self.workers):  # each submission starts a process (spawn: on demand)
            pool.submit(_ready)
        self._early = (pool, counts)

    def stop(self) -> None:
        """End the workers :meth:`start` started (when the run does not come to them)."""
        if self._early is not None:
            _stop(self._early[0])
            self._early = None

    def run(self, tasks, options: RunOptions, on_done, progress, area=None) -> dict:
        """Run ``tasks``; with ``area`` (a WorkArea) the workers write the shards into it."""
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        mp = multiprocessing.get_context("spawn")
        early, self._early = self._early, None
        counts = mp.Queue() if early is None else early[1]
        place = None if area is None else (str(area.root), area.key)
        tasks = iter(tasks)  # made as they are needed: a task holds its sentences
        todo: list = []  # (task, attempt) to run again
        failures: dict = {}

        def next_task():
            if todo:
                return todo.pop()
            task = next(tasks, None)
            return None if task is None else (task, 0)

        pending = next_task()
        while pending is not None or todo:
            if early is not None:  # the workers start() began: they learn the work area now
                pool, early = early[0], None
            else:
                pool = self._pool(mp, counts, place)
            running: dict = {}
            try:
                while pending is not None or running:
                    while pending is not None and len(running) < 2 * self.workers:  # a few queued
                        task, attempt = pending
                        job = pool.submit(_work, task, options, attempt, place)
                        running[job] = (task, attempt)
                        pending = next_task()
                    finished, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                    _drain(counts, progress)
                    for fut in finished:
                        task, attempt = running.pop(fut)
                        try:
                            out = fut.result()
                        except AttnprobeError:
                            raise
                        except BrokenProcessPool as exc:  # a worker died: a new pool
                            if _failed(task, attempt, exc, failures):
                                todo.append((task, attempt + 1))
                            for t, a in running.values():
                                if _failed(t, a, exc, failures):
                                    todo.append((t, a + 1))
                            running.clear()
                            raise
                        except Exception as exc:  # noqa: BLE001 - retried, then reported
                            if _failed(task, attempt, exc, failures):
                                todo.append((task, attempt + 1))
                        else:
                            on_done(out)
                    if pending is None:
                        pending = next_task()  # a shard to try again
            except BrokenProcessPool:
                log.warning("a worker process died; starting the workers again")
                if pending is None:
                    pending = next_task()
            finally:
                _stop(pool)
        if early is not None:  # nothing to run
            _stop(early[0])
        _drain(counts, progress)
        return failures


def _drain(counts, progress) -> None:
    """Hand the workers' finished-batch counts to the progress bar."""
    while True:
        try:
            n = counts.get_nowait()
        except queue.Empty:
            return
        if progress is not None:
            progress(n)


def _stop(pool) -> None:
    """Stop a pool now: cancel what has not started, end the worker processes."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=5)
