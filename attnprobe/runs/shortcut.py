"""The attention shortcut, measured at initialisation: ``attnprobe shortcut``.

The claim (Bahdanau et al. 2015): attention gives the gradient a short path
from every target step to every source word, so it does not have to walk back
through the decoder's and the encoder's recurrence. Measured on *trained*
models the claim gets mixed up with how confident each model is (a model
that predicts a word with certainty passes almost no gradient back, whatever
the path), so this module measures it where it is a property of the
architecture alone: on freshly initialised models of the same size, one per
architecture and seed, on the same toy sentences.

For every model, ``G[t, s] = || d log p(y_t) / d e_s ||``
(:func:`attnprobe.runs.gradients.gradient_matrices`) is grouped by the length
of the path through the recurrence ``t + s`` and by the distance ``|t - s|``,
each sentence divided by its own near gradient, and summarised as medians over
sentences with bootstrap intervals (:func:`attnprobe.analyses.gradflow.shortcut_profile`).
The ratio attention / no attention is taken per seed with a paired bootstrap
(same sentences, same seed). Saved checkpoints can be measured beside them on the
same sentences (with their own vocabularies), and :func:`measure_over_training`
measures the checkpoints a training run saved (``attnprobe train
--checkpoint-every N --keep-checkpoints 0``), attention against no attention at
the same seed and the same step.

This module runs the models; the summaries are pure functions in
:mod:`attnprobe.analyses.gradflow`. :func:`format_shortcut` and
:func:`plot_shortcut` render a :class:`ShortcutRun` as text and as a figure.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from attnprobe.analyses.gradflow import (
    SHORTCUT_KEYS,
    Estimate,
    ShortcutProfile,
    bucket_labels,
    shortcut_profile,
    shortcut_ratio,
)
from attnprobe.data import ParallelCorpus, Vocab
from attnprobe.errors import InputError, UnknownNameError

__all__ = [
    "SIZE",
    "shortcut_sentences",
    "untrained_model",
    "model_profiles",
    "ShortcutRun",
    "measure_shortcut",
    "combine_seeds",
    "format_shortcut",
    "plot_shortcut",
    "training_runs",
    "TrainingShortcut",
    "measure_over_training",
    "format_over_training",
    "plot_over_training",
]

log = logging.getLogger("attnprobe")

#: model size: that of the fixture models (``MODEL`` in fixtures/build.py)
SIZE = {"emb_dim": 48, "enc_dim": 48, "hidden_dim": 96, "cell": "gru"}
#: the shortest and longest source sentence picked (long paths need long sentences)
MIN_LEN, MAX_LEN = 12, 60


def shortcut_sentences(pair: str = "enfr", n: int = 24) -> ParallelCorpus:
    """The first test pair of each of ``n`` source lengths spread evenly over 12..60 words.

    Examples
    --------
    >>> c = shortcut_sentences("enfr", 3)
    >>> [len(s) for s in c.src], c.name
    ([12, 36, 60], 'toy enfr test, 3 sentences of 12-60 words')
    """
    from attnprobe.data.toy import generate_split

    if not 1 <= n <= MAX_LEN - MIN_LEN + 1:
        raise InputError(
            f"sentences must be between 1 and {MAX_LEN - MIN_LEN + 1}, got {n}",
            fix="a few dozen suffice (each sentence costs one backward pass per target word)",
        )
    first = {}
    for e in generate_split(pair, "test"):
        first.setdefault(len(e.src), e)
    lengths = sorted({int(round(x)) for x in np.linspace(MIN_LEN, MAX_LEN, n)})
    picks = [first[k] for k in lengths]
    return ParallelCorpus(
        [list(e.src) for e in picks],
        [list(e.tgt) for e in picks],
        name=f"toy {pair} test, {len(picks)} sentences of {lengths[0]}-{lengths[-1]} words",
    )


def untrained_model(arch: str, seed: int, src_vocab: Vocab, tgt_vocab: Vocab, size=SIZE):
    """A freshly initialised reference model (``arch`` as in ``attnprobe train``)."""
    from attnprobe.models.reference.rnn import ModelConfig, arch_fields, build_model

    cfg = ModelConfig(len(src_vocab), len(tgt_vocab), **arch_fields(arch), **size)
    model = build_model(cfg, seed=seed)
    model.src_vocab, model.tgt_vocab = src_vocab, tgt_vocab
    return model


def _eos_masks(g: np.ndarray) -> dict:
    """Drop the EOS step (last row) and the source EOS (last column)."""
    T, S = g.shape
    return {"src_mask": np.arange(S) < S - 1, "tgt_mask": np.arange(T) < T - 1}


def model_profiles(
    model, corpus: ParallelCorpus, *, batch_size: int = 8, n_boot: int = 1000
) -> dict[str, ShortcutProfile]:
    """``{"path": ..., "distance": ...}`` profiles of one model on ``corpus`` (words only)."""
    from attnprobe.runs.gradients import gradient_matrices

    mats = gradient_matrices(model, corpus, batch_size=batch_size)
    masks = [_eos_masks(g) for g in mats]
    return {by: shortcut_profile(mats, by, masks=masks, n_boot=n_boot) for by in SHORTCUT_KEYS}


@dataclass
class ShortcutRun:
    """What :func:`measure_shortcut` measured.

    ``profiles[arch][seed][by]``: the untrained models; ``ratios[arch][seed][by]``:
    per bucket, median of ``arch`` over median of ``baseline`` (same seed, paired
    bootstrap); ``checkpoints[label][by]``: saved models on the same sentences.
    """

    pair: str
    corpus: str
    lengths: list[int]
    archs: list[str]
    seeds: list[int]
    baseline: str | None
    size: dict
    n_boot: int
    profiles: dict[str, dict[int, dict[str, ShortcutProfile]]] = field(default_factory=dict)
    ratios: dict[str, dict[int, dict[str, tuple[Estimate, ...]]]] = field(default_factory=dict)
    checkpoints: dict[str, dict[str, ShortcutProfile]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        import torch

        from attnprobe import __version__

        return {
            "signature": {
                "attnprobe": __version__,
                "torch": torch.__version__,
                "pair": self.pair,
                "corpus": self.corpus,
                "source_lengths": self.lengths,
                "archs": self.archs,
                "seeds": self.seeds,
                "baseline": self.baseline,
                "size": self.size,
                "n_boot": self.n_boot,
            },
            "untrained": {
                arch: {
                    str(seed): {by: p.to_dict() for by, p in per.items()}
                    for seed, per in by_seed.items()
                }
                for arch, by_seed in self.profiles.items()
            },
            "ratio": {
                arch: {
                    str(seed): {by: [e.to_dict() for e in r] for by, r in per.items()}
                    for seed, per in by_seed.items()
                }
                for arch, by_seed in self.ratios.items()
            },
            "checkpoints": {
                label: {by: p.to_dict() for by, p in per.items()}
                for label, per in self.checkpoints.items()
            },
        }


def measure_shortcut(
    archs: Sequence[str] = ("bahdanau", "none"),
    seeds: Sequence[int] = (0, 1, 2),
    sentences: int = 24,
    pair: str = "enfr",
    *,
    baseline: str = "none",
    checkpoints: Mapping[str, object] | None = None,
    batch_size: int = 8,
    n_boot: int = 1000,
) -> ShortcutRun:
    """Measure the gradient shortcut on untrained models of the same size (and checkpoints).

    Parameters
    ----------
    archs : architectures (``bahdanau``, ``luong-general``, ``none``, ...; see
        :data:`attnprobe.models.reference.rnn.ARCHS`); one untrained model per seed each.
    seeds : initialisation seeds.
    sentences : toy test sentences, spread over 12..60 words (:func:`shortcut_sentences`).
    pair : toy language pair.
    baseline : the architecture every other one is divided by (skipped when absent).
    checkpoints : ``{label: loaded model}`` measured as they are, on the same sentences.
    n_boot : bootstrap resamples (over sentences) per interval.

    Examples
    --------
    >>> run = measure_shortcut(["bahdanau", "none"], [0], sentences=2)  # doctest: +SKIP
    >>> run.ratios["bahdanau"][0]["path"][-1].value > 10                # doctest: +SKIP
    True
    """
    from attnprobe.models.reference.rnn import ARCHS

    archs, seeds = list(dict.fromkeys(archs)), list(dict.fromkeys(int(s) for s in seeds))
    if not archs or not seeds:
        raise InputError("need at least one architecture and one seed")
    for arch in archs:
        if arch not in ARCHS:
            raise UnknownNameError("architecture", arch, ARCHS)
    if n_boot < 1:
        raise InputError(f"n_boot must be >= 1, got {n_boot}")
    corpus = shortcut_sentences(pair, sentences)
    src_vocab, tgt_vocab = Vocab.build(corpus.src), Vocab.build(corpus.tgt)
    run = ShortcutRun(
        pair=pair,
        corpus=corpus.name,
        lengths=[len(s) for s in corpus.src],
        archs=archs,
        seeds=seeds,
        baseline=baseline if baseline in archs else None,
        size=dict(SIZE),
        n_boot=n_boot,
    )
    for arch in archs:
        for seed in seeds:
            log.info("untrained %s, seed %d: %d sentences", arch, seed, len(corpus))
            model = untrained_model(arch, seed, src_vocab, tgt_vocab)
            run.profiles.setdefault(arch, {})[seed] = model_profiles(
                model, corpus, batch_size=batch_size, n_boot=n_boot
            )
    if run.baseline is not None:
        for arch in archs:
            if arch == run.baseline:
                continue
            for seed in seeds:
                mine, base = run.profiles[arch][seed], run.profiles[run.baseline][seed]
                run.ratios.setdefault(arch, {})[seed] = {
                    by: shortcut_ratio(mine[by], base[by], n_boot=n_boot) for by in SHORTCUT_KEYS
                }
    for label, model in (checkpoints or {}).items():
        log.info("checkpoint %s: %d sentences", label, len(corpus))
        run.checkpoints[label] = model_profiles(model, corpus, batch_size=batch_size, n_boot=n_boot)
    return run


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class SeedSummary:
    """One bucket over seeds: the median of the per-seed medians, their range, and the
    widest bootstrap interval of any seed."""

    value: float
    seed_low: float
    seed_high: float
    low: float
    high: float
    n: int  # sentences (the same for every seed)


def combine_seeds(estimates: Sequence[Estimate]) -> SeedSummary:
    """Summarise one bucket's per-seed estimates.

    Examples
    --------
    >>> from attnprobe.analyses.gradflow import Estimate
    >>> combine_seeds([Estimate(0.4, 0.3, 0.5, 9), Estimate(0.2, 0.1, 0.6, 9),
    ...                Estimate(0.3, 0.2, 0.4, 9)])
    SeedSummary(value=0.3, seed_low=0.2, seed_high=0.4, low=0.1, high=0.6, n=9)
    """
    values = [e.value for e in estimates]
    return SeedSummary(
        value=float(np.median(values)),
        seed_low=min(values),
        seed_high=max(values),
        low=min(e.low for e in estimates),
        high=max(e.high for e in estimates),
        n=max(e.n for e in estimates),
    )


def _num(x: float) -> str:
    """Three significant digits, no exponent for the values met here."""
    if x is None or not math.isfinite(x):
        return "-"
    if x == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{digits}f}"


def _cell(s: SeedSummary, seeds: int) -> str:
    if not math.isfinite(s.value):
        return "-"
    spread = "" if seeds == 1 else f" ({_num(s.seed_low)}-{_num(s.seed_high)})"
    return f"{_num(s.value)}{spread} [{_num(s.low)}, {_num(s.high)}]"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    return "\n".join(line.rstrip() for line in lines)


def format_shortcut(run: ShortcutRun) -> str:
    """The tables of a run: relative gradient and the ratio to the baseline, by bucket.

    One table per grouping (path length ``t + s``, distance ``|t - s|``). A cell
    reads ``median (lowest-highest seed) [95 % interval]``: the median over seeds
    of each seed's median over sentences, the range of those medians, and the
    widest bootstrap interval (resampling sentences) of any seed.
    """
    names = {"path": "path length through the recurrence, t + s", "distance": "distance |t - s|"}
    seeds = len(run.seeds)
    out = [
        f"Gradient reaching source words, untrained models ({', '.join(run.archs)}; "
        f"seeds {', '.join(map(str, run.seeds))}) on {run.corpus}.",
        "Each sentence's || d log p(y_t) / d e_s || divided by its near gradient (first bucket); "
        "medians over sentences.",
        "Cell: median over seeds (lowest-highest seed) [95% bootstrap interval over sentences, "
        "widest seed].",
    ]
    ratio_archs = [a for a in run.archs if a in run.ratios]
    for by in SHORTCUT_KEYS:
        first = run.profiles[run.archs[0]][run.seeds[0]][by]
        head = ["bucket", "sentences", *run.archs]
        head += [f"{a} / {run.baseline}" for a in ratio_archs] + list(run.checkpoints)
        rows = [head]
        for j, label in enumerate(first.labels):
            cells = [label, str(first.estimates[j].n)]
            for arch in run.archs:
                est = [run.profiles[arch][s][by].estimates[j] for s in run.seeds]
                cells.append(_cell(combine_seeds(est), seeds))
            for arch in ratio_archs:
                est = [run.ratios[arch][s][by][j] for s in run.seeds]
                cells.append(_cell(combine_seeds(est), seeds))
            for per in run.checkpoints.values():
                cells.append(_cell(combine_seeds([per[by].estimates[j]]), 1))
            rows.append(cells)
        out += ["", f"by {names[by]}:", _table(rows)]
    return "\n".join(out)


def plot_shortcut(run: ShortcutRun):
    """One figure, two panels: relative gradient by path length and by distance.

    A line per architecture (median over seeds, bars: the widest 95 % bootstrap
    interval over sentences of any seed), the no-attention baseline dashed in
    black, the legend outside the axes. Returns a ``matplotlib.figure.Figure``
    (object API; no pyplot, no global backend).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    names = {
        "path": "path length through the recurrence t + s (steps)",
        "distance": "distance |t - s| (words)",
    }
    for ax, by in zip(axes, SHORTCUT_KEYS, strict=True):
        labels = bucket_labels(run.profiles[run.archs[0]][run.seeds[0]][by].buckets)
        x = np.arange(len(labels))
        series = [(a, [run.profiles[a][s][by] for s in run.seeds]) for a in run.archs]
        series += [(f"{k} (checkpoint)", [p[by]]) for k, p in run.checkpoints.items()]
        for k, (name, profiles) in enumerate(series):
            summary = [combine_seeds([p.estimates[j] for p in profiles]) for j in range(len(x))]
            y = np.array([s.value for s in summary])
            err = np.array([[s.value - s.low, s.high - s.value] for s in summary]).T  # [2, K]
            baseline = name == run.baseline
            ax.errorbar(
                x + 0.06 * (k - (len(series) - 1) / 2),
                y,
                yerr=np.clip(err, 0, None),
                color="black" if baseline else None,
                linestyle="--" if baseline else "-",
                marker="s" if baseline else "o",
                capsize=3,
                label=f"{name} (no attention, baseline)" if baseline else name,
            )
        ax.set_xticks(x, labels)
        ax.set_yscale("log")
        ax.set_xlabel(names[by])
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("gradient norm / near gradient\n(median over sentences, log scale)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", frameon=False)
    seeds = ", ".join(map(str, run.seeds))
    fig.suptitle(
        f"Gradient reaching source words at initialisation (seeds {seeds}; {run.corpus}); "
        "bars: 95% bootstrap interval",
        fontsize="medium",
    )
    return fig


# --------------------------------------------------------------------------- over training


def training_runs(work_dirs: Sequence) -> dict[tuple[str, int], dict[int, object]]:
    """The checkpoints of training runs: ``(architecture, seed) -> {step: path}``.

    ``work_dirs`` are the work folders of ``attnprobe train --checkpoint-every N
    --keep-checkpoints 0`` (``OUT.work``, holding ``step-N.pt``); the architecture
    and seed are read from the checkpoints.

    Raises
    ------
    InputError : a folder without checkpoints, or two runs of the same architecture and seed.
    """
    from pathlib import Path

    from attnprobe.models.checkpoint import load, read_resume
    from attnprobe.models.reference.train import checkpoints

    runs: dict[tuple[str, int], dict[int, object]] = {}
    for d in work_dirs:
        d = Path(d)
        found = checkpoints(d) if d.is_dir() else []
        if not found:
            raise InputError(
                "no step-N.pt checkpoints",
                path=d,
                fix="give the OUT.work folder of attnprobe train --checkpoint-every N "
                "--keep-checkpoints 0",
            )
        first = found[0][1]
        key = (load(first).cfg.name, int(read_resume(first)["config"]["seed"]))
        if key in runs:
            raise InputError(
                f"a second run of {key[0]} with seed {key[1]}",
                path=d,
                fix="give one work folder per architecture and seed",
            )
        runs[key] = dict(found)
    return runs


@dataclass
class TrainingShortcut:
    """What :func:`measure_over_training` measured.

    ``profiles[arch][seed][step]``: ``{"path": ..., "distance": ...}`` of the checkpoint
    at ``step``; ``ratios[arch][seed][step][by]``: per bucket, ``arch`` over the
    baseline of the same seed at the same step (paired bootstrap over sentences).
    """

    corpus: str
    lengths: list[int]
    archs: list[str]
    seeds: list[int]
    steps: list[int]
    baseline: str | None
    n_boot: int
    profiles: dict = field(default_factory=dict)
    ratios: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        from attnprobe import __version__

        return {
            "signature": {
                "attnprobe": __version__,
                "corpus": self.corpus,
                "source_lengths": self.lengths,
                "archs": self.archs,
                "seeds": self.seeds,
                "steps": self.steps,
                "baseline": self.baseline,
                "n_boot": self.n_boot,
            },
            "trained": {
                a: {
                    str(s): {
                        str(t): {by: p.to_dict() for by, p in per.items()} for t, per in v.items()
                    }
                    for s, v in by_seed.items()
                }
                for a, by_seed in self.profiles.items()
            },
            "ratio": {
                a: {
                    str(s): {
                        str(t): {by: [e.to_dict() for e in r] for by, r in per.items()}
                        for t, per in v.items()
                    }
                    for s, v in by_seed.items()
                }
                for a, by_seed in self.ratios.items()
            },
        }


def measure_over_training(
    work_dirs: Sequence,
    sentences: int = 8,
    pair: str = "enfr",
    *,
    baseline: str = "none",
    batch_size: int = 8,
    n_boot: int = 1000,
) -> TrainingShortcut:
    """The gradient shortcut over training: every checkpoint of every run, same sentences.

    Each checkpoint is measured as :func:`measure_shortcut` measures an untrained
    model (gradient of each target word's log-probability reaching each source
    word, by path length and distance, relative to the near gradient); each
    architecture is divided by ``baseline`` at the same seed and step. Only the
    steps that every run saved are measured.

    Parameters
    ----------
    work_dirs : one work folder per run (see :func:`training_runs`); the models must
        know the words of the toy pair's test sentences (trained with ``--toy PAIR``).
    sentences, pair : as in :func:`measure_shortcut`.

    Examples
    --------
    >>> run = measure_over_training(["b0.work", "n0.work"])  # doctest: +SKIP
    >>> run.ratios["bahdanau"][0][run.steps[-1]]["path"][-1].value > 1  # doctest: +SKIP
    True
    """
    from attnprobe.models.checkpoint import load

    runs = training_runs(work_dirs)
    steps = sorted(set.intersection(*(set(v) for v in runs.values())))
    if not steps:
        raise InputError(
            "the runs share no checkpoint step",
            fix="train every run with the same --checkpoint-every and --keep-checkpoints 0",
        )
    corpus = shortcut_sentences(pair, sentences)
    archs = list(dict.fromkeys(a for a, _ in sorted(runs)))
    seeds = sorted({s for _, s in runs})
    run = TrainingShortcut(
        corpus.name,
        [len(s) for s in corpus.src],
        archs,
        seeds,
        steps,
        baseline if baseline in archs else None,
        n_boot,
    )
    for (arch, seed), paths in sorted(runs.items()):
        for step in steps:
            log.info("%s, seed %d, step %d: %d sentences", arch, seed, step, len(corpus))
            model = load(paths[step])
            _check_words(model, corpus, paths[step])
            run.profiles.setdefault(arch, {}).setdefault(seed, {})[step] = model_profiles(
                model, corpus, batch_size=batch_size, n_boot=n_boot
            )
    base = run.profiles.get(run.baseline, {})
    for arch in archs:
        if arch == run.baseline:
            continue
        for seed in seeds:
            if seed not in base or seed not in run.profiles[arch]:
                continue
            for step in steps:
                mine, theirs = run.profiles[arch][seed][step], base[seed][step]
                run.ratios.setdefault(arch, {}).setdefault(seed, {})[step] = {
                    by: shortcut_ratio(mine[by], theirs[by], n_boot=n_boot) for by in SHORTCUT_KEYS
                }
    return run


def _check_words(model, corpus: ParallelCorpus, path) -> None:
    unknown = sum(model.count_unknown(s, "src") for s in corpus.src)
    if unknown:
        raise InputError(
            f"{unknown} words of the {corpus.name} are unknown to this model",
            path=path,
            fix="measure models trained on the toy pair (attnprobe train --toy PAIR), "
            "or choose it with --pair",
        )


def _series(run: TrainingShortcut, arch: str, by: str, j: int, ratio: bool) -> list[SeedSummary]:
    """Bucket ``j`` of ``arch`` at every step, summarised over seeds."""
    table = run.ratios if ratio else run.profiles
    out = []
    for step in run.steps:
        per_seed = table.get(arch, {})
        est = [
            per_seed[s][step][by][j] if ratio else per_seed[s][step][by].estimates[j]
            for s in run.seeds
            if s in per_seed
        ]
        out.append(combine_seeds(est))
    return out


def format_over_training(run: TrainingShortcut) -> str:
    """One table per grouping's farthest bucket: each architecture's relative gradient
    and its ratio to the baseline at each step (cells as in :func:`format_shortcut`)."""
    seeds = len(run.seeds)
    ratio_archs = [a for a in run.archs if a in run.ratios]
    out = [
        f"Gradient reaching far source words over training ({', '.join(run.archs)}; seeds "
        f"{', '.join(map(str, run.seeds))}) on {run.corpus}.",
        "Each sentence's || d log p(y_t) / d e_s || in the farthest bucket divided by its "
        "near gradient; medians over sentences.",
        "Cell: median over seeds (lowest-highest seed) [95% bootstrap interval over sentences, "
        "widest seed].",
    ]
    names = {"path": "path length t + s", "distance": "distance |t - s|"}
    for by in SHORTCUT_KEYS:
        first = run.profiles[run.archs[0]][run.seeds[0]][run.steps[0]][by]
        j = len(first.labels) - 1
        head = ["step", *run.archs, *(f"{a} / {run.baseline}" for a in ratio_archs)]
        rows = [head]
        cols = [_series(run, a, by, j, False) for a in run.archs]
        cols += [_series(run, a, by, j, True) for a in ratio_archs]
        for k, step in enumerate(run.steps):
            rows.append([str(step), *(_cell(c[k], seeds) for c in cols)])
        out += ["", f"{names[by]} {first.labels[j]}:", _table(rows)]
    return "\n".join(out)


def plot_over_training(run: TrainingShortcut):
    """One figure: the far-bucket relative gradient of each architecture over training
    steps (left) and its ratio to the no-attention baseline (right, 1 drawn).

    Lines: medians over seeds; bars: the widest 95% bootstrap interval of any seed.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax_g, ax_r = fig.subplots(1, 2)
    first = run.profiles[run.archs[0]][run.seeds[0]][run.steps[0]]["path"]
    j = len(first.labels) - 1
    x = np.asarray(run.steps, float)
    for arch in run.archs:
        for ax, ratio in ((ax_g, False), (ax_r, True)):
            if ratio and arch not in run.ratios:
                continue
            s = _series(run, arch, "path", j, ratio)
            y = np.array([e.value for e in s])
            err = np.clip(np.array([[e.value - e.low, e.high - e.value] for e in s]).T, 0, None)
            base = arch == run.baseline
            ax.errorbar(
                x,
                y,
                yerr=err,
                capsize=3,
                marker="s" if base else "o",
                color="black" if base else None,
                linestyle="--" if base else "-",
                label=f"{arch} (no attention, baseline)" if base else arch,
            )
    ax_r.axhline(1.0, color="black", linestyle="--", linewidth=1)
    for ax in (ax_g, ax_r):
        ax.set_yscale("log")
        ax.set_xlabel("training step (updates)")
        ax.grid(True, alpha=0.3)
    ax_g.set_ylabel(f"gradient at t + s {first.labels[j]} / near gradient\n(median, log scale)")
    ax_r.set_ylabel(f"attention / {run.baseline} at the same step\n(median ratio, log scale)")
    handles, labels = ax_g.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", frameon=False)
    fig.suptitle(
        f"Gradient reaching far source words over training (seeds "
        f"{', '.join(map(str, run.seeds))}; {run.corpus}); bars: 95% bootstrap interval",
        fontsize="medium",
    )
    return fig
