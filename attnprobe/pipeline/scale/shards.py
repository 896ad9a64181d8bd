"""The plan of a run and its unit of work: one shard of whole batches -> records + statistics.

A shard is a run of consecutive batches of the length-sorted batch list of the
whole corpus (:func:`attnprobe.data.bucket_batches`, as the one-process run
makes them), so every sentence is scored in the same batch whatever the shard
size: the numbers do not depend on how the corpus was cut. Its id comes from
the run's key (corpus hash, model hash, options, shard size) and its number,
so a rerun with the same options finds the shards it already finished.

:func:`run_shard` is pure in the sense that matters here: (model, shard, run
options) in, :class:`ShardOutput` out (the shard's per-sentence records and
every step's sufficient statistics), no I/O, no shared state; every engine runs
the same function.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from attnprobe.errors import AttnprobeError

__all__ = [
    "Shard",
    "ShardTask",
    "RunOptions",
    "ShardOutput",
    "ShardError",
    "plan_shards",
    "run_key",
    "run_shard",
]


#: the last shards of a run (its longest sentences) are each cut into this many pieces, so
#: that a worker that runs out of shards waits for a piece, not for a whole shard
TAIL_SHARDS, TAIL_PIECES = 2, 4


class ShardError(AttnprobeError):
    """Shards that failed on every try; the message names them and says how to resume."""


@dataclass(frozen=True)
class Shard:
    """Consecutive batches of the run: ``batches[k]`` lists positions in the analysed corpus."""

    number: int
    id: str
    batches: tuple[tuple[int, ...], ...]
    first_batch: int  # the run's number of this shard's first batch (seeds, model check)

    @property
    def positions(self) -> list[int]:
        """The shard's positions, batch after batch."""
        return [p for b in self.batches for p in b]

    @property
    def size(self) -> int:
        """Sentence pairs in the shard."""
        return sum(len(b) for b in self.batches)


def run_key(**parts) -> str:
    """A short hash of what makes a run's shards (corpus and model hashes, options).

    Examples
    --------
    >>> run_key(corpus="abc", shard_size=100) == run_key(shard_size=100, corpus="abc")
    True
    """
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def plan_shards(lengths, batch_size: int, shard_size: int | None, key: str) -> list[Shard]:
    """Cut the length-sorted batches of a corpus into shards of about ``shard_size`` sentences.

    Shards hold whole batches, as many as fit in both ``shard_size`` sentences
    and the source words of ``shard_size`` sentences of average length (at
    least one batch): shards of long sentences hold fewer of them, and shards of
    short ones no more than ``shard_size`` (a sentence's record costs about the
    same whatever its length), so a shard's memory is about the same anywhere
    in the corpus and whatever the corpus's size. The last :data:`TAIL_SHARDS`
    are each cut into :data:`TAIL_PIECES` pieces (whole batches), so that the
    engines end on small pieces of work. None: one shard. Ids are ``key`` + the
    shard's number, hashed.

    Examples
    --------
    >>> [s.batches for s in plan_shards([5, 1, 4, 2, 3], 2, 3, "k")]  # 9 words a shard
    [((1, 3),), ((4, 2),), ((0,),)]
    >>> [s.size for s in plan_shards([1] * 9 + [20], 2, 4, "k")]  # at most 4; a tail in pieces
    [4, 2, 2, 2]
    >>> a, b = plan_shards([1, 2, 3], 1, 2, "k"), plan_shards([1, 2, 3], 1, 2, "k")
    >>> [s.id for s in a] == [s.id for s in b] and len({s.id for s in a}) == 3
    True
    """
    from attnprobe.data import bucket_batches

    lengths = list(lengths)
    batches = [tuple(b) for b in bucket_batches(lengths, batch_size)]
    budget = float("inf") if not shard_size else shard_size * sum(lengths) / len(lengths)
    most = shard_size or float("inf")
    groups: list[list] = []
    words, sentences = 0.0, 0
    for batch in batches:
        size = sum(lengths[p] for p in batch)
        if not groups or words + size > budget or sentences + len(batch) > most:
            groups.append([])
            words, sentences = 0.0, 0
        groups[-1].append(batch)
        words += size
        sentences += len(batch)
    if shard_size:  # the last shards of a run in smaller pieces: no worker waits long at the end
        tail = [_pieces(g, TAIL_PIECES) for g in groups[-TAIL_SHARDS:]]
        groups = groups[: len(groups) - len(tail)] + [p for pieces in tail for p in pieces]
    shards, first = [], 0
    for number, group in enumerate(groups):
        sid = hashlib.sha256(f"{key}:{number}".encode()).hexdigest()[:12]
        shards.append(Shard(number, sid, tuple(group), first))
        first += len(group)
    return shards


def _pieces(batches: list, n: int) -> list[list]:
    """``batches`` cut into at most ``n`` runs of consecutive batches, as even as can be.

    Examples
    --------
    >>> _pieces([1, 2, 3, 4, 5], 4), _pieces([1], 4)
    ([[1, 2], [3], [4], [5]], [[1]])
    """
    n = min(n, len(batches))
    cuts = [-(-len(batches) * k // n) for k in range(n + 1)]  # the longer pieces first
    return [batches[cuts[k] : cuts[k + 1]] for k in range(n)]


@dataclass
class RunOptions:
    """What every shard of a run shares (small and picklable: it travels to the workers)."""

    analyses: tuple[str, ...]
    methods: tuple[str, ...]
    offsets: tuple[int, ...]
    attribution: tuple[str, ...]
    seed: int
    batch_size: int
    sites: list[str]
    sentences: int  # sentence pairs of the whole run
    picks: dict = field(default_factory=dict)  # sample steps: step -> positions
    lines: bool = False  # records as JSON lines (to be written to a file), not dicts
    faults: dict = field(default_factory=dict)  # tests: shard number -> attempts that raise


@dataclass
class ShardTask:
    """One shard with its sentence pairs (in :attr:`Shard.positions` order) and their gold."""

    shard: Shard
    index: list[int]  # each pair's line in the input corpus (0-based)
    src: list[list[str]]
    tgt: list[list[str]]
    gold: object | None  # Alignment per pair (a list, or a LinkTable), or None


@dataclass
class ShardOutput:
    """What a shard gives back: its records (batch order; dicts, or JSON lines when
    ``RunOptions.lines``) and every step's statistics."""

    number: int
    id: str
    records: list | None  # None: a worker wrote them into the work area
    stats: dict  # step name -> statistics; "run" -> the driver's own sums


class ShardFault(RuntimeError):
    """The failure a test asks for (``RunOptions.faults``): shows that failures are handled."""


def _entropy(att: np.ndarray) -> float:
    p = np.clip(att, 1e-12, 1.0)
    return float(-(att * np.log(p)).sum(1).mean())


def _batch_seed(seed: int, batch: int) -> int:
    """The torch seed of one batch: random draws do not depend on the shards."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{batch}".encode()).digest()[:6], "big")


def _line(rec: dict) -> str:
    return json.dumps(rec, separators=(",", ":"))


def run_shard(
    model, task: ShardTask, options: RunOptions, attempt: int = 0, progress=None, sink=None
):
    """Run the analysis steps over one shard: the unit of work of every engine.

    ``progress`` (optional) is called with the sentences of each finished batch.
    ``sink`` (optional) is called with each finished batch's records (JSON lines with
    ``options.lines``), which the output then does not hold (``records`` is None): a
    shard's memory is then that of a batch, whatever the shard's size.
    Returns a :class:`ShardOutput`; raises whatever the model or a step raises.
    """
    import torch

    from attnprobe.data import ParallelCorpus
    from attnprobe.pipeline.common import AnalysisContext, CapturedBatch
    from attnprobe.pipeline.steps import ANALYSES
    from attnprobe.results import quantize
    from attnprobe.runs.forward import eval_mode, teacher_forced

    shard = task.shard
    if attempt < options.faults.get(shard.number, 0):
        raise ShardFault(f"shard {shard.number} fails on attempt {attempt + 1} (a test's fault)")
    positions = shard.positions
    at = {p: k for k, p in enumerate(positions)}

    def record(k: int) -> dict:  # a sentence's record, before the steps add to it
        unk_src, unk_tgt = (  # word by word only in a sentence with unknown words
            [j for j, w in enumerate(words) if model.count_unknown([w], side)]
            if model.count_unknown(words, side)
            else []
            for words, side in ((task.src[k], "src"), (task.tgt[k], "tgt"))
        )
        return {
            "index": task.index[k],
            "src": task.src[k],
            "tgt": task.tgt[k],
            "src_len": len(task.src[k]),
            "tgt_len": len(task.tgt[k]),
            "unk_src": len(unk_src),
            "unk_tgt": len(unk_tgt),
            "unk_src_at": unk_src,  # positions of the words the model maps to <unk>
            "unk_tgt_at": unk_tgt,
            "gold": None
            if gold is None
            else {
                "sure": sorted(map(list, gold[positions[k]].sure)),
                "possible": sorted(map(list, gold[positions[k]].possible_only)),
            },
        }

    records: list = []  # batch after batch: dicts, or their JSON lines (options.lines)
    unknown = [0, 0]
    # the gold of the batch at hand (position -> Alignment), made as each batch starts
    gold = None if task.gold is None else {}
    ctx = AnalysisContext(
        model,
        ParallelCorpus(task.src, task.tgt),
        gold,
        options.sites,
        options.methods,
        options.offsets,
        options.seed,
        options.batch_size,
        options.sentences,
        attribution=options.attribution,
        picks=options.picks,
    )
    runners = {name: ANALYSES[name](ctx) for name in options.analyses}
    sites = options.sites
    entropy = 0.0
    with eval_mode(model), torch.random.fork_rng(devices=[]):
        for n, idx in enumerate(shard.batches, start=shard.first_batch):
            torch.manual_seed(_batch_seed(options.seed, n))
            rows = [at[p] for p in idx]
            if gold is not None:
                gold.clear()
                gold.update((p, task.gold[k]) for p, k in zip(idx, rows, strict=True))
            batch = model.encode(
                [task.src[k] for k in rows], [task.tgt[k] for k in rows], list(idx)
            )
            if n == 0 and callable(getattr(model, "check", None)):
                model.check(batch)  # a foreign model: its own log-probabilities, reproduced?
            fb = teacher_forced(model, batch, sites)
            recs = [record(k) for k in rows]
            for b, rec in enumerate(recs):
                steps = int(fb.steps[b])
                rec["steps"] = steps
                rec["nll"] = float(fb.nll[b])
                rec["correct"] = int(fb.correct[b])
                rec["nll_per_token"] = round(float(fb.nll[b]) / steps, 6)
                rec["token_accuracy"] = round(int(fb.correct[b]) / steps, 6)
                if sites:
                    att = fb.attention[sites[0]][b]
                    rec["entropy"] = round(_entropy(att), 6)
                    entropy += rec["entropy"]
                    rec["attention"] = quantize(att)
            cb = CapturedBatch(list(idx), batch, fb.attention, recs, fb.weights)
            for runner in runners.values():
                runner.update(cb)
            for rec in recs:
                unknown[0] += rec["unk_src"]
                unknown[1] += rec["unk_tgt"]
            # a batch's records are whole once every step has seen it: as JSON lines they
            # take a fraction of the memory (the links of every offset are Python lists)
            done = list(map(_line, recs)) if options.lines else recs
            if sink is None:
                records.extend(done)
            else:
                sink(done)
            del cb, recs, fb
            if progress is not None:
                progress(len(idx))
    stats = {name: runner.stats() for name, runner in runners.items()}
    stats["run"] = {
        "entropy": entropy,
        "unk_src": unknown[0],
        "unk_tgt": unknown[1],
    }
    return ShardOutput(shard.number, shard.id, None if sink else records, stats)
