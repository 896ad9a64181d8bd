"""Compose the pieces: model + corpus (+ gold) -> results (``analyze``).

Only this package and the CLI on top of it see models, data and analyses
together. The model runs in :mod:`attnprobe.runs.forward` (one teacher-forced
pass per batch); each analysis is a step module of this package
(:mod:`attnprobe.pipeline.common` describes the contract); every summary is a
pure function from :mod:`attnprobe.analyses` and :mod:`attnprobe.alignment`.
The model is reached only through :class:`attnprobe.models.interface.Seq2SeqModel`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence

import numpy as np

from attnprobe.alignment import Alignment
from attnprobe.alignment.subwords import POOLING
from attnprobe.data import ParallelCorpus
from attnprobe.data.packed import select
from attnprobe.errors import InputError, SiteError, UnknownNameError
from attnprobe.models.interface import CapabilityError
from attnprobe.pipeline.alignment import primary_site
from attnprobe.pipeline.attribution import DEFAULT_ATTRIBUTION
from attnprobe.pipeline.common import (
    OFFSETS,
    AnalysisContext,
    CapturedBatch,
    attention_aer,
    default_corpus,
    resolve_choices,
    skipped,
)
from attnprobe.pipeline.steps import ANALYSES

__all__ = [
    "OFFSETS",
    "default_corpus",
    "attention_aer",
    "analyze",
    "check_analyses",
    "check_attribution",
    "ANALYSES",
    "DEFAULT_ANALYSES",
    "DEFAULT_METHODS",
    "AnalysisContext",
    "CapturedBatch",
    "DEFAULT_ATTRIBUTION",
    "ENGINES",
    "SHARD_SIZE",
]


# ============================================================== analyze
#
# One streaming pass over the corpus, cut into shards of whole batches
# (attnprobe.pipeline.scale.shards): in each shard every batch runs the model once inside
# capture() (teacher forcing), and every requested analysis sees the batch
# through ``update`` and adds to its sufficient statistics; ``finish`` reads the
# statistics merged over all shards. Per-sentence records (numbers, links, 8-bit
# attention of the primary site) stay with their shard: in memory, or in the
# work area of the output folder, from where they are streamed into it.

#: extraction methods scored by default (all: attnprobe.analyses.extraction.EXTRACTORS)
DEFAULT_METHODS = ("argmax-target", "argmax-source", "intersection", "itermax")

#: engines that run the shards (see attnprobe.pipeline.scale and docs/scale.md)
ENGINES = ("inprocess", "local", "ray")

#: sentences (of average length) per shard when writing an output folder
SHARD_SIZE = 1024

#: share of unknown words above which the scores mostly measure the vocabulary, not attention
UNK_WARNING = 0.05

log = logging.getLogger("attnprobe")


#: analyses whose modules have not landed yet: name -> what provides them
PLANNED_ANALYSES: dict[str, str] = {}

#: analyses whose results the report shows in fixed places (not as generic sections)
CORE_ANALYSES = ("alignment", "quality")

DEFAULT_ANALYSES = ("alignment", "quality")


def check_analyses(names) -> tuple[str, ...]:
    """The steps to run for ``names`` (None: :data:`DEFAULT_ANALYSES`), checked (did you mean).

    Adds the steps they require and puts them in :data:`ANALYSES` order.

    Examples
    --------
    >>> check_analyses(["patterns"])
    ('alignment', 'patterns')
    """
    names = tuple(DEFAULT_ANALYSES if names is None else names)
    for name in names:
        if name in PLANNED_ANALYSES and name not in ANALYSES:
            raise InputError(
                f"analysis {name!r} is not available yet: it needs {PLANNED_ANALYSES[name]}",
                fix=f"choose from {', '.join(ANALYSES)}",
            )
        if name not in ANALYSES:
            raise UnknownNameError("analysis", name, ANALYSES)
    wanted, todo = set(), list(names)
    while todo:  # the steps asked for and every step they require
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(ANALYSES[name].requires)
    return tuple(n for n in ANALYSES if n in wanted)  # the fixed order: results never depend on
    # the order the user lists the steps in


def check_attribution(methods) -> tuple[str, ...]:
    """The attribution methods of the ``attribution`` analysis, checked (did you mean)."""
    from attnprobe.runs.attribution import METHODS as ATTRIBUTION_METHODS

    methods = tuple(methods)
    for m in methods:
        if m not in ATTRIBUTION_METHODS:
            raise UnknownNameError("attribution method", m, ATTRIBUTION_METHODS)
    if not methods:
        raise InputError("give at least one attribution method")
    return methods


def _check_gold(corpus, gold):
    """``gold`` checked against ``corpus``: one alignment per pair, links inside their pair.

    A :class:`~attnprobe.alignment.types.LinkTable` (the compact form of a large
    corpus's gold) is checked on its arrays and kept as it is.
    """
    from attnprobe.alignment.types import LinkTable

    if gold is None:
        return None
    if not isinstance(gold, LinkTable | Sequence):  # a PackedGold is a Sequence
        gold = list(gold)
    if len(gold) != len(corpus):
        raise InputError(
            f"{len(gold)} gold alignments for {len(corpus)} sentence pairs",
            fix="give a gold file with one line per sentence pair of the corpus",
        )
    n_words = np.asarray(corpus.lengths, dtype=np.int64)
    m_words = _target_lengths(corpus)
    if _table_of(gold)[0] is gold:  # a LinkTable or a PackedGold: on its arrays, in blocks
        found = None
        for lo in range(0, len(gold), _BLOCK):
            part = _packed(gold).take(np.arange(lo, min(lo + _BLOCK, len(gold))))
            sentence = lo + np.repeat(np.arange(len(part)), np.diff(part.offsets))
            bad = np.flatnonzero((part.src >= n_words[sentence]) | (part.tgt >= m_words[sentence]))
            if len(bad):
                found = (int(sentence[bad[0]]), int(part.src[bad[0]]), int(part.tgt[bad[0]]))
                break
    else:
        found = next(
            (
                (k, i, j)
                for k, a in enumerate(gold)
                for i, j in a.possible
                if i >= n_words[k] or j >= m_words[k]
            ),
            None,
        )
    if found is not None:
        k, i, j = found
        raise InputError(
            f"gold link {i}-{j} points outside sentence pair {k + 1} "
            f"({n_words[k]}x{m_words[k]} words)",
            line=k + 1,
            fix="check the gold's index base (--gold-one-based) and direction "
            "(--reverse-gold), and that it belongs to this corpus",
        )
    return gold


def _target_lengths(corpus) -> np.ndarray:
    """Target words per pair (from the offsets of a packed corpus, without decoding it)."""
    from attnprobe.data.packed import PackedSide, Picked

    side = corpus.tgt
    if isinstance(side, PackedSide):
        return np.diff(side.offsets)
    if isinstance(side, Picked) and isinstance(side.seq, PackedSide):
        return np.diff(side.seq.offsets)[side.positions]
    return np.fromiter((len(t) for t in side), np.int64, len(side))


def _too_long(model, corpus: ParallelCorpus) -> dict[int, str]:
    """Sentence pairs longer than the model can score, with the reason: location attention's
    source + EOS over its limit, or what the model's own check says (``length_limit``:
    pieces over a Transformer's position table)."""
    from attnprobe.models.interface import has_capability

    out = {}
    limit = model.max_source_length if has_capability(model, "max_source_length") else None
    if limit:
        out = {
            k: f"{n} source words + EOS exceed the model's limit of {limit} source positions"
            for k, n in enumerate(corpus.lengths)
            if n + 1 > limit
        }
    if has_capability(model, "length_limit"):
        for k, (s, t) in enumerate(zip(corpus.src, corpus.tgt, strict=True)):
            why = k not in out and model.too_long(s, t)
            if why:
                out[k] = why
    return dict(sorted(out.items()))


def _unknown_warnings(unk_src: int, src_tok: int, unk_tgt: int, tgt_tok: int) -> list[str]:
    """A warning per side whose share of unknown words is above :data:`UNK_WARNING`.

    Examples
    --------
    >>> _unknown_warnings(1, 100, 30, 100)[0][:40]
    '30.0% of the target words (30 of 100) ar'
    """
    return [
        f"{unk / tok:.1%} of the {side} words ({unk} of {tok}) are unknown to the model "
        f"(mapped to <unk>): check the language, the side order and the casing; for text "
        f"outside the training vocabulary use a subword model (attnprobe train --subwords 8000)"
        for side, unk, tok in (("source", unk_src, src_tok), ("target", unk_tgt, tgt_tok))
        if tok and unk / tok > UNK_WARNING
    ]


def _corpus_hash(corpus: ParallelCorpus) -> str:
    h = hashlib.sha256()
    for s, t in zip(corpus.src, corpus.tgt, strict=True):
        h.update((" ".join(s) + "\t" + " ".join(t) + "\n").encode("utf-8"))
    return h.hexdigest()


def _gold_hash(gold) -> str | None:
    if gold is None:
        return None
    h = hashlib.sha256()
    table, positions = _table_of(gold)
    if table is None:
        for a in gold:
            h.update((repr(sorted(a.sure)) + repr(sorted(a.possible_only)) + "\n").encode())
        return h.hexdigest()
    # the same text from the table's arrays: each sentence's sure links, then its
    # possible-only ones, in sorted order, as Python writes a list of pairs; a block of
    # sentences at a time (the text of every link at once would be large)
    table = _packed(table)
    for lo in range(0, len(positions), _BLOCK):
        part = table.take(positions[lo : lo + _BLOCK])
        sentence = np.repeat(np.arange(len(part)), np.diff(part.offsets))
        order = np.lexsort((part.tgt, part.src, ~part.sure, sentence))
        pairs = zip(part.src[order].tolist(), part.tgt[order].tolist(), strict=True)
        links = [f"({i}, {j})" for i, j in pairs]
        offsets, sure_end = part.offsets.tolist(), part.sure_end.tolist()
        for k in range(len(part)):
            a, m, b = offsets[k], sure_end[k], offsets[k + 1]
            h.update(("[" + ", ".join(links[a:m]) + "][" + ", ".join(links[m:b]) + "]\n").encode())
    return h.hexdigest()


#: sentences whose gold links the driver handles at once (hash, checks): bounded memory
_BLOCK = 4096


def _packed(table):
    """A LinkTable's links as a PackedGold (the same arrays, not copied)."""
    from attnprobe.data.packed import PackedGold

    if isinstance(table, PackedGold):
        return table
    return PackedGold(table.offsets, table.sure_end, table.src, table.tgt)


def _table_of(gold):
    """``gold`` as (links in arrays, its rows) when it is a LinkTable or a PackedGold, or a
    view of one; else (None, None)."""
    from attnprobe.alignment.types import LinkTable
    from attnprobe.data.packed import PackedGold, Picked

    if isinstance(gold, LinkTable | PackedGold):
        return gold, np.arange(len(gold))
    if isinstance(gold, Picked):
        table, positions = _table_of(gold.seq)
        if table is not None:
            return table, positions[gold.positions]
    return None, None


def _gold_part(gold, positions: list[int]):
    """The gold of ``positions``: packed when ``gold`` is in arrays (a few bytes a link: the
    worker makes the Alignments), else the Alignments."""
    table, where = _table_of(gold)
    if table is None:
        return [gold[p] for p in positions]
    return _packed(table).take(where[positions])


def _engine(engine: str, workers: int, model_ref, threads, trust, address):
    """The engine object for ``engine`` (in-process, local workers, Ray), checked (the
    in-process engine's model is set when it is loaded)."""
    from attnprobe.pipeline.scale.engines import InProcessEngine, LocalEngine

    if engine not in ENGINES:
        raise UnknownNameError("engine", engine, ENGINES)
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    if engine == "inprocess" and workers > 1:
        engine = "local"
    if engine == "inprocess":
        return InProcessEngine(None)
    if model_ref is None:
        raise InputError(
            f"the {engine} engine loads the model in each worker from its file",
            fix="give the model as a path (a checkpoint or a Hugging Face folder)",
        )
    if engine == "local":
        return LocalEngine(model_ref, workers, threads or 1, trust)
    from attnprobe.pipeline.scale.ray_engine import RayEngine

    return RayEngine(model_ref, workers, threads or 1, trust, address)


class ShardTasks:
    """The :class:`~attnprobe.pipeline.scale.shards.ShardTask` of each shard to run, made
    when asked for (a shard's sentences only): iterate, or ``task(i)``. Small enough to
    travel once (a packed corpus): the Ray engine sends it to its actors, which make their
    tasks themselves."""

    def __init__(self, shards, data, gold, keep: np.ndarray):
        self.shards, self.data, self.gold, self.keep = list(shards), data, gold, keep

    def __len__(self) -> int:
        return len(self.shards)

    def task(self, i: int):
        from attnprobe.pipeline.scale.shards import ShardTask

        shard, data = self.shards[i], self.data
        pos = shard.positions
        return ShardTask(
            shard,
            self.keep[pos].tolist(),
            [data.src[p] for p in pos],
            [data.tgt[p] for p in pos],
            None if self.gold is None else _gold_part(self.gold, pos),
        )

    def __iter__(self):
        for i in range(len(self)):
            yield self.task(i)


def _resume_hint(out, done: int, total: int) -> str:
    where = f" (kept in {out})" if out is not None else ""
    again = "run the same command again to resume" if out is not None else "nothing is kept"
    return f"{done} of {total} shards are done{where}; {again}"


def _run_shards(engine, store, shards, done, tasks, options, progress) -> None:
    """Run ``tasks`` on ``engine`` into ``store``, with one progress bar; raise on failures.

    Ctrl-C (and SIGTERM, where the CLI maps it) says how many shards are kept and
    how to resume; shards that failed on every try raise :class:`ShardError`.
    """
    from tqdm.auto import tqdm

    from attnprobe.pipeline.scale.shards import ShardError

    sizes = {s.number: s.size for s in shards}
    finished = set(done)
    where = getattr(store, "root", None)

    def on_done(output) -> None:  # the bar counts batches as the engines report them
        store.put(output)
        finished.add(output.number)

    bar = tqdm(
        total=sum(sizes.values()),
        initial=sum(sizes[k] for k in done),
        unit="sent",
        desc="analyze",
        disable=None if progress is None else not progress,
    )
    try:
        area = store if hasattr(store, "root") else None  # a work area: local workers write it
        failures = engine.run(tasks, options, on_done, bar.update, area=area)
    except KeyboardInterrupt:
        log.warning("interrupted: %s", _resume_hint(where, len(finished), len(shards)))
        raise
    finally:
        bar.close()
    if failures:
        listed = "; ".join(
            f"shard {k} ({sid}): {err}" for k, (sid, err) in sorted(failures.items())
        )
        raise ShardError(
            f"{len(failures)} shard(s) failed after retries: {listed}; "
            + _resume_hint(where, len(finished), len(shards))
        )


def _finish_steps(ctx: AnalysisContext, steps, merged: dict, warnings_: list):
    """Each step's ``finish`` on the merged statistics, in :data:`ANALYSES` order.

    Returns the results (as data) and the corpus-level choices the records wait for.
    """
    import torch

    finished, chosen = {}, {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(ctx.seed)
        for name in steps:  # requirements first
            runner = ANALYSES[name](ctx)
            log.info("analyze: finishing %s", name)
            try:
                done = {k: finished.get(k) for k in runner.requires}
                finished[name] = runner.finish(done, merged.get(name, {}))
            except (CapabilityError, SiteError) as exc:  # it cannot run on this model: say so
                log.warning("%s: %s", name, exc)
                warnings_.append(f"{name}: {exc}")
                finished[name] = skipped(str(exc))
            chosen.update(getattr(runner, "choices", {}))
    return {k: v.to_dict() if hasattr(v, "to_dict") else v for k, v in finished.items()}, chosen


def analyze(
    model,
    corpus: ParallelCorpus | None = None,
    gold: Sequence[Alignment] | None = None,
    analyses: Sequence[str] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    limit: int | None = None,
    batch_size: int = 64,
    seed: int = 0,
    progress: bool | None = None,
    attribution: Sequence[str] = DEFAULT_ATTRIBUTION,
    threads: int | None = 1,
    *,
    engine: str = "inprocess",
    workers: int = 1,
    shard_size: int | None = None,
    address: str | None = None,
    out: str | os.PathLike | None = None,
    force: bool = False,
    figures: bool = True,
    trust: bool = False,
    model_ref: str | os.PathLike | None = None,
    faults: dict | None = None,
    references: dict[str, Sequence[Alignment]] | None = None,
):
    """Analyse a model on a corpus: alignment scores, per-sentence numbers, quality.

    Parameters
    ----------
    model : a model path (see :func:`attnprobe.load`) or a model implementing
        :class:`~attnprobe.models.interface.Seq2SeqModel` (a loaded checkpoint, a
        :func:`attnprobe.wrap` of your own ``nn.Module``). Its training/eval mode
        is restored afterwards. The ``local`` and ``ray`` engines need a path.
    corpus, gold : the sentence pairs and their gold alignments (one per pair,
        or None). Default: the checkpoint's own toy test split with its gold.
    analyses : names from :data:`ANALYSES` (default :data:`DEFAULT_ANALYSES`).
    methods : extraction methods scored (names from
        :data:`attnprobe.analyses.extraction.EXTRACTORS`); the first one is the
        explorer's.
    limit : analyse only the first ``limit`` sentence pairs.
    batch_size : sentences per forward pass.
    seed : seeds torch's generator for analyses that draw random numbers (per
        batch, so that shards reproduce the same draws; the global generator is
        restored afterwards).
    progress : show a progress bar (None: when writing to a terminal).
    attribution : attribution methods of the ``attribution`` analysis (names
        from :data:`attnprobe.runs.attribution.METHODS`; default
        :data:`DEFAULT_ATTRIBUTION`; ``integrated_gradients`` uses 50 steps).
    threads : torch CPU threads while it runs, per worker (the caller's count is
        restored after; None: leave it). One is fastest for these small models.
    engine : who runs the shards: ``"inprocess"`` (this process), ``"local"``
        (``workers`` local processes), ``"ray"`` (``workers`` Ray actors; needs
        ``pip install 'attnprobe[ray]'``). Every engine gives the same numbers.
    workers : worker processes or Ray actors (more than 1 with ``"inprocess"``
        means ``"local"``).
    shard_size : sentences per shard (the source words of that many sentences of
        average length, in whole batches; None: one shard in memory;
        :data:`SHARD_SIZE` with ``out``). Results do not depend on it.
    address : the Ray cluster to join (``"auto"``: the one this machine belongs
        to); None starts a local one.
    out : write the output folder here (whole, or not at all: see
        :meth:`attnprobe.results.Results.save`), streaming the records from the
        work area ``.NAME.work`` beside it; a rerun with the same options
        resumes from the shards finished there. The returned Results then hold
        the report's sample of sentences, not all of them.
    force : replace an existing ``out``.
    figures : draw ``figures/`` in ``out``.
    trust : let the workers load a pickled model file (trusted files only).
    model_ref : the file ``model`` was loaded from, when it is given loaded (the
        workers of the ``local`` and ``ray`` engines load it from there).
    faults : for tests: ``{shard number: tries that raise}``.
    references : other aligners' outputs for the same pairs, ``{name: one
        Alignment per pair}`` (e.g. :func:`attnprobe.pipeline.comparison.read_fast_align_outputs`),
        scored against ``gold`` and shown beside attention's AER
        (``metrics["alignment"]["references"]``).

    Returns
    -------
    Results : corpus-level ``metrics`` (with the signature) and per-sentence records.

    Raises
    ------
    InputError : gold of the wrong size or links outside their sentences, bad limit.
    UnknownNameError : an unknown analysis, extraction method or engine (did you mean).
    ShardError : shards that failed on every try (named by number and id).

    Examples
    --------
    >>> res = analyze("fixtures/models/enfr-bahdanau.pt", limit=50)  # doctest: +SKIP
    >>> res.score()["aer"] < 0.2                                         # doctest: +SKIP
    True
    >>> analyze(None, analyses=["alignmnet"])
    Traceback (most recent call last):
    ...
    attnprobe.errors.UnknownNameError: unknown analysis 'alignmnet'; did you mean 'alignment'? ...
    """
    import attnprobe
    from attnprobe.analyses.extraction import EXTRACTORS

    names = check_analyses(analyses)
    methods = tuple(methods)
    for m in methods:
        if m not in EXTRACTORS:
            raise UnknownNameError("extraction method", m, EXTRACTORS)
    if not methods:
        raise InputError("give at least one extraction method")
    attribution = check_attribution(attribution) if "attribution" in names else tuple(attribution)
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")
    if shard_size is not None and shard_size < 1:
        raise InputError(f"shard size must be at least 1, got {shard_size}")
    model_ref = None if model_ref is None else os.fspath(model_ref)
    if isinstance(model, str | os.PathLike):
        model_ref = os.fspath(model)
    runner_engine = _engine(engine, workers, model_ref, threads, trust, address)
    # local workers start now: they load the model while this process loads it and reads
    # the corpus
    getattr(runner_engine, "start", lambda: None)()
    try:
        import torch

        from attnprobe.models.interface import check_model
        from attnprobe.models.registry import load
        from attnprobe.runs.forward import cross_sites, eval_mode, torch_threads

        if isinstance(model, str | os.PathLike):
            model = load(model, trust=trust)
        check_model(model)
        if runner_engine.name == "in-process":
            runner_engine.model = model
        if corpus is None:
            if gold is not None:
                raise InputError("gold alignments without a corpus", fix="give the corpus too")
            corpus, gold = default_corpus(model)
        gold = _check_gold(corpus, gold)
        total = len(corpus)
        references = dict(references or {})
        if references and gold is None:
            raise InputError("reference alignments need gold alignments to be scored against")
        for name, links in references.items():
            if len(links) != total:
                raise InputError(
                    f"reference alignments {name!r}: {len(links)} for {total} sentence pairs",
                    fix="give one alignment per sentence pair, in the corpus's order",
                )
        if limit is not None and limit < total:  # views: the sentences are read when needed
            corpus = select(corpus, range(limit))
            gold = None if gold is None else select(gold, range(limit))

        warnings_ = []
        too_long = _too_long(model, corpus)
        keep = np.array([k for k in range(len(corpus)) if k not in too_long], dtype=np.int64)
        if too_long:
            first = next(iter(too_long.items()))
            warnings_.append(
                f"{len(too_long)} sentence pairs are longer than this model can score (pair "
                f"{first[0] + 1}: {first[1]}); they are listed in metrics.json and left out"
            )
        if not len(keep):
            raise InputError("no sentence pair left to analyse", fix="give shorter sentences")
        data = select(corpus, keep, whole=len(corpus))
        gold_kept = None if gold is None else select(gold, keep, whole=len(corpus))
        n = len(data)

        site_keys = cross_sites(model)
        steps = tuple(name for name in names if not (name == "alignment" and not site_keys))
        # several sites (a Transformer's layers): the primary one is chosen on dev sentences
        with torch_threads(threads):
            run_sites, chosen_on = primary_site(
                model, data, gold_kept, site_keys, methods[0], OFFSETS, batch_size
            )
        src_tok, tgt_tok = sum(data.lengths), int(_target_lengths(data).sum())
        for w in warnings_:
            log.warning(w)

        from attnprobe.pipeline.scale.shards import RunOptions, plan_shards, run_key
        from attnprobe.pipeline.scale.stats import merge_all
        from attnprobe.pipeline.scale.work_area import MemoryStore, WorkArea, work_area_of

        options = RunOptions(
            analyses=steps,
            methods=methods,
            offsets=OFFSETS,
            attribution=attribution if "attribution" in names else (),
            seed=seed,
            batch_size=batch_size,
            sites=run_sites,
            sentences=n,
            picks={
                name: ANALYSES[name].sample(data.lengths)
                for name in steps
                if hasattr(ANALYSES[name], "sample")
            },
            faults=dict(faults or {}),
            lines=out is not None,  # records go to the work area's files: JSON from the start
        )
        signature_options = {
            "analyses": list(names),
            "methods": list(methods),
            "attribution": list(attribution) if "attribution" in names else [],
            "offsets": list(OFFSETS),
            "limit": limit,
            "batch_size": batch_size,
        }
        corpus_sha = _corpus_hash(corpus)
        if out is not None and shard_size is None:
            shard_size = SHARD_SIZE
        key = run_key(
            corpus=corpus_sha,
            gold=_gold_hash(gold_kept),
            model=model.card().get("sha256"),
            options=signature_options,
            seed=seed,
            shard_size=shard_size,
            attnprobe=attnprobe.__version__,
        )
        shards = plan_shards(data.lengths, batch_size, shard_size, key)
        if out is not None:
            from attnprobe.fileio import check_output

            out = check_output(out, force)
            store = WorkArea(work_area_of(out), key)
        else:
            store = MemoryStore()
        done = store.open(shards)
        if done:
            log.warning(
                "resuming: %d of %d shards are already done in %s",
                len(done),
                len(shards),
                getattr(store, "root", "memory"),
            )
        log.info(
            "analyze: %d sentence pairs in %d shards, steps %s, engine %s",
            n,
            len(shards),
            ", ".join(names),
            runner_engine.name,
        )
        todo = [s for s in shards if s.number not in done]
        tasks = ShardTasks(todo, data, gold_kept, keep)
        with torch_threads(threads), eval_mode(model):
            _run_shards(runner_engine, store, shards, done, tasks, options, progress)
    except BaseException:
        getattr(runner_engine, "stop", lambda: None)()
        raise
    with torch_threads(threads), eval_mode(model):
        ctx = AnalysisContext(
            model,
            data,
            gold_kept,
            run_sites,
            methods,
            OFFSETS,
            seed,
            batch_size,
            n,
            attribution=options.attribution,
            picks=options.picks,
        )
        merged = merge_all(store.stats())
        # counted by the shards as they encode their sentences (no second pass here)
        unk_src, unk_tgt = merged["run"]["unk_src"], merged["run"]["unk_tgt"]
        for w in _unknown_warnings(unk_src, src_tok, unk_tgt, tgt_tok):
            log.warning(w)
            warnings_.append(w)
        finished, chosen = _finish_steps(ctx, steps, merged, warnings_)

    alignment = finished.pop("alignment", None)
    if alignment and references and gold_kept is not None:
        from attnprobe.pipeline.comparison import reference_scores

        alignment["references"] = reference_scores(
            gold_kept,
            {name: [links[k] for k in keep.tolist()] for name, links in references.items()},
        )
    primary = {"site": run_sites[0] if run_sites else None, "method": methods[0], "offset": 0}
    if alignment:
        primary["offset"] = alignment["best_offset"][f"{run_sites[0]}/{methods[0]}"]
    if chosen_on:
        primary["chosen_on"] = chosen_on
    metrics = {
        "signature": {
            "attnprobe": attnprobe.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "checkpoint_sha256": model.card().get("sha256"),
            "sites": site_keys,
            "options": signature_options,
            "corpus_sha256": corpus_sha,
            "pooling": POOLING,  # pieces to words (word-level models: the identity)
            "seed": seed,
            "threads": threads,  # torch threads per worker (None: the caller's setting)
        },
        "model": model.card(),
        "corpus": {
            "name": corpus.name,
            "sentences": total,
            "analysed": n,
            "src_tokens": src_tok,
            "tgt_tokens": tgt_tok,
            "src_unk": unk_src,
            "tgt_unk": unk_tgt,
            "src_unk_rate": unk_src / src_tok if src_tok else 0.0,
            "tgt_unk_rate": unk_tgt / tgt_tok if tgt_tok else 0.0,
            "mean_src_len": src_tok / n,
            "mean_tgt_len": tgt_tok / n,
            "gold": gold is not None,
        },
        "sites": site_keys,
        "primary": primary,
        "alignment": alignment,
        "quality": finished.pop("quality", None),
        "entropy": merged["run"]["entropy"] / n if site_keys else None,
        "sections": finished,
        "warnings": warnings_,
        "skipped": [
            {"index": k, "src_len": corpus.lengths[k], "reason": why} for k, why in too_long.items()
        ],
    }
    from attnprobe.results import Results, alignment_files, write_output

    if out is None:
        return Results(metrics, [resolve_choices(rec, chosen) for rec in store.records()])
    # the records as output lines, rendered by as many processes as the run had workers
    lines = store.lines(chosen, list(alignment_files(metrics).values()), processes=workers)
    results = write_output(out, metrics, lines, force=force, figures=figures)
    store.remove()
    return results
