"""The Ray engine: shards as a Ray Dataset, run by ``map_batches`` over an actor pool.

Each actor loads the model once (from its path: on a cluster every node must
see the file, e.g. on a shared disk) and runs
:func:`attnprobe.pipeline.scale.shards.run_shard` on one shard per call; results stream
back to the driver as they finish, which stores them like any engine's
(:mod:`attnprobe.pipeline.scale.engines`). The dataset's rows are shard numbers:
the run's sentences and gold travel once, through Ray's object store, to every
actor (a packed corpus is a few arrays), which makes each shard's task itself.
Ray is optional (``pip install 'attnprobe[ray]'``) and imported only here, when
the engine runs.

``address``: None starts a local Ray instance with as many CPUs as actors;
``"auto"`` joins the cluster this machine belongs to (``ray start --head`` /
``ray start --address HEAD:6379`` before); ``"ray://HOST:10001"`` a remote one
through Ray Client. A Ray instance this engine started is shut down at the end.
"""

from __future__ import annotations

import logging
import pickle
import time

from attnprobe.errors import AttnprobeError, InputError
from attnprobe.pipeline.scale.engines import RETRIES, bound_heap, release_memory

__all__ = ["RayEngine", "check_ray", "init_kwargs", "INSTALL"]

log = logging.getLogger("attnprobe")

#: how to install the Ray engine's dependencies
INSTALL = "pip install 'attnprobe[ray]'"

#: Ray's system settings for a local instance this engine starts (a cluster keeps its own).
#: ``worker_niceness``: Ray starts its workers at nice 15, so that a cluster node's raylet
#: and GCS stay responsive; on a machine that runs anything else, the actors then get only
#: what the rest leaves (the local engine's workers run at the caller's priority): 0 keeps
#: the caller's. The others switch off what only Ray's dashboard reads, which every Ray
#: process would otherwise record and send all the time: task state events (sent every
#: second), metrics, and the event loops' statistics. Measured in ``docs/scale.md``.
LOCAL_SYSTEM_CONFIG = {
    "worker_niceness": 0,
    "task_events_report_interval_ms": 0,
    "enable_metrics_collection": False,
    "event_stats": False,
}


def check_ray() -> None:
    """Raise a one-line :class:`InputError` naming the install command when Ray is missing."""
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise InputError(
            f"the ray engine needs Ray Data, which is not installed ({exc})",
            fix=f"install it: {INSTALL}",
        ) from None


def init_kwargs(address: str | None, workers: int) -> dict:
    """The keywords of ``ray.init``: join ``address``, or start a lean local instance.

    A local instance gets ``workers`` CPUs, no dashboard and
    :data:`LOCAL_SYSTEM_CONFIG` (actors at the caller's priority, no task events,
    metrics or event statistics); a cluster keeps its own settings. The actors'
    logs stay in Ray's session folder (the driver shows one progress bar).

    Examples
    --------
    >>> init_kwargs(None, 2)["num_cpus"], init_kwargs("auto", 2)["address"]
    (2, 'auto')
    """
    if address:
        where = {"address": address}
    else:
        where = {"num_cpus": workers, "_system_config": dict(LOCAL_SYSTEM_CONFIG)}
    return {**where, "include_dashboard": False, "log_to_driver": False, "configure_logging": False}


class _ShardActor:
    """A Ray actor: loads the model once, then runs one shard per row of each batch.

    When it sees the run's work area (the same node as the driver, or a shared
    disk: ``run.json`` there holds this run's key) it writes each finished shard
    into it and hands back only the statistics, as the local workers do;
    otherwise the records travel back to the driver, which writes them.
    """

    def __init__(
        self, model_ref, threads: int, trust: bool, options_blob: bytes, source, area=None
    ):
        import ray
        import torch

        from attnprobe.models.registry import load

        bound_heap()
        torch.set_num_threads(threads)
        self.model = load(model_ref, trust=trust)
        self.options = pickle.loads(options_blob)
        self.area = _reachable(area)
        self.source = ray.get(source[0])  # the run's tasks (driver.ShardTasks), sent once

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        from attnprobe.pipeline.scale.engines import run_into

        outs = []
        for i in batch["task"]:
            task = self.source.task(int(i))
            errors = []
            for attempt in range(1 + RETRIES):
                try:
                    # with the work area: written here, only the statistics travel back
                    done = run_into(self.area, self.model, task, self.options, attempt)
                    out = ("done", done)
                    break
                except AttnprobeError as exc:  # bad input: every shard would fail
                    out = ("input", exc)
                    break
                except Exception as exc:  # noqa: BLE001 - retried, then reported by id
                    errors.append(f"{type(exc).__name__}: {exc}")
                    out = ("failed", (task.shard.number, task.shard.id, errors[-1]))
                finally:
                    release_memory()
            outs.append(pickle.dumps(out))
        return {"out": np.array(outs, dtype=object)}


def _reachable(area):
    """The driver's work area ``(root, key)`` as a WorkArea, if this process sees it; else None."""
    if area is None:
        return None
    import json
    from pathlib import Path

    from attnprobe.pipeline.scale.work_area import WorkArea

    root, key = area
    try:
        seen = json.loads((Path(root) / "run.json").read_text(encoding="utf-8")).get("key")
    except (OSError, ValueError):
        return None
    return WorkArea(root, key) if seen == key else None


class RayEngine:
    """Run the shards on ``workers`` Ray actors (Ray Data ``map_batches``, one shard a call)."""

    name = "ray"

    def __init__(self, model_ref, workers: int, threads=1, trust=False, address=None):
        check_ray()
        self.model_ref, self.workers, self.threads = model_ref, workers, threads
        self.trust, self.address = trust, address
        self.startup_seconds: float | None = None

    def run(self, tasks, options, on_done, progress, area=None) -> dict:
        """Run ``tasks`` on the actors; with ``area`` (a WorkArea) the actors that see it
        write their shards into it."""
        import ray

        start = time.perf_counter()
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(**init_kwargs(self.address, self.workers))
        try:
            return self._run(ray, tasks, options, on_done, progress, start, area)
        finally:
            if started_here:
                ray.shutdown()

    def _run(self, ray, tasks, options, on_done, progress, start, area) -> dict:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # one bar: the driver's
        ctx.execution_options.preserve_order = False
        # the actors make their own tasks from the run's (a few arrays for a packed corpus):
        # the driver sends them once, not every shard's sentences one by one
        task_sizes = {s.number: s.size for s in tasks.shards}
        failures: dict = {}
        if not len(tasks):
            return failures
        source = ray.put(tasks)
        rows = [{"task": i} for i in range(len(tasks))]
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))
        out = ds.map_batches(
            _ShardActor,
            fn_constructor_kwargs={
                "model_ref": self.model_ref,
                "threads": self.threads,
                "trust": self.trust,
                "options_blob": pickle.dumps(options),
                "source": [source],  # in a list: the actor fetches it
                "area": None if area is None else (str(area.root), area.key),
            },
            batch_size=1,
            # one shard at a time per actor: a free actor takes the next shard, so no
            # actor sits on a queue of shards while another is idle at the end
            compute=ray.data.ActorPoolStrategy(size=self.workers, max_tasks_in_flight_per_actor=1),
            num_cpus=1,
        )
        for row in out.iter_rows():
            if self.startup_seconds is None:
                self.startup_seconds = time.perf_counter() - start
            kind, value = pickle.loads(row["out"])
            if kind == "input":
                raise value
            if kind == "failed":
                number, sid, error = value
                log.warning("shard %d (%s) failed on every try: %s", number, sid, error)
                failures[number] = (sid, error)
                continue
            on_done(value)
            if progress is not None:
                progress(task_sizes[value.number])
        return failures
