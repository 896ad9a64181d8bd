"""The Ray engine: shards as a Ray Dataset, run by ``map_batches`` over an actor pool.

Each actor loads the model once (from its path: on a cluster every node must
see the file, e.g. on a shared disk) and runs
:func:`attnprobe.pipeline.scale.shards.run_shard` on one shard per call; results stream
back to the driver as they finish, which stores them like any engine's
(:mod:`attnprobe.pipeline.scale.engines`). Ray is optional (``pip install
'attnprobe[ray]'``) and imported only here, when the engine runs.

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
from attnprobe.pipeline.scale.engines import RETRIES

__all__ = ["RayEngine", "check_ray", "INSTALL"]

log = logging.getLogger("attnprobe")

#: how to install the Ray engine's dependencies
INSTALL = "pip install 'attnprobe[ray]'"


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


class _ShardActor:
    """A Ray actor: loads the model once, then runs one shard per row of each batch."""

    def __init__(self, model_ref, threads: int, trust: bool, options_blob: bytes):
        import torch

        from attnprobe.models.registry import load

        torch.set_num_threads(threads)
        self.model = load(model_ref, trust=trust)
        self.options = pickle.loads(options_blob)

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        from attnprobe.pipeline.scale.shards import run_shard

        outs = []
        for blob in batch["task"]:
            task = pickle.loads(blob)
            errors = []
            for attempt in range(1 + RETRIES):
                try:
                    out = ("done", run_shard(self.model, task, self.options, attempt))
                    break
                except AttnprobeError as exc:  # bad input: every shard would fail
                    out = ("input", exc)
                    break
                except Exception as exc:  # noqa: BLE001 - retried, then reported by id
                    errors.append(f"{type(exc).__name__}: {exc}")
                    out = ("failed", (task.shard.number, task.shard.id, errors[-1]))
            outs.append(pickle.dumps(out))
        return {"out": np.array(outs, dtype=object)}


class RayEngine:
    """Run the shards on ``workers`` Ray actors (Ray Data ``map_batches``, one shard a call)."""

    name = "ray"

    def __init__(self, model_ref, workers: int, threads=1, trust=False, address=None):
        check_ray()
        self.model_ref, self.workers, self.threads = model_ref, workers, threads
        self.trust, self.address = trust, address
        self.startup_seconds: float | None = None

    def run(self, tasks, options, on_done, progress, area=None) -> dict:
        """Run ``tasks`` on the actors; the driver writes what they return (``area`` unused)."""
        import ray

        start = time.perf_counter()
        started_here = not ray.is_initialized()
        if started_here:
            kwargs = {"address": self.address} if self.address else {"num_cpus": self.workers}
            ray.init(
                **kwargs,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
        try:
            return self._run(ray, tasks, options, on_done, progress, start)
        finally:
            if started_here:
                ray.shutdown()

    def _run(self, ray, tasks, options, on_done, progress, start) -> dict:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # one bar: the driver's
        ctx.execution_options.preserve_order = False
        rows = [{"task": pickle.dumps(t)} for t in tasks]
        failures: dict = {}
        if not rows:
            return failures
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))
        out = ds.map_batches(
            _ShardActor,
            fn_constructor_kwargs={
                "model_ref": self.model_ref,
                "threads": self.threads,
                "trust": self.trust,
                "options_blob": pickle.dumps(options),
            },
            batch_size=1,
            concurrency=self.workers,
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
                progress(len(value.records))
        return failures
