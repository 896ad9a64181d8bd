"""Corpus scale: ``analyze`` as shards of whole batches, run by one of several engines.

- :mod:`.stats` — sufficient statistics and their exact merge;
- :mod:`.shards` — the plan (deterministic shards of the length-sorted
  batches) and the pure unit of work :func:`~.shards.run_shard`;
- :mod:`.work_area` — finished shards on disk, written atomically, for resume;
- :mod:`.engines` — in-process and local worker processes;
- :mod:`.ray_engine` — Ray Data ``map_batches`` over an actor pool (the
  ``attnprobe[ray]`` extra).

:func:`attnprobe.pipeline.driver.analyze` composes them; ``docs/scale.md``
describes shards, resume and engines for users.
"""
